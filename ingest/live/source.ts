import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';

/**
 * A live source follows a provider's audit log as it grows. A config entry of one type (one file,
 * `ingest/live/<type>.ts`, registered on one line in `ingest/live/registry.ts`) becomes one or more
 * streams, each with its own checkpoint: an account, region and event source, a log group, a directory.
 * Streams read raw records; normalizing, storing and checkpointing are the caller's job.
 */

/** One raw record (a JSON value or a JSON text) or a read error, with where it was found. */
export type LiveRecord =
  | { readonly value: unknown; readonly position: string }
  | { readonly error: string; readonly position: string };

/** What one read gives: records, and the checkpoint that covers them once they are stored. */
export interface LiveBatch {
  readonly records: readonly LiveRecord[];
  /** The locator shown in the quarantine's `file` column: a stream id or a file path. */
  readonly origin: string;
  /** Commit this checkpoint in the same transaction as the records; absent keeps the current one. */
  readonly checkpoint?: { readonly key: string; readonly value: string };
  /** Event time (ms) up to which the stream has now read everything; drives lag and lateness. */
  readonly watermark?: number;
  /** For backfill progress: milliseconds of the requested range now read, and the range. */
  readonly progress?: { readonly done: number; readonly total: number };
}

export interface PollContext {
  /** The committed checkpoint under a key (a stream's own id, or a file path under it). */
  checkpoint(key: string): string | undefined;
  readonly now: number;
  /** Stop between pages when aborted: the page in flight is finished and yielded first. */
  readonly signal: AbortSignal;
  /** Read from this time instead of the checkpoint (backfill). */
  readonly since?: number;
  /** Read what exists and stop, even for a source that could wait for more (stdin). */
  readonly once: boolean;
}

export interface LiveStream {
  /** Stable id, also its checkpoint key: `cloudtrail-lookup:<account>:<region>:<service>`. */
  readonly id: string;
  readonly type: string;
  readonly pollIntervalMs: number;
  /** Whether `since` applies (time-ranged APIs); file trees are read whole instead. */
  readonly timeRanged: boolean;
  /** One polling round from the checkpoint to now. I/O failures are thrown, and classified by the caller. */
  poll(ctx: PollContext): AsyncIterable<LiveBatch>;
}

/** Shared request budgets, by key (e.g. account and region): two streams of one account share one. */
export interface Budgets {
  get(key: string, perSecond: number): RateBudget;
}

export interface LiveDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  readonly clock: Clock;
  readonly budgets: Budgets;
  readonly cwd: string;
}

/** A kind of live source: its strict config schema (without `type`) and how to build its streams. */
export interface LiveSourceType<C = unknown> {
  readonly type: string;
  readonly description: string;
  readonly config: z.ZodType<C>;
  create(config: C, deps: LiveDeps): LiveStream[];
}

export function defineLiveSource<S extends z.ZodType>(t: {
  type: string;
  description: string;
  config: S;
  create(config: z.output<S>, deps: LiveDeps): LiveStream[];
}): LiveSourceType<z.output<S>> {
  return t as unknown as LiveSourceType<z.output<S>>;
}

/** A duration in config (`PT15M`, `15m`), parsed once into milliseconds. */
export const Duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `not a duration (use ISO 8601 like PT5M, or 5m, 90s)` });
        return z.NEVER;
      }
    });

/**
 * A token bucket: at most `perSecond` requests a second on average, bursts of one second's worth.
 * Waiters are served in order, so streams sharing a budget share it fairly.
 */
export class RateBudget {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = Math.max(1, perSecond);
    this.last = this.now();
  }

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(
        Math.max(1, this.perSecond),
        this.tokens + ((t - this.last) * this.perSecond) / 1000,
      );
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) * 1000) / this.perSecond), signal);
      // An aborted wait still spends the token: the caller's page in flight is finished, not dropped.
      if (signal?.aborted) {
        this.tokens = Math.max(0, this.tokens - 1);
        return;
      }
    }
  }
}

export function budgets(): Budgets {
  const map = new Map<string, RateBudget>();
  return {
    get(key, perSecond) {
      let b = map.get(key);
      if (!b) map.set(key, (b = new RateBudget(perSecond)));
      return b;
    },
  };
}

/** Resolves after `ms`, or early when the signal aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Consecutive windows of at most `size` ms covering [from, to), oldest first. */
export function* slices(from: number, to: number, size: number): Generator<[number, number]> {
  for (let s = from; s < to; s += size) yield [s, Math.min(to, s + size)];
}

/** A `{"until": ms}` checkpoint: everything up to `until` has been read. */
export const WindowCheckpoint = z.object({ until: z.number().int().nonnegative() });

export function readWindowCheckpoint(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = WindowCheckpoint.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data.until : undefined;
  } catch {
    // A checkpoint vigil cannot read is treated as absent: the default window is re-read, and the
    // store drops what it already has.
    return undefined;
  }
}
