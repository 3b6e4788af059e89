import type { Server } from 'node:http';
import { ndjsonSink } from '../../alerts/ndjson.js';
import type { Sink } from '../../alerts/sink.js';
import type { Alert } from '../../core/alert.js';
import { UsageError } from '../../core/errors.js';
import { createStreams } from '../../ingest/live/registry.js';
import { budgets, type LiveStream } from '../../ingest/live/source.js';
import type { Store } from '../../store/store.js';
import { type Io, type ParsedArgs, str } from '../command.js';
import {
  type Alerting,
  alerting,
  dbPath,
  detectionSetup,
  loadRootConfig,
  openStore,
  routeWith,
} from '../common.js';
import { startHttp } from './http.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';

export const WATCH_OPTIONS = {
  config: { type: 'string' },
  db: { type: 'string' },
  'log-level': { type: 'string' },
  'http-port': { type: 'string' },
  'http-host': { type: 'string' },
  'alerts-out': { type: 'string' },
} as const;

export const WATCH_HELP = [
  {
    flag: '--log-level LEVEL',
    text: 'trace, debug, info (default), warn, error or silent; JSON lines on stderr',
  },
  { flag: '--http-port PORT', text: 'serve /healthz and /metrics (Prometheus) on this port' },
  { flag: '--http-host HOST', text: 'address to listen on (default 127.0.0.1; 0.0.0.0 in a container)' },
  { flag: '--alerts-out FILE', text: 'also append each alert as one JSON line to FILE' },
];

export interface Watcher {
  readonly store: Store;
  readonly streams: LiveStream[];
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly sinks: Map<string, Sink>;
  readonly engine: ReturnType<typeof detectionSetup>['engine'];
  readonly suppressions: ReturnType<typeof detectionSetup>['suppressions'];
  readonly routing: Alerting['routing'];
  readonly route: (alert: Alert) => readonly string[];
  readonly db: string;
  close(): Promise<void>;
}

/** Config, logger, streams, store, detectors, sinks and the optional HTTP server, for watch and backfill. */
export async function setUpWatch(args: ParsedArgs, io: Io, command: string): Promise<Watcher> {
  const log = createLogger(str(args, 'log-level'), io.stderr);
  const { config, file } = loadRootConfig(args, io);
  if (config.sources.length === 0) {
    throw new UsageError(
      `${command}: ${file ? `${file} lists no sources` : 'no config file (vigil.config.yaml, --config or $VIGIL_CONFIG)'}; ` +
        'add one, e.g. sources: [{type: cloudtrail-lookup, regions: [us-east-1]}] (see docs/watch.md)',
    );
  }
  const streams = createStreams(config.sources, {
    env: io.env,
    stdin: io.stdin,
    clock: io.clock,
    budgets: budgets(),
    cwd: io.cwd,
  });
  const port = str(args, 'http-port');
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new UsageError(`--http-port: not a port: ${port}`);
  const db = dbPath(args, io, config);
  const { engine, suppressions } = detectionSetup(config, db);
  const alerts = alerting(config, io);
  const sinks = alerts.sinks;
  const out = str(args, 'alerts-out');
  if (out)
    sinks.set(
      'alerts-out',
      ndjsonSink.create('alerts-out', { path: out }, { clock: io.clock, stdout: io.stdout, env: io.env }),
    );
  const metrics = new Metrics(io.clock);
  const store = openStore(db);
  let server: Server | undefined;
  if (port !== undefined) {
    try {
      server = await startHttp(metrics, Number(port), str(args, 'http-host') ?? '127.0.0.1');
    } catch (err) {
      store.close();
      throw new UsageError(
        `--http-port ${port}: cannot listen (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const addr = server.address();
    log.info({ port: typeof addr === 'object' && addr ? addr.port : port }, 'serving /healthz and /metrics');
  }
  return {
    store,
    streams,
    log,
    metrics,
    sinks,
    engine,
    suppressions,
    routing: alerts.routing,
    route: routeWith(alerts),
    db,
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of sinks.values()) await s.close?.();
      store.close();
    },
  };
}
