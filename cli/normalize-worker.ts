import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import type { SecretAccessEvent } from '../core/event.js';
import { IngestStats, normalizeInputs, type QuarantineEntry } from '../ingest/pipeline.js';
import type { FromWorker, ToWorker, WorkerInput } from './parallel.js';

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
  let events: SecretAccessEvent[] = [];
  let quarantine: QuarantineEntry[] = [];
  const options = {
    format: input.format,
    onFile: (file: { name: string }, index: number) =>
      port.postMessage({ type: 'file', name: file.name, index } satisfies FromWorker),
  };
  for await (const item of normalizeInputs(input.paths, stats, options)) {
    if (item.kind === 'event') events.push(item.event);
    else quarantine.push(item.entry);
    if (events.length + quarantine.length >= input.batchSize) {
      await send(events, quarantine);
      events = [];
      quarantine = [];
    }
  }
  await send(events, quarantine);
  port.postMessage({ type: 'done', stats: stats.toJSON() } satisfies FromWorker);
} catch (err) {
  port.postMessage({
    type: 'error',
    usage: err instanceof UsageError,
    message: (err as Error).message,
    name: (err as Error).name,
  } satisfies FromWorker);
}
