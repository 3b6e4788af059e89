import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { normalizeParallel } from '../../cli/normalize-parallel.js';
import { inputFiles } from '../../cli/parallel.js';
import { generateDemo } from '../../demo/generate.js';
import { IngestStats, normalizeBatches } from '../../ingest/pipeline.js';
import { tempDir } from '../helpers.js';

const FIXTURES = join(import.meta.dirname, '../fixtures');

/** What `vigil normalize` printed before it had workers or its own writer: JSON.stringify per event. */
async function reference(paths: string[]) {
  const stats = new IngestStats();
  let text = '';
  for await (const items of normalizeBatches(paths, stats))
    for (const item of items) if (item.kind === 'event') text += `${JSON.stringify(item.event)}\n`;
  return { text, stats: stats.toJSON() };
}

async function parallel(paths: string[], threads: number, chunkBytes: number, splitBytes: number) {
  const stats = new IngestStats();
  const out: Uint8Array[] = [];
  const plan = await inputFiles(paths);
  for await (const bytes of normalizeParallel(plan, { format: undefined, ocsf: false }, stats, {
    threads,
    chunkBytes,
    splitBytes,
  }))
    out.push(bytes);
  return { text: Buffer.concat(out).toString('utf8'), stats: stats.toJSON() };
}

describe('normalizeParallel', () => {
  it('writes the same output, in order, and counts the same as one thread, damage included', async () => {
    const dir = tempDir();
    generateDemo(join(dir, 'tree'));
    const lines: string[] = [];
    for (const f of readdirSync(join(dir, 'tree'), { recursive: true, encoding: 'utf8' }).sort()) {
      if (!f.endsWith('.json.gz')) continue;
      const doc = JSON.parse(gunzipSync(readFileSync(join(dir, 'tree', f))).toString()) as {
        Records: unknown[];
      };
      for (const r of doc.Records) lines.push(JSON.stringify(r));
    }
    expect(lines.length).toBeGreaterThan(1000);
    // A large export: BOM and blank lines first, CRLF line ends, damage here and there, no newline at the end.
    const damaged = [...lines];
    // Text that is not ASCII, in some runs of lines and not others.
    for (const i of [50, 51, 1200])
      damaged[i] = damaged[i]!.replace('"userAgent":"', '"userAgent":"grüße 🔑 ');
    expect(damaged[1200]).toContain('🔑');
    damaged.splice(700, 0, '{"eventTime": "2026-11-03T10:00:00Z", "eventSource": "secretsmanager.amaz');
    damaged.splice(1300, 0, '', 'not json', '   ');
    const crlf = damaged.map((l, i) => (i % 7 === 0 ? `${l}\r` : l));
    writeFileSync(join(dir, 'export.ndjson'), `\uFEFF\n\n${crlf.join('\n')}`);
    // A gzipped export cut short, and one whole.
    const gz = gzipSync(Buffer.from(lines.slice(0, 900).join('\n')));
    writeFileSync(join(dir, 'cut.ndjson.gz'), gz.subarray(0, gz.length - 200));
    writeFileSync(
      join(dir, 'whole.ndjson.gz'),
      gzipSync(Buffer.from(`${lines.slice(900, 1500).join('\n')}\n`)),
    );
    // A large file that is one pretty-printed document, one that is not JSON at all, and a CSV export.
    const records = lines.slice(0, 300).map((l) => JSON.parse(l) as unknown);
    writeFileSync(join(dir, 'doc.json'), JSON.stringify({ Records: records }, null, 2));
    writeFileSync(join(dir, 'one-line.json'), JSON.stringify({ Records: records })); // no newline at all
    writeFileSync(join(dir, 'notes.txt'), `${'just some text\n'.repeat(500)}{"eventVersion":"1.08"}\n`);
    const csv = readdirSync(join(FIXTURES, 'keyvault-loganalytics')).find((f) => f.endsWith('.csv'));
    expect(csv).toBeDefined();
    copyFileSync(join(FIXTURES, 'keyvault-loganalytics', csv!), join(dir, 'export.csv'));

    const one = await reference([dir]);
    expect(one.stats.quarantined).toBeGreaterThanOrEqual(4);
    expect(one.stats.quarantinedByReason['truncated gzip']).toBe(1);
    // Every large file cut into units of a few lines, two and three workers.
    for (const threads of [2, 3]) {
      const many = await parallel([dir], threads, 2000, 4000);
      expect(JSON.stringify(many.stats)).toBe(JSON.stringify(one.stats)); // reasons in the same order too
      expect(many.text).toBe(one.text);
    }
    // Each line its own unit.
    const tiny = await parallel([join(dir, 'export.ndjson'), join(dir, 'cut.ndjson.gz')], 2, 1, 1);
    const tinyRef = await reference([join(dir, 'export.ndjson'), join(dir, 'cut.ndjson.gz')]);
    expect(JSON.stringify(tiny.stats)).toBe(JSON.stringify(tinyRef.stats));
    expect(tiny.text).toBe(tinyRef.text);
  }, 60_000);
});
