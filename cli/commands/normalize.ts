import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { UsageError } from '../../core/errors.js';
import { OCSF_VERSION, toOcsf } from '../../ingest/ocsf.js';
import { forcedSource, IngestStats, type ItemSink, normalizeInto } from '../../ingest/pipeline.js';
import { SOURCES } from '../../ingest/sources.js';
import { bool, type Command, type Io, str, threadsOption } from '../command.js';
import { statsLines } from '../common.js';
import { type NormalizeJob, normalizeParallel } from '../normalize-parallel.js';
import { inputFiles, inputWeight, PARALLEL_BYTES } from '../parallel.js';

export const normalizeCommand: Command = {
  name: 'normalize',
  summary: 'print normalized events as NDJSON (no store, no detection)',
  usage: 'vigil normalize PATH... [--format ID] [--ocsf] [--threads N]',
  description:
    'Reads audit logs (files, directories read recursively, `-` for stdin; .gz read transparently; the format\n' +
    'is detected from the content) and prints one normalized SecretAccessEvent per line on stdout.\n' +
    'A summary, with what was skipped and quarantined, goes to stderr. Large inputs are normalized on all\n' +
    'cores; the output keeps the input order either way. `vigil ingest` reads the output back as it is\n' +
    '(ids included), so normalizing and ingesting can happen on different machines or days.',
  positionals: true,
  options: { format: { type: 'string' }, ocsf: { type: 'boolean' }, threads: { type: 'string' } },
  help: [
    { flag: '--format ID', text: `force a source format: ${SOURCES.map((s) => s.id).join(', ')}` },
    {
      flag: '--ocsf',
      text: `write OCSF ${OCSF_VERSION} API Activity events (class 6003) instead, for Security Lake or an OCSF SIEM`,
    },
    {
      flag: '--threads N',
      text: 'worker threads that normalize while this one reads and writes; 1 does everything on one (default: one per core, up to 4, for inputs of 16 MB or more; stdin is read on one)',
    },
  ],
  examples: [
    'vigil normalize ./AWSLogs > events.ndjson',
    'zcat trail.json.gz | vigil normalize - | jq .principal.name',
  ],
  async run(args, io) {
    if (args.positionals.length === 0)
      throw new UsageError('normalize: give at least one PATH (a file, a directory, or - for stdin)');
    const format = str(args, 'format');
    forcedSource(format); // a format no source has: exit 2 now, not from a worker
    const threads = threadsOption(args);
    const job: NormalizeJob = { format, ocsf: bool(args, 'ocsf') };
    const stats = new IngestStats();
    const paths = args.positionals;
    const plan = threads === 1 || paths.includes('-') ? undefined : await inputFiles(paths);
    const parallel = plan !== undefined && (threads !== undefined || inputWeight(plan) >= PARALLEL_BYTES);
    const chunks = parallel
      ? normalizeParallel(plan, job, stats, { threads: threads ?? Math.min(4, availableParallelism()) })
      : inThisThread(paths, job, stats);
    await writeAll(chunks, io);
    for (const line of statsLines(stats)) io.stderr.write(`vigil normalize: ${line}\n`);
    return stats.events > 0 || stats.quarantinedTotal === 0 ? 0 : 1;
  },
};

/** The output in pieces of about 64 KiB, normalized on this thread. */
async function* inThisThread(paths: readonly string[], job: NormalizeJob, stats: IngestStats) {
  let buf = '';
  // Each event is written out as soon as it is made, while it is still in the cache.
  const sink: ItemSink = {
    event: (event) => {
      buf += `${JSON.stringify(job.ocsf ? toOcsf(event) : event)}\n`;
    },
    quarantine: () => {}, // counted in the stats
  };
  for await (const _ of normalizeInto(paths, stats, sink, { format: job.format })) {
    if (buf.length > 65536) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

async function writeAll(chunks: AsyncIterable<string | Uint8Array>, io: Io): Promise<void> {
  for await (const text of chunks) if (!io.stdout.write(text)) await once(io.stdout, 'drain');
}
