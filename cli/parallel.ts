import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UsageError, VigilError } from '../core/errors.js';
import type { IngestStats, QuarantineEntry } from '../ingest/pipeline.js';
import { listInputs, type Shard } from '../ingest/reader.js';
import type { RowBatch } from '../store/rows.js';

export interface WorkerInput {
  /** Files (not directories) this worker reads whole. */
  readonly paths: readonly string[];
  /** Large files every worker reads, each its share of the lines (see Shard). */
  readonly shared: readonly string[];
  readonly shard: Shard;
  readonly format: string | undefined;
  readonly maxInFlight: number;
}

/** Files of this size or more are read by every worker, each parsing its share of the lines. */
const SHARE_BYTES = 8 * 1024 * 1024;

export type ToWorker = { type: 'credit' };
export type FromWorker =
  | { type: 'batch'; rows: RowBatch; quarantine: QuarantineEntry[] }
  | { type: 'file'; name: string; index: number }
  | { type: 'done'; stats: ReturnType<IngestStats['toJSON']> }
  | { type: 'error'; usage: boolean; message: string; name: string };

/** Normalized events encoded as rows (typed arrays and strings clone cheaply between threads). */
export interface Batch {
  readonly rows: RowBatch;
  readonly quarantine: QuarantineEntry[];
}

export interface InputPlan {
  readonly files: { name: string; size: number }[];
  readonly bytes: number;
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
 * Normalize workers by default: one per core (at most 4). The thread that stores spends most of a
 * bulk ingest waiting for batches, so it shares a core with a worker.
 */
export function normalizeThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Reads and normalizes on worker threads while the caller stores and detects on this one. Small input
 * files are dealt out among the workers; large ones are read by all, each parsing its share of the
 * lines. The order of batches does not matter: detection sorts events by time. At most `maxInFlight`
 * batches per worker wait, so memory stays flat whatever the input size. `stats` is filled in when the
 * generator ends.
 */
export async function* normalizeInWorker(
  input: {
    plan: InputPlan;
    format: string | undefined;
    maxInFlight?: number;
    threads?: number;
    /** Files of this size or more are shared by line (default 8 MiB). */
    shareBytes?: number;
  },
  stats: IngestStats,
  onFile?: (name: string, index: number) => void,
): AsyncGenerator<Batch> {
  const share = input.shareBytes ?? SHARE_BYTES;
  const shared = input.plan.files.filter((f) => f.size >= share).map((f) => f.name);
  const whole = input.plan.files.filter((f) => f.size < share).map((f) => f.name);
  const n = Math.max(
    1,
    Math.min(input.threads ?? normalizeThreads(), shared.length ? Number.POSITIVE_INFINITY : whole.length),
  );
  const queue: { from: Worker; m: FromWorker }[] = [];
  let notify: (() => void) | undefined;
  let running = n;
  let filesSeen = 0;
  const workers = Array.from({ length: n }, (_, i) => {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: {
        maxInFlight: input.maxInFlight ?? 4,
        format: input.format,
        paths: whole.filter((_, k) => k % n === i),
        shared,
        shard: { index: i, count: n },
      } satisfies WorkerInput,
    });
    const push = (m: FromWorker) => {
      queue.push({ from: worker, m });
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
      const { from, m } = queue.shift()!;
      if (m.type === 'file') onFile?.(m.name, filesSeen++);
      else if (m.type === 'batch') {
        yield { rows: m.rows, quarantine: m.quarantine };
        from.postMessage({ type: 'credit' } satisfies ToWorker);
      } else if (m.type === 'done') {
        done++;
        stats.files += m.stats.files;
        stats.records += m.stats.records;
        stats.events += m.stats.events;
        for (const [k, v] of Object.entries(m.stats.skippedByReason))
          stats.skipped.set(k, (stats.skipped.get(k) ?? 0) + v);
        for (const [k, v] of Object.entries(m.stats.quarantinedByReason))
          stats.quarantined.set(k, (stats.quarantined.get(k) ?? 0) + v);
      } else {
        throw m.usage
          ? new UsageError(m.message)
          : new VigilError(`normalize worker failed: ${m.name}: ${m.message}`);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
