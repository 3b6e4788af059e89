import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { splitCsvRecord } from '../../ingest/csv.js';
import { listInputs, readItems } from '../../ingest/reader.js';
import { fixture, run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (i: number) =>
  JSON.stringify({
    eventVersion: '1.09',
    eventTime: `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'GetSecretValue',
    awsRegion: 'us-east-1',
    recipientAccountId: '111122223333',
    requestParameters: { secretId: `app/secret-${i}` },
    eventID: `id-${i}`,
  });

describe('reader', () => {
  it('keeps the lines before a truncated .gz and quarantines the damage once', async () => {
    const text = Array.from({ length: 2000 }, (_, i) => record(i)).join('\n');
    const gz = gzipSync(text);
    const path = join(dir, 'cut.json.gz');
    writeFileSync(path, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const r = await run(path);
    expect(r.events.length).toBeGreaterThan(100);
    expect(r.events.length).toBeLessThan(2000);
    expect(r.events.map((e) => e.providerEventId)).toEqual(r.events.map((_, i) => `id-${i}`));
    expect(r.quarantine).toEqual([
      { file: path, position: `line ${r.events.length + 1}`, reason: 'truncated gzip' },
    ]);
  });

  it('reads gzip by its magic bytes, whatever the file is called', async () => {
    const path = join(dir, 'trail.txt');
    writeFileSync(path, gzipSync(`${record(1)}\n${record(2)}\n`));
    expect((await run(path)).events).toHaveLength(2);
  });

  it('quarantines a line that is not JSON and keeps its neighbours', async () => {
    const path = join(dir, 'mixed.ndjson');
    writeFileSync(
      path,
      `${record(1)}\n{"eventVersion": "1.09", "eventTi\n\n${record(3)}\r\nnot json at all\n${record(5)}`,
    );
    const r = await run(path);
    expect(r.events.map((e) => e.providerEventId)).toEqual(['id-1', 'id-3', 'id-5']);
    expect(r.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 2', 'line is not valid JSON'],
      ['line 5', 'line is not valid JSON'],
    ]);
  });

  it('keeps JSON Lines whose first line is damaged', async () => {
    const path = join(dir, 'first-damaged.ndjson');
    writeFileSync(path, `{"eventVersion": "1.0\n${record(2)}\n${record(3)}\n`);
    const r = await run(path);
    expect(r.events.map((e) => e.providerEventId)).toEqual(['id-2', 'id-3']);
    expect(r.quarantine.map((q) => q.position)).toEqual(['line 1']);
  });

  it('reads a pretty-printed single document, and reports a broken one once with where it broke', async () => {
    const good = join(dir, 'pretty.json');
    writeFileSync(good, JSON.stringify({ Records: [JSON.parse(record(1)), JSON.parse(record(2))] }, null, 2));
    expect((await run(good)).events).toHaveLength(2);
    const bad = join(dir, 'pretty-broken.json');
    writeFileSync(bad, JSON.stringify(JSON.parse(record(1)), null, 2).replace('"eventName"', 'eventName'));
    const r = await run(bad);
    expect(r.events).toEqual([]);
    expect(r.quarantine).toHaveLength(1);
    expect(r.quarantine[0]!.reason).toBe('document is not valid JSON');
    expect(r.quarantine[0]!.position).toMatch(/^line 1 \(char \d+\)$/);
  });

  it('quarantines unknown shapes with the keys it saw, and text that is neither JSON nor CSV once', async () => {
    const shape = join(dir, 'shape.json');
    writeFileSync(shape, '{"hello": "world", "n": 1}\n');
    const r = await run(shape);
    expect(r.quarantine.map((q) => q.reason)).toEqual(['unknown record shape (keys: hello,n)']);
    const prose = join(dir, 'README.txt');
    writeFileSync(prose, 'This folder holds logs.\nSee the wiki.\nThanks.\n');
    const p = await run(prose);
    expect(p.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 1', 'unknown format: not JSON or CSV'],
    ]);
  });

  it('reads CSV: quoted commas, doubled quotes and newlines inside fields; a file ending inside a quote is damage', async () => {
    expect(splitCsvRecord('a,"b,c","say ""hi""",,"x\ny"')).toEqual(['a', 'b,c', 'say "hi"', '', 'x\ny']);
    const path = join(dir, 'rows.csv');
    writeFileSync(path, 'Name,Note\r\nalpha,"one,\r\ntwo"\r\nbeta,"three\r\n');
    const items = [];
    for await (const item of readItems({ name: path, open: () => createReadStream(path) })) items.push(item);
    expect(items).toEqual([
      { value: { Name: 'alpha', Note: 'one,\ntwo' }, position: 'line 2' },
      { error: 'csv: file ends inside a quoted field', position: 'line 4' },
    ]);
  });

  it('reads the same items whatever the chunks, split inside a line, a CRLF or a UTF-8 sequence', async () => {
    const path = join(dir, 'chunks.ndjson');
    const line = (i: number) => JSON.stringify({ i, name: `caf\u00e9-\u{1F511}-${'x'.repeat(i % 7)}` });
    const text = `${line(1)}\r\n\n${line(2)}\n{"broken": \n${Array.from({ length: 40 }, (_, i) => line(i + 3)).join('\n')}`;
    writeFileSync(path, text);
    const read = async (highWaterMark: number) => {
      const items = [];
      for await (const item of readItems({
        name: path,
        open: () => createReadStream(path, { highWaterMark }),
      }))
        items.push(item);
      return items;
    };
    const whole = await read(1 << 20);
    expect(whole).toHaveLength(43);
    expect(whole[0]).toEqual({ value: JSON.parse(line(1)), position: 'line 1' });
    expect(whole[2]).toEqual({ error: 'line is not valid JSON', position: 'line 4' });
    expect(whole.at(-1)).toEqual({ value: JSON.parse(line(42)), position: 'line 44' });
    for (const size of [1, 2, 3, 5, 7, 64]) expect(await read(size)).toEqual(whole);
  });

  it('decodes ASCII runs and UTF-8 runs alike, whichever chunks they fall in', async () => {
    const path = join(dir, 'mixed.ndjson');
    const values = Array.from({ length: 60 }, (_, i) => ({
      i,
      name: i % 5 === 0 ? `caf\u00e9-\u00ff-\u{1F511}-${i}` : `plain-${'y'.repeat(i % 9)}`,
    }));
    writeFileSync(path, values.map((v) => JSON.stringify(v)).join('\n'));
    for (const highWaterMark of [1 << 20, 100, 37]) {
      const items = [];
      for await (const item of readItems({
        name: path,
        open: () => createReadStream(path, { highWaterMark }),
      }))
        items.push(item);
      expect(items).toEqual(values.map((value, i) => ({ value, position: `line ${i + 1}` })));
    }
  });

  it('skips CloudTrail digest folders when reading a directory', async () => {
    const root = join(dir, 'AWSLogs');
    const digest = join(root, 'CloudTrail-Digest');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(digest, { recursive: true });
    writeFileSync(join(digest, 'digest.json'), '{"digestStartTime": "x"}');
    writeFileSync(join(root, 'log.json'), readFileSync(fixture('cloudtrail', 'secret-by-name.json')));
    const r = await run(root);
    expect(r.stats.files).toBe(1);
    expect(r.events).toHaveLength(1);
  });

  it('follows symbolic links to files and folders, each folder once, and skips dangling ones', async () => {
    const { mkdirSync, symlinkSync } = await import('node:fs');
    const logs = join(dir, 'synced');
    mkdirSync(join(logs, 'day'), { recursive: true });
    writeFileSync(join(logs, 'day', 'a.json'), readFileSync(fixture('cloudtrail', 'secret-by-name.json')));
    const root = join(dir, 'linked');
    mkdirSync(root);
    symlinkSync(join(logs, 'day', 'a.json'), join(root, 'one.json'));
    symlinkSync(join(logs, 'day'), join(root, 'days'));
    symlinkSync(root, join(root, 'loop'));
    symlinkSync(join(dir, 'nowhere.json'), join(root, 'dangling.json'));
    const names = [];
    for await (const f of listInputs([root])) names.push(f.name);
    expect(names).toEqual([join(root, 'days', 'a.json'), join(root, 'one.json')]);
    const r = await run(root);
    expect(r.stats.files).toBe(2);
    expect(r.quarantine).toEqual([]);
  });
});
