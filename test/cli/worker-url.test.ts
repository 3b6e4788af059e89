import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { FromNormalizeWorker, Unit } from '../../cli/normalize-parallel.js';
import { workerUrl } from '../../cli/worker-url.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/cloudtrail/denied.json');

/** Starts a normalize worker from `url`, has it read one fixture, and returns its answer. */
async function answer(url: URL): Promise<FromNormalizeWorker> {
  const w = new Worker(url, { workerData: { format: undefined, ocsf: false } });
  try {
    return await new Promise<FromNormalizeWorker>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.postMessage({ seq: 7, kind: 'files', names: [FIXTURE] } satisfies Unit);
    });
  } finally {
    await w.terminate();
  }
}

describe('workerUrl', () => {
  it('bundles a worker into node_modules/.cache, and it answers as the tsx-registered one does', async () => {
    const bundled = await workerUrl('normalize-parallel-worker.ts', 'normalize-parallel-entry.mjs');
    const path = fileURLToPath(bundled);
    expect(path).toMatch(/node_modules\/\.cache\/vigil\/normalize-parallel-worker-[0-9a-f]{16}\.mjs$/);
    expect(existsSync(path)).toBe(true);
    // The same promise for the same entry: bundled once per process.
    expect(await workerUrl('normalize-parallel-worker.ts', 'normalize-parallel-entry.mjs')).toBe(bundled);

    const slow = await workerUrl('normalize-parallel-worker.ts', 'normalize-parallel-entry.mjs', false);
    expect(fileURLToPath(slow)).toMatch(/cli\/normalize-parallel-entry\.mjs$/);
    const [a, b] = await Promise.all([answer(bundled), answer(slow)]);
    expect(a.type).toBe('out');
    expect(a).toEqual(b);
    if (a.type === 'out') {
      expect(a.seq).toBe(7);
      expect(a.stats.events).toBeGreaterThan(0);
      expect(Buffer.from(a.bytes).toString()).toContain('"outcome":"denied"');
    }
  }, 30_000);
});
