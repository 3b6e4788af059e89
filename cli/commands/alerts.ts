import { alertLines } from '../../alerts/format.js';
import { parseTimeBound } from '../../core/duration.js';
import { openDeliveries } from '../../store/deliveries.js';
import { bool, type Command, str } from '../command.js';
import { DB_HELP, dbPath, openStore } from '../common.js';

export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'list stored alerts, or the deliveries that failed',
  usage:
    'vigil alerts [--db FILE] [--since 7d|ISO] [--detector ID] [--json] | vigil alerts --failed [--sink S]',
  description:
    'Lists the alerts in the store. With --failed, lists the deliveries that were given up on (dead letters)\n' +
    'with the reason; `vigil alerts redeliver` retries them and `vigil alerts test SINK` checks a sink.',
  options: {
    db: { type: 'string' },
    since: { type: 'string' },
    detector: { type: 'string' },
    json: { type: 'boolean' },
    failed: { type: 'boolean' },
    sink: { type: 'string' },
  },
  help: [
    DB_HELP,
    {
      flag: '--since T',
      text: 'alerts whose evidence starts at or after T (ISO 8601 or a duration like 7d)',
    },
    { flag: '--detector ID', text: 'only this detector' },
    { flag: '--json', text: 'one JSON object per line' },
    { flag: '--failed', text: 'list dead-lettered deliveries (sink, attempts, reason) instead of alerts' },
    { flag: '--sink S', text: 'with --failed: only this sink' },
  ],
  async run(args, io) {
    const since = str(args, 'since');
    const json = bool(args, 'json');
    const store = openStore(dbPath(args, io), true);
    try {
      if (bool(args, 'failed')) {
        const sink = str(args, 'sink');
        const failed = openDeliveries(store).failed(sink ? { sink } : {});
        for (const f of failed) {
          const at = new Date(f.updatedAt).toISOString();
          io.stdout.write(
            json
              ? `${JSON.stringify({ alertId: f.alertId, sink: f.sink, attempts: f.attempts, reason: f.reason, at, title: f.alert?.title ?? null })}\n`
              : `${at}  ${f.sink}  ${f.alertId}  attempts ${f.attempts}  ${f.reason}\n`,
          );
        }
        if (failed.length === 0) io.stderr.write('no failed deliveries\n');
        else io.stderr.write(`${failed.length} failed deliveries; retry them with: vigil alerts redeliver\n`);
        return 0;
      }
      let n = 0;
      const detector = str(args, 'detector');
      const filter = {
        ...(since ? { since: parseTimeBound(since, io.clock.now()) } : {}),
        ...(detector ? { detector } : {}),
      };
      for (const a of store.listAlerts(filter)) {
        n++;
        io.stdout.write(json ? `${JSON.stringify(a)}\n` : `${alertLines(a).join('\n')}\n\n`);
      }
      if (n === 0) io.stderr.write('no alerts\n');
      return 0;
    } finally {
      store.close();
    }
  },
};
