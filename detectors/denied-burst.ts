import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import type { SecretAccessEvent } from '../core/event.js';
import { HOUR } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';

const Config = z.strictObject({
  /** Denied calls in the window (Panther: 20 AccessDenied reads in 24 h; vigil looks at one hour). */
  minDenied: z.number().int().positive().default(10),
  /** Across at least this many distinct secrets: one misconfigured secret is a bug, many is probing. */
  minSecrets: z.number().int().positive().default(3),
  window: z.string().default('PT1H'),
});

/** Recent denied calls of one principal: [resource, time], pruned to the window, capped. */
type Recent = [string, number][];
const CAP = 512;
const NS = 'denied-burst';
// Guessing names returns "not found" rather than "denied" when the caller may list: probing too.
const NOT_FOUND = /ResourceNotFound|ParameterNotFound|SecretNotFound|NotFound$/;

export const deniedBurst = defineDetector({
  id: 'denied-burst',
  title: 'Burst of denied secret access',
  severity: 'high',
  runbook:
    'Someone is trying secrets this principal may not read: enumeration with stolen credentials, or a ' +
    'deployment with a broken policy. Check the client and address (query below) and whether a deploy just ' +
    "happened. If neither explains it, revoke the principal's sessions and review what it did succeed at.",
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const windowMs = parseDuration(config.window);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        const probing =
          event.outcome === 'denied' || (event.outcome === 'error' && NOT_FOUND.test(event.errorCode ?? ''));
        if (!probing || event.source.viaService !== null) return [];
        const t = ctx.time;
        const prior = ctx.state.get<Recent>(NS, event.principal.id) ?? [];
        const recent: Recent = prior.filter(([, at]) => t - at < windowMs);
        recent.push([event.resource?.id ?? `${event.service}:${event.operation}`, t]);
        ctx.state.set(NS, event.principal.id, recent.length > CAP ? recent.slice(-CAP) : recent);
        const distinct = new Set(recent.map(([r]) => r)).size;
        if (recent.length < config.minDenied || distinct < config.minSecrets) return [];
        return [
          {
            severity: distinct >= 3 * config.minSecrets ? 'critical' : 'high',
            title: `${event.principal.name}: ${recent.length} denied calls on ${distinct} secrets`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary:
                `${recent.length} denied or not-found calls across ${distinct} secrets in ${config.window} by ${event.principal.name} (last: ${event.operation} ${event.errorCode ?? ''})`.trim(),
              observed: {
                denied: recent.length,
                distinctSecrets: distinct,
                lastError: event.errorCode,
                ip: event.source.ip,
              },
              baseline: null,
              threshold: {
                minDenied: config.minDenied,
                minSecrets: config.minSecrets,
                window: config.window,
              },
            },
          },
        ];
      },
    };
  },
});
