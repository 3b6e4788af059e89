import { z } from 'zod';
import type { SecretAccessEvent } from '../core/event.js';
import { HOUR } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { globMatch } from './kinds.js';

const Config = z.strictObject({
  /** Honeytoken secrets: canonical ids, ARNs, names or `*` globs. Nothing legitimate ever touches them. */
  secrets: z.array(z.string().min(1)).default([]),
});

export const canaryAccess = defineDetector({
  id: 'canary-access',
  title: 'A canary secret was touched',
  severity: 'critical',
  runbook:
    'Canary secrets exist only to be found by intruders: treat the principal as compromised now. Revoke its ' +
    'sessions and keys, find where its credentials were used from (query below), and rotate everything it read.',
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const patterns = config.secrets;
    const matches = (v: string | null | undefined) => !!v && patterns.some((p) => globMatch(p, v));
    return {
      evaluate(event: SecretAccessEvent): Finding[] {
        if (patterns.length === 0) return [];
        const r = event.resource;
        const hit = matches(r?.id) || matches(r?.name) || matches(event.relatedResource);
        if (!hit) return [];
        const name = r?.name ?? event.relatedResource ?? 'canary';
        return [
          {
            severity: 'critical',
            title: `Canary ${name} touched by ${event.principal.name} (${event.operation})`,
            principal: event.principal,
            resource: r,
            event,
            evidence: {
              summary: `${event.principal.name} called ${event.operation} (${event.outcome}) on canary ${name} at ${event.time}; legitimate touches expected: 0, alert threshold: 1`,
              observed: {
                operation: event.operation,
                outcome: event.outcome,
                secret: r?.id ?? event.relatedResource ?? null,
                ip: event.source.ip,
              },
              baseline: { legitimateTouches: 0 },
              threshold: { touches: 1 },
            },
          },
        ];
      },
    };
  },
});
