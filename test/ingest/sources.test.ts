import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import {
  type IngestItem,
  IngestStats,
  normalizeBatches,
  normalizeInputs,
  normalizeInto,
} from '../../ingest/pipeline.js';
import { SOURCES } from '../../ingest/sources.js';
import { fixture, run } from './helpers.js';

const INGEST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ingest');

describe('source registry', () => {
  it('has unique, stable ids, each naming its file', () => {
    expect(SOURCES.map((s) => s.id)).toEqual([
      'cloudtrail',
      'keyvault',
      'azure-activity',
      'azure-activity-loganalytics',
      'cloudtrail-loganalytics',
      'gcp-audit-loganalytics',
      'keyvault-loganalytics',
      'gcp-audit',
      'vault-audit',
      'vigil-event',
    ]);
    for (const s of SOURCES) expect(existsSync(join(INGEST, `${s.id}.ts`)), s.id).toBe(true);
  });

  it('--format forces a source: records it cannot read are quarantined with its reason', async () => {
    const r = await run(fixture('cloudtrail', 'denied.json'), { format: 'vault-audit' });
    expect(r.events).toEqual([]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([expect.stringMatching(/^vault-audit: /)]);
    const ok = await run(fixture('cloudtrail', 'denied.json'), { format: 'cloudtrail' });
    expect(ok.events).toHaveLength(1);
  });

  it('rejects an unknown --format with the list of ids', async () => {
    const it = normalizeInputs([fixture('cloudtrail', 'denied.json')], new IngestStats(), {
      format: 'splunk',
    });
    await expect(it.next()).rejects.toThrow(UsageError);
    await expect(
      normalizeInputs([fixture('cloudtrail', 'denied.json')], new IngestStats(), { format: 'splunk' }).next(),
    ).rejects.toThrow(/one of: cloudtrail, keyvault, azure-activity/);
  });

  it('normalizeBatches yields the same items as normalizeInputs', async () => {
    const paths = [fixture('keyvault'), fixture('vault-audit')];
    const flat = [];
    for await (const item of normalizeInputs(paths, new IngestStats())) flat.push(item);
    const batched = [];
    for await (const batch of normalizeBatches(paths, new IngestStats())) batched.push(...batch);
    expect(batched).toEqual(flat);
    expect(flat.length).toBeGreaterThan(5);
  });

  it('normalizeInto hands each item to its sink as it is made, and pauses at least once per file', async () => {
    const paths = [fixture('keyvault'), fixture('vault-audit'), fixture('cloudtrail', 'wrong-type.json')];
    const batched = [];
    for await (const batch of normalizeBatches(paths, new IngestStats())) batched.push(...batch);
    expect(batched.some((i) => i.kind === 'quarantine')).toBe(true);
    const items: IngestItem[] = [];
    const files: number[] = [];
    const stats = new IngestStats();
    const sink = {
      event: (event: (IngestItem & { kind: 'event' })['event']) => items.push({ kind: 'event', event }),
      quarantine: (entry: (IngestItem & { kind: 'quarantine' })['entry']) =>
        items.push({ kind: 'quarantine', entry }),
    };
    let pauses = 0;
    for await (const _ of normalizeInto(paths, stats, sink, { onFile: (_f, i) => files.push(i) })) pauses++;
    expect(items).toEqual(batched);
    expect(pauses).toBeGreaterThanOrEqual(stats.files);
    expect(files.length).toBe(stats.files);
  });

  it('normalizeInputs answers calls made before the last one settled, in order, and stops when closed', async () => {
    const paths = [fixture('keyvault'), fixture('vault-audit')];
    const batched = [];
    for await (const batch of normalizeBatches(paths, new IngestStats())) batched.push(...batch);
    const it = normalizeInputs(paths, new IngestStats());
    // Every call at once: the ones past the first batch wait for it, and none is answered twice.
    const all = await Promise.all(Array.from({ length: batched.length + 2 }, () => it.next()));
    expect(all.filter((r) => !r.done).map((r) => r.value)).toEqual(batched);
    expect(all.slice(batched.length).every((r) => r.done)).toBe(true);

    const closed = normalizeInputs(paths, new IngestStats());
    expect((await closed.next()).done).toBe(false);
    expect(await closed.return?.()).toEqual({ value: undefined, done: true });
    expect((await closed.next()).done).toBe(true);
  });
});
