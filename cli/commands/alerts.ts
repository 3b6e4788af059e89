import { alertLines } from '../../alerts/format.js';
import { parseTimeBound } from '../../core/duration.js';
import { bool, type Command, str } from '../command.js';
import { DB_HELP, dbPath, openStore } from '../common.js';

export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'list stored alerts',
  usage: 'vigil alerts [--db FILE] [--since 7d|ISO] [--detector ID] [--json]',
  options: {
    db: { type: 'string' },
    since: { type: 'string' },
    detector: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: [
    DB_HELP,
    {
      flag: '--since T',
      text: 'alerts whose evidence starts at or after T (ISO 8601 or a duration like 7d)',
    },
    { flag: '--detector ID', text: 'only this detector' },
    { flag: '--json', text: 'one alert JSON per line' },
  ],
  async run(args, io) {
    const since = str(args, 'since');
    const store = openStore(dbPath(args, io), true);
    try {
      let n = 0;
      const filter = {
        ...(since ? { since: parseTimeBound(since, io.clock.now()) } : {}),
        ...(str(args, 'detector') ? { detector: str(args, 'detector')! } : {}),
      };
      for (const a of store.listAlerts(filter)) {
        n++;
        io.stdout.write(bool(args, 'json') ? `${JSON.stringify(a)}\n` : `${alertLines(a).join('\n')}\n\n`);
      }
      if (n === 0) io.stderr.write('no alerts\n');
      return 0;
    } finally {
      store.close();
    }
  },
};
