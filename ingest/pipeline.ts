import { UsageError } from '../core/errors.js';
import type { SecretAccessEvent } from '../core/event.js';
import {
  CONTAINERS,
  type Container,
  type ExpandVisitor,
  expandInto,
  type Position,
  positionText,
} from './containers.js';
import { type InputFile, listInputs, readInto, type Shard } from './reader.js';
import type { Source } from './source.js';
import { SOURCES } from './sources.js';

/** A record set aside: where it was and why. Never its body, which may hold anything. */
export interface QuarantineEntry {
  readonly file: string;
  readonly position: string;
  readonly reason: string;
}

export type IngestItem =
  | { readonly kind: 'event'; readonly event: SecretAccessEvent }
  | { readonly kind: 'quarantine'; readonly entry: QuarantineEntry };

export class IngestStats {
  files = 0;
  records = 0;
  events = 0;
  readonly skipped = new Map<string, number>();
  readonly quarantined = new Map<string, number>();

  get skippedTotal(): number {
    return sum(this.skipped);
  }
  get quarantinedTotal(): number {
    return sum(this.quarantined);
  }
  toJSON() {
    return {
      files: this.files,
      records: this.records,
      events: this.events,
      skipped: this.skippedTotal,
      quarantined: this.quarantinedTotal,
      skippedByReason: Object.fromEntries(this.skipped),
      quarantinedByReason: Object.fromEntries(this.quarantined),
    };
  }
}

function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** Reasons are counted by their kind: "cloudtrail: eventTime: ..." counts as "cloudtrail: eventTime". */
function reasonKey(reason: string): string {
  const parts = reason.split(': ');
  return parts.length > 2 ? parts.slice(0, 2).join(': ') : reason;
}

export interface NormalizeOptions {
  /** Force one source instead of detecting it per record. */
  readonly format?: string | undefined;
  readonly sources?: readonly Source[];
  readonly containers?: readonly Container[];
  /** Called as each input starts, for progress. */
  readonly onFile?: (file: InputFile, index: number) => void;
  /** Read only this thread's share of each input (see Shard); the files are counted by shard 0. */
  readonly shard?: Shard | undefined;
}

/** The whole read side: paths → files → JSON values → records → normalized events or quarantine entries. */
export function normalizeInputs(
  paths: readonly string[],
  stats: IngestStats,
  options: NormalizeOptions = {},
): AsyncIterableIterator<IngestItem> {
  return new Flattened(normalizeBatches(paths, stats, options));
}

/**
 * The items of batches, one by one. An async generator's `yield*` over a batch costs several promise
 * jobs per item (about 6 µs per Key Vault event, as much as normalizing it); here an item of the batch
 * in hand is one already-resolved promise.
 */
class Flattened<T> implements AsyncIterableIterator<T> {
  private batch: readonly T[] = [];
  private at = 0;
  private finished = false;
  /** The answer to the last call while it is pending: calls that come meanwhile are answered after it. */
  private last: Promise<IteratorResult<T>> | undefined;

  constructor(private readonly batches: AsyncGenerator<readonly T[]>) {}

  next(): Promise<IteratorResult<T>> {
    if (this.last === undefined && this.at < this.batch.length)
      return Promise.resolve({ value: this.batch[this.at++]!, done: false });
    const answer: Promise<IteratorResult<T>> = this.last
      ? this.last.then(
          () => this.take(),
          () => this.take(),
        )
      : this.read();
    this.last = answer;
    const settled = () => {
      if (this.last === answer) this.last = undefined;
    };
    answer.then(settled, settled);
    return answer;
  }

  private take(): IteratorResult<T> | Promise<IteratorResult<T>> {
    if (this.at < this.batch.length) return { value: this.batch[this.at++]!, done: false };
    return this.read();
  }

  private async read(): Promise<IteratorResult<T>> {
    while (!this.finished) {
      const r = await this.batches.next();
      if (r.done) break;
      this.batch = r.value;
      this.at = 0;
      if (this.batch.length > 0) return { value: this.batch[this.at++]!, done: false };
    }
    this.finished = true;
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<T>> {
    this.batch = [];
    this.finished = true;
    await this.batches.return(undefined);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The same as normalizeInputs, in batches (one per chunk read, a few hundred items): for consumers
 * that store or forward in bulk, it saves an await per event. One thread: a worker that normalized half
 * the input would hand its events back by structured clone, which costs this thread about half of what
 * parsing and normalizing an event does; measured on two cores, the split ran no faster. Callers that
 * want the second core (`vigil ingest`) give it work whose results stay there.
 */
export async function* normalizeBatches(
  paths: readonly string[],
  stats: IngestStats,
  options: NormalizeOptions = {},
): AsyncGenerator<IngestItem[]> {
  const out: IngestItem[] = [];
  for await (const _ of normalizeInto(paths, stats, arraySink(out), options)) {
    if (out.length > 0) yield out.splice(0);
  }
}

/** Where normalized items go, one by one, as each record is read. */
export interface ItemSink {
  event(event: SecretAccessEvent): void;
  quarantine(entry: QuarantineEntry): void;
}

function arraySink(out: IngestItem[]): ItemSink {
  return {
    event: (event) => out.push({ kind: 'event', event }),
    quarantine: (entry) => out.push({ kind: 'quarantine', entry }),
  };
}

/**
 * The whole read side, as normalizeBatches, handing each item to `sink` as soon as its record is
 * normalized, while the event is still in the processor's cache (encoding events a chunk later met each
 * one cold). Yields after each chunk read and at the end of each file: a caller gathering items into
 * batches cuts them there.
 */
export async function* normalizeInto(
  paths: readonly string[],
  stats: IngestStats,
  sink: ItemSink,
  options: NormalizeOptions = {},
): AsyncGenerator<void> {
  const sources = options.sources ?? SOURCES;
  const forced = forcedSource(options.format, sources);
  const containers = options.containers ?? CONTAINERS;
  const counts = !options.shard || options.shard.index === 0;
  for await (const file of listInputs(paths)) {
    if (counts) {
      options.onFile?.(file, stats.files);
      stats.files++;
    }
    const ctx: ValueContext = { origin: file.name, stats, sources, forced, containers };
    const n = new Normalizer(ctx, sink);
    const values = {
      value: (value: unknown, line: number) => expandInto(value, line, containers, n),
      error: (error: string, position: string) => n.error(error, position),
    };
    for await (const _ of readInto(file, values, options.shard)) yield;
    yield;
  }
}

/** The source `--format` names (undefined without one); a name no source has is the user's error. */
export function forcedSource(
  format: string | undefined,
  sources: readonly Source[] = SOURCES,
): Source | undefined {
  const forced = format ? sources.find((s) => s.id === format) : undefined;
  if (format && !forced) {
    throw new UsageError(
      `--format: unknown format "${format}" (one of: ${sources.map((s) => s.id).join(', ')})`,
    );
  }
  return forced;
}

/** Where values come from and how records are read: shared by files (`vigil ingest`) and live sources. */
export interface ValueContext {
  /** The file name or live stream id that quarantine entries name. */
  readonly origin: string;
  readonly stats: IngestStats;
  readonly sources: readonly Source[];
  readonly forced?: Source | undefined;
  readonly containers: readonly Container[];
}

export function quarantineItem(ctx: ValueContext, position: string, reason: string): IngestItem {
  return { kind: 'quarantine', entry: quarantineEntry(ctx, position, reason) };
}

/** A record set aside, counted by its reason. */
export function quarantineEntry(ctx: ValueContext, position: string, reason: string): QuarantineEntry {
  bump(ctx.stats.quarantined, reasonKey(reason));
  return { file: ctx.origin, position, reason };
}

/**
 * One parsed JSON value (or JSON text) → containers unwrapped → each record's source detected →
 * normalized events, counted skips or quarantine entries, appended to `out`. Never throws for bad input.
 */
export function normalizeValue(value: unknown, position: string, ctx: ValueContext, out: IngestItem[]): void {
  normalizeValueInto(value, position, ctx, arraySink(out));
}

/** normalizeValue, handing each item to `sink` as it is made. */
export function normalizeValueInto(
  value: unknown,
  position: string,
  ctx: ValueContext,
  sink: ItemSink,
): void {
  expandInto(value, position, ctx.containers, new Normalizer(ctx, sink));
}

/** Each record found in a value → its source's events, a counted skip or a quarantine entry, to `sink`. */
class Normalizer implements ExpandVisitor {
  constructor(
    readonly ctx: ValueContext,
    readonly sink: ItemSink,
  ) {}

  error(error: string, position: Position): void {
    this.sink.quarantine(quarantineEntry(this.ctx, positionText(position), error));
  }

  skip(reason: string): void {
    const { stats } = this.ctx;
    stats.records++;
    bump(stats.skipped, reason);
  }

  record(record: Record<string, unknown>, position: Position): void {
    const { ctx, sink } = this;
    const { stats } = ctx;
    stats.records++;
    const source = ctx.forced ?? detectSource(ctx.sources, record);
    if (!source) {
      const keys = Object.keys(record).slice(0, 6).join(',');
      this.error(`unknown record shape (keys: ${keys})`, position);
      return;
    }
    let result: ReturnType<Source['normalize']>;
    try {
      result = source.normalize(record);
    } catch (err) {
      // A normalizer bug must not stop the pipeline: the record is quarantined with the bug's name.
      result = { kind: 'invalid', reason: `${source.id}: normalizer failed (${(err as Error).name})` };
    }
    if (result.kind === 'skip') bump(stats.skipped, result.reason);
    else if (result.kind === 'invalid') this.error(result.reason, position);
    else {
      for (const event of result.events) {
        stats.events++;
        sink.event(event);
      }
    }
  }
}

function detectSource(sources: readonly Source[], record: Record<string, unknown>): Source | undefined {
  for (const s of sources) if (s.detect(record)) return s;
  return undefined;
}
