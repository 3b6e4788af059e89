import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bulkLoading, readingOrder } from '../../cli/parallel.js';
import { commitRows, inlineBatches, runIngest } from '../../cli/pipeline.js';
import { systemClock } from '../../core/clock.js';
import { generateDemo } from '../../demo/generate.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { DETECTORS } from '../../detectors/registry.js';
import { IngestStats } from '../../ingest/pipeline.js';
import { PendingQueue } from '../../store/pending.js';
import { PAGE_SIZE, Store } from '../../store/store.js';
import { tempDir } from '../helpers.js';

/** Ingests `dir` into a fresh store with the given thread count; returns what was stored and raised. */
async function ingest(
  dir: string,
  threads: number,
  shareBytes?: number,
  batchEvents?: number,
  aheadEvents?: number,
  sentAhead?: number,
) {
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
    ...(batchEvents !== undefined ? { batchEvents } : {}),
    ...(aheadEvents !== undefined ? { aheadEvents } : {}),
    ...(sentAhead !== undefined ? { sentAhead } : {}),
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

  /** The demo's CloudTrail records as JSON lines, in event-time order. */
  function demoLines(): string[] {
    const dir = tempDir();
    generateDemo(dir);
    const records: { eventTime: string }[] = [];
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.json.gz')) continue;
      const doc = JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString()) as {
        Records: { eventTime: string }[];
      };
      records.push(...doc.Records);
    }
    records.sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0));
    return records.map((r) => JSON.stringify(r));
  }

  it('detects while the worker reads an input in time order, with the same result', async () => {
    const lines = demoLines();
    const dir = tempDir();
    writeFileSync(join(dir, 'ordered.ndjson'), lines.join('\n'));
    const one = await ingest(dir, 1);
    // One worker, batches of 100 events, which this thread stores: detection runs between batches.
    const two = await ingest(dir, 2, 0, 100);
    expect(one.alerts.length).toBeGreaterThan(0);
    expect(one.summary.ahead).toBeUndefined();
    expect(two.summary.ahead?.discarded).toBe(false);
    expect(two.summary.ahead?.detected).toBeGreaterThan(0);
    // At the end of reading, what the watermark held back is detected from memory too.
    expect(two.summary.ahead?.detected).toBe(two.summary.newEvents);
    expect(two.events).toEqual(one.events);
    expect(two.alerts).toEqual(one.alerts);
    // One worker which stores every batch itself (as when this thread falls behind), or every other.
    for (const sentAhead of [0, 1]) {
      const own = await ingest(dir, 2, 0, 100, undefined, sentAhead);
      expect(own.summary.ahead?.discarded).toBe(false);
      expect(own.summary.ahead?.detected).toBeGreaterThan(0);
      expect(own.events).toEqual(one.events);
      expect(own.alerts).toEqual(one.alerts);
    }
    // Two workers sharing the file by line, which store their batches and send the new events over.
    const three = await ingest(dir, 3, 0, 100);
    expect(three.summary.ahead?.discarded).toBe(false);
    expect(three.summary.ahead?.detected).toBe(three.summary.newEvents);
    expect(three.events).toEqual(one.events);
    expect(three.alerts).toEqual(one.alerts);
  }, 60_000);

  it('detects ahead only the new events: an input read twice in one run, the second time all stored', async () => {
    const lines = demoLines();
    const dir = tempDir();
    writeFileSync(join(dir, 'a.ndjson'), lines.join('\n'));
    writeFileSync(join(dir, 'b.ndjson'), lines.join('\n'));
    const one = await ingest(dir, 1);
    const two = await ingest(dir, 2, 0, 100);
    expect(two.summary.duplicateEvents).toBe(one.summary.duplicateEvents);
    expect(two.summary.ahead?.discarded).toBe(false);
    expect(two.summary.ahead?.detected).toBeGreaterThan(0);
    expect(two.alerts).toEqual(one.alerts);
  }, 60_000);

  it('stops detecting ahead when too many events wait for the watermark, with the same result', async () => {
    // 4,000 events a minute apart, but for 2,000 in one minute in the middle: the watermark (an hour
    // behind the reader) holds those back until later ones arrive.
    const template = demoLines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = Date.parse('2026-11-01T00:00:00Z');
    const lines = Array.from({ length: 4000 }, (_, i) => {
      const minute = i < 1000 ? i : i < 3000 ? 1000 : i - 2000;
      const time = new Date(start + minute * 60_000 + (i % 1000)).toISOString().replace('.000Z', 'Z');
      return JSON.stringify({ ...template[i % template.length], eventTime: time, eventID: `ev-${i}` });
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'ordered.ndjson'), lines.join('\n'));
    const one = await ingest(dir, 1);
    const full = await ingest(dir, 2, 0, 100);
    const held = await ingest(dir, 2, 0, 100, 500);
    expect(full.summary.ahead?.detected).toBeGreaterThan(3000);
    // Held back: nothing past the first 1,000 events (their last hour waits for the watermark).
    expect(held.summary.ahead?.discarded).toBe(false);
    expect(held.summary.ahead?.detected).toBeLessThan(1000);
    expect(held.events).toEqual(one.events);
    expect(held.alerts).toEqual(one.alerts);
    expect(full.alerts).toEqual(one.alerts);
  }, 60_000);

  it('throws detection ahead away when a later file goes back in time, with the same result', async () => {
    const lines = demoLines();
    const half = Math.floor(lines.length / 2);
    const dir = tempDir();
    // Read in name order: the later half of the events first, then the earlier half.
    writeFileSync(join(dir, 'a.ndjson'), lines.slice(half).join('\n'));
    writeFileSync(join(dir, 'b.ndjson'), lines.slice(0, half).join('\n'));
    const one = await ingest(dir, 1);
    const two = await ingest(dir, 2, 0, 100);
    expect(one.alerts.length).toBeGreaterThan(0);
    expect(two.summary.ahead).toEqual({ detected: 0, discarded: true });
    expect(two.events).toEqual(one.events);
    expect(two.alerts).toEqual(one.alerts);
  }, 60_000);

  it('detects events queued before the run (stored, never detected) with the run, not ahead of it', async () => {
    const lines = demoLines();
    const half = Math.floor(lines.length / 2);
    const dir = tempDir();
    writeFileSync(join(dir, 'earlier.ndjson'), lines.slice(0, half).join('\n'));
    const later = tempDir();
    writeFileSync(join(later, 'later.ndjson'), lines.slice(half).join('\n'));
    const whole = tempDir();
    writeFileSync(join(whole, 'all.ndjson'), lines.join('\n'));
    const one = await ingest(whole, 1);

    // A store holding the earlier half stored but not detected, as a run stopped before detecting leaves it.
    const store = Store.open(join(tempDir(), 'v.db'));
    const counts = { newEvents: 0, duplicateEvents: 0, newAlerts: [], updatedAlerts: 0 };
    for await (const b of inlineBatches([dir], new IngestStats(), {}))
      commitRows({ store, clock: systemClock }, b.rows, b.quarantine, counts);
    expect(counts.newEvents).toBeGreaterThan(1000);
    expect(new PendingQueue(store).size()).toBe(counts.newEvents);
    const engine = new DetectionEngine({ detectors: DETECTORS, network: { country: () => null } });
    const summary = await runIngest([later], {
      store,
      engine,
      sinks: new Map(),
      clock: systemClock,
      threads: 2,
      shareBytes: 0,
      batchEvents: 100,
    });
    expect(summary.ahead).toBeUndefined();
    expect(new PendingQueue(store).size()).toBe(0);
    const alerts = [...store.listAlerts()].map((a) => JSON.stringify({ ...a, query: '' })).sort();
    store.close();
    expect(one.alerts.length).toBeGreaterThan(0);
    expect(alerts).toEqual(one.alerts);
  }, 60_000);

  it('sets a store up for bulk loading and puts it back as it was', () => {
    const store = Store.open(join(tempDir(), 'v.db'));
    const settings = () => [
      store.db.pragma('wal_autocheckpoint', { simple: true }),
      store.db.pragma('cache_size', { simple: true }),
    ];
    const before = settings();
    const restore = bulkLoading(store.db);
    // A WAL checkpoint every 64 MB, in pages of the store's size; a 16 MB page cache.
    expect(settings()).toEqual([(64 << 20) / PAGE_SIZE, -16384]);
    expect(settings()).not.toEqual(before);
    restore();
    expect(settings()).toEqual(before);
    store.close();
  });

  it('reads a tree of CloudTrail objects by delivery time across regions, anything else as listed', () => {
    const ct = (region: string, stamp: string) => ({
      name: `AWSLogs/111122223333/CloudTrail/${region}/2026/11/03/111122223333_CloudTrail_${region}_${stamp}_AbCd.json.gz`,
    });
    const listed = [
      ct('eu-west-1', '20261103T0005Z'),
      ct('eu-west-1', '20261103T0010Z'),
      ct('us-east-1', '20261103T0000Z'),
      ct('us-east-1', '20261103T0010Z'),
    ];
    expect(readingOrder(listed).map((f) => f.name)).toEqual(
      [listed[2], listed[0], listed[1], listed[3]].map((f) => f!.name),
    );
    const mixed = [...listed, { name: 'export.ndjson' }];
    expect(readingOrder(mixed)).toEqual(mixed);
  });
});
