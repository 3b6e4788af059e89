import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { filesUnder, readItems } from '../reader.js';
import { Duration, defineLiveSource, type LiveBatch, type LiveRecord, type PollContext } from './source.js';

/** Bytes read at a time from a growing file; a batch (and its checkpoint) per chunk. */
const CHUNK = 4 * 1024 * 1024;
/** A single line longer than this is set aside instead of read. */
const MAX_LINE = 64 * 1024 * 1024;
/** Records per batch for whole documents (CloudTrail's `{"Records":[...]}` files). */
const DOC_BATCH = 5000;

const Config = z.strictObject({
  /** A directory (read recursively), a file, or `-` for stdin. Relative to the working directory. */
  path: z.string().min(1),
  pollInterval: Duration('PT30S'),
  /**
   * A whole-document file (gzip, pretty-printed JSON) is read once it has not changed for this long, so a
   * half-synced file is not read; JSON Lines files are read line by line as they grow.
   */
  settle: Duration('PT2S'),
});

const FileCheckpoint = z.object({
  offset: z.number().int().nonnegative(),
  line: z.number().int().nonnegative(),
  mode: z.enum(['lines', 'document']),
});
type FileCheckpoint = z.infer<typeof FileCheckpoint>;

function readCheckpoint(value: string | undefined): FileCheckpoint | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = FileCheckpoint.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Unreadable: read the file again from the start; the store drops events it already has.
    return undefined;
  }
}

// CloudTrail digest files sign log files and hold no events.
const IGNORED = /(^|\/)(CloudTrail-Digest|\.git)(\/|$)|(^|\/)\.DS_Store$|\.(tmp|part|partial)$|(^|\/)\.~/;

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const path of filesUnder(dir, IGNORED)) out.push(path);
  return out;
}

function parseLine(text: string, position: string): LiveRecord | null {
  const t = text.trim();
  if (t === '') return null;
  try {
    return { value: JSON.parse(t) as unknown, position };
  } catch {
    return { error: 'line is not valid JSON', position };
  }
}

/** Is this file JSON Lines (read as it grows) or one document (read whole once settled)? */
async function detectMode(path: string): Promise<FileCheckpoint['mode']> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, 1024 * 1024));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'document';
    const nl = head.indexOf(10);
    const first = head
      .subarray(0, nl < 0 ? head.length : nl)
      .toString('utf8')
      .trim();
    if (first === '') return nl < 0 ? 'lines' : 'document';
    try {
      JSON.parse(first);
      return 'lines';
    } catch {
      return first[0] === '{' || first[0] === '[' ? 'document' : 'lines';
    }
  } finally {
    await fh.close();
  }
}

async function* readDocument(path: string, size: number): AsyncGenerator<LiveBatch> {
  let records: LiveRecord[] = [];
  for await (const item of readItems({ name: path, open: () => createReadStream(path, { end: size - 1 }) })) {
    records.push(item);
    if (records.length >= DOC_BATCH) {
      yield { records, origin: path };
      records = [];
    }
  }
  const cp: FileCheckpoint = { offset: size, line: 0, mode: 'document' };
  yield { records, origin: path, checkpoint: { key: `files:${path}`, value: JSON.stringify(cp) } };
}

async function* readLines(
  path: string,
  from: FileCheckpoint,
  size: number,
  settled: boolean,
  signal: AbortSignal,
): AsyncGenerator<LiveBatch> {
  const fh = await open(path, 'r');
  try {
    let { offset, line } = from;
    let want = CHUNK;
    while (offset < size && !signal.aborted) {
      const buf = Buffer.alloc(Math.min(want, size - offset));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      const data = buf.subarray(0, bytesRead);
      const atEnd = offset + bytesRead >= size;
      let cut = data.lastIndexOf(10) + 1;
      if (cut === 0) {
        // A last line without a newline is read once the file stopped growing and the line is whole
        // JSON; otherwise it is still being written.
        const last = atEnd && settled ? parseLine(data.toString('utf8'), '') : null;
        if (last && !('error' in last)) cut = data.length;
        else if (!atEnd && want < MAX_LINE) {
          want *= 2; // one line longer than a chunk: read more of it
          continue;
        } else if (!atEnd)
          cut = data.length; // a line over MAX_LINE: set aside below
        else break; // a partial last line: wait for the rest
      }
      const records: LiveRecord[] = [];
      const text = data.subarray(0, cut).toString('utf8');
      const parts = text.split('\n');
      if (text.endsWith('\n')) parts.pop(); // the empty string after the final newline
      for (const l of parts) {
        line++;
        const r =
          l.length > MAX_LINE
            ? { error: `line over ${MAX_LINE / 1024 / 1024} MiB`, position: `line ${line}` }
            : parseLine(l, `line ${line}`);
        if (r) records.push(r);
      }
      offset += cut;
      want = CHUNK;
      const cp: FileCheckpoint = { offset, line, mode: 'lines' };
      yield { records, origin: path, checkpoint: { key: `files:${path}`, value: JSON.stringify(cp) } };
    }
  } finally {
    await fh.close();
  }
}

/**
 * Files as a sync tool writes them: a directory tree (CloudTrail's S3 layout, Key Vault
 * `insights-logs-auditevent/.../PT1H.json` blobs that grow during their hour), or stdin. JSON Lines files
 * are read from the byte after the last complete line read; whole documents once they settle.
 * Checkpoint per file.
 */
export const filesSource = defineLiveSource({
  type: 'files',
  description: 'a directory tree as files arrive and grow, or stdin (`-`)',
  config: Config,
  create(config, deps) {
    if (config.path === '-') {
      let ended = false;
      return [
        {
          id: 'files:-',
          type: 'files',
          pollIntervalMs: config.pollInterval,
          timeRanged: false,
          async *poll(ctx: PollContext) {
            if (ended) return;
            const stream = deps.stdin as Readable;
            const stop = () => stream.destroy();
            ctx.signal.addEventListener('abort', stop, { once: true });
            let carry = '';
            let line = 0;
            const lines = (text: string): LiveRecord[] => {
              const out: LiveRecord[] = [];
              for (const l of text.split('\n')) {
                line++;
                const r = parseLine(l, `line ${line}`);
                if (r) out.push(r);
              }
              return out;
            };
            try {
              for await (const chunk of stream) {
                const text = carry + (typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8'));
                const cut = text.lastIndexOf('\n');
                carry = text.slice(cut + 1);
                if (cut >= 0)
                  yield { records: lines(text.slice(0, cut)), origin: '-', watermark: deps.clock.now() };
              }
              if (carry.trim()) yield { records: lines(carry), origin: '-', watermark: deps.clock.now() };
              ended = true;
            } catch (err) {
              if (!ctx.signal.aborted) throw err;
            } finally {
              ctx.signal.removeEventListener('abort', stop);
            }
          },
        },
      ];
    }
    const root = resolve(deps.cwd, config.path);
    const id = `files:${root}`;
    return [
      {
        id,
        type: 'files',
        pollIntervalMs: config.pollInterval,
        timeRanged: false,
        async *poll(ctx: PollContext) {
          const st = await stat(root);
          const files = st.isDirectory() ? await walk(root) : [root];
          for (const path of files) {
            if (ctx.signal.aborted) return;
            const fst = await stat(path).catch(() => null);
            if (!fst) continue; // removed since the listing
            let cp = readCheckpoint(ctx.checkpoint(`files:${path}`));
            if (cp && cp.offset === fst.size) continue;
            if (cp && fst.size < cp.offset) cp = undefined; // truncated or replaced: read it again
            const settled = ctx.now - fst.mtimeMs >= config.settle;
            const mode = cp?.mode ?? (fst.size > 0 ? await detectMode(path) : 'lines');
            if (mode === 'document') {
              if (settled) yield* readDocument(path, fst.size);
            } else {
              yield* readLines(path, cp ?? { offset: 0, line: 0, mode }, fst.size, settled, ctx.signal);
            }
          }
          yield { records: [], origin: id, watermark: ctx.now };
        },
      },
    ];
  },
});
