import { once } from 'node:events';
import { parseTimeBound } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { Action, Outcome, type SecretAccessEvent } from '../../core/event.js';
import { parameterResource, parseArn, secretResource } from '../../ingest/aws-identity.js';
import type { EventQuery } from '../../store/store.js';
import { bool, type Command, type Io, str } from '../command.js';
import { DB_HELP, dbPath, openStore } from '../common.js';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];
const TABLE_LIMIT = 200;

/** The canonical ids a user's secret term may mean, besides the term itself (an ARN in any form). */
function canonicalIds(term: string): string[] {
  const arn = parseArn(term);
  if (arn?.service === 'secretsmanager') return [secretResource(term, null, null).id];
  if (arn?.service === 'ssm') return [parameterResource(term, null, null).id];
  const kv = /^https?:\/\/([^./]+)\.vault\.azure\.net\/(secrets|keys|certificates)\/([^/?]+)/i.exec(term);
  if (kv) return [`azure:keyvault:${kv[1]!.toLowerCase()}/${kv[2]!.toLowerCase()}/${kv[3]!.toLowerCase()}`];
  return [];
}

/** Offset of a time zone from UTC at an instant, in ms. */
function tzOffset(ms: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

function readTime(text: string, now: number, tz: string | undefined): number {
  const ms = parseTimeBound(text, now);
  const zoned = /[zZ]$|[+-]\d{2}:?\d{2}$/.test(text.trim());
  if (!tz || zoned || !/^\d{4}-/.test(text.trim())) return ms;
  return ms - tzOffset(ms, tz);
}

export function showTime(iso: string, tz: string | undefined): string {
  if (!tz) return iso;
  const ms = Date.parse(iso);
  const local = new Date(ms + tzOffset(ms, tz)).toISOString().replace('Z', '');
  const off = tzOffset(ms, tz) / 60_000;
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const CSV_COLUMNS = [
  'time',
  'principal_id',
  'principal_name',
  'principal_type',
  'provider',
  'service',
  'operation',
  'action',
  'outcome',
  'error_code',
  'resource_id',
  'resource_name',
  'source_ip',
  'user_agent',
  'via_service',
  'account',
  'region',
  'event_id',
] as const;

function csvCell(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  // Quote when needed; a leading =,+,-,@ is neutralized so a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvRow(e: SecretAccessEvent, tz: string | undefined): string {
  const cells = [
    showTime(e.time, tz),
    e.principal.id,
    e.principal.name,
    e.principal.type,
    e.provider,
    e.service,
    e.operation,
    e.action,
    e.outcome,
    e.errorCode,
    e.resource?.id,
    e.resource?.name,
    e.source.ip,
    e.source.userAgent,
    e.source.viaService,
    e.account,
    e.region,
    e.id,
  ];
  return `${cells.map(csvCell).join(',')}\n`;
}

async function write(io: Io, text: string): Promise<void> {
  if (!io.stdout.write(text)) await once(io.stdout, 'drain');
}

function table(rows: SecretAccessEvent[], tz: string | undefined): string {
  const head = ['TIME', 'PRINCIPAL', 'TYPE', 'OPERATION', 'OUTCOME', 'RESOURCE', 'SOURCE'];
  const body = rows.map((e) => [
    showTime(e.time, tz),
    e.principal.name,
    e.principal.type,
    e.operation,
    e.outcome === 'success' ? 'ok' : `${e.outcome}${e.errorCode ? ` (${e.errorCode})` : ''}`,
    e.resource?.name ?? '-',
    e.source.viaService ? `via ${e.source.viaService}` : (e.source.ip ?? '-'),
  ]);
  const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  const all = [head, ...body].map((r) => r.map(clip));
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return (
    all
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export const queryCommand: Command = {
  name: 'query',
  summary: 'audit questions: who read a secret, what a principal read, which reads were denied',
  usage:
    'vigil query [--db FILE] [--secret S] [--principal P] [--since 7d|ISO] [--until ISO] [--denied] [--reads] [--format table|json|csv] [--count]',
  description:
    'Answers from the local store. Filters combine. S and P match an id or ARN (any form: name, full or\n' +
    'partial ARN, versioned Key Vault URI), a name, or a glob with *. Times are read and shown in UTC\n' +
    'unless --tz names a time zone. json and csv return every matching event; the table shows the first\n' +
    `${TABLE_LIMIT} and says how many more there are.`,
  options: {
    db: { type: 'string' },
    secret: { type: 'string' },
    principal: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    denied: { type: 'boolean' },
    outcome: { type: 'string' },
    action: { type: 'string' },
    reads: { type: 'boolean' },
    format: { type: 'string' },
    count: { type: 'boolean' },
    tz: { type: 'string' },
    limit: { type: 'string' },
  },
  help: [
    DB_HELP,
    { flag: '--secret S', text: 'a secret, parameter, key or vault: id, ARN, name, or glob' },
    { flag: '--principal P', text: 'a principal: id, ARN, name (role, user, upn), or glob' },
    {
      flag: '--since T',
      text: 'from T: ISO 8601 (2026-11-01, 2026-11-01T09:00Z) or a duration back from now (7d, 12h)',
    },
    { flag: '--until T', text: 'up to T (exclusive), same forms' },
    { flag: '--denied', text: 'only denied calls (same as --outcome denied)' },
    { flag: '--outcome O', text: 'success, denied or error' },
    { flag: '--action A', text: `only this action: ${Action.options.join(', ')}` },
    {
      flag: '--reads',
      text: 'only reads of secret values by the principal itself (not service-made decrypts)',
    },
    { flag: '--format F', text: 'table (default), json (an array) or csv' },
    { flag: '--count', text: 'print only the number of matching events' },
    { flag: '--tz ZONE', text: 'read and show times in this IANA time zone (e.g. Europe/Berlin)' },
    { flag: '--limit N', text: 'at most N events' },
  ],
  examples: [
    'vigil query --secret prod/db/password --since 30d             # who read it',
    'vigil query --principal orders-api --format csv > reads.csv   # what it read',
    'vigil query --denied --since 24h --count                      # how many denied calls',
  ],
  async run(args, io) {
    const format = (str(args, 'format') ?? 'table') as Format;
    if (!FORMATS.includes(format))
      throw new UsageError(`query: --format must be one of ${FORMATS.join(', ')}, not "${format}"`);
    const tz = str(args, 'tz');
    if (tz) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
      } catch {
        throw new UsageError(`query: --tz: unknown time zone "${tz}" (use an IANA name like Europe/Berlin)`);
      }
    }
    const now = io.clock.now();
    const outcomeFlag = bool(args, 'denied') ? 'denied' : str(args, 'outcome');
    const outcome = outcomeFlag === undefined ? undefined : Outcome.safeParse(outcomeFlag);
    if (outcome && !outcome.success)
      throw new UsageError(`query: --outcome must be one of ${Outcome.options.join(', ')}`);
    const action = str(args, 'action');
    if (action !== undefined && !Action.safeParse(action).success) {
      throw new UsageError(`query: --action must be one of ${Action.options.join(', ')}`);
    }
    const limitText = str(args, 'limit');
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
      throw new UsageError('query: --limit must be a whole number');
    const since = str(args, 'since');
    const until = str(args, 'until');
    const q: EventQuery = {
      resource: str(args, 'secret'),
      principal: str(args, 'principal'),
      since: since === undefined ? undefined : readTime(since, now, tz),
      until: until === undefined ? undefined : readTime(until, now, tz),
      outcome: outcome?.data,
      readsOnly: bool(args, 'reads'),
      limit,
    };
    const canonical = q.resource ? canonicalIds(q.resource) : [];
    const store = openStore(dbPath(args, io), true);
    try {
      const keep = (e: SecretAccessEvent) => action === undefined || e.action === action;
      if (bool(args, 'count')) {
        let count: number;
        if (action === undefined) count = store.countMatching(q, canonical);
        else {
          count = 0;
          for (const e of store.queryEvents(q, canonical)) if (keep(e)) count++;
        }
        await write(io, `${count}\n`);
        return 0;
      }
      if (format === 'table') {
        const rows: SecretAccessEvent[] = [];
        let total = 0;
        for (const e of store.queryEvents(q, canonical)) {
          if (!keep(e)) continue;
          total++;
          if (rows.length < TABLE_LIMIT) rows.push(e);
        }
        if (total === 0) {
          io.stderr.write('no matching events\n');
          return 0;
        }
        await write(io, table(rows, tz));
        if (total > rows.length) {
          io.stderr.write(
            `… ${total - rows.length} more (${total} in all); use --format csv or json for every row\n`,
          );
        }
        return 0;
      }
      if (format === 'csv') await write(io, `${CSV_COLUMNS.join(',')}\n`);
      else await write(io, '[');
      let first = true;
      let buf = '';
      for (const e of store.queryEvents(q, canonical)) {
        if (!keep(e)) continue;
        if (format === 'csv') buf += csvRow(e, tz);
        else {
          buf += `${first ? '\n' : ',\n'}${JSON.stringify(tz ? { ...e, localTime: showTime(e.time, tz) } : e)}`;
          first = false;
        }
        if (buf.length > 65536) {
          await write(io, buf);
          buf = '';
        }
      }
      if (format === 'json') buf += first ? ']\n' : '\n]\n';
      await write(io, buf);
      return 0;
    } finally {
      store.close();
    }
  },
};
