import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type SecretAccessEvent } from '../core/event.js';
import { DAY, fmt, robust, type Series, seriesNow, seriesSamples, topReader } from './baseline.js';
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
  /**
   * And a Poisson tail probability below this at the expected rate: counts of rare events are noisy, and
   * one chance in a million per entity-hour keeps a hundred entities under one false alert a year.
   */
  maxPValue: z.number().positive().max(1).default(1e-6),
  /** And this multiple of the entity's usual busy hour (95th percentile of its non-zero hours, any time). */
  busyRatio: z.number().positive().default(1.5),
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
  busy?: number;
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

/** log P(X >= k) for X ~ Poisson(lambda), summed in log space. */
export function poissonTailLog(k: number, lambda: number): number {
  if (k <= 0) return 0;
  const l = Math.max(lambda, 1e-9);
  let term = -l + k * Math.log(l) - logFactorial(k);
  let sum = term;
  for (let i = k + 1; i < k + 1000; i++) {
    term += Math.log(l) - Math.log(i);
    sum = Math.max(sum, term) + Math.log1p(Math.exp(-Math.abs(sum - term)));
    if (term < sum - 40) break;
  }
  return sum;
}

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** The entity's usual busy hour: 95th percentile of its non-zero hourly counts over the ring. */
export function busyHour(series: Series, t: number): number {
  const today = Math.floor(t / DAY);
  const xs: number[] = [];
  series.d.forEach((day, slot) => {
    if (day < 0 || day >= today) return;
    for (let h = 0; h < 24; h++) {
      const c = series.c[slot * 24 + h]!;
      if (c > 0) xs.push(c);
    }
  });
  if (xs.length === 0) return 0;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;
}

function spikes(s: Score, series: Series, t: number, c: Config): boolean {
  if (s.samples < 3 || s.observed < c.minReads || s.z < c.minZ) return false;
  if (s.observed < c.minRatio * Math.max(s.expected, 1)) return false;
  // Counts are at least Poisson-noisy; the rate is the larger of the expected and median + MAD.
  const lambda = Math.max(s.expected, s.median + s.mad, 0.5);
  if (poissonTailLog(s.observed, lambda) > Math.log(c.maxPValue)) return false;
  s.busy = busyHour(series, t);
  return s.observed >= c.busyRatio * s.busy;
}

function describe(s: Score, hour: number): string {
  return (
    `${s.observed} reads in the hour from ${String(hour).padStart(2, '0')}:00 UTC; ` +
    `usual for this hour on like days is ${fmt(s.expected)} (median ${fmt(s.median)} ± ${fmt(s.mad)}, ${s.samples} days); ` +
    `robust z ${fmt(s.z)}; its usual busy hour is ${fmt(s.busy ?? 0)}`
  );
}

/** The seasonal baseline a spike was judged against, as alert evidence. */
function baselineEvidence(s: ReturnType<typeof score>) {
  return {
    expected: Number(s.expected.toFixed(2)),
    median: s.median,
    mad: Number(s.mad.toFixed(2)),
    days: s.samples,
  };
}

function thresholdEvidence(config: z.infer<typeof Config>) {
  const { minZ, minRatio, minReads, maxPValue, busyRatio } = config;
  return { minZ, minRatio, minReads, maxPValue, busyRatio };
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
        const t = ctx.time;
        if (t < ctx.firstEventTime + learningMs) return [];
        const hour = new Date(t).getUTCHours();
        const { principal: p, secret } = ctx.profiles;
        let principalSpiked = false;
        const out: Finding[] = [];
        if (p && p.firstRead !== null && t - p.firstRead >= historyMs) {
          const s = score(p.vol, t, p.firstRead);
          if (spikes(s, p.vol, t, config)) {
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
                baseline: baselineEvidence(s),
                threshold: thresholdEvidence(config),
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
          // One principal behind most of the flood: that principal's own baseline judges it, not this one.
          const top = topReader(secret, t);
          const spread = !top || top.reads < s.observed / 2;
          if (spread && spikes(s, secret.vol, t, config)) {
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
                baseline: baselineEvidence(s),
                threshold: thresholdEvidence(config),
              },
            });
          }
        }
        return out;
      },
    };
  },
});
