import type { Provider, SecretAccessEvent } from '../core/event.js';

/** What normalizing one raw record gives: events, a counted skip (not ours), or a quarantine reason. */
export type NormalizeResult =
  | { readonly kind: 'events'; readonly events: SecretAccessEvent[] }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * A source maps one provider's audit record to normalized events. It is pure: no I/O, no clock.
 * Containers (files, gzip, `{"Records":[]}`, subscription payloads) are unwrapped before a source sees a record.
 */
export interface Source {
  /** Stable id, also the file name: `ingest/<id>.ts`. Usable as `--format <id>`. */
  readonly id: string;
  /** The provider whose logs it reads; null for vigil's own events, which come from any. */
  readonly provider: Provider | null;
  readonly description: string;
  /** Cheap check of a record's shape (key presence only): does this source own it? */
  detect(record: Record<string, unknown>): boolean;
  normalize(record: Record<string, unknown>): NormalizeResult;
}

export const events = (list: SecretAccessEvent[]): NormalizeResult => ({ kind: 'events', events: list });
export const skip = (reason: string): NormalizeResult => ({ kind: 'skip', reason });
export const invalid = (reason: string): NormalizeResult => ({ kind: 'invalid', reason });

/** A zod error as one line naming the fields, without the input values (no secret slips into a reason). */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`)
    .join('; ');
}

const UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A real calendar day: month 1-12, the day within it, February 29 only in leap years. */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]!) return false;
  return month !== 2 || day < 29 || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
}

/** `YYYY-MM-DD...` names a real day; Date.parse would roll a later day into the next month. */
function plausible(v: string): boolean {
  // Every event's time passes here: days up to the 28th need no more (a month past 12 fails to parse).
  const day = Number(v.slice(8, 10));
  if (day <= 28) return true;
  return isCalendarDay(Number(v.slice(0, 4)), Number(v.slice(5, 7)), day);
}

/** Normalizes a provider timestamp (any precision, with or without zone) to ISO 8601 UTC with milliseconds. */
export function isoTime(value: string | number): string | null {
  // The common cases, CloudTrail's `2024-05-01T10:00:00Z` and Key Vault's `...T10:00:00.1234567Z`,
  // without a Date round trip; digits past the millisecond are cut, as Date.parse does.
  if (typeof value === 'string' && UTC.test(value) && plausible(value)) {
    if (value.length === 20) return `${value.slice(0, 19)}.000Z`;
    return `${value.slice(0, 19)}.${`${value.slice(20, Math.min(23, value.length - 1))}00`.slice(0, 3)}Z`;
  }
  let ms: number;
  if (typeof value === 'number') {
    ms = value < 1e11 ? value * 1000 : value;
  } else {
    // BigQuery writes TIMESTAMPs as `2024-05-01 10:00:00.123456 UTC`.
    const t = value.trim().replace(/ UTC$/, 'Z');
    // Date.parse rolls an impossible day over (February 30 is March 1): such a time is no time.
    if (/^\d{4}-\d{2}-\d{2}/.test(t) && !plausible(t)) return null;
    const zoned = /[zZ]$|[+-]\d{2}:?\d{2}$/.test(t) ? t.replace(' ', 'T') : `${t.replace(' ', 'T')}Z`;
    // Some providers write 7 fractional digits (Key Vault); Date.parse reads up to milliseconds.
    ms = Date.parse(zoned.replace(/(\.\d{3})\d+/, '$1'));
  }
  if (!Number.isFinite(ms)) return null;
  return new Date(ms).toISOString();
}
