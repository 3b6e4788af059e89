import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type SecretAccessEvent } from '../core/event.js';
import { DAY, fmt, robust, type Series, seriesNow, seriesSamples } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';
import { isServicePrincipal } from './kinds.js';

const Config = z.strictObject({
  learningPeriod: z.string().default('P7D'),
  /** The entity's own history before its baseline is trusted. */
  minHistory: z.string().default('P7D'),
  /** Robust z-score: (observed − median) / max(1.4826·MAD, √median, 1). */
  minZ: z.number().positive().default(4),
  /** And at least this multiple of the expected hourly count (trimmed mean of the same hour on like days). */
  minRatio: z.number().positive().default(3),
  /** And at least this many reads in the hour. */
  minReads: z.number().int().positive().default(10),
  /** Also watch each secret's total reads (a flood spread over many principals). */
  perSecret: z.boolean().default(true),
});
type Config = z.infer<typeof Config>;

interface Score {
  observed: number;
  median: number;
  mad: number;
  expected: number;
  z: number;
  samples: number;
}

/** Trimmed mean: drops the top 10% of samples, so one past incident does not raise the bar. */
function trimmedMean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b).slice(0, Math.max(1, Math.ceil(xs.length * 0.9)));
  return s.reduce((a, b) => a + b, 0) / s.length;
}

function score(series: Series, t: number, since: number): Score {
  const samples = seriesSamples(series, t, since);
  const observed = seriesNow(series, t) + 1;
  const { median, mad } = robust(samples);
  const spread = Math.max(mad, Math.sqrt(median), 1);
  return {
    observed,
    median,
    mad,
    expected: trimmedMean(samples),
    z: (observed - median) / spread,
    samples: samples.length,
  };
}

function spikes(s: Score, c: Config): boolean {
  return (
    s.samples >= 3 &&
    s.observed >= c.minReads &&
    s.z >= c.minZ &&
    s.observed >= c.minRatio * Math.max(s.expected, 1)
  );
}

function describe(s: Score, hour: number): string {
  return (
    `${s.observed} reads in the hour from ${String(hour).padStart(2, '0')}:00 UTC; ` +
    `usual for this hour on like days is ${fmt(s.expected)} (median ${fmt(s.median)} ± ${fmt(s.mad)}, ${s.samples} days); ` +
    `robust z ${fmt(s.z)}`
  );
}

export const volumeSpike = defineDetector({
  id: 'volume-spike',
  title: 'Secret reads far above their usual volume',
  severity: 'medium',
  runbook:
    'Look at what the principal read in the hour (query below): one secret read in a loop is usually a bug ' +
    'or a retry storm; many secrets, a new client or a new address suggest misuse of its credentials. ' +
    'Ask the owner; if unexplained, revoke its sessions and rotate the secrets read.',
  config: Config,
  groupWindowMs: DAY,
  create(config: Config) {
    const learningMs = parseDuration(config.learningPeriod);
    const historyMs = parseDuration(config.minHistory);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || event.outcome !== 'success' || !event.resource) return [];
        if (isServicePrincipal(event.principal.type)) return [];
        const t = Date.parse(event.time);
        if (t < ctx.firstEventTime + learningMs) return [];
        const hour = new Date(t).getUTCHours();
        const { principal: p, secret } = ctx.profiles;
        let principalSpiked = false;
        const out: Finding[] = [];
        if (p && p.firstRead !== null && t - p.firstRead >= historyMs) {
          const s = score(p.vol, t, p.firstRead);
          if (spikes(s, config)) {
            principalSpiked = true;
            out.push({
              severity: s.observed >= 10 * Math.max(s.expected, 1) ? 'high' : 'medium',
              title: `${event.principal.name}: ${s.observed} secret reads in an hour, usually ${fmt(s.expected)}`,
              principal: event.principal,
              resource: event.resource,
              event,
              evidence: {
                summary: `${event.principal.name}: ${describe(s, hour)}`,
                observed: { readsThisHour: s.observed, hourUtc: hour },
                baseline: {
                  expected: Number(s.expected.toFixed(2)),
                  median: s.median,
                  mad: Number(s.mad.toFixed(2)),
                  days: s.samples,
                },
                threshold: { minZ: config.minZ, minRatio: config.minRatio, minReads: config.minReads },
              },
            });
          }
        }
        // A secret flooded by many principals; a single principal's flood is reported once, above.
        if (
          config.perSecret &&
          !principalSpiked &&
          secret &&
          secret.reads > 0 &&
          t - secret.first >= historyMs
        ) {
          const s = score(secret.vol, t, secret.first);
          if (spikes(s, config)) {
            out.push({
              severity: 'medium',
              title: `${event.resource.name}: ${s.observed} reads in an hour, usually ${fmt(s.expected)}`,
              principal: event.principal,
              resource: event.resource,
              event,
              groupKey: `volume-spike|secret|${event.resource.id}`,
              evidence: {
                summary: `${event.resource.name}: ${describe(s, hour)}`,
                observed: { readsThisHour: s.observed, hourUtc: hour, secret: event.resource.id },
                baseline: {
                  expected: Number(s.expected.toFixed(2)),
                  median: s.median,
                  mad: Number(s.mad.toFixed(2)),
                  days: s.samples,
                },
                threshold: { minZ: config.minZ, minRatio: config.minRatio, minReads: config.minReads },
              },
            });
          }
        }
        return out;
      },
    };
  },
});
