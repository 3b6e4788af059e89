import { isAscii } from 'node:buffer';
import { closeSync, createReadStream, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
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
  /**
   * The whole file, when it is small enough to read whole (one read, one gunzip), which costs far less
   * than a stream; null when it is not.
   */
  readAll?(): Promise<Buffer | null>;
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
    // Synchronous, as readSmall: a worker handed thousands of CloudTrail files spent ~4 % of its time
    // in the thread-pool round trips of asynchronous stats.
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
    if (st.isDirectory()) yield* walk(p);
    else yield fileInput(p);
  }
}

function fileInput(path: string): InputFile {
  return {
    name: path,
    open: () => createReadStream(path, { highWaterMark: CHUNK }),
    readAll: async () => readSmall(path),
  };
}

/**
 * A regular file of at most WHOLE_FILE bytes, read whole; null for a larger one or a pipe. Synchronous:
 * CloudTrail's many small files cost a few microseconds each this way, against several thread-pool
 * round trips.
 */
function readSmall(path: string): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const size = st.size;
    if (!st.isFile() || size > WHOLE_FILE) return null;
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const r = readSync(fd, buf, n, size - n, null);
      if (r === 0) break;
      n += r;
    }
    return n < size ? buf.subarray(0, n) : buf;
  } finally {
    closeSync(fd);
  }
}

// CloudTrail digest files sign log files; they hold no events.
const IGNORED = /(^|\/)(CloudTrail-Digest|\.git)(\/|$)|(^|\/)\.DS_Store$/;

async function* walk(dir: string): AsyncGenerator<InputFile> {
  for await (const path of filesUnder(dir, IGNORED)) yield fileInput(path);
}

/**
 * The files below `dir`, recursively, in name order, but the paths `ignored` matches. Symbolic links are
 * followed, to files and to directories (a folder of links to logs is common: a sync tool's, a rotation
 * scheme's), each directory once, so a link back up the tree does not loop; a dangling link is skipped.
 */
export async function* filesUnder(
  dir: string,
  ignored: RegExp,
  seen = new Set<string>(),
): AsyncGenerator<string> {
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (ignored.test(path)) continue;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) yield* filesUnder(path, ignored, seen);
    else if (isFile) yield path;
  }
}

/** Whether bytes start with gzip's magic number. */
export const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The input's bytes in chunks. A small file is read and gunzipped whole; if its gzip is damaged, it is
 * read again as a stream, which yields the bytes before the damage and then fails where it is.
 */
async function* inputBytes(input: InputFile): AsyncGenerator<Buffer> {
  const bytes = input.readAll ? await input.readAll() : null;
  if (!bytes) {
    yield* byteChunks(input.open());
    return;
  }
  if (!isGzip(bytes)) {
    yield bytes;
    return;
  }
  let text: Buffer | null = null;
  try {
    text = gunzipSync(bytes);
  } catch {
    text = null; // damaged: the stream below reports it with its position
  }
  if (text === null) yield* byteChunks(Readable.from([bytes]));
  else yield text;
}

/** Chunks of bytes from a stream, gunzipped when it starts with the gzip magic bytes. */
async function* byteChunks(stream: Readable): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await it.next();
  if (first.done) return;
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
  if (!isGzip(head)) {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield typeof n.value === 'string' ? Buffer.from(n.value) : n.value;
    }
  }
  const rest = (async function* () {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  })();
  const source = Readable.from(rest, { objectMode: false }).pipe(createGunzip({ chunkSize: CHUNK }));
  for await (const chunk of source) yield chunk as Buffer;
}

/**
 * One line of a JSON Lines input (its CR already dropped) to `sink`: blank lines are skipped, a line that
 * is not JSON is damage at its line.
 */
export function readJsonLine(line: string, lineNo: number, sink: ValueSink): void {
  // A JSON Lines record starts with `{`: only other lines can be blank.
  if (line.charCodeAt(0) !== 123 && line.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    sink.error('line is not valid JSON', `line ${lineNo}`);
    return;
  }
  sink.value(value, lineNo);
}

/** The quarantine reason for an input that could not be read to its end (a damaged gzip, an I/O error). */
export function damageReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(String(err))
    ? 'truncated gzip'
    : code === 'Z_DATA_ERROR'
      ? 'corrupt gzip'
      : `read failed (${code ?? 'error'})`;
}

/**
 * UTF-8 bytes as text. ASCII (nearly every log) is checked and copied for a third of what UTF-8 decoding
 * costs; same text.
 */
export function decodeText(bytes: Buffer, from = 0, to = bytes.length): string {
  return isAscii(bytes.subarray(from, to))
    ? bytes.toString('latin1', from, to)
    : bytes.toString('utf8', from, to);
}

// V8's longest string (2^29 - 24 UTF-16 units on 64-bit): a line longer than this cannot be a string.
const MAX_LINE_BYTES = 2 ** 29 - 24;

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
  let batch: RawItem[] = [];
  const sink: ValueSink = {
    value: (value, line) => batch.push({ value, position: `line ${line}` }),
    error: (error, position) => batch.push({ error, position }),
  };
  for await (const _ of readInto(input, sink)) {
    if (batch.length > 0) yield batch;
    batch = [];
  }
  if (batch.length > 0) yield batch;
}

/** Where readInto delivers what it reads, in input order: a value with its line, or damage. */
export interface ValueSink {
  value(value: unknown, line: number): void;
  error(error: string, position: string): void;
}

/**
 * A share of one input, so that several threads can read a large JSON Lines file together: each reads
 * (and splits) every line, but parses only the runs of SHARD_LINES lines that are its own. A document or
 * CSV input, and damage to the file as a whole, belong to shard 0.
 */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const SHARD_LINES = 256;

/**
 * The reader itself: hands each value to `sink` as soon as it is parsed (a value lives only as long as
 * its consumer keeps it), and yields after each chunk so the consumer can pass on what it made.
 */
export async function* readInto(input: InputFile, sink: ValueSink, shard?: Shard): AsyncGenerator<void> {
  const first = !shard || shard.index === 0;
  const owns = (line: number) => !shard || Math.floor((line - 1) / SHARD_LINES) % shard.count === shard.index;
  /** Set when this shard has nothing more to do in the input (a document or CSV belongs to shard 0). */
  let done = false;
  let mode = 'unknown' as 'unknown' | 'lines' | 'document' | 'csv' | 'text';
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let lineNo = 0;
  let doc: string[] = [];
  let docChars = 0;
  let docStartLine = 0;
  let failure: string | null = null;
  let header: string[] = [];
  let row = '';
  let rowStart = 0;

  const csvRow = (): void => {
    const text = row;
    row = '';
    if (text.trim() === '') return;
    const fields = splitCsvRecord(text);
    if (fields.length !== header.length) {
      sink.error(
        `csv: wrong number of fields: ${fields.length}, header has ${header.length}`,
        `line ${rowStart}`,
      );
      return;
    }
    const value: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) value[header[i]!] = fields[i]!;
    sink.value(value, rowStart);
  };

  const onLine = (raw: string): void => {
    lineNo++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (mode === 'lines') {
      if (owns(lineNo)) readJsonLine(line, lineNo, sink);
      return;
    }
    if (mode === 'text') {
      // An input that did not start as JSON or CSV: reported once; a JSON object line later still counts.
      const t = line.trim();
      if (t[0] !== '{') return;
      let value: unknown;
      try {
        value = JSON.parse(t);
      } catch {
        return;
      }
      mode = 'lines';
      if (owns(lineNo)) sink.value(value, lineNo);
      return;
    }
    if (mode === 'document') {
      docChars += line.length + 1;
      if (docChars <= MAX_DOCUMENT_CHARS) doc.push(line);
      return;
    }
    if (mode === 'csv') {
      if (row === '') rowStart = lineNo;
      row = row === '' ? line : `${row}\n${line}`;
      if (!openQuote(row)) csvRow();
      return;
    }
    // First non-empty line: decide what the input is.
    const t = (lineNo === 1 || carryBom ? line.replace(/^\uFEFF/, '') : line).trim();
    carryBom = false;
    if (t === '') {
      carryBom = lineNo === 1;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      if (t[0] === '{' || t[0] === '[') {
        // The first line opens a document that spans lines: read the whole input as one JSON text.
        mode = 'document';
        done = !first;
        docStartLine = lineNo;
        doc = [line];
        docChars = line.length + 1;
        return;
      }
      const columns = looksLikeCsvHeader(t);
      if (columns) {
        mode = 'csv';
        done = !first;
        header = columns;
        return;
      }
      mode = 'text';
      if (first) sink.error('unknown format: not JSON or CSV', `line ${lineNo}`);
      return;
    }
    mode = 'lines';
    if (owns(lineNo)) sink.value(value, lineNo);
  };
  let carryBom = false;

  try {
    for await (const chunk of inputBytes(input)) {
      // Bytes are decoded once, up to the chunk's last newline (never inside a UTF-8 sequence).
      const last = chunk.lastIndexOf(10);
      if (last < 0) {
        carry.push(chunk);
        carryBytes += chunk.length;
        if (carryBytes > MAX_LINE_BYTES) throw new RangeError('Invalid string length');
        continue;
      }
      let from = 0;
      if (carry.length > 0) {
        // The line begun in the last chunk ends at this chunk's first newline.
        from = chunk.indexOf(10) + 1;
        onLine(Buffer.concat([...carry, chunk.subarray(0, from - 1)]).toString('utf8'));
      }
      const text = decodeText(chunk, from, last + 1);
      carry = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
      carryBytes = chunk.length - last - 1;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        onLine(text.slice(start, nl));
        start = nl + 1;
      }
      yield;
      if (done) return;
    }
  } catch (err) {
    failure = damageReason(err);
  }

  if (failure) {
    if (!first) return;
    // The last partial line (or the partial document) is the damage: report it, keep what was read.
    const at = mode === 'document' ? docStartLine : mode === 'csv' && row !== '' ? rowStart : lineNo + 1;
    sink.error(failure, `line ${at}`);
    return;
  }
  if (carry.length > 0) {
    const rest = carry.length === 1 ? carry[0]!.toString('utf8') : Buffer.concat(carry).toString('utf8');
    carry = [];
    if (rest !== '') onLine(rest);
  }
  if (done) return;
  if (mode === 'csv' && row !== '') {
    // A quoted field never closed: the file ends inside it.
    sink.error('csv: file ends inside a quoted field', `line ${rowStart}`);
  }
  if (mode === 'document') {
    if (docChars > MAX_DOCUMENT_CHARS) {
      sink.error(`JSON document over ${MAX_DOCUMENT_CHARS / 1024 / 1024} MiB`, `line ${docStartLine}`);
    } else {
      const lines = doc;
      doc = [];
      let value: unknown;
      let parsed = false;
      try {
        value = JSON.parse(lines.join('\n'));
        parsed = true;
      } catch (err) {
        for (const item of salvageLines(lines, docStartLine, String((err as Error).message))) {
          if ('error' in item) sink.error(item.error, item.position);
          else sink.value(item.value, item.line);
        }
      }
      if (parsed) sink.value(value, docStartLine);
    }
  }
}

/**
 * A text that is not one JSON document may still be JSON Lines whose first line is damaged: when most
 * lines are JSON objects, keep every one that parses. Otherwise it is one broken (pretty-printed)
 * document, reported once with where the parser stopped.
 */
function* salvageLines(
  lines: readonly string[],
  firstLine: number,
  parseError: string,
): Generator<{ value: unknown; line: number } | { error: string; position: string }> {
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
    if (p) yield { value: p.value, line: firstLine + i };
    else if (p === null) yield { error: 'line is not valid JSON', position: `line ${firstLine + i}` };
  }
}
