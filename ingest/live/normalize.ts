import { CONTAINERS } from '../containers.js';
import {
  type IngestItem,
  type IngestStats,
  normalizeValue,
  quarantineItem,
  type ValueContext,
} from '../pipeline.js';
import type { Source } from '../source.js';
import { SOURCES } from '../sources.js';
import type { LiveRecord } from './source.js';

/**
 * Normalizes a live batch's raw records like `vigil ingest` does a file's: containers unwrapped, the
 * source detected per record, failures quarantined at their position (stable, so re-reading a window
 * adds no quarantine entry twice).
 */
export function normalizeRecords(
  records: readonly LiveRecord[],
  origin: string,
  stats: IngestStats,
  sources: readonly Source[] = SOURCES,
): IngestItem[] {
  const ctx: ValueContext = { origin, stats, sources, containers: CONTAINERS };
  const out: IngestItem[] = [];
  for (const r of records) {
    if ('error' in r) out.push(quarantineItem(ctx, r.position, r.error));
    else normalizeValue(r.value, r.position, ctx, out);
  }
  return out;
}
