import { parseTimeBound } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { bool, type Command, type Io, str } from '../command.js';
import { CONFIG_HELP, DB_HELP } from '../common.js';
import { watchStreams } from '../watch/loop.js';
import { setUpWatch, WATCH_HELP, WATCH_OPTIONS } from '../watch/setup.js';

const fmt = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

/**
 * Progress over every time-ranged stream: a bar with an ETA redrawn in place on a terminal, a plain log
 * line at most every 10 s otherwise.
 */
function progressBar(
  io: Io,
  streams: readonly string[],
  span: number,
  log: (fields: object, msg: string) => void,
) {
  const done = new Map(streams.map((s) => [s, 0]));
  const total = new Map(streams.map((s) => [s, span]));
  const start = io.clock.now();
  let lastPlain = start;
  let lastDraw = 0;
  return {
    update(id: string, p: { done: number; total: number }) {
      if (!done.has(id)) return;
      done.set(id, p.done);
      total.set(id, p.total);
      const d = [...done.values()].reduce((a, b) => a + b, 0);
      const t = [...total.values()].reduce((a, b) => a + b, 0) || 1;
      const frac = Math.min(1, d / t);
      const now = io.clock.now();
      const eta = frac > 0 ? ((now - start) * (1 - frac)) / frac : Number.NaN;
      if (io.interactive) {
        if (now - lastDraw < 100 && frac < 1) return;
        lastDraw = now;
        const width = 30;
        const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
        io.stderr.write(
          `\r\u001b[2Kbackfill [${bar}] ${(frac * 100).toFixed(1)}%  ${fmt(now - start)} elapsed${Number.isFinite(eta) ? `, ETA ${fmt(eta)}` : ''}`,
        );
      } else if (now - lastPlain >= 10_000) {
        lastPlain = now;
        log(
          {
            percent: Math.round(frac * 1000) / 10,
            elapsedS: Math.round((now - start) / 1000),
            etaS: Number.isFinite(eta) ? Math.round(eta / 1000) : null,
          },
          'backfill progress',
        );
      }
    },
    end() {
      if (io.interactive) io.stderr.write('\r\u001b[2K');
    },
  };
}

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'read the history of the configured sources first, to build baselines',
  usage: 'vigil backfill --since 30d [--config FILE] [--db FILE] [--deliver] [--log-level LEVEL]',
  description:
    'Reads every configured source from --since until now (CloudTrail event history keeps 90 days), stores\n' +
    'the events and runs the detectors, so that `vigil watch` starts with learned baselines. Checkpoints\n' +
    'only move forward. Alerts found in history are stored (`vigil alerts`) but not delivered unless\n' +
    '--deliver is given. Directory and stdin sources are read once, whole. A progress bar with an ETA is\n' +
    'drawn on a terminal; otherwise progress is logged every 10 s.',
  options: { ...WATCH_OPTIONS, since: { type: 'string' }, deliver: { type: 'boolean' } },
  help: [
    { flag: '--since WHEN', text: 'how far back: a duration (30d, P30D) or an ISO time (required)' },
    CONFIG_HELP,
    DB_HELP,
    { flag: '--deliver', text: 'also deliver the alerts found in history to the configured sinks' },
    ...WATCH_HELP,
  ],
  examples: ['vigil backfill --since 30d', 'vigil backfill --since 2026-10-01T00:00:00Z --db vigil.db'],
  async run(args, io) {
    const sinceText = str(args, 'since');
    if (!sinceText) throw new UsageError('backfill: --since is required (e.g. --since 30d)');
    const now = io.clock.now();
    const since = parseTimeBound(sinceText, now);
    if (since >= now) throw new UsageError(`--since ${sinceText}: must be in the past`);
    const w = await setUpWatch(args, io, 'backfill');
    try {
      const timed = w.streams.filter((s) => s.timeRanged).map((s) => s.id);
      const bar = progressBar(io, timed, now - since, (f, m) => w.log.info(f, m));
      const sinks = bool(args, 'deliver') ? w.sinks : new Map();
      const result = await watchStreams({
        store: w.store,
        engine: w.engine,
        sinks,
        ...(bool(args, 'deliver') ? { route: w.route, routing: w.routing } : {}),
        suppressions: w.suppressions,
        clock: io.clock,
        streams: w.streams,
        log: w.log,
        metrics: w.metrics,
        signal: io.signal,
        once: true,
        since,
        onProgress: (id, p) => bar.update(id, p),
      });
      bar.end();
      io.stderr.write(
        `vigil backfill: ${result.newEvents.toLocaleString('en-US')} new events, ${result.newAlerts} alerts${
          sinks.size ? '' : ' (stored, not delivered: see `vigil alerts`)'
        }${result.failed.length ? `; failed: ${result.failed.join(', ')}` : ''}\n`,
      );
      return result.failed.length > 0 ? 1 : 0;
    } finally {
      await w.close();
    }
  },
};
