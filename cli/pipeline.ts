import { type DispatchReport, dispatchDue } from '../alerts/dispatch.js';
import type { Routing } from '../alerts/routing.js';
import type { Sink } from '../alerts/sink.js';
import type { Alert } from '../core/alert.js';
import type { Clock } from '../core/clock.js';
import type { SecretAccessEvent } from '../core/event.js';
import type { DetectionEngine } from '../detectors/engine.js';
import {
  type IngestItem,
  IngestStats,
  type NormalizeOptions,
  normalizeInputs,
  type QuarantineEntry,
} from '../ingest/pipeline.js';
import { openDeliveries } from '../store/deliveries.js';
import type { Store } from '../store/store.js';
import { type Batch, normalizeInWorker } from './parallel.js';

/** Events per transaction: large enough to amortize commits, small enough to keep memory flat. */
const BATCH = 5000;

export interface IngestSummary {
  readonly stats: IngestStats;
  newEvents: number;
  duplicateEvents: number;
  newAlerts: Alert[];
  updatedAlerts: number;
  delivery: DispatchReport;
}

export interface RunIngestOptions extends Omit<NormalizeOptions, 'onFile'> {
  /** 2 (default): normalize on a worker thread while this one stores and detects; 1: all on this thread. */
  readonly threads?: number;
  readonly onFile?: (name: string, index: number) => void;
  readonly store: Store;
  readonly engine: DetectionEngine;
  readonly sinks: ReadonlyMap<string, Sink>;
  /** Which sinks an alert goes to; by default every sink. */
  readonly route?: (alert: Alert) => readonly string[];
  /** Routes' grouping, repeat intervals and digests for delivery. */
  readonly routing?: Routing;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
}

/**
 * Stores a batch of normalized events and runs detection on the new ones, in one transaction with
 * the detector state, the alerts and their delivery records: a crash leaves either all of it or none.
 */
export function commitBatch(
  opts: Pick<RunIngestOptions, 'store' | 'engine' | 'sinks' | 'route' | 'clock'>,
  events: readonly SecretAccessEvent[],
  quarantine: readonly QuarantineEntry[],
  summary: Pick<IngestSummary, 'newEvents' | 'duplicateEvents' | 'newAlerts' | 'updatedAlerts'>,
): void {
  const { store, engine, clock } = opts;
  const sinkNames = [...opts.sinks.keys()];
  const route = opts.route ?? (() => sinkNames);
  const outbox = store.outbox();
  try {
    store.transaction(() => {
      const now = clock.now();
      const fresh = store.insertEvents(events);
      store.insertQuarantine(quarantine, now);
      summary.newEvents += fresh.length;
      summary.duplicateEvents += events.length - fresh.length;
      if (fresh.length === 0) return;
      fresh.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
      const first = Date.parse(fresh[0]!.time);
      const known = store.getMeta('firstEventTime');
      if (known === undefined || first < Number(known)) store.setMeta('firstEventTime', String(first));
      const ctx = { state: store.state, firstEventTime: Math.min(first, Number(known ?? first)) };
      const touched = new Map<string, { alert: Alert; isNew: boolean }>();
      for (const event of fresh) {
        for (const { detector, finding } of engine.evaluate(event, ctx)) {
          const draft = engine.toAlert(detector, finding, undefined);
          const open = touched.get(draft.id);
          const existing = open?.alert ?? store.getAlert(draft.id);
          const alert = existing ? engine.toAlert(detector, finding, existing) : draft;
          touched.set(alert.id, { alert, isNew: open ? open.isNew : !existing });
        }
      }
      for (const { alert, isNew } of touched.values()) {
        store.saveAlert(alert, now);
        if (isNew) {
          outbox.enqueue(alert.id, route(alert), now);
          summary.newAlerts.push(alert);
        } else summary.updatedAlerts++;
      }
      store.state.flush();
    });
  } catch (err) {
    store.state.discard();
    throw err;
  }
}

/** Normalized items grouped into batches, on this thread (stdin, tests, or when asked to). */
async function* inlineBatches(
  paths: readonly string[],
  stats: IngestStats,
  opts: NormalizeOptions,
): AsyncGenerator<Batch> {
  let batch: Batch = { events: [], quarantine: [] };
  for await (const item of normalizeInputs(paths, stats, opts) as AsyncGenerator<IngestItem>) {
    if (item.kind === 'event') batch.events.push(item.event);
    else batch.quarantine.push(item.entry);
    if (batch.events.length + batch.quarantine.length >= BATCH) {
      yield batch;
      batch = { events: [], quarantine: [] };
    }
  }
  yield batch;
}

/**
 * ingest → normalize → store → detect → alert: the batch job behind `vigil ingest` and `npm start`.
 * Reading and normalizing run on a worker thread (the second core) while this thread stores and detects.
 */
export async function runIngest(paths: readonly string[], opts: RunIngestOptions): Promise<IngestSummary> {
  const stats = new IngestStats();
  const summary: IngestSummary = {
    stats,
    newEvents: 0,
    duplicateEvents: 0,
    newAlerts: [],
    updatedAlerts: 0,
    delivery: { delivered: {}, failed: {}, dead: {} },
  };
  const threaded = (opts.threads ?? 2) > 1 && !paths.includes('-') && !opts.sources && !opts.containers;
  const batches = threaded
    ? normalizeInWorker({ paths, format: opts.format, batchSize: BATCH }, stats, opts.onFile)
    : inlineBatches(paths, stats, { ...opts, onFile: opts.onFile && ((f, i) => opts.onFile!(f.name, i)) });
  for await (const batch of batches) {
    commitBatch(opts, batch.events, batch.quarantine, summary);
    if (opts.signal?.aborted) break;
  }
  summary.delivery = await dispatchDue(openDeliveries(opts.store), opts.sinks, {
    clock: opts.clock,
    ...(opts.routing ? { routing: opts.routing } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return summary;
}
