import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runIngest } from '../../cli/pipeline.js';
import { systemClock } from '../../core/clock.js';
import { generateDemo } from '../../demo/generate.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { DETECTORS } from '../../detectors/registry.js';
import { Store } from '../../store/store.js';
import { tempDir } from '../helpers.js';

/** Ingests `dir` into a fresh store with the given thread count; returns what was stored and raised. */
async function ingest(dir: string, threads: number) {
  const store = Store.open(join(tempDir(), 'v.db'));
  const engine = new DetectionEngine({ detectors: DETECTORS, network: { country: () => null } });
  const files: string[] = [];
  const summary = await runIngest([dir], {
    store,
    engine,
    sinks: new Map(),
    clock: systemClock,
    threads,
    onFile: (name) => files.push(name),
  });
  const events = [...store.queryEvents({})].map((e) => JSON.stringify(e));
  const alerts = [...store.listAlerts()].map((a) => JSON.stringify({ ...a, query: '' }));
  store.close();
  return { summary, events: events.sort(), alerts: alerts.sort(), files: files.sort() };
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
});
