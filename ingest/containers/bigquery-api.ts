import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';

/**
 * The BigQuery REST API's query results, as saved from `jobs.query` and `jobs.getQueryResults`:
 * `{"kind":"bigquery#queryResponse","schema":{"fields":[..]},"rows":[{"f":[{"v":..}]}],..}`. Each row
 * becomes one object keyed by the schema's field names, the row object `bq query --format=json` would
 * write, so a source reads it as it reads that: RECORDs (`{"f":[..]}`) as objects, REPEATED fields
 * (`[{"v":..}]`) as arrays. The schema types the values the API writes as text: INTEGER (while exact), FLOAT
 * and BOOLEAN become JSON numbers and booleans, as in the LogEntry a log sink row was made from; TIMESTAMPs
 * (seconds since the epoch) become ISO 8601 UTC to the microsecond; JSON columns stay JSON text, other types
 * text. `tabledata.list` pages carry no schema, so their rows cannot be read.
 * https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query
 * https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults
 * https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list
 */
export const bigqueryApi: Container = {
  id: 'bigquery-api',
  // A response saved without `kind` (a `fields=schema,rows` partial response) still has both.
  match: (d) =>
    (typeof d.kind === 'string' && d.kind.startsWith('bigquery#')) ||
    ('schema' in d && Array.isArray(d.rows)),
  *unwrap(d): Iterable<Unwrapped> {
    if (d.kind === 'bigquery#tableDataList') {
      yield { error: 'tabledata.list rows have no schema; query the table instead (jobs.query, bq query)' };
      return;
    }
    if (d.kind !== undefined && !RESULT_KINDS.has(d.kind as string)) {
      yield { error: `not query results (kind ${String(d.kind).slice(0, 60)})` };
      return;
    }
    if (d.jobComplete === false) {
      yield { error: 'query not complete (jobComplete false); read its results with jobs.getQueryResults' };
      return;
    }
    if (d.rows === undefined) return; // no rows: the API leaves `rows` out of an empty result
    if (!Array.isArray(d.rows)) {
      yield { error: 'rows is not an array', position: 'rows' };
      return;
    }
    const fields = isObject(d.schema) ? compile(d.schema.fields) : undefined;
    if (!fields) {
      yield { error: 'schema is missing or not a list of fields', position: 'schema' };
      return;
    }
    for (let i = 0; i < d.rows.length; i++) {
      const row = record(fields, d.rows[i]);
      const position = `rows[${i}]`;
      if (row instanceof Misfit) yield { error: `row does not fit the schema: ${row.reason}`, position };
      else yield { value: row, position };
    }
  },
};

const RESULT_KINDS = new Set(['bigquery#queryResponse', 'bigquery#getQueryResultsResponse']);

/**
 * How a type's values are read. Other types (STRING, BYTES as base64, NUMERIC and BIGNUMERIC as exact
 * decimals, DATE, TIME, DATETIME, JSON, ...) are text, kept as given.
 */
type Kind = 'record' | 'integer' | 'float' | 'boolean' | 'timestamp' | 'text';

const KINDS = new Map<string, Kind>([
  ['RECORD', 'record'],
  ['STRUCT', 'record'],
  ['INTEGER', 'integer'],
  ['INT64', 'integer'],
  ['FLOAT', 'float'],
  ['FLOAT64', 'float'],
  ['BOOLEAN', 'boolean'],
  ['BOOL', 'boolean'],
  ['TIMESTAMP', 'timestamp'],
]);

interface Field {
  readonly name: string;
  readonly type: string;
  readonly kind: Kind;
  readonly repeated: boolean;
  readonly fields: readonly Field[];
}

/** The schema's fields, checked once per response; undefined if it is not one. */
function compile(list: unknown): Field[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: Field[] = [];
  for (const f of list) {
    if (!isObject(f) || typeof f.name !== 'string' || typeof f.type !== 'string') return undefined;
    const kind = KINDS.get(f.type) ?? 'text';
    const fields = kind === 'record' ? compile(f.fields) : [];
    if (!fields) return undefined;
    out.push({ name: f.name, type: f.type, kind, repeated: f.mode === 'REPEATED', fields });
  }
  return out;
}

/**
 * Why a row does not fit its schema: where (`auth.chain[1].who`, gathered on the way out, so a row that
 * fits builds no path) and what, never the value.
 */
class Misfit {
  private readonly at: string[] = [];
  /** `what` is a predicate of the value (`is not ...`), or a sentence after a colon. */
  constructor(
    private readonly what: string,
    private readonly predicate = false,
  ) {}

  in(segment: string): this {
    this.at.push(segment);
    return this;
  }

  get reason(): string {
    let path = '';
    for (let i = this.at.length - 1; i >= 0; i--) {
      const s = this.at[i]!;
      path += path && s[0] !== '[' ? `.${s}` : s;
    }
    return this.predicate ? `${path || 'row'} ${this.what}` : `${path}: ${this.what}`;
  }
}

/** A row or RECORD value, `{"f":[{"v":..},..]}` with a cell per field, as an object. */
function record(fields: readonly Field[], value: unknown): Record<string, unknown> | Misfit {
  const cells = isObject(value) ? value.f : undefined;
  if (!Array.isArray(cells)) return new Misfit('is not {"f":[...]}', true);
  if (cells.length !== fields.length)
    return new Misfit(`has ${cells.length} cells for ${fields.length} fields`, true);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const v = cell(cells[i]);
    const decoded = field.repeated ? repeated(field, v) : single(field, v);
    if (decoded instanceof Misfit) return decoded.in(field.name);
    out[field.name] = decoded;
  }
  return out;
}

/** A cell's value; a cell without `v` is NULL. */
function cell(c: unknown): unknown {
  if (!isObject(c)) return new Misfit('a cell is not {"v":...}');
  return c.v === undefined ? null : c.v;
}

/** A REPEATED field, `[{"v":..},..]`. NULL is the empty list: BigQuery returns no NULL arrays. */
function repeated(field: Field, v: unknown): unknown[] | Misfit {
  if (v instanceof Misfit) return v;
  if (v === null) return [];
  if (!Array.isArray(v)) return new Misfit('REPEATED value is not a list');
  const out = new Array<unknown>(v.length);
  for (let i = 0; i < v.length; i++) {
    const decoded = single(field, cell(v[i]));
    if (decoded instanceof Misfit) return decoded.in(`[${i}]`);
    out[i] = decoded;
  }
  return out;
}

/** One value of a field, by its type. */
function single(field: Field, v: unknown): unknown {
  if (v === null || v instanceof Misfit) return v;
  if (field.kind === 'record') return record(field.fields, v);
  if (typeof v === 'object') return new Misfit(`${field.type} value is not a scalar`);
  switch (field.kind) {
    case 'integer': {
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v !== 'string' || !/^-?\d+$/.test(v)) return new Misfit('INTEGER value is not an integer');
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v; // past 2^53 a number would round: kept as text
    }
    case 'float': {
      const n = typeof v === 'string' && v !== '' ? Number(v) : v;
      if (typeof n !== 'number' || Number.isNaN(n)) {
        if (v === 'NaN') return v;
        return new Misfit('FLOAT value is not a number');
      }
      return Number.isFinite(n) ? n : v; // Infinity has no JSON number
    }
    case 'boolean':
      if (v === 'true' || v === true) return true;
      if (v === 'false' || v === false) return false;
      return new Misfit('BOOLEAN value is not true or false');
    case 'timestamp':
      return timestamp(String(v)) ?? new Misfit('TIMESTAMP value is not a time');
    default:
      return v;
  }
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;
const ISO = /^\d{4}-\d{2}-\d{2}T/;

/**
 * A TIMESTAMP as ISO 8601 UTC to the microsecond (`2024-05-01T10:00:00.123456Z`), the LogEntry's own form.
 * The API writes seconds since the epoch as a float (`1.714557600123456E9`, `1714557600.123456`); read as
 * decimal text, not as a double, and rounded to the microsecond, BigQuery's precision. With
 * `formatOptions.useInt64Timestamp` it writes microseconds, an integer of 12 digits and more (seconds reach
 * 12 digits only after the year 5000); `timestampOutputFormat` ISO8601_STRING is kept as it is.
 */
export function timestamp(text: string): string | undefined {
  if (ISO.test(text)) return text;
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign, int = '', frac = '', exp] = m;
  const digits = int + frac;
  // Where the decimal point falls in `digits`: microseconds put it six places from the end.
  const point =
    frac === '' && exp === undefined && int.replace(/^0+/, '').length >= 12
      ? digits.length - 6
      : int.length + Number(exp ?? 0);
  const padded = point < 0 ? '0'.repeat(-point) + digits : digits.padEnd(point, '0');
  const at = Math.max(point, 0);
  const whole = padded.slice(0, at) || '0';
  const fraction = padded.slice(at).padEnd(7, '0');
  let seconds = Number(whole);
  let micros = Number(fraction.slice(0, 6)) + (fraction[6]! >= '5' ? 1 : 0);
  if (micros === 1_000_000) {
    seconds += 1;
    micros = 0;
  }
  if (sign === '-' && (seconds > 0 || micros > 0)) {
    seconds = -seconds - (micros > 0 ? 1 : 0);
    micros = micros > 0 ? 1_000_000 - micros : 0;
  }
  const date = new Date(seconds * 1000);
  // BigQuery's range is years 1 to 9999; toISOString writes others with six digits and a sign.
  if (!Number.isFinite(date.getTime())) return undefined;
  const iso = date.toISOString();
  if (iso.length !== 24) return undefined;
  return `${iso.slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}
