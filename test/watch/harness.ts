import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ndjsonSink } from '../../alerts/ndjson.js';
import { createLogger } from '../../cli/watch/logger.js';
import { type WatchOptions, type WatchResult, watchStreams } from '../../cli/watch/loop.js';
import { Metrics } from '../../cli/watch/metrics.js';
import { systemClock } from '../../core/clock.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { DETECTORS } from '../../detectors/registry.js';
import { createStreams } from '../../ingest/live/registry.js';
import { budgets } from '../../ingest/live/source.js';
import { Store } from '../../store/store.js';

/** Static fake credentials for the real SDK clients; the local servers never check the signature. */
export function fakeAwsEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'AKIDVIGILTEST',
    AWS_SECRET_ACCESS_KEY: 'vigil-test-secret-key',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Detectors tuned so a first-seen principal alerts at once (no learning period). */
export const EAGER_DETECTORS = { 'new-principal': { learningPeriod: 'PT0S' } };

export interface Rig {
  readonly store: Store;
  readonly logs: string[];
  readonly alertsFile: string;
  readonly metrics: Metrics;
  run(overrides?: Partial<WatchOptions>): Promise<WatchResult>;
}

/** A real store in `dir`, the real detectors, an NDJSON sink, JSON logs captured, the real loop. */
export function rig(
  dir: string,
  sources: { type: string; [k: string]: unknown }[],
  stdin = new PassThrough(),
): Rig {
  const store = Store.open(join(dir, 'vigil.db'));
  const logs: string[] = [];
  const sink = new PassThrough();
  sink.setEncoding('utf8').on('data', (d: string) => logs.push(...d.split('\n').filter(Boolean)));
  const log = createLogger('debug', sink);
  const alertsFile = join(dir, 'alerts.ndjson');
  const deps = { clock: systemClock, stdout: new PassThrough(), env: {} };
  const sinks = new Map([['out', ndjsonSink.create('out', { path: alertsFile }, deps)]]);
  const engine = new DetectionEngine({ detectors: DETECTORS, config: EAGER_DETECTORS });
  const metrics = new Metrics(systemClock);
  const streams = createStreams(sources, {
    env: {},
    stdin,
    clock: systemClock,
    budgets: budgets(),
    cwd: dir,
  });
  return {
    store,
    logs,
    alertsFile,
    metrics,
    run: (overrides = {}) =>
      watchStreams({
        store,
        engine,
        sinks,
        clock: systemClock,
        streams,
        log,
        metrics,
        signal: new AbortController().signal,
        once: true,
        backoff: { baseMs: 20, maxMs: 100 },
        dispatchIntervalMs: 50,
        ...overrides,
      }),
  };
}

export function eventIds(store: Store): string[] {
  return [...store.queryEvents({})].map((e) => e.id).sort();
}
