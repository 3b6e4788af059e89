import { z } from 'zod';
import { Principal, Resource, Severity } from './event.js';

/** One line of an alert's explanation: what was observed, against which baseline and threshold. */
export const Evidence = z.object({
  /** The sentence a person reads first, e.g. "62 reads in 10 min; usual for Tue 09:00 is 1.2 ± 0.8". */
  summary: z.string(),
  observed: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
  baseline: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).nullable(),
  threshold: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).nullable(),
});
export type Evidence = z.infer<typeof Evidence>;

export const Alert = z.object({
  /** Stable: the same finding on the same events gets the same id, so re-runs never duplicate it. */
  id: z.string().min(1),
  /** Event time of the first evidence event, ISO 8601 UTC. */
  time: z.iso.datetime(),
  /** Event time of the last evidence event. */
  lastTime: z.iso.datetime(),
  detector: z.string().min(1),
  severity: Severity,
  title: z.string(),
  principal: Principal,
  resource: Resource.nullable(),
  /** Other resources touched by the grouped events. */
  resources: z.array(z.string()),
  evidence: Evidence,
  runbook: z.string(),
  eventIds: z.array(z.string()),
  /** Number of events grouped into this alert. */
  count: z.number().int().positive(),
  /** Grouping key: alerts with the same key in one window are one notification. */
  groupKey: z.string(),
  /** A ready-to-run command to investigate. */
  query: z.string(),
});
export type Alert = z.infer<typeof Alert>;
