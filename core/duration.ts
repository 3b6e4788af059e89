import { UsageError } from './errors.js';

const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;
const SHORT = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses an ISO 8601 duration (`P30D`, `PT5M`) or a short one (`30d`, `5m`, `90s`) into milliseconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  const short = SHORT.exec(t);
  if (short) return Math.round(Number(short[1]) * (UNIT_MS[short[2]!.toLowerCase()] ?? 0));
  const iso = ISO.exec(t);
  if (iso && t.length > 1 && t.toUpperCase() !== 'PT') {
    const [, w, d, h, m, s] = iso;
    return (
      Number(w ?? 0) * UNIT_MS.w! +
      Number(d ?? 0) * UNIT_MS.d! +
      Number(h ?? 0) * UNIT_MS.h! +
      Number(m ?? 0) * UNIT_MS.m! +
      Math.round(Number(s ?? 0) * 1000)
    );
  }
  throw new UsageError(`not a duration: "${text}" (use ISO 8601 like P7D or PT10M, or 7d, 10m, 90s)`);
}

/** A point in time: an ISO timestamp, or a duration meaning "that long before now". */
export function parseTimeBound(text: string, now: number): number {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(t) || t.length === 10 ? t : `${t}Z`;
    const ms = Date.parse(withZone);
    if (Number.isNaN(ms))
      throw new UsageError(`not a time: "${text}" (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`);
    return ms;
  }
  try {
    return now - parseDuration(t);
  } catch {
    throw new UsageError(
      `not a time: "${text}" (use ISO 8601 like 2026-11-01T09:00Z, or a duration like 7d)`,
    );
  }
}
