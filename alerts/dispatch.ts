import type { Alert } from '../core/alert.js';
import type { Clock } from '../core/clock.js';
import { redact } from '../core/secret.js';
import { buildNotification, groupKeyOf, type Notification, testNotification } from './notification.js';
import {
  type DeliveryLedger,
  isLedger,
  type Outbox,
  type PendingDelivery,
  type Settlement,
} from './outbox.js';
import { type NotifyPolicy, PER_ALERT, type Routing } from './routing.js';
import type { DeliveryResult, Sink } from './sink.js';

/** One line of what happened, for a log: identifiers and counts, never payloads or URLs. */
export interface DispatchEvent {
  readonly sink: string;
  readonly outcome: 'delivered' | 'retry' | 'dead' | 'held';
  readonly notification?: string;
  readonly alerts: number;
  readonly reason?: string;
  readonly nextAttemptAt?: number;
}

export interface DispatchOptions {
  readonly clock: Clock;
  /** After this many failed attempts a retryable failure is dead-lettered too (default 40). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  /** Routes' grouping, repeat intervals and digests; without it each sink's own defaults apply. */
  readonly routing?: Routing;
  /** Waits for rate limits and retries; tests pass one that advances a fake clock. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Keep going until this clock time, sleeping for retries and held groups that fall due before it.
   * Default: one pass over what is due now (rate limits are still waited for).
   */
  readonly until?: number;
  readonly log?: (event: DispatchEvent) => void;
}

export interface DispatchReport {
  /** Deliveries (alert × sink) acknowledged, per sink. */
  delivered: Record<string, number>;
  /** Deliveries that failed and will be retried. */
  failed: Record<string, number>;
  /** Deliveries dead-lettered (see `vigil alerts --failed`). */
  dead: Record<string, number>;
  /** Deliveries held back by a repeat interval or digest, still queued. */
  held?: Record<string, number>;
  /** Notifications (messages) sent, per sink. */
  notifications?: Record<string, number>;
}

/**
 * Attempts before a retryable failure is dead-lettered: with backoff from 1 s doubling to a 5-minute
 * cap, about 2.5 hours of an outage. `vigil alerts redeliver` retries dead letters.
 */
export const DEFAULT_MAX_ATTEMPTS = 40;

/** Deliveries read per pass and sink: large, so that a burst's groups become one notification each. */
const PASS_LIMIT = 20_000;

const add = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempts: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

interface Limiter {
  tokens: number;
  at: number;
  pausedUntil: number;
  /** Consecutive retryable failures: the sink's own backoff, so a dead sink sees few probes. */
  failures: number;
}

// Rate state lives with the sink object, so repeated dispatch passes in one process share it.
const limiters = new WeakMap<Sink, Limiter>();

/** Takes a token from the sink's bucket; returns how long to wait first (0 if none). */
function takeToken(sink: Sink, now: number): number {
  const rl = sink.rateLimit;
  if (!rl) return 0;
  const l = limiterOf(sink, now);
  const per = rl.perMs / rl.count;
  l.tokens = Math.min(rl.count, l.tokens + Math.max(0, now - l.at) / per);
  l.at = now;
  if (l.tokens >= 1) {
    l.tokens -= 1;
    return 0;
  }
  const wait = Math.ceil((1 - l.tokens) * per);
  l.tokens -= 1;
  l.at = now + wait;
  l.tokens = Math.max(l.tokens, -rl.count);
  return wait;
}

function limiterOf(sink: Sink, now: number): Limiter {
  let l = limiters.get(sink);
  if (!l) {
    l = { tokens: sink.rateLimit?.count ?? 1, at: now, pausedUntil: 0, failures: 0 };
    limiters.set(sink, l);
  }
  return l;
}

/** Lets the skeleton's plain outbox run through the same dispatcher (held groups and last-sent kept in memory). */
function asLedger(o: Outbox): DeliveryLedger {
  if (isLedger(o)) return o;
  const heldUntil = new Map<string, number>();
  const sent = new Map<string, number>();
  const k = (alertId: string, sink: string) => `${sink}\u0000${alertId}`;
  return {
    ...o,
    dueFor: (sink, now, limit) =>
      o
        .due(now, 100_000)
        .filter((d) => d.sink === sink && (heldUntil.get(k(d.alertId, sink)) ?? 0) <= now)
        .slice(0, limit),
    nextDueAt: () => undefined,
    settle(sink, ids, outcome, now) {
      for (const id of ids) {
        if (outcome.kind === 'delivered') o.markDelivered(id, sink, now);
        else if (outcome.kind === 'failed') o.markFailed(id, sink, outcome, now);
        else heldUntil.set(k(id, sink), outcome.until);
      }
      if (outcome.kind === 'delivered' && outcome.groupKey !== null)
        sent.set(`${sink}\u0000${outcome.groupKey}`, now);
    },
    lastSent: (sink, key) => sent.get(`${sink}\u0000${key}`),
    failed: () => [],
    redeliver: () => 0,
    counts: () => ({}),
  };
}

interface Bucket {
  readonly key: string;
  readonly policy: NotifyPolicy;
  readonly alerts: Alert[];
  attempts: number;
}

/**
 * Delivers what is due: per sink, due deliveries are grouped into notifications (routes' `groupBy`,
 * repeat intervals, digests), rate-limited, sent, and each notification settled at once, so a restart
 * never re-sends what a sink acknowledged. A retryable failure reschedules with backoff (or
 * `Retry-After`) and pauses that sink; a permanent one is dead-lettered. Sinks run independently:
 * one broken or slow sink never blocks the others.
 */
export async function dispatchDue(
  outbox: Outbox | DeliveryLedger,
  sinks: ReadonlyMap<string, Sink>,
  options: DispatchOptions,
): Promise<DispatchReport> {
  const ledger = asLedger(outbox);
  const report: Required<DispatchReport> = {
    delivered: {},
    failed: {},
    dead: {},
    held: {},
    notifications: {},
  };
  const ctx: Ctx = {
    ledger,
    report,
    options,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    base: options.baseDelayMs ?? 1000,
    max: options.maxDelayMs ?? 5 * 60_000,
    random: options.random ?? Math.random,
    signal: options.signal ?? new AbortController().signal,
    sleep: options.sleep ?? realSleep,
    until: options.until ?? options.clock.now(),
  };
  await Promise.all([...sinks.values()].map((sink) => runSink(sink, ctx)));
  // Deliveries to sinks that are no longer configured: dead-lettered with the reason, not retried forever.
  for (const name of new Set(ledger.due(options.clock.now(), 10_000).map((d) => d.sink))) {
    if (sinks.has(name)) continue;
    const ids = ledger.dueFor(name, options.clock.now(), 10_000).map((d) => d.alertId);
    ledger.settle(
      name,
      ids,
      failure(true, `no sink named ${name} is configured`, options.clock.now()),
      options.clock.now(),
    );
    add(report.dead, name, ids.length);
  }
  return report;
}

interface Ctx {
  readonly ledger: DeliveryLedger;
  readonly report: Required<DispatchReport>;
  readonly options: DispatchOptions;
  readonly maxAttempts: number;
  readonly base: number;
  readonly max: number;
  readonly random: () => number;
  readonly signal: AbortSignal;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly until: number;
}

const failure = (dead: boolean, reason: string, nextAttemptAt: number): Settlement => ({
  kind: 'failed',
  dead,
  reason,
  nextAttemptAt,
});

async function runSink(sink: Sink, ctx: Ctx): Promise<void> {
  const { ledger, report, options } = ctx;
  const clock = options.clock;
  const defaults = sink.grouping ?? PER_ALERT;
  for (;;) {
    if (ctx.signal.aborted) return;
    let now = clock.now();
    const limiter = limiterOf(sink, now);
    if (limiter.pausedUntil > now) {
      if (limiter.pausedUntil > ctx.until) return;
      await ctx.sleep(limiter.pausedUntil - now, ctx.signal);
      continue;
    }
    const due = ledger.dueFor(sink.name, now, PASS_LIMIT);
    if (due.length === 0) {
      const next = ledger.nextDueAt(sink.name);
      if (next === undefined || next > ctx.until) return;
      await ctx.sleep(Math.max(1, next - now), ctx.signal);
      continue;
    }
    const ready = plan(sink, due, defaults, now, ctx);
    for (let i = 0; i < ready.length; ) {
      if (ctx.signal.aborted) return;
      const size = sink.deliverMany ? Math.max(1, sink.batchSize ?? 1) : 1;
      const chunk = ready.slice(i, i + size);
      i += chunk.length;
      const wait = takeToken(sink, clock.now());
      if (wait > 0) await ctx.sleep(wait, ctx.signal);
      const notes = chunk.map((b) => buildNotification(sink.name, b.key, b.alerts, b.policy.digest));
      const results = await attempt(sink, notes, ctx.signal);
      now = clock.now();
      let pause = 0;
      chunk.forEach((b, j) => {
        const r = results[j] ?? { ok: false, retryable: true, reason: 'no result for this entry' };
        const ids = b.alerts.map((a) => a.id);
        const note = notes[j]!;
        if (r.ok) {
          const groupKey = b.policy.repeatIntervalMs > 0 ? b.key : null;
          ledger.settle(sink.name, ids, { kind: 'delivered', notificationId: note.id, groupKey }, now);
          limiter.failures = 0;
          add(report.delivered, sink.name, ids.length);
          add(report.notifications, sink.name);
          options.log?.({ sink: sink.name, outcome: 'delivered', notification: note.id, alerts: ids.length });
          return;
        }
        const attempts = b.attempts + 1;
        const dead = !r.retryable || attempts >= ctx.maxAttempts;
        if (r.retryable) limiter.failures++;
        const delay =
          r.retryAfterMs ?? backoffMs(Math.max(attempts, limiter.failures), ctx.base, ctx.max, ctx.random);
        const reason = redact(r.reason);
        ledger.settle(sink.name, ids, failure(dead, reason, now + delay), now);
        add(dead ? report.dead : report.failed, sink.name, ids.length);
        options.log?.({
          sink: sink.name,
          outcome: dead ? 'dead' : 'retry',
          notification: note.id,
          alerts: ids.length,
          reason,
          ...(dead ? {} : { nextAttemptAt: now + delay }),
        });
        // A sink that is down or throttling gets no more requests until its retry time.
        if (r.retryable) pause = Math.max(pause, r.retryAfterMs ?? delay);
      });
      if (pause > 0) {
        limiter.pausedUntil = now + pause;
        break;
      }
    }
  }
}

/** Groups due deliveries into notifications; groups inside their repeat interval are held. */
function plan(
  sink: Sink,
  due: readonly PendingDelivery[],
  defaults: NotifyPolicy | typeof PER_ALERT,
  now: number,
  ctx: Ctx,
): Bucket[] {
  const { ledger, report, options } = ctx;
  const buckets = new Map<string, Bucket>();
  const missing: string[] = [];
  for (const d of due) {
    const alert = ledger.alert(d.alertId);
    if (!alert) {
      missing.push(d.alertId);
      continue;
    }
    const policy: NotifyPolicy = options.routing?.policy(alert, sink.name, defaults) ?? {
      ...defaults,
      digest: false,
    };
    const key = policy.digest ? 'digest' : groupKeyOf(alert, policy.groupBy);
    const bk = `${key}\u0000${policy.repeatIntervalMs}\u0000${policy.digest}`;
    let b = buckets.get(bk);
    if (!b) buckets.set(bk, (b = { key, policy, alerts: [], attempts: 0 }));
    b.alerts.push(alert);
    b.attempts = Math.max(b.attempts, d.attempts);
  }
  if (missing.length) {
    ledger.settle(sink.name, missing, failure(true, 'alert not found in the store', now), now);
    add(report.dead, sink.name, missing.length);
  }
  const ready: Bucket[] = [];
  for (const b of buckets.values()) {
    const last = b.policy.repeatIntervalMs > 0 ? ledger.lastSent(sink.name, b.key) : undefined;
    if (last !== undefined && now < last + b.policy.repeatIntervalMs) {
      const until = last + b.policy.repeatIntervalMs;
      ledger.settle(
        sink.name,
        b.alerts.map((a) => a.id),
        { kind: 'deferred', until },
        now,
      );
      add(report.held, sink.name, b.alerts.length);
      options.log?.({ sink: sink.name, outcome: 'held', alerts: b.alerts.length, nextAttemptAt: until });
      continue;
    }
    ready.push(b);
  }
  return ready;
}

/** One attempt at one or several notifications; a sink that throws has a bug, recorded as retryable. */
async function attempt(
  sink: Sink,
  notes: readonly Notification[],
  signal: AbortSignal,
): Promise<DeliveryResult[]> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(sink.timeoutMs ?? 10_000)]);
  try {
    if (sink.deliverMany && notes.length > 1)
      return await sink.deliverMany(
        notes.map((n) => sink.render(n)),
        timeout,
      );
    return [await sink.deliver(sink.render(notes[0]!), timeout)];
  } catch (err) {
    const reason = redact(`sink error: ${(err as Error).name}: ${(err as Error).message}`);
    return notes.map(() => ({ ok: false, retryable: true, reason }));
  }
}

/** Sends a test notification through one sink now, outside the outbox: `vigil alerts test SINK`. */
export async function sendTest(sink: Sink, clock: Clock, signal?: AbortSignal): Promise<DeliveryResult> {
  const [r] = await attempt(
    sink,
    [testNotification(sink.name, clock.now())],
    signal ?? new AbortController().signal,
  );
  return r!.ok ? r! : { ...r!, reason: redact(r!.reason) };
}
