import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretAccessEvent } from '../../core/event.js';
import {
  IngestStats,
  type NormalizeOptions,
  normalizeInputs,
  type QuarantineEntry,
} from '../../ingest/pipeline.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const fixture = (...parts: string[]) => join(FIXTURES, ...parts);

export interface Run {
  events: SecretAccessEvent[];
  quarantine: QuarantineEntry[];
  stats: IngestStats;
}

/** Runs the real pipeline (reader, containers, sources) over paths; every event must match the schema. */
export async function run(paths: string | string[], options: NormalizeOptions = {}): Promise<Run> {
  const stats = new IngestStats();
  const events: SecretAccessEvent[] = [];
  const quarantine: QuarantineEntry[] = [];
  for await (const item of normalizeInputs(Array.isArray(paths) ? paths : [paths], stats, options)) {
    if (item.kind === 'event') events.push(SecretAccessEvent.parse(item.event));
    else quarantine.push(item.entry);
  }
  return { events, quarantine, stats };
}

export const byOperation = (events: SecretAccessEvent[], op: string) =>
  events.filter((e) => e.operation === op);
