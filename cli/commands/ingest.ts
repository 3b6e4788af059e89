import { consoleSink } from '../../alerts/console.js';
import { ndjsonSink } from '../../alerts/ndjson.js';
import { UsageError } from '../../core/errors.js';
import { bool, type Command, str, threadsOption } from '../command.js';
import {
  alerting,
  CONFIG_HELP,
  DB_HELP,
  dbPath,
  detectionSetup,
  loadRootConfig,
  openStore,
  routeWith,
  summaryLines,
} from '../common.js';
import { runIngest } from '../pipeline.js';
import { endProgress, progressReporter } from '../progress.js';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'store audit logs, run the detectors, deliver alerts',
  usage:
    'vigil ingest PATH... [--db FILE] [--alerts-out FILE] [--config FILE] [--format ID] [--threads N] [--quiet]',
  description:
    'Reads audit logs (files, directories, `-` for stdin), stores the normalized events in the SQLite store,\n' +
    'runs the detectors on the events it had not seen before and delivers the alerts they raise: to the\n' +
    'console, to --alerts-out as NDJSON, and to the sinks of the config file. Re-ingesting the same files\n' +
    'adds nothing and raises nothing twice. Records that cannot be read are quarantined (`vigil quarantine`).\n' +
    'Exit codes: 0 done, 1 nothing could be ingested, 2 bad flag or config.',
  positionals: true,
  options: {
    db: { type: 'string' },
    'alerts-out': { type: 'string' },
    config: { type: 'string' },
    format: { type: 'string' },
    threads: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  help: [
    DB_HELP,
    { flag: '--alerts-out FILE', text: 'also append each alert as one JSON line to FILE' },
    CONFIG_HELP,
    { flag: '--format ID', text: 'force a source format instead of detecting it' },
    {
      flag: '--threads N',
      text: 'threads in all: 1 does everything on one; N reads and stores on N - 1 workers while one detects (default: one per core, for inputs of 16 MB or more)',
    },
    { flag: '-q, --quiet', text: 'do not print alerts on the console (the summary still goes to stderr)' },
  ],
  examples: [
    'vigil ingest ./AWSLogs --db vigil.db',
    'vigil ingest insights-logs-auditevent/ --alerts-out alerts.ndjson',
  ],
  async run(args, io) {
    if (args.positionals.length === 0)
      throw new UsageError('ingest: give at least one PATH (a file, a directory, or - for stdin)');
    const threads = threadsOption(args);
    const { config } = loadRootConfig(args, io);
    const db = dbPath(args, io, config);
    const detection = detectionSetup(config, db);
    const alerts = alerting(config, io);
    const sinks = alerts.sinks;
    const deps = { clock: io.clock, stdout: io.stdout, env: io.env };
    if (!bool(args, 'quiet')) sinks.set('console', consoleSink.create('console', {}, deps));
    const out = str(args, 'alerts-out');
    if (out) sinks.set('alerts-out', ndjsonSink.create('alerts-out', { path: out }, deps));
    const store = openStore(db);
    try {
      const summary = await runIngest(args.positionals, {
        store,
        ...detection,
        sinks,
        route: routeWith(alerts),
        routing: alerts.routing,
        clock: io.clock,
        format: str(args, 'format'),
        ...(threads !== undefined ? { threads } : {}),
        onFile: progressReporter(io, 'ingest'),
        signal: io.signal,
      });
      endProgress(io);
      for (const line of summaryLines(summary, db)) io.stderr.write(`vigil ingest: ${line}\n`);
      if (summary.stats.quarantinedTotal)
        io.stderr.write(`vigil ingest: see what was set aside: vigil quarantine --db ${db}\n`);
      return summary.stats.events === 0 && summary.stats.quarantinedTotal > 0 ? 1 : 0;
    } finally {
      store.close();
    }
  },
};
