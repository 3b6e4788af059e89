import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import { IngestStats } from '../ingest/pipeline.js';
import { type RowBatch, rowBuffers, storedBuffers, storedRows } from '../store/rows.js';
import { Store } from '../store/store.js';
import { type Batch, bulkLoading, type FromWorker, StoreLock, type WorkerInput } from './parallel.js';
import { type BatchCounts, commitRows, inlineBatches } from './pipeline.js';

/**
 * The read side of `ingest` on another core: files → normalized events → batches of rows, either sent
 * to the main thread to store, or stored here, each in its own transaction (taken with BEGIN IMMEDIATE,
 * since other workers may write too), then reported.
 */
const port = parentPort!;
const input = workerData as WorkerInput;
const lock = input.storeLock ? new StoreLock(input.storeLock) : undefined;
let opened: Store | undefined;
/** The store, opened when this worker first stores a batch itself. */
function store(): Store {
  if (!opened) {
    opened = Store.open(input.store);
    // Other workers' transactions come first: wait for them rather than fail.
    opened.db.pragma('busy_timeout = 60000');
    bulkLoading(opened.db);
  }
  return opened;
}
if (!lock) store();
const clock = { now: () => input.startedAt };

/** Batches sent to the main thread; it counts those it stored in the lock's shared memory. */
let sent = 0;

/**
 * Sends a batch to the main thread to store, or stores it here: always with several workers; with one,
 * when the main thread has `sentAhead` still to store (it detects meanwhile), rather than wait. Shared
 * memory, not messages, says what the main thread stored: a worker reading small files synchronously
 * may not see a message for a long while.
 */
function deliver(batch: Batch): void {
  if (lock && sent - lock.stored < input.sentAhead) {
    const { rows } = batch;
    port.postMessage(
      { type: 'batch', rows, quarantine: batch.quarantine, latest: latestOf(rows) } satisfies FromWorker,
      rowBuffers(rows),
    );
    sent++;
    return;
  }
  lock?.acquire();
  try {
    store1(store(), batch);
  } finally {
    lock?.release();
  }
}

function latestOf(rows: RowBatch): number {
  let latest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.count; i++) if (rows.times[i]! > latest) latest = rows.times[i]!;
  return latest;
}

function store1(store: Store, batch: Batch): void {
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
  const latest = latestOf(rows);
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
  for await (const batch of inlineBatches(input.paths, stats, own, input.batchEvents)) deliver(batch);
  if (input.shared.length > 0) {
    const opts = { format: input.format, onFile, shard: input.shard };
    for await (const batch of inlineBatches(input.shared, stats, opts, input.batchEvents)) deliver(batch);
  }
  opened?.close();
  port.postMessage({ type: 'done', stats: stats.toJSON() } satisfies FromWorker);
} catch (err) {
  port.postMessage({
    type: 'error',
    usage: err instanceof UsageError,
    message: (err as Error).message,
    name: (err as Error).name,
  } satisfies FromWorker);
}
