import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

import { UsageError } from '../core/errors.js';
import { looksLikeCsvHeader, openQuote, splitCsvRecord } from './csv.js';

/**
 * Reads bytes into JSON values, streaming: gzip is detected by its magic bytes, JSON Lines are parsed
 * line by line, and a document that spans lines (pretty-printed JSON) is parsed whole. The format is
 * decided from the content, never from the file name.
 */

export type RawItem =
  | { readonly value: unknown; readonly position: string }
  | { readonly error: string; readonly position: string };

/** A whole JSON document larger than this is not parsed (V8 strings top out near 512 MiB). */
const MAX_DOCUMENT_CHARS = 400 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export interface InputFile {
  /** What logs and the quarantine show: a path, or `-` for stdin. */
  readonly name: string;
  open(): Readable;
  /** A small file can be read whole (one read, one gunzip), which costs far less than a stream. */
  readAll?(): Promise<Buffer>;
}

/** Files up to this size are read whole: CloudTrail delivers many small `.json.gz` files. */
const WHOLE_FILE = 8 * 1024 * 1024;

/** Files below the paths, in a stable order. Directories are read recursively; `-` is stdin. */
export async function* listInputs(paths: readonly string[]): AsyncGenerator<InputFile> {
  for (const p of paths) {
    if (p === '-') {
      yield { name: '-', open: () => process.stdin };
      continue;
    }
    const st = await stat(p).catch(() => null);
    if (!st) throw new UsageError(`no such file or directory: ${p}`);
    if (st.isDirectory()) yield* walk(p);
    else yield fileInput(p, st.size);
  }
}

function fileInput(path: string, size: number): InputFile {
  const small = size <= WHOLE_FILE;
  return {
    name: path,
    open: () => createReadStream(path, { highWaterMark: small ? Math.max(size, 1024) : CHUNK }),
    ...(small ? { readAll: () => readFile(path) } : {}),
  };
}

// CloudTrail digest files sign log files; they hold no events.
const IGNORED = /(^|\/)(CloudTrail-Digest|\.git)(\/|$)|(^|\/)\.DS_Store$/;

async function* walk(dir: string): AsyncGenerator<InputFile> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (IGNORED.test(path)) continue;
    if (e.isDirectory()) yield* walk(path);
    else if (e.isFile()) yield fileInput(path, (await stat(path)).size);
  }
}

/**
 * The input's text in chunks. A small file is read and gunzipped whole; if its gzip is damaged, it is
 * read again as a stream, which yields the text before the damage and then fails where it is.
 */
async function* inputText(input: InputFile): AsyncGenerator<string> {
  if (!input.readAll) {
    yield* textChunks(input.open());
    return;
  }
  const bytes = await input.readAll();
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    let text: string | null = null;
    try {
      text = (await gunzipAsync(bytes)).toString('utf8');
    } catch {
      text = null; // damaged: the stream below reports it with its position
    }
    if (text === null) yield* textChunks(Readable.from([bytes]));
    else yield text;
    return;
  }
  yield bytes.toString('utf8');
}

/** Chunks of text from a byte stream, gunzipped when it starts with the gzip magic bytes. */
async function* textChunks(stream: Readable): AsyncGenerator<string> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await it.next();
  if (first.done) return;
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
  const rest = (async function* () {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  })();
  let source: Readable = Readable.from(rest, { objectMode: false });
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)
    source = source.pipe(createGunzip({ chunkSize: CHUNK }));
  source.setEncoding('utf8');
  for await (const chunk of source) yield chunk as string;
}

/**
 * Streams one input into JSON values. Damage (a truncated gzip, a line that is not JSON) becomes an
 * error item at its position; everything before and after it is still read. A first line that is a
 * CSV header makes the input CSV: each row becomes an object keyed by the header's names.
 */
export async function* readItems(input: InputFile): AsyncGenerator<RawItem> {
  for await (const batch of readBatches(input)) yield* batch;
}

/** As readItems, in batches (one per chunk read): the hot path pays one await per batch, not per line. */
export async function* readBatches(input: InputFile): AsyncGenerator<RawItem[]> {
  let mode = 'unknown' as 'unknown' | 'lines' | 'document' | 'csv' | 'text';
  let carry = '';
  let lineNo = 0;
  let doc: string[] = [];
  let docChars = 0;
  let docStartLine = 0;
  let failure: string | null = null;
  let header: string[] = [];
  let row = '';
  let rowStart = 0;

  const csvRow = (): RawItem | null => {
    const text = row;
    row = '';
    if (text.trim() === '') return null;
    const fields = splitCsvRecord(text);
    const position = `line ${rowStart}`;
    if (fields.length !== header.length)
      return {
        error: `csv: wrong number of fields: ${fields.length}, header has ${header.length}`,
        position,
      };
    const value: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) value[header[i]!] = fields[i]!;
    return { value, position };
  };

  const onLine = (raw: string): RawItem | null => {
    lineNo++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (mode === 'lines') {
      if (line === '' || line.trim() === '') return null;
      try {
        return { value: JSON.parse(line), position: `line ${lineNo}` };
      } catch {
        return { error: 'line is not valid JSON', position: `line ${lineNo}` };
      }
    }
    if (mode === 'text') {
      // An input that did not start as JSON or CSV: reported once; a JSON object line later still counts.
      const t = line.trim();
      if (t[0] !== '{') return null;
      try {
        const value: unknown = JSON.parse(t);
        mode = 'lines';
        return { value, position: `line ${lineNo}` };
      } catch {
        return null;
      }
    }
    if (mode === 'document') {
      docChars += line.length + 1;
      if (docChars <= MAX_DOCUMENT_CHARS) doc.push(line);
      return null;
    }
    if (mode === 'csv') {
      if (row === '') rowStart = lineNo;
      row = row === '' ? line : `${row}\n${line}`;
      return openQuote(row) ? null : csvRow();
    }
    // First non-empty line: decide what the input is.
    const t = (lineNo === 1 || carryBom ? line.replace(/^\uFEFF/, '') : line).trim();
    carryBom = false;
    if (t === '') {
      carryBom = lineNo === 1;
      return null;
    }
    try {
      const value: unknown = JSON.parse(t);
      mode = 'lines';
      return { value, position: `line ${lineNo}` };
    } catch {
      if (t[0] === '{' || t[0] === '[') {
        // The first line opens a document that spans lines: read the whole input as one JSON text.
        mode = 'document';
        docStartLine = lineNo;
        doc = [line];
        docChars = line.length + 1;
        return null;
      }
      const columns = looksLikeCsvHeader(t);
      if (columns) {
        mode = 'csv';
        header = columns;
        return null;
      }
      mode = 'text';
      return { error: 'unknown format: not JSON or CSV', position: `line ${lineNo}` };
    }
  };
  let carryBom = false;

  try {
    for await (const chunk of inputText(input)) {
      let text = carry + chunk;
      let start = 0;
      const batch: RawItem[] = [];
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const item = onLine(text.slice(start, nl));
        if (item) batch.push(item);
        start = nl + 1;
      }
      carry = text.slice(start);
      text = '';
      if (batch.length > 0) yield batch;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    failure =
      code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(String(err))
        ? 'truncated gzip'
        : code === 'Z_DATA_ERROR'
          ? 'corrupt gzip'
          : `read failed (${code ?? 'error'})`;
  }

  if (failure) {
    // The last partial line (or the partial document) is the damage: report it, keep what was read.
    const at = mode === 'document' ? docStartLine : mode === 'csv' && row !== '' ? rowStart : lineNo + 1;
    yield [{ error: failure, position: `line ${at}` }];
    return;
  }
  const tail: RawItem[] = [];
  if (carry !== '') {
    const item = onLine(carry);
    if (item) tail.push(item);
  }
  if (mode === 'csv' && row !== '') {
    // A quoted field never closed: the file ends inside it.
    tail.push({ error: 'csv: file ends inside a quoted field', position: `line ${rowStart}` });
  }
  if (mode === 'document') {
    if (docChars > MAX_DOCUMENT_CHARS) {
      tail.push({
        error: `JSON document over ${MAX_DOCUMENT_CHARS / 1024 / 1024} MiB`,
        position: `line ${docStartLine}`,
      });
    } else {
      const lines = doc;
      doc = [];
      try {
        tail.push({ value: JSON.parse(lines.join('\n')), position: `line ${docStartLine}` });
      } catch (err) {
        tail.push(...salvageLines(lines, docStartLine, String((err as Error).message)));
      }
    }
  }
  if (tail.length > 0) yield tail;
}

/**
 * A text that is not one JSON document may still be JSON Lines whose first line is damaged: when most
 * lines are JSON objects, keep every one that parses. Otherwise it is one broken (pretty-printed)
 * document, reported once with where the parser stopped.
 */
function* salvageLines(lines: readonly string[], firstLine: number, parseError: string): Generator<RawItem> {
  let objects = 0;
  let nonEmpty = 0;
  const parsed = lines.map((l) => {
    const t = l.trim();
    if (t === '') return undefined;
    nonEmpty++;
    try {
      const value = JSON.parse(t) as unknown;
      if (typeof value === 'object' && value !== null) objects++;
      return { value };
    } catch {
      return null;
    }
  });
  if (objects * 2 < nonEmpty) {
    const at = /position (\d+)/.exec(parseError)?.[1];
    yield { error: 'document is not valid JSON', position: `line ${firstLine}${at ? ` (char ${at})` : ''}` };
    return;
  }
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i];
    const position = `line ${firstLine + i}`;
    if (p) yield { value: p.value, position };
    else if (p === null) yield { error: 'line is not valid JSON', position };
  }
}
