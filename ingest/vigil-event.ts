import { SecretAccessEvent } from '../core/event.js';
import { describeIssues, events, invalid, isoTime, type NormalizeResult, type Source } from './source.js';

/**
 * vigil's own normalized events, as `vigil normalize` writes them (JSON Lines of SecretAccessEvent, see
 * docs/events.md): read back as they are, ids included, so logs normalized on one machine (or kept as
 * NDJSON) can be ingested later or elsewhere, and events already stored from the raw logs are not stored
 * twice. Each is checked against the event schema; one that does not match is quarantined naming the
 * fields. The time is brought to milliseconds in UTC, as every source writes it.
 */
function normalizeEvent(record: Record<string, unknown>): NormalizeResult {
  const parsed = SecretAccessEvent.safeParse(record);
  if (!parsed.success) return invalid(`vigil-event: ${describeIssues(parsed.error.issues)}`);
  const e = parsed.data;
  const time = isoTime(e.time);
  if (!time) return invalid('vigil-event: time is not a time');
  return events([time === e.time ? e : { ...e, time }]);
}

export const vigilEvent: Source = {
  id: 'vigil-event',
  provider: null,
  description: "vigil's own normalized events (the output of `vigil normalize`), read back as they are",
  // An event's own keys, which no provider's record has together; offered last, so it costs the others nothing.
  detect: (r) =>
    typeof r.principal === 'object' && typeof r.action === 'string' && typeof r.outcome === 'string',
  normalize: normalizeEvent,
};
