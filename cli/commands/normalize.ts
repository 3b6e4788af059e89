import { once } from 'node:events';
import { UsageError } from '../../core/errors.js';
import { OCSF_VERSION, toOcsf } from '../../ingest/ocsf.js';
import { IngestStats, normalizeBatches } from '../../ingest/pipeline.js';
import { SOURCES } from '../../ingest/sources.js';
import { bool, type Command, str } from '../command.js';
import { statsLines } from '../common.js';

export const normalizeCommand: Command = {
  name: 'normalize',
  summary: 'print normalized events as NDJSON (no store, no detection)',
  usage: 'vigil normalize PATH... [--format ID] [--ocsf]',
  description:
    'Reads audit logs (files, directories read recursively, `-` for stdin; .gz read transparently; the format\n' +
    'is detected from the content) and prints one normalized SecretAccessEvent per line on stdout.\n' +
    'A summary, with what was skipped and quarantined, goes to stderr.',
  positionals: true,
  options: { format: { type: 'string' }, ocsf: { type: 'boolean' } },
  help: [
    { flag: '--format ID', text: `force a source format: ${SOURCES.map((s) => s.id).join(', ')}` },
    {
      flag: '--ocsf',
      text: `write OCSF ${OCSF_VERSION} API Activity events (class 6003) instead, for Security Lake or an OCSF SIEM`,
    },
  ],
  examples: [
    'vigil normalize ./AWSLogs > events.ndjson',
    'zcat trail.json.gz | vigil normalize - | jq .principal.name',
  ],
  async run(args, io) {
    if (args.positionals.length === 0)
      throw new UsageError('normalize: give at least one PATH (a file, a directory, or - for stdin)');
    const stats = new IngestStats();
    const ocsf = bool(args, 'ocsf');
    let buf = '';
    for await (const items of normalizeBatches(args.positionals, stats, { format: str(args, 'format') })) {
      for (const item of items) {
        if (item.kind === 'event') buf += `${JSON.stringify(ocsf ? toOcsf(item.event) : item.event)}\n`;
      }
      if (buf.length > 65536) {
        if (!io.stdout.write(buf)) await once(io.stdout, 'drain');
        buf = '';
      }
    }
    if (buf) io.stdout.write(buf);
    for (const line of statsLines(stats)) io.stderr.write(`vigil normalize: ${line}\n`);
    return stats.events > 0 || stats.quarantinedTotal === 0 ? 0 : 1;
  },
};
