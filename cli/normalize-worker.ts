import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import type { SecretAccessEvent } from '../core/event.js';
import { IngestStats, type QuarantineEntry } from '../ingest/pipeline.js';
import type { FromWorker, ToWorker, WorkerInput } from './parallel.js';
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

async function send(events: SecretAccessEvent[], quarantine: QuarantineEntry[]) {
  while (credits <= 0) await new Promise<void>((r) => (wake = r));
  credits--;
  port.postMessage({ type: 'batch', events, quarantine } satisfies FromWorker);
}

const stats = new IngestStats();
try {
  const onFile = (file: { name: string }, index: number) =>
    port.postMessage({ type: 'file', name: file.name, index } satisfies FromWorker);
  for await (const batch of inlineBatches(input.paths, stats, { format: input.format, onFile })) {
    await send(batch.events, batch.quarantine);
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
