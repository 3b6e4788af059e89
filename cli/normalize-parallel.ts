import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { VigilError } from '../core/errors.js';
import type { IngestStats } from '../ingest/pipeline.js';
import { damageReason, isGzip } from '../ingest/reader.js';
import {
  addCounts,
  type Counts,
  failureError,
  GZIP_WEIGHT,
  type InputPlan,
  type WorkerFailure,
} from './parallel.js';
import { workerUrl } from './worker-url.js';

/**
 * `vigil normalize` on several cores, its output in input order. This thread reads: each small file
 * becomes a unit of work as it is, and a large JSON Lines file (the shape of a big export) is cut into
 * runs of whole lines, about a megabyte each, handed over without a copy. Workers parse, normalize and
 * write each unit's events as NDJSON bytes, which come back here (bytes cross threads without a copy,
 * where events would be cloned field by field) and are written in the units' order.
 * At most WINDOW units per worker are out at a time, so a slow reader of stdout holds the workers back
 * instead of filling memory.
 */

export interface NormalizeJob {
  readonly format: string | undefined;
  readonly ocsf: boolean;
}

/** A piece of input: whole files, or whole lines of a JSON Lines file starting at line `firstLine`. */
export type Unit =
  | { readonly seq: number; readonly kind: 'files'; readonly names: readonly string[] }
  | {
      readonly seq: number;
      readonly kind: 'lines';
      readonly name: string;
      readonly firstLine: number;
      readonly bytes: Uint8Array;
    };

type UnitOf<K extends Unit['kind']> = Omit<Extract<Unit, { kind: K }>, 'seq'>;

/** What this thread found itself while reading (damage to a file it cut into lines), counted in its turn. */
interface Found {
  readonly kind: 'found';
  readonly stats: Counts;
}

export type FromNormalizeWorker =
  | { type: 'out'; seq: number; bytes: Uint8Array; stats: Counts }
  | WorkerFailure;

/** Bytes of JSON Lines per unit. */
const CHUNK_BYTES = 1024 * 1024;
/** Files of this size or more (gzipped: a tenth of it) are cut into runs of lines when they are JSON Lines; smaller ones are grouped into units of about CHUNK_BYTES. */
const SPLIT_BYTES = 8 * 1024 * 1024;
/** A file whose first line is longer than this is not JSON Lines worth cutting: one worker reads it whole. */
const SNIFF_BYTES = 16 * 1024 * 1024;
/** Units each worker may have out (in hand, or done and waiting for their turn to be written). */
const WINDOW = 4;

export interface ParallelOptions {
  readonly threads: number;
  /** Bytes of lines per unit (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Files of this size or more are cut into lines (default 8 MiB). */
  readonly splitBytes?: number;
}

/**
 * Yields the NDJSON output of `plan`'s files, in order, and fills in `stats` in the same order (so the
 * summary lists reasons as one thread would).
 */
export async function* normalizeParallel(
  plan: InputPlan,
  job: NormalizeJob,
  stats: IngestStats,
  opts: ParallelOptions,
): AsyncGenerator<Uint8Array> {
  const n = Math.max(1, opts.threads);
  const done = new Map<number, { bytes: Uint8Array; stats: Counts }>();
  const load: number[] = Array(n).fill(0);
  let failure: Error | undefined;
  let finished = false;
  let notify: (() => void) | undefined;
  const wake = () => {
    const f = notify;
    notify = undefined;
    f?.();
  };
  const url = await workerUrl('normalize-parallel-worker.ts', 'normalize-parallel-entry.mjs');
  const workers = Array.from({ length: n }, (_, i) => {
    const w = new Worker(url, { workerData: job });
    w.on('message', (m: FromNormalizeWorker) => {
      if (m.type === 'out') {
        load[i]!--;
        done.set(m.seq, m);
      } else {
        failure ??= failureError(m);
      }
      wake();
    });
    w.on('error', (err) => {
      failure ??= new VigilError(`normalize worker failed: ${err.name}: ${err.message}`);
      wake();
    });
    w.on('exit', () => {
      if (!finished) failure ??= new VigilError('a normalize worker stopped without finishing');
      wake();
    });
    return w;
  });
  let next = 0; // the next unit to write
  let sent = 0;
  const wait = async () => {
    if (failure) throw failure;
    await new Promise<void>((r) => {
      notify = r;
    });
    if (failure) throw failure;
  };
  function* ready(): Generator<Uint8Array> {
    for (let unit = done.get(next); unit !== undefined; unit = done.get(next)) {
      done.delete(next++);
      addCounts(stats, unit.stats);
      if (unit.bytes.length) yield unit.bytes;
    }
  }
  try {
    for await (const unit of units(plan, opts)) {
      while (sent - next >= n * WINDOW) {
        yield* ready();
        if (sent - next >= n * WINDOW) await wait();
      }
      if (failure) throw failure;
      if (unit.kind === 'found') {
        done.set(sent++, { bytes: NOTHING, stats: unit.stats });
        continue;
      }
      let w = 0;
      for (let i = 1; i < n; i++) if (load[i]! < load[w]!) w = i;
      load[w]!++;
      const message: Unit = { ...unit, seq: sent++ } as Unit;
      workers[w]!.postMessage(message, message.kind === 'lines' ? [message.bytes.buffer as ArrayBuffer] : []);
      yield* ready();
    }
    while (next < sent) {
      yield* ready();
      if (next < sent) await wait();
    }
  } finally {
    finished = true;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const NOTHING = new Uint8Array(0);

/** The units of work, file by file in the plan's order. */
async function* units(
  plan: InputPlan,
  opts: ParallelOptions,
): AsyncGenerator<UnitOf<'files'> | UnitOf<'lines'> | Found> {
  const split = opts.splitBytes ?? SPLIT_BYTES;
  const chunk = opts.chunkBytes ?? CHUNK_BYTES;
  let group: string[] = [];
  let groupBytes = 0;
  const flush = (): UnitOf<'files'> => {
    const names = group;
    group = [];
    groupBytes = 0;
    return { kind: 'files', names };
  };
  for (const f of plan.files) {
    const gz = f.size * GZIP_WEIGHT >= split && gzipped(f.name);
    const weight = gz ? f.size * GZIP_WEIGHT : f.size;
    if (weight < split) {
      // Small files go in groups of about a unit's worth: CloudTrail delivers thousands of them.
      group.push(f.name);
      groupBytes += f.name.endsWith('.gz') ? f.size * GZIP_WEIGHT : f.size;
      if (groupBytes >= chunk) yield flush();
      continue;
    }
    if (group.length) yield flush();
    yield* lineRuns(f.name, gz, chunk);
  }
  if (group.length) yield flush();
}

function gzipped(path: string): boolean {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    return isGzip(head.subarray(0, readSync(fd, head, 0, 2, 0)));
  } finally {
    closeSync(fd);
  }
}

/**
 * A large file as runs of whole lines, when it is JSON Lines: its first non-blank line parses as JSON,
 * as the reader decides (ingest/reader.ts). Anything else (one document, CSV) is a single unit. Damage
 * to a gzip ends the file where it is, counted as the reader counts it; the lines before it are kept.
 */
async function* lineRuns(
  name: string,
  gz: boolean,
  chunkBytes: number,
): AsyncGenerator<UnitOf<'files'> | UnitOf<'lines'> | Found> {
  const file = createReadStream(name, { highWaterMark: CHUNK_BYTES });
  const stream: Readable = gz ? file.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : file;
  if (gz) file.on('error', (err) => stream.destroy(err));
  let held: Buffer[] = [];
  let heldBytes = 0;
  let firstLine = 1;
  let known = false;
  /** Whole lines of what is held (up to its last newline, or all of it at the end) as one unit. */
  const take = (all: boolean): UnitOf<'lines'> | undefined => {
    const buf = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
    const end = all ? buf.length : buf.lastIndexOf(10) + 1;
    if (end === 0) return undefined;
    const bytes = new Uint8Array(end);
    bytes.set(buf.subarray(0, end));
    const rest = buf.subarray(end);
    held = rest.length ? [rest] : [];
    heldBytes = rest.length;
    const unit = { kind: 'lines' as const, name, firstLine, bytes };
    firstLine += newlines(bytes);
    return unit;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (!known) {
        const verdict = jsonLines(held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes));
        if (verdict === undefined && heldBytes < SNIFF_BYTES) continue;
        if (verdict !== true) {
          yield { kind: 'files', names: [name] };
          return;
        }
        known = true;
        yield found({ files: 1 }); // a whole file is counted by the worker that reads it; this one, here
      }
      if (heldBytes < chunkBytes) continue;
      const unit = take(false);
      if (unit) yield unit;
    }
  } catch (err) {
    if (!known) {
      yield { kind: 'files', names: [name] }; // the reader reports the damage with its position
      return;
    }
    const unit = take(false);
    if (unit) yield unit;
    yield found({ quarantined: 1, quarantinedByReason: { [damageReason(err)]: 1 } });
    return;
  } finally {
    file.destroy();
  }
  if (!known) {
    yield { kind: 'files', names: [name] };
    return;
  }
  const unit = take(true);
  if (unit) yield unit;
}

function found(counts: Partial<Counts>): Found {
  const none: Counts = {
    files: 0,
    records: 0,
    events: 0,
    skipped: 0,
    quarantined: 0,
    skippedByReason: {},
    quarantinedByReason: {},
  };
  return { kind: 'found', stats: { ...none, ...counts } };
}

/**
 * Whether the text starts as JSON Lines: its first non-blank line parses as JSON. Undefined while no
 * whole non-blank line has been read yet.
 */
function jsonLines(buf: Buffer): boolean | undefined {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) return undefined;
    const line = buf.toString('utf8', start, nl).trim();
    start = nl + 1;
    if (line === '') continue;
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  }
}

function newlines(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
