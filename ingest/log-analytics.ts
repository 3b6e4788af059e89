import { invalid, isCalendarDay, isoTime, type NormalizeResult } from './source.js';

/**
 * What the sources of Log Analytics exports share (keyvault-, azure-activity-, cloudtrail- and
 * gcp-audit-loganalytics): rows come from the query API (`{"tables":[..]}`), `az monitor log-analytics
 * query` or the portal's CSV export, which writes an empty cell as `""`, numbers as text or numbers, and
 * names a datetime column `NAME [UTC]` or, when the user displays local time, `NAME [Local Time]`.
 */

/** The first of the named columns holding text or a number, as text; an empty cell is no value. */
export function column(row: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = row[n];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

/** A dynamic column's value, parsed from its text: undefined when empty, null when it is not JSON of that kind. */
export function jsonColumn(v: unknown, kind: 'object' | 'array'): unknown {
  if (v === undefined || v === null || v === '') return undefined;
  let parsed = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch {
      return null;
    }
  }
  const isArray = Array.isArray(parsed);
  if (typeof parsed !== 'object' || parsed === null || isArray !== (kind === 'array')) return null;
  return parsed;
}

/**
 * `2024-03-01T10:00:00.1234567Z`, or the portal's en-US CSV form `3/1/2024, 10:00:00.123 AM`; null for
 * anything else, an impossible date included. The portal writes times in the browser's locale, and only
 * en-US (and en-PH) put the month first: their upper-case `AM`/`PM` tells them apart. A slashed date
 * without it comes from a day-first locale (en-GB `16/07/2026, 20:26:12`, en-AU `16/07/2026, 8:26:12 pm`),
 * and is not read: `07/06/2026` would silently become July 6 instead of June 7.
 */
export function logAnalyticsTime(value: string): string | null {
  const v = value.trim();
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})(\.\d+)?\s*(AM|PM)?$/.exec(v);
  if (!us) {
    // isoTime takes no impossible day either.
    return /^\d{4}-\d{2}-\d{2}[T ]/.test(v) ? isoTime(v) : null;
  }
  const [, month, day, year, h, min, sec, frac, half] = us;
  if (!half || !isCalendarDay(Number(year), Number(month), Number(day))) return null;
  const hour = Number(h);
  if (hour < 1 || hour > 12 || Number(min) > 59 || Number(sec) > 59) return null;
  // Digits past the millisecond are cut, as isoTime does.
  const ms = frac ? Number(frac.slice(1, 4).padEnd(3, '0')) : 0;
  const t = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    (hour % 12) + (half === 'PM' ? 12 : 0),
    Number(min),
    Number(sec),
    ms,
  );
  return new Date(t).toISOString();
}

/**
 * A datetime column's text: `NAME`, the portal's `NAME [UTC]`, or the header of a `NAME [Local Time]`
 * column, which holds no offset (`{ local: header }`), when the row has no UTC one; undefined when the row
 * has neither.
 */
export function timeColumn(
  row: Record<string, unknown>,
  name: string,
): string | { local: string } | undefined {
  // The usual names first: no scan of a wide row's keys.
  const value = column(row, name, `${name} [UTC]`);
  if (value !== undefined) return value;
  const re = headerOf(name);
  let local: string | undefined;
  for (const k in row) {
    const m = re.exec(k);
    if (!m) continue;
    if (m[1] === undefined || m[1].trim().toUpperCase() === 'UTC') {
      const v = column(row, k);
      if (v !== undefined) return v;
    } else local ??= k;
  }
  return local === undefined ? undefined : { local };
}

/** `NAME`, `NAME [ZONE]`, in any case and spacing: the zone captured. Names are plain column names. */
function headerOf(name: string): RegExp {
  let re = HEADERS.get(name);
  if (re === undefined) HEADERS.set(name, (re = new RegExp(`^${name}\\s*(?:\\[([^\\]]*)\\])?\\s*$`, 'i')));
  return re;
}
const HEADERS = new Map<string, RegExp>();

/**
 * A row's TimeGenerated as ISO 8601 UTC, or the row's quarantine reason, `LABEL: ...`: a UTC (or unmarked)
 * column is read by logAnalyticsTime, and a row with only a local one is quarantined, naming it.
 */
export function timeGenerated(row: Record<string, unknown>, label: string): string | NormalizeResult {
  const t = timeColumn(row, 'TimeGenerated');
  if (typeof t === 'object')
    return invalid(`${label}: ${t.local} has no time zone; export the results in UTC`);
  const time = t ? logAnalyticsTime(t) : null;
  if (!time)
    return invalid(
      `${label}: TimeGenerated ${t ? 'is not an ISO 8601 or en-US (M/D/YYYY, h:mm:ss AM) time' : 'missing'}`,
    );
  return time;
}
