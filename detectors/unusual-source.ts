import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import type { SecretAccessEvent, Severity } from '../core/event.js';
import { HOUR, seen } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { isServicePrincipal, isWorkload } from './kinds.js';

const Config = z.strictObject({
  learningPeriod: z.string().default('P7D'),
  /** The principal's own history before its sources are trusted (Datadog learns 7 days). */
  minHistory: z.string().default('P3D'),
  /** Successful calls in its history before a new source means anything. */
  minEvents: z.number().int().positive().default(20),
});

/** Runtimes that mean "running inside the cloud": a workload seen only with these left its home if not. */
const RUNTIME_CLIENTS = new Set(['lambda', 'ecs', 'ec2', 'service', 'aws-internal']);

function share(set: Record<string, [number, number, number]>, keys: (k: string) => boolean): number {
  let all = 0;
  let hit = 0;
  for (const [k, v] of Object.entries(set)) {
    all += v[2];
    if (keys(k)) hit += v[2];
  }
  return all === 0 ? 0 : hit / all;
}

export const unusualSource = defineDetector({
  id: 'unusual-source',
  title: 'Secret access from a country or network this principal never used',
  severity: 'high',
  runbook:
    'For a workload role (Lambda, ECS, EC2, managed identity) a call from outside its cloud means its ' +
    'credentials were copied: revoke its sessions now (AWS: revoke older sessions on the role; Azure: ' +
    'rotate the app credential), rotate what it read, and find how they leaked. For a person: confirm travel ' +
    'or a new VPN with them before acting.',
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    const historyMs = parseDuration(config.minHistory);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (event.outcome !== 'success' || event.source.viaService !== null) return [];
        if (isServicePrincipal(event.principal.type)) return [];
        const p = ctx.profiles.principal;
        if (!p) return [];
        const t = ctx.time;
        if (t < ctx.firstEventTime + learningMs || t - p.first < historyMs || p.events < config.minEvents)
          return [];
        const src = ctx.source;
        if (src.netClass === 'internal' || src.netClass === 'unknown') return [];
        const workload = isWorkload(event.principal.type);
        const newCountry = src.country !== null && !seen(p.countries, src.country, t);
        const newClass = !seen(p.classes, src.netClass, t);
        const newNetwork = !seen(p.networks, src.network, t);
        const newClient = !seen(p.clients, src.uaFamily, t);
        const runtimeOnly = share(p.clients, (k) => RUNTIME_CLIENTS.has(k)) >= 0.99;
        const reasons: string[] = [];
        let severity: Severity | null = null;
        if (workload && src.netClass === 'public' && newClass) {
          // Its history is inside the cloud only (service endpoints, VPC, AWS ranges): this is outside.
          severity = 'critical';
          reasons.push(
            `a workload that only ever called from inside its cloud called from the public internet (${src.network})`,
          );
        }
        if (
          workload &&
          newClient &&
          newNetwork &&
          runtimeOnly &&
          src.uaFamily &&
          !RUNTIME_CLIENTS.has(src.uaFamily)
        ) {
          severity = 'critical';
          reasons.push(
            `a workload that only ran as ${Object.keys(p.clients).join('/')} was used by ${src.uaFamily} from a new network ${src.network}`,
          );
        }
        // Novelty means something only where history is concentrated: a CI role on a global runner pool
        // already calls from many countries, and one more is not news unless the client changed too.
        const knownCountries = Object.keys(p.countries).length;
        // A principal on a shared address pool (CI runners, Lambda) has many networks: country novelty there
        // needs a new client as well.
        const pooled = Object.keys(p.networks).length >= 8;
        if (newCountry && ((knownCountries <= 2 && !pooled) || (workload && newClient))) {
          severity ??= workload ? 'critical' : 'high';
          const known = Object.keys(p.countries);
          reasons.push(
            `first call from ${src.country}; before: ${known.length ? known.join(', ') : 'no public country'}`,
          );
        }
        if (!severity) return [];
        const label = event.resource ? ` on ${event.resource.name}` : '';
        return [
          {
            severity,
            title: `${event.principal.name} called ${event.operation}${label} from ${src.country ?? src.network ?? 'a new network'}`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary: `${event.principal.name}: ${reasons.join('; ')} (${p.events} calls over ${Math.round((t - p.first) / 86_400_000)} days)`,
              observed: {
                ip: event.source.ip,
                country: src.country,
                netClass: src.netClass,
                network: src.network,
                client: src.uaFamily,
              },
              baseline: {
                countries: Object.keys(p.countries).join(',') || null,
                classes: Object.keys(p.classes).join(','),
                clients: Object.keys(p.clients).join(',') || null,
                networks: Object.keys(p.networks).length,
                calls: p.events,
              },
              threshold: { minHistory: config.minHistory, minEvents: config.minEvents },
            },
          },
        ];
      },
    };
  },
});
