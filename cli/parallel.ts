import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { UsageError, VigilError } from '../core/errors.js';
import type { IngestStats, QuarantineEntry } from '../ingest/pipeline.js';
import { listInputs, type Shard } from '../ingest/reader.js';
import type { RowBatch, StoredRows } from '../store/rows.js';
import { workerUrl } from './worker-url.js';

export interface WorkerInput {
  /** Files (not directories) this worker reads whole. */
  readonly paths: readonly string[];
  /** Large files every worker reads, each its share of the lines (see Shard). */
  readonly shared: readonly string[];
  readonly shard: Shard;
  readonly format: string | undefined;
  /** Events per batch stored (one transaction each). */
  readonly batchEvents: number;
  /** The store the worker writes its batches to. */
  readonly store: string;
  /**
   * One worker: the lock it and the main thread take to write (StoreLock). It sends its batches to the
   * main thread to store, and stores one itself when the main thread has `sentAhead` still to store.
   * Null: several workers, each storing its own.
   */
  readonly storeLock: SharedArrayBuffer | null;
  /** With storeLock: batches sent and not yet stored past which the worker stores its own. */
  readonly sentAhead: number;
  /** When the run started (ms): the time quarantine entries are recorded with. */
  readonly startedAt: number;
  /** Whether to send the new events of each batch with its report (see Stored.rows). */
  readonly sendRows: boolean;
}

/**
 * Events a worker stores per transaction. Measured on 200k CloudTrail records: 20,000 instead of 5,000
 * took the worker's commits from about 1.1 s to 0.6 s and its inserts from about 2.0 s to 1.5 s.
 */
const WORKER_BATCH = 20_000;

/** Files of this size or more are read by every worker, each parsing its share of the lines. */
const SHARE_BYTES = 8 * 1024 * 1024;

/** What a worker counted, as it crosses threads. */
export type Counts = ReturnType<IngestStats['toJSON']>;

/** Adds what a worker counted to `stats`. */
export function addCounts(stats: IngestStats, s: Counts): void {
  stats.files += s.files;
  stats.records += s.records;
  stats.events += s.events;
  for (const [k, v] of Object.entries(s.skippedByReason))
    stats.skipped.set(k, (stats.skipped.get(k) ?? 0) + v);
  for (const [k, v] of Object.entries(s.quarantinedByReason))
    stats.quarantined.set(k, (stats.quarantined.get(k) ?? 0) + v);
}

/** How a worker reports a failure: whether it was the user's (exit 2), and what. */
export interface WorkerFailure {
  type: 'error';
  usage: boolean;
  message: string;
  name: string;
}

export function workerFailure(err: unknown): WorkerFailure {
  return {
    type: 'error',
    usage: err instanceof UsageError,
    message: (err as Error).message,
    name: (err as Error).name,
  };
}

/** The error a worker's failure is on this thread. */
export function failureError(m: WorkerFailure): Error {
  return m.usage
    ? new UsageError(m.message)
    : new VigilError(`normalize worker failed: ${m.name}: ${m.message}`);
}

/**
 * Batches a worker sends ahead of the main thread storing them: enough to keep both busy, few enough
 * that memory does not grow when the main thread falls behind (the worker then stores batches itself).
 */
export const SENT_AHEAD = 4;

/**
 * Who writes the store, when a worker and the main thread both may: a lock in shared memory, so that
 * neither meets the other's transaction inside SQLite (where waiting means sleeping). The main thread
 * tries it and detects while it is taken; the worker waits for it.
 */
export class StoreLock {
  /** [0]: 1 while taken; [1]: batches the main thread stored for the worker. */
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cell = new Int32Array(buffer);
  }

  /**
   * Counts a batch the main thread stored. Shared memory, not a message: a worker reading small files
   * synchronously may not see messages for a long while, and would think the main thread behind.
   */
  countStored(): void {
    Atomics.add(this.cell, 1, 1);
  }

  get stored(): number {
    return Atomics.load(this.cell, 1);
  }

  tryAcquire(): boolean {
    return Atomics.compareExchange(this.cell, 0, 0, 1) === 0;
  }

  acquire(): void {
    while (!this.tryAcquire()) Atomics.wait(this.cell, 0, 1, 1000);
  }

  release(): void {
    Atomics.store(this.cell, 0, 0);
    Atomics.notify(this.cell, 0);
  }
}

/**
 * Sets a store's connection up for loading many events, and returns what puts it back:
 * - the WAL is checkpointed every 64 MB (counted in pages of the store's size) instead of every 1000
 *   pages (measured on 200k CloudTrail records in 4 KB pages: the commits, each followed by a checkpoint
 *   and its fsyncs, went from ~0.65 s to ~0.15 s);
 * - the page cache is 16 MB instead of 2 MB, since the query indexes are written all over (measured on
 *   a million CloudTrail records, one worker: 36.4 s against 38.9 s on average, over seven runs with a
 *   larger cache and four without, which varied by several seconds; peak memory about the same).
 */
export function bulkLoading(db: Database.Database): () => void {
  const before = {
    autocheckpoint: db.pragma('wal_autocheckpoint', { simple: true }) as number,
    cache: db.pragma('cache_size', { simple: true }) as number,
  };
  db.pragma(
    `wal_autocheckpoint = ${Math.round((64 << 20) / (db.pragma('page_size', { simple: true }) as number))}`,
  );
  db.pragma('cache_size = -16384');
  return () => {
    db.pragma(`wal_autocheckpoint = ${before.autocheckpoint}`);
    db.pragma(`cache_size = ${before.cache}`);
  };
}

export type FromWorker =
  | ({ type: 'stored' } & Stored)
  | ({ type: 'batch'; latest: number } & Batch)
  | { type: 'file'; name: string; index: number }
  | { type: 'done'; stats: Counts }
  | WorkerFailure;

/** Normalized events encoded as rows, with the quarantine entries read beside them: one transaction's worth. */
export interface Batch {
  readonly rows: RowBatch;
  readonly quarantine: QuarantineEntry[];
}

/** What a worker stored in one transaction. */
export interface Stored {
  /** Earliest event time among the new events (+Infinity when none was new). */
  readonly earliest: number;
  /** Latest event time in the batch. */
  readonly latest: number;
  readonly newEvents: number;
  readonly duplicateEvents: number;
  /** The new events, as stored (when asked for: see normalizeInWorker's `sendRows`). */
  readonly rows?: StoredRows;
}

/**
 * How far each reader (worker) has got in event time: the latest event time it has delivered. While
 * every reader delivers its events in time order (a time-ordered export, S3 files read in key order),
 * no event earlier than `watermark` is still to come, so detection can run up to there while reading
 * goes on. Nothing relies on that order for correctness: the runner checks each stored batch against
 * what it has already detected (see `runIngest`).
 */
export class ReadFrontier {
  private latest: number[] = [];
  private active: boolean[] = [];

  /** `n` readers start. */
  start(n: number): void {
    this.latest = Array(n).fill(Number.NEGATIVE_INFINITY);
    this.active = Array(n).fill(true);
  }

  /** Reader `from` delivered events up to this time. */
  see(from: number, latest: number): void {
    if (latest > this.latest[from]!) this.latest[from] = latest;
  }

  /** Reader `from` has delivered everything. */
  finish(from: number): void {
    this.active[from] = false;
  }

  /**
   * The least latest time over the readers still reading, less `AHEAD_LAG` (+Infinity once all are
   * done): files of one trail overlap by minutes, so a little slack saves a lot of thrown-away work.
   */
  get watermark(): number {
    let w = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.latest.length; i++)
      if (this.active[i] && this.latest[i]! < w) w = this.latest[i]!;
    return w - AHEAD_LAG;
  }
}

/** How far behind the readers detection stays, in event time (CloudTrail delivers within 15 minutes). */
const AHEAD_LAG = 3_600_000;

/** CloudTrail's S3 object names: `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`. */
const CLOUDTRAIL_OBJECT = /_CloudTrail_[\w-]+_(\d{8}T\d{4}Z)_[^/\\]*$/;

/**
 * Files in the order to read them. A tree of CloudTrail S3 objects lists region by region (then day
 * by day): read it by the delivery time in the names instead, so that events come roughly in time
 * order across regions and accounts and detection can keep up with reading. Anything else keeps the
 * listing order.
 */
export function readingOrder<F extends { name: string }>(files: readonly F[]): F[] {
  const stamps = files.map((f) => CLOUDTRAIL_OBJECT.exec(f.name)?.[1]);
  if (files.length < 2 || stamps.some((s) => s === undefined)) return [...files];
  return files
    .map((f, i) => ({ f, stamp: stamps[i]!, i }))
    .sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.i - b.i))
    .map((x) => x.f);
}

export interface InputPlan {
  readonly files: { name: string; size: number }[];
  readonly bytes: number;
}

/**
 * Below this much input (see inputWeight), starting workers (about 0.2 s, see worker-url.ts) and
 * handing work between threads cost more than they save.
 */
export const PARALLEL_BYTES = 16 * 1024 * 1024;
/** Gzipped files count ten times their size: CloudTrail's compress about 10 to 20 times. */
export const GZIP_WEIGHT = 10;

/** How much reading a plan is, in bytes as read: gzipped files (by name) count GZIP_WEIGHT times. */
export function inputWeight(plan: InputPlan): number {
  return plan.files.reduce((n, f) => n + (f.name.endsWith('.gz') ? GZIP_WEIGHT : 1) * f.size, 0);
}

/** The files below `paths` (stdin excluded), their sizes and total size in bytes. */
export async function inputFiles(paths: readonly string[]): Promise<InputPlan> {
  const files: { name: string; size: number }[] = [];
  let bytes = 0;
  for await (const f of listInputs(paths)) {
    const size = statSync(f.name).size;
    files.push({ name: f.name, size });
    bytes += size;
  }
  return { files, bytes };
}

/**
 * Normalize workers by default: one per core but the one this thread needs to store and detect (at
 * least one, at most 4). Measured on 2 cores: one worker read as fast as two, because this thread
 * was the bottleneck, and detecting ahead left it no core to share.
 */
export function normalizeThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * Reads and normalizes on worker threads while the caller detects on this one. A single worker sends
 * its batches of rows for the caller to store (taking `storeLock`), and stores one itself while the
 * caller has SENT_AHEAD still to store; several each store
 * their batches themselves, in the store at `store` (one transaction each, queued for detection as
 * `commitRows` does), and report what they stored. Small input files are dealt out among the workers;
 * large ones are read by all, each parsing its share of the lines. The order of batches does not
 * matter: detection sorts events by time. `stats` is filled in when the generator ends.
 */
export async function* normalizeInWorker(
  input: {
    plan: InputPlan;
    format: string | undefined;
    /** The store's file. */
    store: string;
    /** When the run started (ms), for quarantine entries. */
    startedAt: number;
    threads?: number;
    /** Files of this size or more are shared by line (default 8 MiB). */
    shareBytes?: number;
    /** Events per batch (default WORKER_BATCH). */
    batchEvents?: number;
    /** Kept up to date with each worker's progress in event time. */
    frontier?: ReadFrontier;
    /** Send the new events of each batch with its report, for detection on this thread. */
    sendRows?: boolean;
    /**
     * With one worker, which sends its batches here to store: the lock to take to store them. The
     * worker stores batches itself when this thread has SENT_AHEAD of them still to store.
     */
    storeLock: StoreLock;
    /** With storeLock: batches the worker sends before it stores its own (default SENT_AHEAD). */
    sentAhead?: number;
  },
  stats: IngestStats,
  onFile?: (name: string, index: number) => void,
): AsyncGenerator<Stored | Batch> {
  const share = input.shareBytes ?? SHARE_BYTES;
  const files = readingOrder(input.plan.files);
  const shared = files.filter((f) => f.size >= share).map((f) => f.name);
  const whole = files.filter((f) => f.size < share).map((f) => f.name);
  const n = Math.max(
    1,
    Math.min(input.threads ?? normalizeThreads(), shared.length ? Number.POSITIVE_INFINITY : whole.length),
  );
  input.frontier?.start(n);
  // One worker (two cores) sets the pace and leaves the caller time to spare: the caller stores. Several
  // store their own batches, since the caller's detection then sets the pace.
  const mainStores = n === 1;
  const queue: { index: number; m: FromWorker }[] = [];
  let notify: (() => void) | undefined;
  let running = n;
  let filesSeen = 0;
  const url = await workerUrl('normalize-worker.ts', 'worker-entry.mjs');
  const workers = Array.from({ length: n }, (_, i) => {
    const worker = new Worker(url, {
      workerData: {
        batchEvents: input.batchEvents ?? WORKER_BATCH,
        store: input.store,
        storeLock: mainStores ? input.storeLock.buffer : null,
        sentAhead: input.sentAhead ?? SENT_AHEAD,
        startedAt: input.startedAt,
        format: input.format,
        paths: whole.filter((_, k) => k % n === i),
        shared,
        shard: { index: i, count: n },
        sendRows: input.sendRows ?? false,
      } satisfies WorkerInput,
    });
    const push = (m: FromWorker) => {
      queue.push({ index: i, m });
      notify?.();
    };
    worker.on('message', push);
    worker.on('error', (err) => push({ type: 'error', usage: false, message: err.message, name: err.name }));
    worker.on('exit', () => {
      running--;
      notify?.();
    });
    return worker;
  });
  let done = 0;
  try {
    while (done < n) {
      if (queue.length === 0) {
        if (running < n - done) throw new VigilError('a normalize worker stopped without finishing');
        await new Promise<void>((r) => (notify = r));
        notify = undefined;
        continue;
      }
      const { index, m } = queue.shift()!;
      if (m.type === 'file') onFile?.(m.name, filesSeen++);
      else if (m.type === 'batch') {
        yield { rows: m.rows, quarantine: m.quarantine };
        // The caller stored it (it asks for the next one only then): only now is the worker's progress
        // safe to detect up to.
        input.frontier?.see(index, m.latest);
      } else if (m.type === 'stored') {
        input.frontier?.see(index, m.latest);
        yield m;
      } else if (m.type === 'done') {
        done++;
        input.frontier?.finish(index);
        addCounts(stats, m.stats);
      } else {
        throw failureError(m);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
