import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type SecretAccessEvent } from '../core/event.js';
import { DAY, fmt, HOUR, hourOfWeek, hourOfWeekLabel, profileAt } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { isServicePrincipal, isWorkload } from './kinds.js';

const Config = z.strictObject({
  learningPeriod: z.string().default('P7D'),
  /** The principal's own history before its profile can say what is unusual. */
  minHistory: z.string().default('P7D'),
  /** Decayed reads in the profile before it is trusted. */
  minReads: z.number().int().positive().default(25),
  /** Fire when the hour (±2 h, on any day) holds less than this share of the principal's reads. */
  maxShare: z.number().positive().max(1).default(0.01),
});

export const unusualTime = defineDetector({
  id: 'unusual-time',
  title: 'Secret read at an hour this principal never works',
  severity: 'medium',
  runbook:
    'Ask the owner whether this principal should be active at this hour (an incident, a rescheduled job, ' +
    'travel). If not, revoke its sessions and rotate what it read; check the source address and client on ' +
    'the events with the query below.',
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    const historyMs = parseDuration(config.minHistory);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || event.outcome !== 'success' || !event.resource) return [];
        if (isServicePrincipal(event.principal.type)) return [];
        const p = ctx.profiles.principal;
        if (!p || p.firstRead === null) return [];
        const t = ctx.time;
        if (t < ctx.firstEventTime + learningMs || t - p.firstRead < historyMs) return [];
        const how = profileAt(p, t);
        let total = 0;
        for (const x of how) total += x;
        if (total < config.minReads) return [];
        const h = hourOfWeek(t);
        const hour = h % 24;
        // Mass at this hour of day (±2 h: working hours have fuzzy edges) on any day of the week: a Saturday at 10:00 is not odd for an office worker.
        let near = 0;
        for (let d = 0; d < 7; d++) {
          for (const dh of [-2, -1, 0, 1, 2]) near += how[d * 24 + ((hour + dh + 24) % 24)]!;
        }
        const share = near / total;
        if (share >= config.maxShare) return [];
        let peak = 0;
        for (let i = 0; i < 168; i++) if (how[i]! > how[peak]!) peak = i;
        const days = Math.round((t - p.firstRead) / DAY);
        const severity = isWorkload(event.principal.type) ? 'high' : 'medium';
        return [
          {
            severity,
            title: `${event.principal.name} read ${event.resource.name} at ${hourOfWeekLabel(h)}, outside its hours`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary:
                `${event.principal.name} read ${event.resource.name} at ${hourOfWeekLabel(h)}; ` +
                `${fmt(share * 100)}% of its ${fmt(total)} (decayed) reads over ${days} days fall within two hours ` +
                `of ${String(hour).padStart(2, '0')}:00; its busiest hour is ${hourOfWeekLabel(peak)}`,
              observed: { hourOfWeek: hourOfWeekLabel(h), secret: event.resource.id, ip: event.source.ip },
              baseline: {
                shareAtThisHour: Number(share.toFixed(4)),
                readsInProfile: Number(total.toFixed(1)),
                historyDays: days,
                busiestHour: hourOfWeekLabel(peak),
              },
              threshold: {
                maxShare: config.maxShare,
                minReads: config.minReads,
                minHistory: config.minHistory,
              },
            },
          },
        ];
      },
    };
  },
});
