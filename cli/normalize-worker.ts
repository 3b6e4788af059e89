import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import { IngestStats } from '../ingest/pipeline.js';
import type { Batch, FromWorker, ToWorker, WorkerInput } from './parallel.js';
import { inlineBatches } from './pipeline.js';

/** The read side of `ingest` on the second core: files → normalized events, posted in batches. */
const port = parentPort!;
const input = workerData as WorkerInput;
let credits = input.maxInFlight;
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  if (m.type === 'credit') {
    credits++;
    wake?.();
  }
});

async function send(batch: Batch) {
  while (credits <= 0) await new Promise<void>((r) => (wake = r));
  credits--;
  const { rows, quarantine } = batch;
  // The typed arrays move to the main thread instead of being copied.
  const moved = [rows.keys, rows.times, rows.outcomes, rows.principal, rows.resource, rows.context];
  port.postMessage(
    { type: 'batch', rows, quarantine } satisfies FromWorker,
    moved.map((a) => a.buffer as ArrayBuffer),
  );
}

const stats = new IngestStats();
try {
  const onFile = (file: { name: string }, index: number) =>
    port.postMessage({ type: 'file', name: file.name, index } satisfies FromWorker);
  for await (const batch of inlineBatches(
    input.paths,
    stats,
    { format: input.format, onFile },
    input.batchEvents,
  )) {
    await send(batch);
  }
  if (input.shared.length > 0) {
    const opts = { format: input.format, onFile, shard: input.shard };
    for await (const batch of inlineBatches(input.shared, stats, opts, input.batchEvents)) await send(batch);
  }
  port.postMessage({ type: 'done', stats: stats.toJSON() } satisfies FromWorker);
} catch (err) {
  port.postMessage({
    type: 'error',
    usage: err instanceof UsageError,
    message: (err as Error).message,
    name: (err as Error).name,
  } satisfies FromWorker);
}
