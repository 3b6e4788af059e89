import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bundle, ROOT } from '../../bin/bundle.mjs';
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
    expect(path).toMatch(/node_modules\/\.cache\/vigil\/cli-normalize-parallel-worker-[0-9a-f]{16}\.mjs$/);
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

describe('bundle', () => {
  it('is made anew when a file that went into it changes, and reused while none does', async () => {
    const rel = `node_modules/.cache/vigil-test/${process.pid}-${Date.now()}`;
    const dir = join(ROOT, rel);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'entry.ts'),
      "import { word } from './word.js';\nexport const said: string = `said ${word}`;\n",
    );
    writeFileSync(join(dir, 'word.ts'), "export const word = 'one';\n");
    const first = await bundle(`${rel}/entry.ts`);
    expect((await import(first.href)).said).toBe('said one');
    expect((await bundle(`${rel}/entry.ts`)).href).toBe(first.href);
    // The imported file changes: a new bundle, with the new text.
    writeFileSync(join(dir, 'word.ts'), "export const word = 'two';\n");
    const second = await bundle(`${rel}/entry.ts`);
    expect(second.href).not.toBe(first.href);
    expect((await import(second.href)).said).toBe('said two');
    rmSync(dir, { recursive: true });
    for (const url of [first, second]) rmSync(fileURLToPath(url));
    rmSync(fileURLToPath(second).replace(/-[0-9a-f]{16}\.mjs$/, '.json'));
  });
});
