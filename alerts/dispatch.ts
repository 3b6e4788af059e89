import type { Clock } from '../core/clock.js';
import { redact } from '../core/secret.js';
import type { Outbox } from './outbox.js';
import type { DeliveryResult, Sink } from './sink.js';

export interface DispatchOptions {
  readonly clock: Clock;
  /** After this many failed attempts a retryable failure is dead-lettered too. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
}

export interface DispatchReport {
  delivered: Record<string, number>;
  failed: Record<string, number>;
  dead: Record<string, number>;
}

const add = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempts: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * One pass over the deliveries that are due: each is tried once; a retryable failure is rescheduled with
 * backoff (or `Retry-After`), a permanent one is dead-lettered. One broken sink never blocks the others.
 */
export async function dispatchDue(
  outbox: Outbox,
  sinks: ReadonlyMap<string, Sink>,
  options: DispatchOptions,
): Promise<DispatchReport> {
  const report: DispatchReport = { delivered: {}, failed: {}, dead: {} };
  const maxAttempts = options.maxAttempts ?? 8;
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 5 * 60_000;
  const random = options.random ?? Math.random;
  const signal = options.signal ?? new AbortController().signal;
  for (;;) {
    const now = options.clock.now();
    const batch = outbox.due(now, 500);
    if (batch.length === 0 || signal.aborted) break;
    for (const d of batch) {
      const sink = sinks.get(d.sink);
      const alert = outbox.alert(d.alertId);
      let result: DeliveryResult;
      if (!sink) result = { ok: false, retryable: false, reason: `no sink named ${d.sink} is configured` };
      else if (!alert) result = { ok: false, retryable: false, reason: 'alert not found' };
      else {
        try {
          result = await sink.deliver(sink.render(alert), signal);
        } catch (err) {
          // A sink that throws has a bug; record it as a retryable failure without the message's URLs.
          result = {
            ok: false,
            retryable: true,
            reason: redact(`sink error: ${(err as Error).name}: ${(err as Error).message}`),
          };
        }
      }
      const t = options.clock.now();
      if (result.ok) {
        outbox.markDelivered(d.alertId, d.sink, t);
        add(report.delivered, d.sink);
        continue;
      }
      const attempts = d.attempts + 1;
      const dead = !result.retryable || attempts >= maxAttempts;
      const delay = result.retryAfterMs ?? backoffMs(attempts, base, max, random);
      outbox.markFailed(
        d.alertId,
        d.sink,
        { dead, reason: redact(result.reason), nextAttemptAt: t + delay },
        t,
      );
      add(dead ? report.dead : report.failed, d.sink);
    }
    // Everything due was tried once; what failed is scheduled for later passes.
    if (batch.length < 500) break;
  }
  return report;
}
