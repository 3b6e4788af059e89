import { parentPort, workerData } from 'node:worker_threads';
import { CONTAINERS } from '../ingest/containers.js';
import { toOcsf } from '../ingest/ocsf.js';
import {
  forcedSource,
  IngestStats,
  type ItemSink,
  normalizeInto,
  normalizeValueInto,
  quarantineEntry,
  type ValueContext,
} from '../ingest/pipeline.js';
import { decodeText, readJsonLine, type ValueSink } from '../ingest/reader.js';
import { SOURCES } from '../ingest/sources.js';
import type { FromNormalizeWorker, NormalizeJob, Unit } from './normalize-parallel.js';
import { workerFailure } from './parallel.js';

/**
 * A `vigil normalize` worker: takes units of input (a whole file, or whole lines of a JSON Lines file)
 * and answers each with its output, NDJSON of normalized events as UTF-8 bytes, and what it counted.
 */
const port = parentPort!;
const job = workerData as NormalizeJob;
const encoder = new TextEncoder();
const forced = forcedSource(job.format);

/** Each event's NDJSON line, written as soon as the event is made (while it is still in the cache). */
function lineSink(out: string[]): ItemSink {
  return {
    event: (event) => out.push(JSON.stringify(job.ocsf ? toOcsf(event) : event)),
    quarantine: () => {}, // counted in the stats; a quarantined record has no output line
  };
}

async function wholeFiles(names: readonly string[], stats: IngestStats, out: string[]): Promise<void> {
  for await (const _ of normalizeInto(names, stats, lineSink(out), { format: job.format })) {
    // the sink writes as records are read
  }
}

/**
 * Lines of a JSON Lines file, read as the reader reads them once it knows the input is JSON Lines
 * (readJsonLine, after a CR before the newline is dropped). The file's first non-blank line is read
 * trimmed (a BOM too), as the reader reads the line that decides the format.
 */
function lines(unit: Extract<Unit, { kind: 'lines' }>, stats: IngestStats, out: string[]): void {
  const ctx: ValueContext = { origin: unit.name, stats, sources: SOURCES, forced, containers: CONTAINERS };
  const sink = lineSink(out);
  const values: ValueSink = {
    value: (value, line) => normalizeValueInto(value, `line ${line}`, ctx, sink),
    error: (error, position) => sink.quarantine(quarantineEntry(ctx, position, error)),
  };
  const text = decodeText(Buffer.from(unit.bytes.buffer, unit.bytes.byteOffset, unit.bytes.byteLength));
  let lineNo = unit.firstLine - 1;
  let leading = unit.firstLine === 1;
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const raw = text.slice(start, nl);
    start = nl + 1;
    lineNo++;
    let line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (leading) {
      line = line.trim();
      if (line === '') continue;
      leading = false;
    }
    readJsonLine(line, lineNo, values);
  }
}

port.on('message', async (unit: Unit) => {
  try {
    const stats = new IngestStats();
    const out: string[] = [];
    if (unit.kind === 'files') await wholeFiles(unit.names, stats, out);
    else lines(unit, stats, out);
    const bytes = encoder.encode(out.length ? `${out.join('\n')}\n` : '');
    const message: FromNormalizeWorker = { type: 'out', seq: unit.seq, bytes, stats: stats.toJSON() };
    port.postMessage(message, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage(workerFailure(err) satisfies FromNormalizeWorker);
  }
});
