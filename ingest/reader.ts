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
 * line by line, and a document that spans lines (pretty-printed JSON) is parsed whole, or value by value
 * when it is several concatenated (`jq` output). The format is decided from the content, never from the
 * file name.
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
  /** Characters of the open document; 0 between the values of a stream. */
  let docChars = 0;
  let docStartLine = 0;
  /** Whether the open document's second line is indented: pretty-printed, so it may be one of a stream. */
  let indented = false;
  /** Cleared once a line `}` or `]` did not close a value: the rest is read as one text at the end. */
  let streaming = true;
  /** Values of a stream already handed on: the rest of the input is read as more of them. */
  let streamed = false;
  /** Set once a leading `#TYPE` line is skipped: only one is. */
  let psTypeLine = false;
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
      if (docChars === 0) {
        // Between two values of a stream: the next one starts at its first non-blank line.
        if (line.trim() === '') return;
        docStartLine = lineNo;
        indented = false;
      }
      docChars += line.length + 1;
      if (docChars > MAX_DOCUMENT_CHARS) return;
      doc.push(line);
      if (doc.length === 2) indented = line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9;
      // Pretty-printers indent all but the top-level brackets: this line may close the value.
      if (indented && streaming && line.length === 1 && (line === '}' || line === ']')) closeValue();
      return;
    }
    if (mode === 'csv') {
      if (row === '') rowStart = lineNo;
      row = row === '' ? line : `${row}\n${line}`;
      if (!openQuote(row)) csvRow();
      return;
    }
    // First non-empty line: decide what the input is.
    const text = lineNo === 1 || carryBom ? line.replace(/^\uFEFF/, '') : line;
    const t = text.trim();
    carryBom = false;
    if (t === '') {
      carryBom = lineNo === 1;
      return;
    }
    if (!psTypeLine && t.startsWith('#TYPE ')) {
      // Windows PowerShell 5.1's Export-Csv writes the rows' .NET type above the header by default.
      psTypeLine = true;
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
        doc = [text]; // without a BOM, which JSON.parse does not take
        docChars = text.length + 1;
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

  /**
   * At a line `}` or `]` of an indented document: if what was read since the value began parses, it is
   * one value of a stream (`jq` output), handed on now, so that a stream is held one value at a time. A
   * single pretty-printed document parses here, at its last line, once, as it would at the end.
   */
  const closeValue = (): void => {
    let value: unknown;
    try {
      value = JSON.parse(doc.join('\n'));
    } catch {
      // A nested closer of an oddly indented document, or damage: the rest is read at the end. Not tried
      // again: a document with many such lines would be parsed once per line.
      streaming = false;
      return;
    }
    doc = [];
    docChars = 0;
    streamed = true;
    sink.value(value, docStartLine);
  };

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
    const at =
      mode === 'document' && docChars > 0
        ? docStartLine
        : mode === 'csv' && row !== ''
          ? rowStart
          : lineNo + 1;
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
  if (mode === 'document' && docChars > 0) {
    if (docChars > MAX_DOCUMENT_CHARS) {
      sink.error(`JSON document over ${MAX_DOCUMENT_CHARS / 1024 / 1024} MiB`, `line ${docStartLine}`);
    } else {
      const lines = doc;
      doc = [];
      readDocument(lines, docStartLine, sink, streamed);
    }
  }
}

const BROKEN = 'document is not valid JSON';

/**
 * The lines of an input that did not close on its first line, read at its end: one JSON document; else
 * JSON Lines with a damaged first line; else, when it holds several values (or values of it were handed
 * on already), a stream of values; else one broken document, reported once with where the parser stopped.
 */
function readDocument(lines: string[], firstLine: number, sink: ValueSink, streamed: boolean): void {
  const text = lines.join('\n');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (salvageLines(lines, firstLine, sink)) return;
    if (streamed || isStream(lines, text)) {
      readValues(text, firstLine, sink);
      return;
    }
    const at = /position (\d+)/.exec(String((err as Error).message))?.[1];
    sink.error(BROKEN, `line ${firstLine}${at ? ` (char ${at})` : ''}`);
    return;
  }
  sink.value(value, firstLine);
}

/**
 * A text that is not one JSON document may still be JSON Lines whose first line is damaged: when most
 * lines are JSON objects, keep every one that parses. Returns whether it was; if not, hands on nothing.
 */
function salvageLines(lines: readonly string[], firstLine: number, sink: ValueSink): boolean {
  let nonEmpty = 0;
  let opening = 0;
  for (const l of lines) {
    const t = l.trim();
    if (t !== '') nonEmpty++;
    if (isOpener(t.charCodeAt(0))) opening++;
  }
  // Only a line that starts with `{` or `[` can count: pretty-printed text is ruled out unparsed.
  if (opening * 2 < nonEmpty) return false;
  let objects = 0;
  const parsed = lines.map((l) => {
    const t = l.trim();
    if (t === '') return undefined;
    try {
      const value = JSON.parse(t) as unknown;
      if (typeof value === 'object' && value !== null) objects++;
      return { value };
    } catch {
      return null;
    }
  });
  if (objects * 2 < nonEmpty) return false;
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i];
    if (p) sink.value(p.value, firstLine + i);
    else if (p === null) sink.error('line is not valid JSON', `line ${firstLine + i}`);
  }
  return true;
}

const NON_SPACE = /\S/g;

/** Index of the first non-whitespace character at or after `from`, or -1. */
function nextNonSpace(text: string, from: number): number {
  NON_SPACE.lastIndex = from;
  return NON_SPACE.exec(text)?.index ?? -1;
}

const isOpener = (c: number) => c === 123 || c === 91;

/**
 * Whether a text that is not one document holds several values: its first value (an object or array)
 * closes and another starts after it; or the text is indented and a later line starts a value, which
 * pretty-printers do only for top-level values (so the first one was cut short).
 */
function isStream(lines: readonly string[], text: string): boolean {
  const start = nextNonSpace(text, 0);
  const end = start >= 0 && isOpener(text.charCodeAt(start)) ? valueEnd(text, start) : -1;
  const next = end < 0 ? -1 : nextNonSpace(text, end);
  if (next >= 0 && isOpener(text.charCodeAt(next))) return true;
  const indent = lines[1]?.charCodeAt(0);
  return (indent === 32 || indent === 9) && nextValueLine(text, 0) < text.length;
}

const STRUCTURE = /["[\]{}]/g;

/**
 * Just past the object or array that starts at `start`, found by counting brackets outside strings
 * (JSON.parse finds no end: it rejects what follows); -1 when the text ends first or a string runs
 * past its line (JSON strings hold no newline), which is damage.
 */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  let newline = text.indexOf('\n', start);
  STRUCTURE.lastIndex = start;
  for (let m = STRUCTURE.exec(text); m; m = STRUCTURE.exec(text)) {
    const i = m.index;
    const c = text.charCodeAt(i);
    if (c === 34) {
      const close = stringEnd(text, i + 1);
      if (newline >= 0 && newline < i) newline = text.indexOf('\n', i);
      if (close < 0 || (newline >= 0 && newline < close)) return -1;
      STRUCTURE.lastIndex = close + 1;
    } else if (isOpener(c)) depth++;
    else if (--depth === 0) return i + 1;
  }
  return -1;
}

/** The index of the quote that closes a string whose text starts at `from`, or -1. */
function stringEnd(text: string, from: number): number {
  for (let q = text.indexOf('"', from); q >= 0; q = text.indexOf('"', q + 1)) {
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return -1;
}

/**
 * A stream of JSON values (concatenated documents): each value at its first line. A value that does not
 * parse is quarantined, and reading goes on after it, or, when it has no end, at the next line that
 * starts with `{` or `[`; text that follows damage and opens no value is part of that damage.
 */
function readValues(text: string, firstLine: number, sink: ValueSink): void {
  let line = firstLine;
  let counted = 0; // `line` is the line of text[counted]
  let damaged = false;
  let pos = nextNonSpace(text, 0);
  while (pos >= 0) {
    for (let nl = text.indexOf('\n', counted); nl >= 0 && nl < pos; nl = text.indexOf('\n', nl + 1)) line++;
    counted = pos;
    const opener = isOpener(text.charCodeAt(pos));
    const end = opener ? valueEnd(text, pos) : -1;
    const value = end > 0 ? parseOr(text.slice(pos, end)) : INVALID;
    if (value !== INVALID) sink.value(value, line);
    else if (opener || !damaged) sink.error(BROKEN, `line ${line}`);
    damaged = value === INVALID;
    pos = nextNonSpace(text, end > 0 ? end : nextValueLine(text, pos));
  }
}

// A line that starts with `{` or `[`: pretty-printers start top-level values so, and only them.
const VALUE_LINE = /\n[[{]/g;

/** The start of the first line after `from` that starts with `{` or `[`, or the end of the text. */
function nextValueLine(text: string, from: number): number {
  VALUE_LINE.lastIndex = from;
  const m = VALUE_LINE.exec(text);
  return m ? m.index + 1 : text.length;
}

const INVALID = Symbol('invalid');

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID; // the caller quarantines it with its position
  }
}
