import { Worker } from 'node:worker_threads';
import { UsageError, VigilError } from '../core/errors.js';
import type { IngestStats, QuarantineEntry } from '../ingest/pipeline.js';
import type { RowBatch } from '../store/rows.js';

export interface WorkerInput {
  readonly paths: readonly string[];
  readonly format: string | undefined;
  readonly maxInFlight: number;
}

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

/**
 * Reads and normalizes on a worker thread (the second core) while the caller stores and detects on
 * this one. At most `maxInFlight` batches wait between the two, so memory stays flat whatever the
 * input size. `stats` is filled in when the generator ends.
 */
export async function* normalizeInWorker(
  input: Omit<WorkerInput, 'maxInFlight'> & { maxInFlight?: number },
  stats: IngestStats,
  onFile?: (name: string, index: number) => void,
): AsyncGenerator<Batch> {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { maxInFlight: 4, ...input } satisfies WorkerInput,
  });
  const queue: FromWorker[] = [];
  let notify: (() => void) | undefined;
  let exited = false;
  worker.on('message', (m: FromWorker) => {
    queue.push(m);
    notify?.();
  });
  worker.on('error', (err) => {
    queue.push({ type: 'error', usage: false, message: err.message, name: err.name });
    notify?.();
  });
  worker.on('exit', () => {
    exited = true;
    notify?.();
  });
  try {
    for (;;) {
      if (queue.length === 0) {
        if (exited) throw new VigilError('the normalize worker stopped without finishing');
        await new Promise<void>((r) => (notify = r));
        notify = undefined;
        continue;
      }
      const m = queue.shift()!;
      if (m.type === 'file') onFile?.(m.name, m.index);
      else if (m.type === 'batch') {
        yield { rows: m.rows, quarantine: m.quarantine };
        worker.postMessage({ type: 'credit' } satisfies ToWorker);
      } else if (m.type === 'done') {
        Object.assign(stats, { files: m.stats.files, records: m.stats.records, events: m.stats.events });
        for (const [k, v] of Object.entries(m.stats.skippedByReason)) stats.skipped.set(k, v);
        for (const [k, v] of Object.entries(m.stats.quarantinedByReason)) stats.quarantined.set(k, v);
        return;
      } else {
        throw m.usage
          ? new UsageError(m.message)
          : new VigilError(`normalize worker failed: ${m.name}: ${m.message}`);
      }
    }
  } finally {
    await worker.terminate();
  }
}
