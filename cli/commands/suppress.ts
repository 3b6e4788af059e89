import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isSeq, parseDocument, stringify } from 'yaml';
import { UsageError } from '../../core/errors.js';
import { Suppression } from '../../detectors/config.js';
import { suppressionLabel } from '../../detectors/suppress.js';
import { bool, type Command, str } from '../command.js';
import { CONFIG_HELP, DB_HELP, dbPath, loadRootConfig, openStore } from '../common.js';
import { parseConfig } from '../config.js';

/** Appends a suppression to the config file, keeping its comments and layout (YAML or JSON). */
function appendSuppression(file: string, rule: Suppression): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let out: string;
  if (file.endsWith('.json')) {
    const doc = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
    const list = Array.isArray(doc.suppressions) ? doc.suppressions : [];
    out = `${JSON.stringify({ ...doc, suppressions: [...list, rule] }, null, 2)}\n`;
  } else {
    const doc = parseDocument(text);
    if (!text.trim()) out = stringify({ suppressions: [rule] });
    else if (!isMap(doc.contents)) throw new UsageError(`${file}: the config is not a mapping of fields`);
    else {
      const list = doc.get('suppressions');
      if (isSeq(list)) list.add(doc.createNode(rule));
      else doc.set('suppressions', doc.createNode([rule]));
      out = doc.toString();
    }
  }
  parseConfig(out, file); // never write a config vigil would then refuse
  writeFileSync(file, out);
}

export const suppressCommand: Command = {
  name: 'suppress',
  summary: 'silence a known-good pattern (with a reason and an expiry), or list suppressions',
  usage:
    'vigil suppress --reason TEXT --expires DATE [--detector ID] [--principal P] [--secret S] [--network CIDR] | vigil suppress --list',
  description:
    'Adds an entry to `suppressions` in the config file (created as ./vigil.config.yaml if there is none).\n' +
    'Alerts matching every given field are still stored and counted, but not delivered; after the expiry\n' +
    'date they are delivered again. --list shows the entries and how many alerts each has suppressed.',
  options: {
    config: { type: 'string' },
    db: { type: 'string' },
    detector: { type: 'string' },
    principal: { type: 'string' },
    secret: { type: 'string' },
    network: { type: 'string' },
    reason: { type: 'string' },
    expires: { type: 'string' },
    list: { type: 'boolean' },
  },
  help: [
    { flag: '--detector ID', text: 'only alerts of this detector' },
    { flag: '--principal P', text: 'principal id, ARN or name; * globs' },
    { flag: '--secret S', text: 'secret id, ARN or name; * globs' },
    { flag: '--network CIDR', text: 'source addresses in this range' },
    { flag: '--reason TEXT', text: 'why (required): shown on every suppressed alert' },
    { flag: '--expires DATE', text: 'until when, ISO 8601 date or time UTC (required)' },
    { flag: '--list', text: 'list suppressions and the number of alerts each suppressed' },
    CONFIG_HELP,
    DB_HELP,
  ],
  examples: [
    "vigil suppress --detector unusual-time --principal nightly-etl --reason 'moved to 03:00 UTC' --expires 2027-01-31",
  ],
  async run(args, io) {
    const { config, file } = loadRootConfig(args, io);
    if (bool(args, 'list')) {
      const db = dbPath(args, io, config);
      const counts = new Map<string, number>();
      if (existsSync(db)) {
        const store = openStore(db, true);
        try {
          const rows = store.db
            .prepare(
              'SELECT suppressed, count(*) AS n FROM alerts WHERE suppressed IS NOT NULL GROUP BY suppressed',
            )
            .all() as { suppressed: string; n: number }[];
          for (const r of rows) counts.set(r.suppressed, r.n);
        } finally {
          store.close();
        }
      }
      if (config.suppressions.length === 0) io.stderr.write('no suppressions\n');
      const now = io.clock.now();
      for (const s of config.suppressions) {
        const label = suppressionLabel(s);
        const expired = Date.parse(s.expires) < now ? ' (expired)' : '';
        io.stdout.write(`${label}${expired}  suppressed alerts: ${counts.get(label) ?? 0}\n`);
      }
      return 0;
    }
    const candidate = {
      ...(str(args, 'detector') ? { detector: str(args, 'detector') } : {}),
      ...(str(args, 'principal') ? { principal: str(args, 'principal') } : {}),
      ...(str(args, 'secret') ? { secret: str(args, 'secret') } : {}),
      ...(str(args, 'network') ? { network: str(args, 'network') } : {}),
      reason: str(args, 'reason'),
      expires: str(args, 'expires'),
    };
    const parsed = Suppression.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? `--${issue.path.join('.')}` : 'suppress';
      throw new UsageError(
        `${field}: ${issue.path.length && candidate[issue.path[0] as 'reason'] === undefined ? 'required' : issue.message}`,
      );
    }
    const target = file ?? resolve(io.cwd, 'vigil.config.yaml');
    appendSuppression(target, parsed.data);
    io.stderr.write(`vigil suppress: added to ${target}: ${suppressionLabel(parsed.data)}\n`);
    return 0;
  },
};
