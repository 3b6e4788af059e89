import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { splitCsvRecord } from '../../ingest/csv.js';
import { listInputs, readInto, readItems } from '../../ingest/reader.js';
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

  it('reads concatenated pretty-printed JSON (`jq` output) value by value, each at its first line', async () => {
    const items = [];
    const path = fixture('reader', 'vault-jq.json');
    for await (const item of readItems({ name: path, open: () => createReadStream(path) })) items.push(item);
    const lines = readFileSync(fixture('vault-audit', 'audit.log'), 'utf8').trim().split('\n');
    const starts = [1, 39, 89, 133, 178, 223, 258, 299, 339];
    expect(items).toEqual(lines.map((l, i) => ({ value: JSON.parse(l), position: `line ${starts[i]}` })));
    const r = await run(path);
    expect(r.quarantine).toEqual([]);
    expect(r.events).toEqual((await run(fixture('vault-audit', 'audit.log'))).events);
  });

  it('quarantines only the damaged value of a jq stream, at its first line, and keeps the rest', async () => {
    const path = fixture('reader', 'vault-jq-damaged.json'); // the 4th value (line 133) ends mid-string
    const r = await run(path);
    expect(r.quarantine).toEqual([
      { file: path, position: 'line 133', reason: 'document is not valid JSON' },
    ]);
    const all = (await run(fixture('vault-audit', 'audit.log'))).events;
    expect(r.events).toEqual(all.filter((e) => e.id !== 'vault:11111111-aaaa-4bbb-8ccc-000000000010'));
  });

  it('hands on each value of a pretty-printed stream when it closes, holding one at a time', async () => {
    const text = readFileSync(fixture('reader', 'vault-jq.json'), 'utf8');
    const cut = text.indexOf('\n{', text.indexOf('\n{') + 1) + 1; // the first two values, then the rest
    const lines: number[] = [];
    const sink = { value: (_: unknown, line: number) => lines.push(line), error: () => {} };
    const chunks = [Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))];
    const reading = readInto({ name: 'jq', open: () => Readable.from(chunks) }, sink);
    await reading.next(); // the first chunk is read
    expect(lines).toEqual([1, 39]);
    for await (const _ of reading);
    expect(lines).toHaveLength(9);
  });

  it('reads values concatenated without indentation or on one line', async () => {
    const path = join(dir, 'concatenated.json');
    writeFileSync(path, '{"a":1}{"a":2} {"a":3}\n{\n"a": {\n"b": 4\n}\n}\n[\n5\n]\n');
    const items = [];
    for await (const item of readItems({ name: path, open: () => createReadStream(path) })) items.push(item);
    expect(items).toEqual([
      { value: { a: 1 }, position: 'line 1' },
      { value: { a: 2 }, position: 'line 1' },
      { value: { a: 3 }, position: 'line 1' },
      { value: { a: { b: 4 } }, position: 'line 2' },
      { value: [5], position: 'line 7' },
    ]);
  });

  it('reads a pretty-printed document that starts with a UTF-8 BOM', async () => {
    const bom = join(dir, 'bom-pretty.json');
    writeFileSync(bom, `\uFEFF${JSON.stringify({ Records: [JSON.parse(record(1))] }, null, 2)}\n`);
    const r = await run(bom);
    expect(r.quarantine).toEqual([]);
    expect(r.events).toHaveLength(1);
  });

  it("reads Windows PowerShell's Export-Csv: the #TYPE line above the header is skipped", async () => {
    const path = fixture('reader', 'powershell-export-csv.csv');
    expect(readFileSync(path, 'utf8')).toMatch(/^#TYPE System\.Management\.Automation\.PSCustomObject\r\n/);
    const items = [];
    for await (const item of readItems({ name: path, open: () => createReadStream(path) })) items.push(item);
    expect(items.map((i) => i.position)).toEqual(['line 3', 'line 4']);
    const r = await run(path);
    expect(r.quarantine).toEqual([]);
    expect(r.events).toEqual((await run(fixture('keyvault-loganalytics', 'azkvauditlogs.csv'))).events);
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
