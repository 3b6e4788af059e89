import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import { IngestStats } from '../ingest/pipeline.js';
import { storedBuffers, storedRows } from '../store/rows.js';
import { Store } from '../store/store.js';
import type { Batch, FromWorker, WorkerInput } from './parallel.js';
import { type BatchCounts, commitRows, inlineBatches } from './pipeline.js';

/**
 * The read side of `ingest` on another core: files → normalized events → stored in batches, each in
 * its own transaction (taken with BEGIN IMMEDIATE, since other workers may write too), then reported.
 */
const port = parentPort!;
const input = workerData as WorkerInput;
const store = Store.open(input.store);
// Other workers' transactions come first: wait for them rather than fail.
store.db.pragma('busy_timeout = 60000');
// Bulk loading: checkpoint the WAL every 64 MB instead of every 4 MB. Measured on 200k CloudTrail
// records: the worker's commits (each followed by a checkpoint and its fsyncs) went from ~0.65 s to ~0.15 s.
store.db.pragma('wal_autocheckpoint = 16384');
const clock = { now: () => input.startedAt };

function store1(batch: Batch): void {
  const { rows, quarantine } = batch;
  const counts: BatchCounts = { newEvents: 0, duplicateEvents: 0, newAlerts: [], updatedAlerts: 0 };
  let committed: ReturnType<typeof commitRows>;
  store.db.exec('BEGIN IMMEDIATE');
  try {
    committed = commitRows({ store, clock }, rows, quarantine, counts);
    store.db.exec('COMMIT');
  } catch (err) {
    if (store.db.inTransaction) store.db.exec('ROLLBACK');
    throw err;
  }
  let latest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.count; i++) if (rows.times[i]! > latest) latest = rows.times[i]!;
  const { earliest, inserted } = committed;
  // The new events, for detection on the main thread (committed: it finds their dictionary rows).
  const fresh =
    input.sendRows && inserted.index.length > 0 ? storedRows(rows, inserted.index, inserted.ids) : undefined;
  port.postMessage(
    {
      type: 'stored',
      earliest,
      latest,
      newEvents: counts.newEvents,
      duplicateEvents: counts.duplicateEvents,
      ...(fresh ? { rows: fresh } : {}),
    } satisfies FromWorker,
    fresh ? storedBuffers(fresh) : [],
  );
}

const stats = new IngestStats();
try {
  const onFile = (file: { name: string }, index: number) =>
    port.postMessage({ type: 'file', name: file.name, index } satisfies FromWorker);
  const own = { format: input.format, onFile };
  for await (const batch of inlineBatches(input.paths, stats, own, input.batchEvents)) store1(batch);
  if (input.shared.length > 0) {
    const opts = { format: input.format, onFile, shard: input.shard };
    for await (const batch of inlineBatches(input.shared, stats, opts, input.batchEvents)) store1(batch);
  }
  store.close();
  port.postMessage({ type: 'done', stats: stats.toJSON() } satisfies FromWorker);
} catch (err) {
  port.postMessage({
    type: 'error',
    usage: err instanceof UsageError,
    message: (err as Error).message,
    name: (err as Error).name,
  } satisfies FromWorker);
}
