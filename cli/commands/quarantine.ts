import { UsageError } from '../../core/errors.js';
import { bool, type Command, str } from '../command.js';
import { DB_HELP, dbPath, openStore } from '../common.js';

export const quarantineCommand: Command = {
  name: 'quarantine',
  summary: 'list the records that could not be read, with file, position and reason',
  usage: 'vigil quarantine [--db FILE] [--limit N] [--json]',
  description:
    'Records that could not be normalized are kept out of the event table and listed here, with where\n' +
    'they are (file and line or record) and why. Their content is not copied into the store.',
  options: { db: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  help: [
    DB_HELP,
    { flag: '--limit N', text: 'at most N entries (default 100)' },
    { flag: '--json', text: 'one JSON object per line' },
  ],
  async run(args, io) {
    const limit = Number(str(args, 'limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 0)
      throw new UsageError('quarantine: --limit must be a whole number');
    const store = openStore(dbPath(args, io), true);
    try {
      let n = 0;
      for (const q of store.quarantineEntries(limit)) {
        n++;
        if (bool(args, 'json'))
          io.stdout.write(`${JSON.stringify({ ...q, ingestedAt: new Date(q.ingestedAt).toISOString() })}\n`);
        else io.stdout.write(`${q.file}  ${q.position}  ${q.reason}\n`);
      }
      if (n === 0) io.stderr.write('quarantine is empty\n');
      return 0;
    } finally {
      store.close();
    }
  },
};
