import { type DispatchReport, dispatchDue } from '../alerts/dispatch.js';
import type { Routing } from '../alerts/routing.js';
import type { Sink } from '../alerts/sink.js';
import type { Alert } from '../core/alert.js';
import type { Clock } from '../core/clock.js';
import type { SecretAccessEvent } from '../core/event.js';
import type { DetectionEngine, TouchedAlert } from '../detectors/engine.js';
import { type CompiledSuppression, suppressionFor, suppressionLabel } from '../detectors/suppress.js';
import {
  IngestStats,
  type ItemSink,
  type NormalizeOptions,
  normalizeInto,
  type QuarantineEntry,
} from '../ingest/pipeline.js';
import { openDeliveries } from '../store/deliveries.js';
import { PendingQueue } from '../store/pending.js';
import {
  bodyId,
  encodeRows,
  type RowBatch,
  RowsBuilder,
  type StoredRows,
  storedBody,
  storedRow,
  storedRows,
} from '../store/rows.js';
import type { InsertedRows, Store } from '../store/store.js';
import {
  type Batch,
  bulkLoading,
  inputFiles,
  inputWeight,
  normalizeInWorker,
  PARALLEL_BYTES,
  ReadFrontier,
  type Stored,
  StoreLock,
} from './parallel.js';

/** Events per transaction: large enough to amortize commits, small enough to keep memory flat. */
const BATCH = 5000;
const DETECT_CHUNK = 5000;
/**
 * Events detected per transaction: the detector state and the alerts are written once per transaction,
 * so larger is cheaper; memory holds one chunk of events plus the entities and alerts they touch.
 */
const DETECT_COMMIT = 200_000;

export interface IngestSummary {
  readonly stats: IngestStats;
  newEvents: number;
  duplicateEvents: number;
  newAlerts: Alert[];
  updatedAlerts: number;
  /** New alerts that matched a suppression: stored, not delivered. */
  suppressedAlerts: number;
  delivery: DispatchReport;
  /** Wall time of each step of the run, in ms (set by runIngest). */
  timings?: { readAndStore: number; detect: number; deliver: number };
  /**
   * Detection while the workers read (set by runIngest when workers read): how many events it detected
   * from the rows in memory, as they were read and when reading ended (their time is in `readAndStore`),
   * and whether it was thrown away because the input was not in time order (detection then ran after
   * reading, from the store).
   */
  ahead?: { detected: number; discarded: boolean };
}

/** The counts a batch adds to. */
export type BatchCounts = Pick<
  IngestSummary,
  'newEvents' | 'duplicateEvents' | 'newAlerts' | 'updatedAlerts'
> & {
  suppressedAlerts?: number;
};

/** What storing and detecting need. */
export type DetectOptions = Pick<
  RunIngestOptions,
  'store' | 'engine' | 'sinks' | 'route' | 'clock' | 'suppressions'
>;

export interface RunIngestOptions extends Omit<NormalizeOptions, 'onFile'> {
  /**
   * Threads in all: 1 reads, normalizes, stores and detects on this thread; N > 1 normalizes on N - 1
   * worker threads. By default one worker per core for inputs of 16 MB or more, this thread below that.
   */
  readonly threads?: number;
  /** Input files of this size or more are shared by line among the workers (default 8 MiB). */
  readonly shareBytes?: number;
  /** Events per batch (one transaction) the workers store (default 20,000). */
  readonly batchEvents?: number;
  /**
   * With one worker: batches it sends this thread to store before it stores batches itself, this
   * thread having fallen behind (default SENT_AHEAD; 0: it stores them all).
   */
  readonly sentAhead?: number;
  /** Detect while the workers read, when the input allows (default true). */
  readonly aheadDetection?: boolean;
  /**
   * Events detection while reading holds in memory at most, waiting for the watermark to pass them
   * (default 200,000); past this, what is not detected yet is detected after reading.
   */
  readonly aheadEvents?: number;
  readonly onFile?: (name: string, index: number) => void;
  readonly store: Store;
  readonly engine: DetectionEngine;
  readonly sinks: ReadonlyMap<string, Sink>;
  /** Which sinks an alert goes to; by default every sink. */
  readonly route?: (alert: Alert) => readonly string[];
  /** Alerts matching one of these are stored but not delivered. */
  readonly suppressions?: readonly CompiledSuppression[];
  /** Routes' grouping, repeat intervals and digests for delivery. */
  readonly routing?: Routing;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
}

/**
 * Stores a batch of normalized events and queues the new ones for detection, in one transaction.
 * Re-stored events are ignored, so nothing is detected twice. With `detect: 'now'` (the default, for
 * streaming callers) the queue is drained right away; `runIngest` drains once at the end of a run, so
 * that detection sees the whole run in event-time order whatever the order of the files.
 */
export function commitBatch(
  opts: DetectOptions,
  events: readonly SecretAccessEvent[],
  quarantine: readonly QuarantineEntry[],
  summary: BatchCounts,
  detect: 'now' | 'later' = 'now',
): void {
  commitRows(opts, encodeRows(events), quarantine, summary);
  if (detect === 'now') detectQueued(opts, summary);
}

/**
 * commitBatch for events already encoded as rows (by the normalize worker); detection comes later.
 * Returns what was stored, and the earliest event time among the new events (+Infinity if none was new).
 */
export function commitRows(
  opts: Pick<DetectOptions, 'store' | 'clock'>,
  rows: RowBatch,
  quarantine: readonly QuarantineEntry[],
  summary: BatchCounts,
): { earliest: number; inserted: InsertedRows } {
  const { store, clock } = opts;
  return store.transaction(() => {
    const before = store.lastSeq();
    const inserted = store.insertRows(rows);
    const { index } = inserted;
    store.insertQuarantine(quarantine, clock.now());
    summary.newEvents += index.length;
    summary.duplicateEvents += rows.count - index.length;
    if (index.length === 0) return { earliest: Number.POSITIVE_INFINITY, inserted };
    // The new events are exactly the rows after `before`.
    new PendingQueue(store).addSince(before);
    let first = Number.POSITIVE_INFINITY;
    for (let i = 0; i < index.length; i++) {
      const time = rows.times[index[i]!]!;
      if (time < first) first = time;
    }
    const known = store.getMeta('firstEventTime');
    if (known === undefined || first < Number(known)) store.setMeta('firstEventTime', String(first));
    return { earliest: first, inserted };
  });
}

/**
 * Runs detection over the queued events in event-time order, up to `until` (a watermark), a chunk per
 * transaction: taking events from the queue, the detector state, the alerts and their delivery records
 * commit together, so a crash neither loses nor repeats a detection. Suppressed alerts are stored and
 * counted, not delivered.
 */
export function detectQueued(
  opts: DetectOptions,
  summary: Omit<BatchCounts, 'newEvents' | 'duplicateEvents'>,
  until = Number.POSITIVE_INFINITY,
): void {
  const { store } = opts;
  const queue = new PendingQueue(store);
  for (;;) {
    try {
      const done = store.transaction(() => {
        // Alerts touched in this transaction, saved once at its end (not once per chunk).
        const open = new Map<string, TouchedAlert>();
        let taken = 0;
        let firstEventTime: number | undefined;
        while (taken < DETECT_COMMIT) {
          const events = queue.take(until, DETECT_CHUNK);
          if (events.length === 0) break;
          taken += events.length;
          firstEventTime ??= firstEventTimeOf(store, Date.parse(events[0]!.time));
          detectInto(opts, events, firstEventTime, open);
        }
        if (taken === 0) return true;
        saveTouched(opts, open, summary);
        store.state.flush();
        return taken < DETECT_COMMIT;
      });
      if (done) return;
    } catch (err) {
      store.state.discard();
      throw err;
    }
  }
}

/** The start of the global warm-up: the first event the store ever saw (or the first of `events`). */
function firstEventTimeOf(store: Store, first: number): number {
  return Number(store.getMeta('firstEventTime') ?? first);
}

/**
 * Runs the detectors over events (in time order), folding what they find into `open`: the alerts
 * touched so far and whether each is new. Alerts not in `open` are read from the store.
 */
function detectInto(
  opts: Pick<DetectOptions, 'store' | 'engine'>,
  events: Iterable<SecretAccessEvent>,
  firstEventTime: number,
  open: Map<string, TouchedAlert>,
): void {
  const { store, engine } = opts;
  const load = (id: string) => open.get(id)?.alert ?? store.getAlert(id);
  for (const [id, t] of engine.run(events, { state: store.state, firstEventTime }, load)) {
    open.set(id, { alert: t.alert, isNew: open.get(id)?.isNew ?? t.isNew });
  }
}

/**
 * Stores the alerts a detection touched and queues the new ones for delivery; suppressed ones are
 * stored and counted, not delivered. Call inside the transaction that flushes the detector state.
 */
function saveTouched(
  opts: DetectOptions,
  open: ReadonlyMap<string, TouchedAlert>,
  summary: Omit<BatchCounts, 'newEvents' | 'duplicateEvents'>,
): void {
  const { store, clock } = opts;
  const sinkNames = [...opts.sinks.keys()];
  const route = opts.route ?? (() => sinkNames);
  const outbox = store.outbox();
  const suppressions = opts.suppressions ?? [];
  const now = clock.now();
  for (const { alert, isNew } of open.values()) {
    const rule = isNew ? suppressionFor(alert, suppressions) : null;
    store.saveAlert(alert, now, rule ? suppressionLabel(rule) : null);
    if (!isNew) summary.updatedAlerts++;
    else if (rule) summary.suppressedAlerts = (summary.suppressedAlerts ?? 0) + 1;
    else {
      outbox.enqueue(alert.id, route(alert), now);
      summary.newAlerts.push(alert);
    }
  }
}

/** Alerts held in memory by detection while reading; past this it waits for the end of reading. */
const AHEAD_MAX_ALERTS = 10_000;
/**
 * Events held in memory by detection while reading, waiting for the watermark to pass them; past this
 * (an input dense in event time, or far from time order) it waits for the end of reading. About 200
 * bytes each: 40 MB.
 */
const AHEAD_MAX_EVENTS = 200_000;

/**
 * Detection run ahead, while the workers read: on the new events of each stored batch (stored here,
 * or sent over by the worker that stored it: they are not read back from the store), once they are
 * older than every worker's progress
 * (`ReadFrontier.watermark`), in event-time order, on this thread's idle time. Nothing is written
 * until reading ends: the detector state stays in the state cache and the alerts in memory. If a
 * stored event turns out to be no later than the last one detected (the input was not in time order),
 * all of it is thrown away and detection runs after reading as usual; so the result is always that of
 * detecting the whole run in order. When reading ends, what is still buffered is detected too (`finish`),
 * so the events of the run's last hour are not read back from the store. Not used when the store's
 * queue held events before the run.
 */
class AheadDetection {
  private readonly open = new Map<string, TouchedAlert>();
  /** New events stored and not yet detected: each batch's rows left, and their least time. */
  private buffered: { rows: StoredRows; left: number[]; least: number }[] = [];
  private bufferedEvents = 0;
  /** Event time (ms) of the last event detected; every stored event up to it has been detected. */
  private through = Number.NEGATIVE_INFINITY;
  private firstEventTime: number | undefined;
  private stopped = false;
  detected = 0;
  discarded = false;

  constructor(
    private readonly opts: DetectOptions,
    private readonly maxEvents = AHEAD_MAX_EVENTS,
  ) {}

  /** After each stored batch: `rows` are the new events, `earliest` the earliest time among them. */
  stored(earliest: number, rows: StoredRows | undefined): void {
    if (earliest <= this.through && !this.discarded) this.discard();
    if (rows === undefined || this.discarded || this.stopped) return;
    this.buffered.push({ rows, left: Array.from({ length: rows.count }, (_, k) => k), least: earliest });
    this.bufferedEvents += rows.count;
    if (this.bufferedEvents > this.maxEvents) this.stop();
  }

  /** Detects the buffered events before `watermark`; returns how many it detected. */
  advance(watermark: number): number {
    if (!Number.isFinite(watermark)) return 0;
    return this.detectBefore(watermark);
  }

  /**
   * At the end of reading, every stored event has been checked against what was detected: detects the
   * rest of the buffer here, from the rows in memory, rather than read them back from the store after.
   */
  finish(): void {
    this.detectBefore(Number.POSITIVE_INFINITY);
  }

  private detectBefore(watermark: number): number {
    if (this.stopped || this.discarded) return 0;
    const { events, count, first, last } = this.take(watermark);
    if (count === 0) return 0;
    this.firstEventTime ??= firstEventTimeOf(this.opts.store, first);
    try {
      detectInto(this.opts, events, this.firstEventTime, this.open);
    } catch (err) {
      this.discard();
      throw err;
    }
    this.through = last;
    this.detected += count;
    if (this.open.size >= AHEAD_MAX_ALERTS) this.stop();
    return count;
  }

  /**
   * Takes the buffered events before `watermark` out of the buffer, in detection order (time, then id,
   * as compareEvents): sorted by the rows' times, and each event made from its row only when detection
   * comes to it, so the events of a chunk do not all live at once (they would outlive the young
   * generation and cost old-generation collections).
   */
  private take(watermark: number): {
    events: Iterable<SecretAccessEvent>;
    count: number;
    first: number;
    last: number;
  } {
    const from: StoredRows[] = [];
    const at: number[] = [];
    const times: number[] = [];
    let last = this.through;
    const kept: typeof this.buffered = [];
    for (const b of this.buffered) {
      if (b.least >= watermark) {
        kept.push(b);
        continue;
      }
      const left: number[] = [];
      let least = Number.POSITIVE_INFINITY;
      for (const k of b.left) {
        const time = b.rows.times[k]!;
        if (time < watermark) {
          from.push(b.rows);
          at.push(k);
          times.push(time);
          if (time > last) last = time;
        } else {
          left.push(k);
          if (time < least) least = time;
        }
      }
      if (left.length > 0) kept.push({ rows: b.rows, left, least });
    }
    this.buffered = kept;
    const count = times.length;
    this.bufferedEvents -= count;
    // Ids are read only to order events of the same millisecond.
    const ids: (string | undefined)[] = new Array(count);
    const idOf = (i: number) => (ids[i] ??= bodyId(storedBody(from[i]!, at[i]!)));
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => {
      const dt = times[a]! - times[b]!;
      if (dt !== 0) return dt;
      const x = idOf(a);
      const y = idOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const { store } = this.opts;
    function* events(): Generator<SecretAccessEvent> {
      for (const i of order) yield store.hydrate(storedRow(from[i]!, at[i]!));
    }
    return { events: events(), count, first: count > 0 ? times[order[0]!]! : Number.NaN, last };
  }

  /** Stops detecting ahead; what is not detected yet is detected after reading. */
  private stop(): void {
    this.stopped = true;
    this.buffered = [];
    this.bufferedEvents = 0;
  }

  /** At the end of reading: writes what was detected (alerts, state) and takes it off the queue. */
  settle(summary: Omit<BatchCounts, 'newEvents' | 'duplicateEvents'>): void {
    if (this.discarded || this.detected === 0) return;
    const { store } = this.opts;
    try {
      store.transaction(() => {
        saveTouched(this.opts, this.open, summary);
        store.state.flush();
        new PendingQueue(store).removeThrough(this.through);
      });
    } catch (err) {
      store.state.discard();
      throw err;
    }
  }

  /** Throws away what was detected (it was not written); detection then runs after reading. */
  discard(): void {
    this.opts.store.state.discard();
    this.open.clear();
    this.buffered = [];
    this.bufferedEvents = 0;
    this.detected = 0;
    this.discarded = true;
  }
}

/**
 * Normalized items encoded as row batches of about BATCH events, on this thread: the normalize worker's
 * loop, and the whole read side for stdin, tests, or when asked to.
 */
export async function* inlineBatches(
  paths: readonly string[],
  stats: IngestStats,
  opts: NormalizeOptions,
  size = BATCH,
): AsyncGenerator<Batch> {
  // Each event is encoded as soon as it is made, so a batch being gathered holds rows, not event objects.
  let rows = new RowsBuilder(size);
  let quarantine: QuarantineEntry[] = [];
  const sink: ItemSink = {
    event: (event) => rows.add(event),
    quarantine: (entry) => quarantine.push(entry),
  };
  for await (const _ of normalizeInto(paths, stats, sink, opts)) {
    if (rows.count + quarantine.length >= size) {
      yield { rows: rows.build(), quarantine };
      rows = new RowsBuilder(size);
      quarantine = [];
    }
  }
  yield { rows: rows.build(), quarantine };
}

/** What the read side yields: batches to store here, or what a worker stored itself. */
type ReadItem = Batch | Stored;

/**
 * Where batches come from: worker threads for large inputs (or when `threads` asks), which send them
 * here to store (one worker) or store them too (several); else this thread, which stores them.
 */
async function readSide(
  paths: readonly string[],
  stats: IngestStats,
  opts: RunIngestOptions,
  frontier: ReadFrontier,
): Promise<{ items: AsyncGenerator<ReadItem>; workers: boolean; lock?: StoreLock }> {
  const inline = () => ({
    items: inlineBatches(paths, stats, {
      ...opts,
      onFile: opts.onFile && ((f, i) => opts.onFile!(f.name, i)),
    }),
    workers: false,
  });
  if (opts.threads === 1 || paths.includes('-') || opts.sources || opts.containers) return inline();
  const input = await inputFiles(paths);
  if (opts.threads === undefined && inputWeight(input) < PARALLEL_BYTES) return inline();
  const lock = new StoreLock();
  const items = normalizeInWorker(
    {
      plan: input,
      format: opts.format,
      store: opts.store.path,
      startedAt: opts.clock.now(),
      frontier,
      sendRows: opts.aheadDetection !== false,
      storeLock: lock,
      ...(opts.threads ? { threads: opts.threads - 1 } : {}),
      ...(opts.shareBytes !== undefined ? { shareBytes: opts.shareBytes } : {}),
      ...(opts.batchEvents !== undefined ? { batchEvents: opts.batchEvents } : {}),
      ...(opts.sentAhead !== undefined ? { sentAhead: opts.sentAhead } : {}),
    },
    stats,
    opts.onFile,
  );
  return { items, workers: true, lock };
}

/**
 * Takes the store lock to store a worker's batch here. While the worker holds it (storing a batch
 * itself, this thread having fallen behind), detects what can be detected rather than wait.
 */
function takeLock(lock: StoreLock, ahead: AheadDetection | undefined, frontier: ReadFrontier): void {
  for (;;) {
    if (lock.tryAcquire()) return;
    if (ahead && ahead.advance(frontier.watermark) > 0) continue;
    lock.acquire();
    return;
  }
}

/**
 * ingest → normalize → store → detect → alert: the batch job behind `vigil ingest` and `npm start`.
 * For large inputs, worker threads (one per core but this one's) read and normalize, and store (or,
 * one worker, send this thread the batches to store), while this thread detects behind them when the
 * input comes in time order (see AheadDetection). The rest of
 * detection runs here after reading, in event-time order over the whole run.
 */
export async function runIngest(paths: readonly string[], opts: RunIngestOptions): Promise<IngestSummary> {
  const stats = new IngestStats();
  const summary: IngestSummary = {
    stats,
    newEvents: 0,
    duplicateEvents: 0,
    newAlerts: [],
    updatedAlerts: 0,
    suppressedAlerts: 0,
    delivery: { delivered: {}, failed: {}, dead: {} },
  };
  const t0 = performance.now();
  const frontier = new ReadFrontier();
  // Events queued before this run (one stopped between storing and detecting) may come first in
  // detection order, and detection ahead would pass them by: then the run detects after reading.
  const queuedBefore = !new PendingQueue(opts.store).isEmpty();
  const { items, workers, lock } = await readSide(paths, stats, opts, frontier);
  const ahead =
    workers && opts.aheadDetection !== false && !queuedBefore
      ? new AheadDetection(opts, opts.aheadEvents)
      : undefined;
  // Workers read in bulk, and this thread may store what they read.
  const restore = workers ? bulkLoading(opts.store.db) : undefined;
  let next = items.next();
  let arrived = false;
  const watch = () => {
    arrived = false;
    next.then(
      () => (arrived = true),
      () => (arrived = true),
    );
  };
  watch();
  try {
    for (;;) {
      // While no worker has anything to report, detect (then let their messages in).
      if (ahead && !arrived && ahead.advance(frontier.watermark) > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const r = await next;
      if (r.done) break;
      let earliest: number;
      let fresh: StoredRows | undefined;
      if ('quarantine' in r.value) {
        const { rows } = r.value;
        if (lock) takeLock(lock, ahead, frontier);
        let c: ReturnType<typeof commitRows>;
        try {
          c = commitRows(opts, rows, r.value.quarantine, summary);
          lock?.countStored();
        } finally {
          lock?.release();
        }
        earliest = c.earliest;
        const { index, ids } = c.inserted;
        if (ahead && index.length > 0) fresh = storedRows(rows, index, ids);
      } else {
        earliest = r.value.earliest;
        summary.newEvents += r.value.newEvents;
        summary.duplicateEvents += r.value.duplicateEvents;
      }
      next = items.next();
      watch();
      ahead?.stored(earliest, 'quarantine' in r.value ? fresh : r.value.rows);
      if (opts.signal?.aborted) break;
    }
  } finally {
    await items.return(undefined);
    restore?.();
  }
  // Stopped early, batches a worker stored may not have been checked against what was detected.
  if (opts.signal?.aborted) ahead?.discard();
  else ahead?.finish();
  ahead?.settle(summary);
  const t1 = performance.now();
  detectQueued(opts, summary);
  const t2 = performance.now();
  summary.delivery = await dispatchDue(openDeliveries(opts.store), opts.sinks, {
    clock: opts.clock,
    ...(opts.routing ? { routing: opts.routing } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  summary.timings = { readAndStore: t1 - t0, detect: t2 - t1, deliver: performance.now() - t2 };
  if (ahead) summary.ahead = { detected: ahead.detected, discarded: ahead.discarded };
  return summary;
}
