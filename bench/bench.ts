/**
 * `npm run bench [-- --records N] [--kv N] [--rounds N] [--keep] [--data DIR]`: generates CloudTrail records (as
 * S3 `.json.gz` files of 100 records and as one NDJSON file) and Key Vault AuditEvent records (PT1H.json JSON
 * Lines) in a temp directory, then measures, each phase in its own child process so that peak RSS is its own,
 * in rounds (default 2) that run every phase of an input once, keeping each phase's fastest run:
 * - raw: gunzip + JSON.parse of the same bytes (the ceiling for any reader);
 * - normalize: normalizeInputs over the files (reader, containers, sources), on one thread, in process;
 * - `vigil normalize` to /dev/null: the command end to end (start-up, workers on every core, NDJSON out);
 * - ingest: `vigil ingest` into a fresh SQLite file (normalize, store, detect), with its time split and its
 *   CPU time per event, which bounds what the cores could make of the work;
 * - jq: `jq -c select(...)` over the NDJSON, when jq is installed.
 * Prints records/s, peak RSS and the ratio to raw. Also runs normalize over a tenth of the NDJSON to show
 * whether peak memory grows with input size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PER_FILE = 100;

const { values } = parseArgs({
  options: {
    records: { type: 'string' },
    kv: { type: 'string' },
    keep: { type: 'boolean' },
    phase: { type: 'string' },
    input: { type: 'string' },
    kind: { type: 'string' },
    'no-ingest': { type: 'boolean' },
    rounds: { type: 'string' },
    data: { type: 'string' },
  },
});

// ---------- phases (run in a child process) ----------

interface PhaseResult {
  /** For ingest: seconds spent reading + storing and detecting. */
  split?: { readAndStore: number; detect: number };
  records: number;
  ms: number;
  maxRssMb: number;
  /** CPU time of the whole process (all threads) during the pass, when measured in-process. */
  cpuMs?: number;
}

async function rawPhase(input: string, kind: string): Promise<number> {
  let n = 0;
  if (kind === 'gz') {
    for (const f of readdirSync(input).sort()) {
      const doc = JSON.parse(gunzipSync(readFileSync(join(input, f))).toString('utf8')) as {
        Records: unknown[];
      };
      n += doc.Records.length;
    }
    return n;
  }
  let carry = '';
  for await (const chunk of createReadStream(input, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = carry + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (nl > start) {
        JSON.parse(text.slice(start, nl));
        n++;
      }
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  if (carry.trim()) {
    JSON.parse(carry);
    n++;
  }
  return n;
}

async function normalizePhase(input: string, batches: boolean): Promise<number> {
  const stats = new pipeline.IngestStats();
  if (batches) {
    for await (const _ of pipeline.normalizeBatches([input], stats)) {
      // consume
    }
  } else {
    for await (const _ of pipeline.normalizeInputs([input], stats)) {
      // consume
    }
  }
  if (stats.quarantinedTotal > 0)
    throw new Error(`bench data quarantined: ${JSON.stringify(stats.toJSON())}`);
  return stats.records;
}

let pipeline: typeof import('../ingest/pipeline.js');

async function runPhase(): Promise<void> {
  const input = values.input!;
  // Module loading (TypeScript transpiled on the fly) is not part of the measured pass.
  pipeline = await import('../ingest/pipeline.js');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const records =
    values.phase === 'raw'
      ? await rawPhase(input, values.kind ?? 'ndjson')
      : await normalizePhase(input, values.phase === 'normalize-batches');
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const result: PhaseResult = {
    records,
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function child(phase: string, input: string, kind: string): PhaseResult {
  const out = execFileSync(
    process.execPath,
    [
      join(REPO, 'bin/run-ts.mjs'),
      join(REPO, 'bench/bench.ts'),
      '--phase',
      phase,
      '--input',
      input,
      '--kind',
      kind,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as PhaseResult;
}

/** A command under /usr/bin/time: wall time and peak RSS of the whole process tree's largest process. */
function timed(cmd: string, args: string[], records: number, stdoutFile?: string): PhaseResult | string {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', cmd, ...args], {
    encoding: 'utf8',
    cwd: REPO,
    maxBuffer: 64 << 20,
    stdio: ['ignore', stdoutFile ? 'ignore' : 'pipe', 'pipe'],
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) return `exit ${r.status}: ${(r.stderr ?? '').split('\n').slice(-4).join(' | ')}`;
  const kb = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN);
  const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const cpuMs = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined;
  // `vigil ingest` says how its time split: "took T s: reading and storing A s, detection B s, ...".
  const took = /took ([\d.]+) s: reading and storing ([\d.]+) s, detection ([\d.]+) s/.exec(r.stderr);
  const split = took ? { readAndStore: Number(took[2]), detect: Number(took[3]) } : undefined;
  return {
    records,
    ms,
    maxRssMb: kb / 1024,
    ...(cpuMs !== undefined ? { cpuMs } : {}),
    ...(split ? { split } : {}),
  };
}

const INGEST = 'ingest (normalize+detect+store)';

/**
 * The bound the work per event sets on ingest: the run's CPU per event (all threads, start-up taken off)
 * spread over `cores` kept busy without loss, against the raw pass; and how much of it the run reached.
 */
function ceiling(
  name: string,
  run: PhaseResult,
  raw: PhaseResult,
  cores: number,
  startup: PhaseResult | undefined,
): string {
  if (run.cpuMs === undefined) return `${name}: no CPU time measured`;
  const perEvent = ((run.cpuMs - (startup?.cpuMs ?? 0)) / run.records) * 1000;
  const bound = (cores / perEvent) * 1e6;
  const rawRate = (raw.records / raw.ms) * 1000;
  const rate = (run.records / (run.ms - (startup?.ms ?? 0))) * 1000;
  return (
    `${name}: ${perEvent.toFixed(1)} µs of CPU per event (all threads; the raw pass: ` +
    `${(1e6 / rawRate).toFixed(1)} µs); ${cores} cores always busy: ${fmt(bound)} records/s = ` +
    `${((bound / rawRate) * 100).toFixed(0)} % of raw; ingest reached ${((rate / bound) * 100).toFixed(0)} % of that`
  );
}

// ---------- data ----------

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ACCOUNT = '111122223333';
const REGIONS = ['us-east-1', 'eu-west-1'];
const ROLES = Array.from({ length: 40 }, (_, i) => `svc-${i}`);
const SECRETS = Array.from({ length: 300 }, (_, i) => `prod/app-${i % 60}/secret-${i}`);

function cloudTrailRecord(i: number, r: () => number): Record<string, unknown> {
  const region = REGIONS[i % 2]!;
  const role = ROLES[Math.floor(r() * ROLES.length)]!;
  const session = `${role}-task-${Math.floor(r() * 50)}`; // sessions recur, as Lambda and ECS sessions do
  const secret = SECRETS[Math.floor(r() * SECRETS.length)]!;
  const time = new Date(Date.UTC(2024, 4, 1) + i * 250).toISOString().replace('.000Z', 'Z');
  const kind = i % 10;
  const userIdentity = {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE${role.length}:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: `ASIA${String(i).padStart(16, '0')}`,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLE',
        arn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
        accountId: ACCOUNT,
        userName: role,
      },
      attributes: { creationDate: time, mfaAuthenticated: 'false' },
    },
  };
  const base = {
    eventVersion: '1.09',
    userIdentity,
    eventTime: time,
    awsRegion: region,
    sourceIPAddress: `10.0.${i % 250}.${(i >> 8) % 250}`,
    userAgent:
      'aws-sdk-java/2.25.10 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10 Java/17.0.10 vendor/Amazon.com_Inc.',
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `secretsmanager.${region}.amazonaws.com`,
    },
  };
  if (kind < 6) {
    const id = i % 3 === 0 ? `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${secret}-Ab12Cd` : secret;
    return {
      ...base,
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      requestParameters: { secretId: id },
    };
  }
  if (kind < 8) {
    return {
      ...base,
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      userIdentity: { ...userIdentity, invokedBy: 'secretsmanager.amazonaws.com' },
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      requestParameters: {
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        encryptionContext: {
          SecretARN: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${secret}-Ab12Cd`,
          SecretVersionId: 'v1',
        },
      },
      resources: [
        {
          accountId: ACCOUNT,
          type: 'AWS::KMS::Key',
          ARN: `arn:aws:kms:${region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        },
      ],
    };
  }
  if (kind < 9) {
    return {
      ...base,
      eventSource: 'ssm.amazonaws.com',
      eventName: 'GetParameter',
      requestParameters: { name: `/${secret}`, withDecryption: true },
    };
  }
  return {
    ...base,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    requestParameters: { maxResults: 100 },
  };
}

function keyVaultRecord(i: number, r: () => number): Record<string, unknown> {
  const secret = `secret-${Math.floor(r() * 200)}`;
  return {
    time: new Date(Date.UTC(2024, 4, 1) + i * 500).toISOString().replace('Z', '1234Z'),
    category: 'AuditEvent',
    operationName: i % 5 === 0 ? 'SecretList' : 'SecretGet',
    resultType: 'Success',
    correlationId: `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`,
    callerIpAddress: `52.168.${i % 250}.${(i >> 8) % 250}`,
    identity: {
      claim: {
        oid: `0000${i % 30}-0000-4000-8000-000000000000`,
        appid: `1111${i % 30}-0000-4000-8000-000000000000`,
        tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      },
    },
    properties: {
      id: `https://contoso-kv.vault.azure.net/secrets/${secret}/4387e9f3d6e14c459867679a90fd0f79`,
      clientInfo: 'FxVersion/4.8 azsdk-net-Security.KeyVault.Secrets/4.5.0',
      httpStatusCode: 200,
      requestUri: `https://contoso-kv.vault.azure.net/secrets/${secret}?api-version=7.4`,
      isAccessPolicyMatch: true,
    },
    resourceId: '/SUBSCRIPTIONS/0F1E2D3C/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/CONTOSO-KV',
    operationVersion: '7.4',
    resultSignature: 'OK',
    durationMs: '12',
  };
}

async function writeLines(path: string, n: number, make: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += `${make(i)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

/** The data's paths in `dir`. */
function dataIn(dir: string) {
  return {
    s3: join(dir, 's3'),
    ndjson: join(dir, 'cloudtrail.ndjson'),
    tenth: join(dir, 'cloudtrail-tenth.ndjson'),
    kvFile: join(dir, 'PT1H.json'),
  };
}

/** Data of these sizes is already in `dir` (written by an earlier run with --keep). */
function generated(dir: string, records: number, kv: number): boolean {
  try {
    const made = JSON.parse(readFileSync(join(dir, 'sizes.json'), 'utf8')) as { records: number; kv: number };
    return made.records === records && made.kv === kv;
  } catch {
    return false;
  }
}

async function generate(dir: string, records: number, kv: number) {
  const { s3, ndjson, tenth, kvFile } = dataIn(dir);
  mkdirSync(s3);
  let r = rng(1);
  for (let f = 0; f * PER_FILE < records; f++) {
    const list = [];
    for (let i = f * PER_FILE; i < Math.min(records, (f + 1) * PER_FILE); i++)
      list.push(cloudTrailRecord(i, r));
    const name = `${ACCOUNT}_CloudTrail_us-east-1_20240501T0000Z_${String(f).padStart(6, '0')}.json.gz`;
    writeFileSync(join(s3, name), gzipSync(JSON.stringify({ Records: list })));
  }
  r = rng(1);
  await writeLines(ndjson, records, (i) => JSON.stringify(cloudTrailRecord(i, r)));
  r = rng(1);
  await writeLines(tenth, Math.ceil(records / 10), (i) => JSON.stringify(cloudTrailRecord(i, r)));
  r = rng(2);
  await writeLines(kvFile, kv, (i) => JSON.stringify(keyVaultRecord(i, r)));
  writeFileSync(join(dir, 'sizes.json'), JSON.stringify({ records, kv }));
  return { s3, ndjson, tenth, kvFile };
}

// ---------- report ----------

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const records = Number(values.records ?? 1_000_000);
  const kv = Number(values.kv ?? Math.round(records / 5));
  const rounds = Number(values.rounds ?? 2);
  if (!(records > 0 && kv > 0)) throw new Error('--records and --kv must be positive numbers');
  if (!(Number.isInteger(rounds) && rounds >= 1))
    throw new Error('--rounds must be a whole number, 1 or more');
  // --data DIR: the data an earlier run left there, when it has these sizes; else made there (and kept).
  const reuse = values.data !== undefined;
  const dir = reuse ? resolve(values.data!) : mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  try {
    let data = dataIn(dir);
    if (reuse && generated(dir, records, kv)) {
      process.stderr.write(`reading the data already in ${dir}\n`);
    } else {
      if (reuse) {
        mkdirSync(dir, { recursive: true });
        if (readdirSync(dir).length > 0)
          throw new Error(`--data ${dir}: not empty, and not bench data of these sizes (--records, --kv)`);
      }
      process.stderr.write(
        `generating ${fmt(records)} CloudTrail records and ${fmt(kv)} Key Vault records in ${dir} ...\n`,
      );
      data = await generate(dir, records, kv);
    }
    const size = (p: string) =>
      statSync(p).isDirectory()
        ? readdirSync(p).reduce((a, f) => a + statSync(join(p, f)).size, 0)
        : statSync(p).size;
    const sets = [
      {
        name: `CloudTrail S3 .json.gz (${fmt(Math.ceil(records / PER_FILE))} files)`,
        path: data.s3,
        kind: 'gz',
      },
      { name: 'CloudTrail NDJSON', path: data.ndjson, kind: 'ndjson' },
      { name: 'Key Vault PT1H.json', path: data.kvFile, kind: 'ndjson' },
    ];
    const jq = spawnSync('jq', ['--version']).status === 0;
    const cores = Math.min(4, availableParallelism());
    let cliNdjson: PhaseResult | undefined;
    const rows: string[][] = [['input', 'phase', 'records/s', 'peak RSS MB', 'vs raw']];
    const splits: string[] = [];
    const ceilings: string[] = [];
    // What starting `vigil ingest` costs (loading, opening the store): taken off the ingest runs' times
    // for the ceiling, which is about the work per event.
    const startDir = mkdtempSync(join(tmpdir(), 'vigil-bench-start-'));
    const startup = (() => {
      const one = join(startDir, 'one.ndjson');
      writeFileSync(one, `${JSON.stringify(cloudTrailRecord(0, rng(1)))}\n`);
      let best: PhaseResult | undefined;
      for (let i = 0; i < 3; i++) {
        const db = join(startDir, `start-${i}.db`);
        const r = timed(
          process.execPath,
          [join(REPO, 'bin/vigil.mjs'), 'ingest', one, '--db', db, '--quiet'],
          1,
        );
        if (typeof r !== 'string' && (best === undefined || r.ms < best.ms)) best = r;
      }
      rmSync(startDir, { recursive: true, force: true });
      return best;
    })();
    for (const set of sets) {
      process.stderr.write(`${set.name}: ${(size(set.path) / 1e6).toFixed(0)} MB on disk\n`);
      const rate = (p: PhaseResult) => (p.records / p.ms) * 1000;
      const count = set.path === data.kvFile ? kv : records;
      const phases: { name: string; run: () => PhaseResult | string }[] = [
        { name: 'raw gunzip+JSON.parse', run: () => child('raw', set.path, set.kind) },
        { name: 'normalize, 1 thread (API)', run: () => child('normalize', set.path, set.kind) },
        {
          name: 'normalize, 1 thread (batch API)',
          run: () => child('normalize-batches', set.path, set.kind),
        },
        // The command, start-up and writing NDJSON included, with its workers (one per core).
        {
          name: 'vigil normalize > /dev/null',
          run: () =>
            timed(process.execPath, [join(REPO, 'bin/vigil.mjs'), 'normalize', set.path], count, '/dev/null'),
        },
      ];
      if (!values['no-ingest']) {
        const db = join(dir, `ingest-${sets.indexOf(set)}.db`);
        const ingest = (extra: string[]) => () => {
          // A fresh store: one left by an earlier run would make every event a duplicate.
          for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
          return timed(
            process.execPath,
            [join(REPO, 'bin/vigil.mjs'), 'ingest', set.path, '--db', db, '--quiet', ...extra],
            count,
          );
        };
        phases.push({ name: INGEST, run: ingest([]) });
      }
      if (jq && set.path === data.ndjson) {
        phases.push({
          name: 'jq select',
          run: () =>
            timed(
              'jq',
              ['-c', 'select(.eventSource == "secretsmanager.amazonaws.com")', set.path],
              records,
              '/dev/null',
            ),
        });
      }
      // Rounds, each phase once per round: the best of each, so a slow spell of a shared machine
      // weighs on no one phase alone; peak memory is the largest seen.
      const best = new Map<string, PhaseResult | string>();
      for (let round = 1; round <= rounds; round++) {
        for (const phase of phases) {
          const r = phase.run();
          const was = best.get(phase.name);
          if (typeof r === 'string' || was === undefined || typeof was === 'string') {
            if (typeof was !== 'string') best.set(phase.name, r);
            continue;
          }
          const peak = Math.max(was.maxRssMb, r.maxRssMb);
          best.set(phase.name, { ...(r.ms < was.ms ? r : was), maxRssMb: peak });
        }
      }
      const raw = best.get('raw gunzip+JSON.parse')!;
      if (typeof raw === 'string') throw new Error(`raw pass failed: ${raw}`);
      for (const phase of phases) {
        const p = best.get(phase.name)!;
        rows.push(
          typeof p === 'string'
            ? [set.name, phase.name, p, '', '']
            : [
                set.name,
                phase.name,
                fmt(rate(p)),
                p.maxRssMb.toFixed(0),
                `${((rate(p) / rate(raw)) * 100).toFixed(0)} %`,
              ],
        );
        if (typeof p === 'string') continue;
        if (phase.name === 'vigil normalize > /dev/null' && set.path === data.ndjson) cliNdjson = p;
        if (phase.name === INGEST) ceilings.push(ceiling(set.name, p, raw, cores, startup));
        if (p.split)
          splits.push(
            `${set.name}, ${phase.name}: reading+storing ${p.split.readAndStore} s, detection ${p.split.detect} s`,
          );
      }
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
    for (const r of rows) process.stdout.write(`${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}\n`);

    const small = child('normalize', data.tenth, 'ndjson');
    const big = child('normalize', data.ndjson, 'ndjson');
    process.stdout.write(
      `\npeak memory vs input size (normalize, NDJSON): ${fmt(small.records)} records -> ${small.maxRssMb.toFixed(0)} MB, ` +
        `${fmt(big.records)} records -> ${big.maxRssMb.toFixed(0)} MB ` +
        `(x${(big.maxRssMb / small.maxRssMb).toFixed(2)} memory for x${(big.records / small.records).toFixed(0)} input)\n`,
    );
    const cliSmall = timed(
      process.execPath,
      [join(REPO, 'bin/vigil.mjs'), 'normalize', data.tenth],
      small.records,
      '/dev/null',
    );
    if (cliNdjson && typeof cliSmall !== 'string')
      process.stdout.write(
        `peak memory vs input size (vigil normalize, NDJSON): ${fmt(cliSmall.records)} records -> ${cliSmall.maxRssMb.toFixed(0)} MB, ` +
          `${fmt(cliNdjson.records)} records -> ${cliNdjson.maxRssMb.toFixed(0)} MB ` +
          `(x${(cliNdjson.maxRssMb / cliSmall.maxRssMb).toFixed(2)} memory for x${(cliNdjson.records / cliSmall.records).toFixed(0)} input)\n`,
      );
    process.stdout.write(
      `each phase: the fastest of ${rounds} round${rounds === 1 ? '' : 's'}, the phases of an input taking turns (peak RSS: the largest).\n` +
        'normalize, 1 thread: the normalizeInputs API, whose caller takes the events on its own thread (handing\n' +
        '  events between threads costs about what making them does).\n' +
        `vigil normalize: for inputs of 16 MB or more, ${cores} workers (one per core) parse, normalize and write NDJSON\n` +
        '  bytes while the main thread reads (cutting large JSON Lines files into 1 MiB runs of lines) and writes\n' +
        '  them out in input order; start-up (about 0.5 s) included.\n' +
        'ingest: normalize workers (one per core but one) read, normalize and encode; one worker sends its\n' +
        '  batches to the main thread to store (and stores them itself while the main thread has 4 to store),\n' +
        '  several store their own and send the new events over. The main\n' +
        '  thread detects behind them, in event-time order, while they read (on time-ordered input; otherwise\n' +
        '  after).\n' +
        '  Large files are shared by line among the workers, small ones dealt out.\n',
    );
    if (splits.length)
      process.stdout.write(`\ningest time split:\n${splits.map((l) => `  ${l}\n`).join('')}`);
    if (ceilings.length)
      process.stdout.write(
        `\ningest against what ${cores} cores could make of its work (its CPU time per event, spread over every\n` +
          `  core without a moment idle; start-up, ${((startup?.cpuMs ?? 0) / 1000).toFixed(1)} s of CPU ` +
          `and ${((startup?.ms ?? 0) / 1000).toFixed(1)} s, taken off):\n${ceilings.map((l) => `  ${l}\n`).join('')}`,
      );
  } finally {
    if (values.keep || reuse) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (values.phase) await runPhase();
else await main();
