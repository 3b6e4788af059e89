import { CONTAINERS, expand } from '../containers.js';
import type { IngestItem, IngestStats, QuarantineEntry } from '../pipeline.js';
import type { Source } from '../source.js';
import { SOURCES } from '../sources.js';
import type { LiveRecord } from './source.js';

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

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
  const out: IngestItem[] = [];
  const quarantine = (position: string, reason: string) => {
    const parts = reason.split(': ');
    bump(stats.quarantined, parts.length > 2 ? parts.slice(0, 2).join(': ') : reason);
    const entry: QuarantineEntry = { file: origin, position, reason };
    out.push({ kind: 'quarantine', entry });
  };
  for (const r of records) {
    if ('error' in r) {
      quarantine(r.position, r.error);
      continue;
    }
    for (const x of expand(r.value, r.position, CONTAINERS)) {
      if ('error' in x) {
        quarantine(x.position, x.error);
        continue;
      }
      stats.records++;
      if ('skip' in x) {
        bump(stats.skipped, x.skip);
        continue;
      }
      const source = sources.find((s) => s.detect(x.record));
      if (!source) {
        quarantine(x.position, `unknown record shape (keys: ${Object.keys(x.record).slice(0, 6).join(',')})`);
        continue;
      }
      let result: ReturnType<Source['normalize']>;
      try {
        result = source.normalize(x.record);
      } catch (err) {
        // A normalizer bug must not stop the watch: the record is quarantined with the bug's name.
        result = { kind: 'invalid', reason: `${source.id}: normalizer failed (${(err as Error).name})` };
      }
      if (result.kind === 'skip') bump(stats.skipped, result.reason);
      else if (result.kind === 'invalid') quarantine(x.position, result.reason);
      else {
        for (const event of result.events) {
          stats.events++;
          out.push({ kind: 'event', event });
        }
      }
    }
  }
  return out;
}
