import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type PrincipalType, type SecretAccessEvent, type Severity } from '../core/event.js';
import { defineDetector, type Finding } from './detector.js';

/** What a principal has read so far: enough to explain a first read. Bounded: at most MAX_LISTED names. */
interface PrincipalReads {
  firstSeen: number;
  lastSeen: number;
  reads: number;
  secrets: string[];
  distinct: number;
}

const MAX_LISTED = 20;
const DAY = 86_400_000;

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
  groupWindowMs: 3_600_000,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || event.outcome !== 'success' || !event.resource) return [];
        const t = Date.parse(event.time);
        const pairKey = `${event.principal.id}\u0000${event.resource.id}`;
        const seenPair = ctx.state.get<number>('new-access:pair', pairKey);
        const reads = ctx.state.get<PrincipalReads>('new-access:principal', event.principal.id);
        const next: PrincipalReads = reads
          ? { ...reads, lastSeen: Math.max(reads.lastSeen, t), reads: reads.reads + 1 }
          : { firstSeen: t, lastSeen: t, reads: 1, secrets: [], distinct: 0 };
        if (seenPair !== undefined) {
          if (t < seenPair) ctx.state.set('new-access:pair', pairKey, t);
          ctx.state.set('new-access:principal', event.principal.id, next);
          return [];
        }
        ctx.state.set('new-access:pair', pairKey, t);
        next.distinct += 1;
        if (next.secrets.length < MAX_LISTED) next.secrets = [...next.secrets, event.resource.name];
        ctx.state.set('new-access:principal', event.principal.id, next);

        const learnedUntil = ctx.firstEventTime + learningMs;
        if (t < learnedUntil) return [];
        const severity = SEVERITY_BY_TYPE[event.principal.type] ?? 'medium';
        const known = reads ? reads.distinct : 0;
        const days = reads ? Math.max(0, Math.round((t - reads.firstSeen) / DAY)) : 0;
        const listed = reads?.secrets.slice(0, 5).join(', ') ?? '';
        const summary = reads
          ? `${event.principal.name} read ${event.resource.name} for the first time; in ${days} days it read ${known} other secret${known === 1 ? '' : 's'}${listed ? ` (${listed}${known > 5 ? ', …' : ''})` : ''}`
          : `${event.principal.name} read ${event.resource.name}; this principal had never read a secret before`;
        return [
          {
            severity,
            title: `${event.principal.name} read ${event.resource.name} for the first time`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary,
              observed: { secret: event.resource.id, principalType: event.principal.type },
              baseline: {
                secretsReadBefore: known,
                historyDays: days,
                principalFirstSeen: reads ? new Date(reads.firstSeen).toISOString() : null,
              },
              threshold: { learningPeriod: config.learningPeriod },
            },
          },
        ];
      },
    };
  },
});
