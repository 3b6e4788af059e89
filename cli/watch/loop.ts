import { backoffMs, dispatchDue } from '../../alerts/dispatch.js';
import type { Routing } from '../../alerts/routing.js';
import type { Sink } from '../../alerts/sink.js';
import type { Alert } from '../../core/alert.js';
import type { Clock } from '../../core/clock.js';
import type { SecretAccessEvent } from '../../core/event.js';
import { redact } from '../../core/secret.js';
import type { DetectionEngine } from '../../detectors/engine.js';
import type { CompiledSuppression } from '../../detectors/suppress.js';
import { classifyFailure } from '../../ingest/live/errors.js';
import { normalizeRecords } from '../../ingest/live/normalize.js';
import { type LiveBatch, type LiveStream, readWindowCheckpoint, sleep } from '../../ingest/live/source.js';
import { IngestStats, type QuarantineEntry } from '../../ingest/pipeline.js';
import { Checkpoints } from '../../store/checkpoints.js';
import { openDeliveries } from '../../store/deliveries.js';
import type { Store } from '../../store/store.js';
import { commitBatch, type IngestSummary } from '../pipeline.js';
import type { Logger } from './logger.js';
import type { Metrics, StreamHealth } from './metrics.js';

export interface WatchOptions {
  readonly store: Store;
  readonly engine: DetectionEngine;
  readonly sinks: ReadonlyMap<string, Sink>;
  readonly route?: (alert: Alert) => readonly string[];
  /** Routes' grouping, repeat intervals and digests for delivery. */
  readonly routing?: Routing;
  /** Alerts matching one of these are stored but not delivered. */
  readonly suppressions?: readonly CompiledSuppression[];
  readonly clock: Clock;
  readonly streams: readonly LiveStream[];
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Aborted on SIGINT/SIGTERM: pages in flight finish, their checkpoints are written, then it stops. */
  readonly signal: AbortSignal;
  /** One polling round per stream, then deliver and return (cron, tests, backfill). */
  readonly once: boolean;
  /** Read time-ranged streams from here instead of their checkpoints (backfill). */
  readonly since?: number;
  readonly onProgress?: (streamId: string, progress: { done: number; total: number }) => void;
  /** How often the outbox is retried when nothing new arrives. */
  readonly dispatchIntervalMs?: number;
  /** After a stop request, how long deliveries in flight may take. */
  readonly shutdownGraceMs?: number;
  /** Backoff of a failing stream: exponential with jitter from `baseMs` to `maxMs`. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

export interface WatchResult {
  /** Streams whose last poll failed (with --once: the exit code is 1). */
  readonly failed: string[];
  readonly newEvents: number;
  readonly newAlerts: number;
}

/** A failure of the store, not of a source: the watch stops rather than skip events. */
class CommitError extends Error {
  override readonly name = 'CommitError';
}

/**
 * Follows every stream concurrently. Each batch is normalized and committed in one transaction with
 * its checkpoint, the detector state, the alerts and their outbox rows; a single dispatcher delivers the
 * outbox (woken at once by new alerts), so no delivery is attempted twice concurrently. A failing
 * stream backs off and retries without touching the others.
 */
export async function watchStreams(opts: WatchOptions): Promise<WatchResult> {
  const { store, clock, log, metrics, signal } = opts;
  const checkpoints = new Checkpoints(store);
  const failed: string[] = [];
  let newEvents = 0;
  let newAlerts = 0;
  const backoff = opts.backoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };

  // Deliveries may finish after a stop request, for up to the grace period.
  const grace = new AbortController();
  const dispatcher = new Dispatcher(opts, grace.signal);

  const commit = (stream: LiveStream, batch: LiveBatch, health: StreamHealth) => {
    const stats = new IngestStats();
    const events: SecretAccessEvent[] = [];
    const quarantine: QuarantineEntry[] = [];
    for (const item of normalizeRecords(batch.records, batch.origin, stats)) {
      if (item.kind === 'event') events.push(item.event);
      else quarantine.push(item.entry);
    }
    const summary: Pick<IngestSummary, 'newEvents' | 'duplicateEvents' | 'newAlerts' | 'updatedAlerts'> = {
      newEvents: 0,
      duplicateEvents: 0,
      newAlerts: [],
      updatedAlerts: 0,
    };
    const now = clock.now();
    try {
      store.transaction(() => {
        // Checkpoint first: if detection throws, the whole transaction, checkpoint included, rolls back.
        if (batch.checkpoint) checkpoints.set(batch.checkpoint.key, batch.checkpoint.value, now);
        commitBatch(opts, events, quarantine, summary);
      });
    } catch (err) {
      throw new CommitError(`cannot store a batch of ${stream.id}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const source = { source: stream.id };
    metrics.inc('vigil_events_read_total', source, stats.events);
    metrics.inc('vigil_events_stored_total', source, summary.newEvents);
    metrics.inc('vigil_records_quarantined_total', source, stats.quarantinedTotal);
    if (health.watermark !== undefined) {
      // New events older than the watermark arrived late; they are stored and detected like any other.
      // Counted as the new events beyond those after the watermark (exact unless a window is re-read).
      const fresh = events.filter((e) => Date.parse(e.time) >= health.watermark!).length;
      metrics.inc('vigil_late_events_total', source, Math.max(0, summary.newEvents - fresh));
    }
    if (batch.watermark !== undefined) health.watermark = Math.max(health.watermark ?? 0, batch.watermark);
    newEvents += summary.newEvents;
    if (summary.newAlerts.length) {
      newAlerts += summary.newAlerts.length;
      metrics.inc('vigil_alerts_raised_total', {}, summary.newAlerts.length);
      for (const a of summary.newAlerts)
        log.info({ alert: a.id, detector: a.detector, severity: a.severity, source: stream.id }, a.title);
      dispatcher.kick();
    }
    if (summary.newEvents || stats.quarantinedTotal)
      log.debug(
        {
          source: stream.id,
          origin: batch.origin,
          records: batch.records.length,
          events: stats.events,
          new: summary.newEvents,
          quarantined: stats.quarantinedTotal,
          alerts: summary.newAlerts.length,
        },
        'batch stored',
      );
    if (batch.progress) opts.onProgress?.(stream.id, batch.progress);
  };

  const runStream = async (stream: LiveStream) => {
    const health: StreamHealth = {
      id: stream.id,
      type: stream.type,
      consecutiveFailures: 0,
      pollIntervalMs: stream.pollIntervalMs,
    };
    const committed = readWindowCheckpoint(checkpoints.get(stream.id));
    if (committed !== undefined) health.watermark = committed;
    metrics.streams.set(stream.id, health);
    while (!signal.aborted) {
      const started = clock.now();
      try {
        for await (const batch of stream.poll({
          checkpoint: (key) => checkpoints.get(key),
          now: started,
          signal,
          once: opts.once,
          ...(opts.since !== undefined && stream.timeRanged ? { since: opts.since } : {}),
        })) {
          commit(stream, batch, health);
        }
        if (!signal.aborted || health.lastSuccess === undefined) {
          health.lastSuccess = clock.now();
          if (health.consecutiveFailures > 0) log.info({ source: stream.id }, 'source recovered');
          health.consecutiveFailures = 0;
          metrics.inc('vigil_polls_total', { source: stream.id });
        }
      } catch (err) {
        if (err instanceof CommitError) throw err;
        health.consecutiveFailures++;
        const f = classifyFailure(err);
        health.lastError = { kind: f.kind, message: f.message, at: clock.now() };
        metrics.inc('vigil_source_errors_total', { source: stream.id, kind: f.kind });
        const delay = backoffMs(health.consecutiveFailures, backoff.baseMs, backoff.maxMs, Math.random);
        const fields = {
          source: stream.id,
          kind: f.kind,
          code: f.code,
          failures: health.consecutiveFailures,
          ...(opts.once ? {} : { retryInMs: delay }),
        };
        if (f.kind === 'credentials') log.error(fields, `${stream.id}: ${f.message}`);
        else log.warn(fields, `${stream.id}: ${f.message}`);
        if (opts.once) {
          failed.push(stream.id);
          return;
        }
        await sleep(delay, signal);
        continue;
      }
      if (opts.once) return;
      await sleep(Math.max(0, stream.pollIntervalMs - (clock.now() - started)), signal);
    }
  };

  log.info(
    { sources: opts.streams.map((s) => s.id), once: opts.once, sinks: [...opts.sinks.keys()] },
    opts.once ? 'reading each source once' : 'watching',
  );
  const loop = opts.once ? Promise.resolve() : dispatcher.run(signal);
  let fatal: unknown;
  try {
    await Promise.all(opts.streams.map((s) => runStream(s)));
  } catch (err) {
    fatal = err;
  }
  dispatcher.stop();
  await loop;
  // Last delivery pass: what cannot be delivered within the grace period stays in the outbox for next start.
  const timer = setTimeout(() => grace.abort(), opts.shutdownGraceMs ?? 5000);
  try {
    await dispatcher.dispatch();
  } finally {
    clearTimeout(timer);
  }
  if (fatal) throw fatal;
  log.info({ newEvents, newAlerts, failed }, 'stopped');
  return { failed, newEvents, newAlerts };
}

/** The only caller of `dispatchDue`: woken by new alerts, and every interval for retries. */
class Dispatcher {
  private wake: (() => void) | undefined;
  private kicked = false;
  private stopped = false;

  constructor(
    private readonly opts: WatchOptions,
    private readonly signal: AbortSignal,
  ) {}

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  async dispatch(): Promise<void> {
    const { metrics, log } = this.opts;
    try {
      const report = await dispatchDue(openDeliveries(this.opts.store), this.opts.sinks, {
        clock: this.opts.clock,
        signal: this.signal,
        ...(this.opts.routing ? { routing: this.opts.routing } : {}),
      });
      for (const [sink, n] of Object.entries(report.delivered))
        metrics.inc('vigil_alerts_delivered_total', { sink }, n);
      for (const [sink, n] of Object.entries(report.failed))
        metrics.inc('vigil_sink_failures_total', { sink }, n);
      for (const [sink, n] of Object.entries(report.dead))
        metrics.inc('vigil_sink_failures_total', { sink }, n);
      const delivered = Object.values(report.delivered).reduce((a, b) => a + b, 0);
      if (delivered || Object.keys(report.failed).length || Object.keys(report.dead).length)
        log.info(
          { delivered: report.delivered, failed: report.failed, dead: report.dead },
          'alerts delivered',
        );
    } catch (err) {
      // The outbox keeps what was not delivered; the next pass retries it.
      log.error(
        { err: (err as Error).name, message: redact((err as Error).message) },
        'alert delivery pass failed',
      );
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const interval = this.opts.dispatchIntervalMs ?? 5000;
    while (!this.stopped && !signal.aborted) {
      this.kicked = false;
      await this.dispatch();
      if (this.kicked || this.stopped) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, interval);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }
}
