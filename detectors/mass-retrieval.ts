import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type SecretAccessEvent, type Severity } from '../core/event.js';
import { BREADTH_WINDOW, breadthAt, HOUR, usualBreadth } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { isPerson, isServicePrincipal, raise } from './kinds.js';

const Config = z.strictObject({
  /** Distinct secrets in 10 minutes that alert with no history at all (Elastic: 20 in 6 min). */
  absolute: z.number().int().positive().default(20),
  /** With history: this multiple of the principal's usual breadth... */
  multiple: z.number().positive().default(3),
  /** ...but never below this many distinct secrets (people browse a few at a time). */
  floor: z.number().int().positive().default(10),
  /** Days with reads before the usual breadth is trusted. */
  minDays: z.number().int().positive().default(5),
  learningPeriod: z.string().default('P7D'),
});

export const massRetrieval = defineDetector({
  id: 'mass-retrieval',
  title: 'Many distinct secrets read in a short window',
  severity: 'high',
  runbook:
    'A principal pulling many secrets at once is how stolen credentials are cashed in. Check the source ' +
    'address and client (query below). Unless it is a known migration or a new deployment, revoke the ' +
    "principal's sessions and keys and rotate every secret listed on the alert.",
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || event.outcome !== 'success' || !event.resource) return [];
        if (isServicePrincipal(event.principal.type)) return [];
        const t = ctx.time;
        const p = ctx.profiles.principal;
        const distinct = breadthAt(p, t, event.resource.id);
        const listed = p?.lastList != null && t - p.lastList <= BREADTH_WINDOW;
        const { usual, days } = p ? usualBreadth(p) : { usual: 0, days: 0 };
        const learned = p !== undefined && days >= config.minDays && t >= ctx.firstEventTime + learningMs;
        let threshold = learned
          ? Math.max(config.floor, Math.ceil(config.multiple * usual))
          : config.absolute;
        // Enumerating first and then reading what the list returned is the shape of an attack: lower the bar.
        if (listed) threshold = Math.max(Math.ceil(config.floor / 2), Math.ceil((threshold * 2) / 3));
        if (distinct < threshold) return [];
        let severity: Severity = isPerson(event.principal.type) ? 'medium' : 'high';
        if (listed) severity = raise(severity);
        if (distinct >= 2 * threshold) severity = raise(severity);
        const basis = learned
          ? `its usual breadth is ${usual} (busiest 10 min of a day, 90th percentile over ${days} days), threshold ${threshold}`
          : `no usable history, absolute threshold ${threshold}`;
        return [
          {
            severity,
            title: `${event.principal.name} read ${distinct} distinct secrets in 10 minutes`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary: `${distinct} distinct secrets in 10 min by ${event.principal.name}; ${basis}${listed ? '; it listed secrets just before' : ''}`,
              observed: {
                distinctSecrets: distinct,
                window: 'PT10M',
                listedBefore: listed,
                ip: event.source.ip,
              },
              baseline: learned ? { usualBreadth: usual, days } : null,
              threshold: {
                distinctSecrets: threshold,
                absolute: config.absolute,
                multiple: config.multiple,
                floor: config.floor,
              },
            },
          },
        ];
      },
    };
  },
});
