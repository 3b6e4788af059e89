import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type PrincipalType, type SecretAccessEvent, type Severity } from '../core/event.js';
import { DAY, HOUR } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { isPerson } from './kinds.js';

// A workload reading outside its usual set is worse than a person exploring: workloads are predictable.
const SEVERITY_BY_TYPE: Partial<Record<PrincipalType, Severity>> = {
  role: 'high',
  'service-account': 'high',
  'managed-identity': 'high',
  application: 'high',
  root: 'high',
  user: 'medium',
  person: 'medium',
};

const Config = z.strictObject({
  /** No alert before the store has this much history (ISO 8601 or 7d). */
  learningPeriod: z.string().default('P7D'),
  /** A principal's own warm-up: in its first day a new deployment reads its set (new-principal covers it). */
  principalWarmup: z.string().default('P1D'),
  /** Reads this soon after the secret was created, written or rotated are expected first readers: low. */
  changeGrace: z.string().default('PT24H'),
});

export const newAccess = defineDetector({
  id: 'new-access',
  title: 'Principal read a secret it has never read',
  severity: 'medium',
  runbook:
    'Confirm with the owner of the principal that it should read this secret (a new feature, a new deployment). ' +
    'If not, treat its credentials as compromised: revoke its sessions, rotate the secret, and review what else ' +
    'it read with the query below.',
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    const warmupMs = parseDuration(config.principalWarmup);
    const graceMs = parseDuration(config.changeGrace);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || event.outcome !== 'success' || !event.resource) return [];
        const { principal: p, pair, secret } = ctx.profiles;
        // Unknown principals are new-principal's; known pairs are not news.
        if (!p || pair) return [];
        const t = ctx.time;
        const learnedUntil = ctx.firstEventTime + learningMs;
        if (t < learnedUntil || t < p.first + warmupMs) return [];
        if (p.firstRead === null && p.first >= learnedUntil) return []; // new-principal's first read
        let severity = SEVERITY_BY_TYPE[event.principal.type] ?? 'medium';
        // Only a secret seen created, written or rotated lately expects first readers. A secret with no reads
        // in the history may be a rarely used one (break-glass credentials): a first read of it stays news.
        const fresh = !!secret && secret.changed !== null && t - secret.changed < graceMs;
        // People in the same permission set already read it: a colleague's secret, not a stranger's.
        const peers = !!event.principal.via && (secret?.vias ?? []).includes(event.principal.via);
        if (fresh || (peers && isPerson(event.principal.type))) severity = 'low';
        const days = Math.max(0, Math.round((t - p.first) / DAY));
        const readers = secret?.readers ?? 0;
        return [
          {
            severity,
            title: `${event.principal.name} read ${event.resource.name} for the first time`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary:
                `${event.principal.name} read ${event.resource.name} for the first time; in ${days} days it read ` +
                `${p.secrets} other secret${p.secrets === 1 ? '' : 's'} (${p.reads} reads)` +
                (fresh
                  ? '; the secret is new or just changed, so first readers are expected'
                  : `; ${readers} other principal${readers === 1 ? '' : 's'} read this secret${peers ? ', some through the same permission set' : ''}`),
              observed: {
                secret: event.resource.id,
                principalType: event.principal.type,
                ip: event.source.ip,
              },
              baseline: {
                secretsReadBefore: p.secrets,
                readsBefore: p.reads,
                historyDays: days,
                otherReaders: readers,
                principalFirstSeen: new Date(p.first).toISOString(),
              },
              threshold: { learningPeriod: config.learningPeriod, principalWarmup: config.principalWarmup },
            },
          },
        ];
      },
    };
  },
});
