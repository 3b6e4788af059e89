import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type SecretAccessEvent, type Severity } from '../core/event.js';
import { DAY } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { isPerson, isServicePrincipal } from './kinds.js';

const Config = z.strictObject({
  /** No alert before the store has this much history: every principal is new on day one. */
  learningPeriod: z.string().default('P7D'),
});

export const newPrincipal = defineDetector({
  id: 'new-principal',
  title: 'A principal never seen before read a secret',
  severity: 'high',
  runbook:
    'Find out who owns this principal: a new deployment, a new employee, a new integration? If nobody does, ' +
    'treat it as an intruder: disable the identity or its keys, rotate every secret it read (listed on the ' +
    'alert), and check how it was created (CloudTrail CreateRole/CreateUser, Entra sign-in logs).',
  config: Config,
  groupWindowMs: 3_600_000,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || event.outcome !== 'success' || !event.resource) return [];
        if (isServicePrincipal(event.principal.type)) return [];
        const p = ctx.profiles.principal;
        if (p && p.firstRead !== null) return [];
        const t = ctx.time;
        const learnedUntil = ctx.firstEventTime + learningMs;
        // Seen before the end of the learning period: part of the estate, not new.
        if (t < learnedUntil || (p && p.first < learnedUntil)) return [];
        const severity: Severity = isPerson(event.principal.type) ? 'medium' : 'high';
        const seenFor = p ? Math.round((t - p.first) / 60_000) : 0;
        const historyDays = Math.round((t - ctx.firstEventTime) / DAY);
        return [
          {
            severity,
            title: `New ${event.principal.type} ${event.principal.name} read ${event.resource.name}`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary: p
                ? `${event.principal.name} first appeared ${seenFor} min earlier (${p.events} calls, no reads) and now read ${event.resource.name}; it is absent from ${historyDays} days of history`
                : `${event.principal.name} (${event.principal.type}, account ${event.principal.account ?? 'unknown'}) read ${event.resource.name}; it is absent from ${historyDays} days of history`,
              observed: {
                principalType: event.principal.type,
                account: event.principal.account,
                secret: event.resource.id,
                ip: event.source.ip,
              },
              baseline: { historyDays, earlierCalls: p?.events ?? 0, earlierReads: 0 },
              threshold: { learningPeriod: config.learningPeriod },
            },
          },
        ];
      },
    };
  },
});
