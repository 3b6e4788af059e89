import { bool, type Command } from '../command.js';
import { CONFIG_HELP, DB_HELP } from '../common.js';
import { watchStreams } from '../watch/loop.js';
import { setUpWatch, WATCH_HELP, WATCH_OPTIONS } from '../watch/setup.js';

export const watchCommand: Command = {
  name: 'watch',
  summary: 'follow the configured live sources: store, detect and alert continuously',
  usage: 'vigil watch [--config FILE] [--db FILE] [--once] [--log-level LEVEL] [--http-port PORT]',
  description:
    'Polls every source in the config file (CloudTrail LookupEvents, CloudWatch Logs, a directory of log\n' +
    'files, stdin), stores new events, runs the detectors and delivers alerts. Each batch is stored with its\n' +
    'checkpoint in one transaction, so a crash or kill loses nothing and raises nothing twice. SIGINT or\n' +
    'SIGTERM stop it gracefully. Logs are JSON lines on stderr. Options and examples: docs/watch.md.\n' +
    'Exit codes: 0 stopped (or --once read every source), 1 a source failed with --once, 2 bad flag or config.',
  options: { ...WATCH_OPTIONS, once: { type: 'boolean' } },
  help: [
    CONFIG_HELP,
    DB_HELP,
    { flag: '--once', text: 'one polling round of every source, deliver alerts, exit (cron, tests)' },
    ...WATCH_HELP,
  ],
  examples: [
    'vigil watch --config vigil.config.yaml --http-port 9464',
    'vigil watch --once --db /var/lib/vigil/vigil.db',
  ],
  async run(args, io) {
    const w = await setUpWatch(args, io, 'watch');
    try {
      const result = await watchStreams({
        store: w.store,
        engine: w.engine,
        sinks: w.sinks,
        route: w.route,
        routing: w.routing,
        suppressions: w.suppressions,
        clock: io.clock,
        streams: w.streams,
        log: w.log,
        metrics: w.metrics,
        signal: io.signal,
        once: bool(args, 'once'),
      });
      return result.failed.length > 0 ? 1 : 0;
    } finally {
      await w.close();
    }
  },
};
