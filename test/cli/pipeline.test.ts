import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runIngest } from '../../cli/pipeline.js';
import { systemClock } from '../../core/clock.js';
import { generateDemo } from '../../demo/generate.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { DETECTORS } from '../../detectors/registry.js';
import { Store } from '../../store/store.js';
import { tempDir } from '../helpers.js';

/** Ingests `dir` into a fresh store with the given thread count; returns what was stored and raised. */
async function ingest(dir: string, threads: number, shareBytes?: number) {
  const store = Store.open(join(tempDir(), 'v.db'));
  const engine = new DetectionEngine({ detectors: DETECTORS, network: { country: () => null } });
  const files: string[] = [];
  const summary = await runIngest([dir], {
    store,
    engine,
    sinks: new Map(),
    clock: systemClock,
    threads,
    ...(shareBytes !== undefined ? { shareBytes } : {}),
    onFile: (name) => files.push(name),
  });
  const events = [...store.queryEvents({})].map((e) => JSON.stringify(e));
  const alerts = [...store.listAlerts()].map((a) => JSON.stringify({ ...a, query: '' }));
  const quarantine = [...store.quarantineEntries()].map((q) => `${q.file} ${q.position} ${q.reason}`);
  store.close();
  return {
    summary,
    events: events.sort(),
    alerts: alerts.sort(),
    files: files.sort(),
    quarantine: quarantine.sort(),
  };
}

describe('runIngest across threads', () => {
  it('stores and raises the same with normalize workers (files dealt out) as on one thread', async () => {
    const dir = tempDir();
    generateDemo(dir);
    const one = await ingest(dir, 1);
    const three = await ingest(dir, 3); // two workers, each with half the files
    expect(one.events.length).toBeGreaterThan(1000);
    expect(one.alerts.length).toBeGreaterThan(0);
    expect(three.events).toEqual(one.events);
    expect(three.alerts).toEqual(one.alerts);
    expect(three.files).toEqual(one.files);
    expect(three.summary.stats.toJSON()).toEqual(one.summary.stats.toJSON());
    expect(three.summary.newEvents).toBe(one.summary.newEvents);
  }, 60_000);

  it('gives the same when workers share every file by line, damaged inputs included', async () => {
    const dir = tempDir();
    generateDemo(dir);
    // One JSON Lines file of a few thousand lines, with damage in it, and a truncated gzip.
    const lines: string[] = [];
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.json.gz')) continue;
      const doc = JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString()) as { Records: unknown[] };
      for (const r of doc.Records) lines.push(JSON.stringify(r));
    }
    lines.splice(700, 0, '{"eventTime": "2026-11-03T10:00:00Z", "eventSource": "secretsmanager.amaz');
    lines.splice(1300, 0, '', 'not json');
    const flat = tempDir();
    writeFileSync(join(flat, 'export.ndjson'), lines.join('\n'));
    const gz = gzipSync(Buffer.from(lines.slice(0, 600).join('\n')));
    writeFileSync(join(flat, 'cut.json.gz'), gz.subarray(0, gz.length - 100));
    cpSync(dir, join(flat, 'tree'), { recursive: true });

    const one = await ingest(flat, 1);
    const shared = await ingest(flat, 3, 0); // two workers, every file read by both, lines split
    expect(lines.length).toBeGreaterThan(3 * 256);
    expect(one.quarantine.length).toBeGreaterThanOrEqual(3);
    expect(shared.quarantine).toEqual(one.quarantine);
    expect(shared.events).toEqual(one.events);
    expect(shared.alerts).toEqual(one.alerts);
    expect(shared.files).toEqual(one.files);
    expect(shared.summary.stats.toJSON()).toEqual(one.summary.stats.toJSON());
  }, 60_000);
});
