import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { Severity } from '../core/event.js';

/** A sink as written in the config file: its `type` picks the schema the rest is checked against. */
export const SinkConfig = z.looseObject({ type: z.string().min(1) });

/** An ISO 8601 (`PT5M`) or short (`5m`) duration, parsed once into milliseconds. */
export const Duration = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like PT5M, P1D or 90s' });
    return z.NEVER;
  }
});

const OneOrMany = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

/** Fields an alert can be grouped by into one notification. */
export const GroupField = z.enum([
  'detector',
  'principal',
  'secret',
  'severity',
  'provider',
  'groupKey',
  'id',
]);
export type GroupField = z.infer<typeof GroupField>;

export const RouteMatch = z.strictObject({
  /** Detector ids (globs with `*`). */
  detector: OneOrMany.optional(),
  minSeverity: Severity.optional(),
  maxSeverity: Severity.optional(),
  provider: OneOrMany.optional(),
  /** Principal id or name globs, e.g. `arn:aws:iam::*:role/ci-*`. */
  principal: OneOrMany.optional(),
  /** Secret id or name globs, e.g. `prod/*`. */
  secret: OneOrMany.optional(),
});
export type RouteMatch = z.infer<typeof RouteMatch>;

export const Route = z.strictObject({
  match: RouteMatch.default({}),
  sinks: z.array(z.string().min(1)).min(1),
  /** Keep looking at the next routes after this one matched. */
  continue: z.boolean().default(false),
  /** Alerts with equal values of these fields form one notification group. */
  groupBy: z.array(GroupField).optional(),
  /** After a group was notified, its new alerts wait this long and then go out as one notification. */
  repeatInterval: Duration.optional(),
  /** Send matching alerts as one digest per interval instead of one notification per group. */
  digest: Duration.optional(),
});
export type Route = z.infer<typeof Route>;

/** The `alerts` section of the config file. Documented in docs/alerts-delivery.md. */
export const AlertsConfig = z
  .strictObject({
    /** Sinks by name. */
    sinks: z.record(z.string(), SinkConfig).default({}),
    /** Checked in order; the first match wins unless it says `continue`. */
    routes: z.array(Route).default([]),
    /** Sinks for alerts no route matched. Default: every sink when there are no routes, else none. */
    default: z.array(z.string().min(1)).optional(),
  })
  .superRefine((c, ctx) => {
    const known = (name: string) => name in c.sinks;
    c.routes.forEach((r, i) => {
      r.sinks.forEach((s, j) => {
        if (!known(s))
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'sinks', j],
            message: `no sink named "${s}" in alerts.sinks`,
          });
      });
    });
    c.default?.forEach((s, j) => {
      if (!known(s))
        ctx.addIssue({
          code: 'custom',
          path: ['default', j],
          message: `no sink named "${s}" in alerts.sinks`,
        });
    });
  })
  .default({ sinks: {}, routes: [] });
export type AlertsConfig = z.infer<typeof AlertsConfig>;
