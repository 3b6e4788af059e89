import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alert } from '../../core/alert.js';
import { SecretAccessEvent } from '../../core/event.js';
import { cloudTrailRecord, keyVaultRecord } from '../../demo/records.js';
import { runCli, tempDir } from '../helpers.js';

const ACCT = '111122223333';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2, 9);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:${name}-AbCdEf`;

function read(seed: string, t: number, role: string, session: string, secretId: string, extra: object = {}) {
  return cloudTrailRecord({
    time: t,
    actor: { kind: 'role', account: ACCT, role, session },
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'GetSecretValue',
    requestParameters: { secretId },
    sourceIPAddress: '10.1.2.3',
    userAgent: 'aws-sdk-nodejs/3',
    seed,
    ...extra,
  });
}

/** A directory of logs in several containers, with damage in some of them. */
function writeLogs(dir: string) {
  const history = [];
  for (let d = 0; d < 10; d++) history.push(read(`h${d}`, T0 + d * DAY, 'app', `s${d}`, 'prod/db'));
  // After the 7-day learning period the app role reads a secret it never read, by full ARN.
  const odd = read('odd', T0 + 9 * DAY + 3600_000, 'app', 'lambda-x', arn('prod/payments'));
  const denied = read('den', T0 + 9 * DAY, 'app', 's', 'prod/admin', { errorCode: 'AccessDeniedException' });
  const other = {
    ...read('ec2', T0, 'app', 's', 'x'),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
  };
  writeFileSync(join(dir, 'trail.json.gz'), gzipSync(JSON.stringify({ Records: [...history, other] })));
  writeFileSync(
    join(dir, 'more.ndjson'),
    `${JSON.stringify(odd)}\nthis is not json\n${JSON.stringify(denied)}\n`,
  );
  const full = gzipSync(JSON.stringify({ Records: [read('t1', T0, 'app', 's', 'prod/db')] }));
  writeFileSync(join(dir, 'cut.json.gz'), full.subarray(0, full.length - 12));
  const kv = keyVaultRecord({
    time: T0,
    subscription: 'sub-1',
    resourceGroup: 'rg',
    vault: 'kv1',
    operationName: 'SecretGet',
    objectUri: 'https://kv1.vault.azure.net/secrets/api-key/0123456789abcdef',
    callerIp: '20.1.1.1',
    identity: { oid: 'oid-1', appid: 'app-1' },
    seed: 'kv',
  });
  const { time: _t, ...missingTime } = kv;
  writeFileSync(join(dir, 'PT1H.json'), `${JSON.stringify(kv)}\n${JSON.stringify(missingTime)}\n`);
  writeFileSync(join(dir, 'weird.json'), JSON.stringify({ hello: 'world' }));
}

describe('vigil CLI', () => {
  let dir: string;
  let logs: string;
  let db: string;

  beforeAll(() => {
    dir = tempDir();
    logs = join(dir, 'logs');
    db = join(dir, 'store', 'vigil.db');
    mkdirSync(logs);
    writeLogs(logs);
  });

  it('documents every command, and each has --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const names = ['run', 'normalize', 'ingest', 'query', 'alerts', 'quarantine'];
    for (const n of names) expect(top.stdout).toContain(`  ${n}`);
    for (const n of names) {
      const r = await runCli([n, '--help']);
      expect(r.code, n).toBe(0);
      expect(r.stdout).toContain(`Usage: vigil ${n}`);
    }
  });

  it('refuses a bad flag or a missing path with one line and exit 2', async () => {
    const bad = await runCli(['query', '--db', db, '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--nope');
    const missing = await runCli(['ingest', join(dir, 'no-such-dir'), '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory: .*no-such-dir/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const fmt = await runCli(['query', '--db', db, '--format', 'xml']);
    expect(fmt.code).toBe(2);
    const threads = await runCli(['ingest', logs, '--db', db, '--threads', '0']);
    expect(threads.code).toBe(2);
    // One line, naming the flag, and the command said once.
    expect(threads.stderr.trim().split('\n')).toEqual([
      'vigil ingest: --threads must be a whole number from 1 to 64, not 0',
    ]);
  });

  it('normalizes to NDJSON of valid events, with a summary on stderr', async () => {
    const r = await runCli(['normalize', logs]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => SecretAccessEvent.parse(JSON.parse(l)));
    // 10 history + 1 new + 1 denied + 1 key vault (the truncated gzip holds no complete record)
    expect(events).toHaveLength(13);
    expect(r.stderr).toMatch(/5 files/);
    expect(r.stderr).toMatch(/1 skipped/);
    expect(r.stderr).toMatch(/4 quarantined/);
    expect(r.stderr).toContain('truncated gzip');
  });

  it('normalizes on worker threads with --threads, to the same output and summary', async () => {
    const one = await runCli(['normalize', logs, '--threads', '1']);
    const two = await runCli(['normalize', logs, '--threads', '2']);
    expect(two.code).toBe(one.code);
    expect(one.stdout.split('\n').length).toBeGreaterThan(10);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stderr).toBe(one.stderr);
    const ocsf = await runCli(['normalize', '--ocsf', logs, '--threads', '2']);
    expect(ocsf.stdout).toBe((await runCli(['normalize', '--ocsf', logs, '--threads', '1'])).stdout);
    const bad = await runCli(['normalize', logs, '--threads', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'vigil normalize: --threads must be a whole number from 1 to 64, not many',
    ]);
  }, 30_000);

  it('writes OCSF API Activity events with --ocsf', async () => {
    const r = await runCli(['normalize', '--ocsf', join(logs, 'more.ndjson')]);
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    for (const o of out) expect(o.class_uid).toBe(6003);
  });

  it('reads stdin with -', async () => {
    const line = JSON.stringify(read('stdin', T0, 'app', 's', 'prod/db'));
    const r = await runCli(['normalize', '-'], { input: `${line}\n` });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).principal.id).toBe(`arn:aws:iam::${ACCT}:role/app`);
  });

  it('ingests, alerts once, quarantines with reasons, and is idempotent', async () => {
    const out = join(dir, 'alerts.ndjson');
    const first = await runCli(['ingest', logs, '--db', db, '--alerts-out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    expect(first.stderr).toMatch(/stored 13 new events/);
    expect(first.stderr).toMatch(/alerts: 1 new \(high 1\)/);
    const alerts = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Alert.parse(JSON.parse(l)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.detector).toBe('new-access');
    expect(alerts[0]!.resource?.name).toBe('prod/payments');
    expect(alerts[0]!.evidence.summary).toMatch(/first time/);
    expect(first.stdout).toContain('[HIGH]');

    const again = await runCli(['ingest', logs, '--db', db, '--alerts-out', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/stored 0 new events \(13 already stored\)/);
    expect(again.stderr).toMatch(/alerts: 0 new/);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1);

    const q = await runCli(['quarantine', '--db', db, '--json']);
    const reasons = q.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).reason as string);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'line is not valid JSON',
        'truncated gzip',
        expect.stringMatching(/^keyvault: time/),
        expect.stringMatching(/^unknown record shape/),
      ]),
    );
  });

  it('answers audit queries: same secret by name and ARN, filters combine, json/csv/count', async () => {
    const byName = await runCli(['query', '--db', db, '--secret', 'prod/payments', '--format', 'json']);
    const byArn = await runCli(['query', '--db', db, '--secret', arn('prod/payments'), '--format', 'json']);
    expect(JSON.parse(byName.stdout)).toHaveLength(1);
    expect(byArn.stdout).toBe(byName.stdout);

    const count = await runCli(['query', '--db', db, '--principal', 'app', '--count']);
    expect(count.stdout.trim()).toBe('12');
    const denied = await runCli(['query', '--db', db, '--denied', '--format', 'csv']);
    const rows = denied.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^time,principal_id/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain('AccessDeniedException');
    const window = await runCli([
      'query',
      '--db',
      db,
      '--secret',
      'prod/db',
      '--since',
      new Date(T0 + 2 * DAY).toISOString(),
      '--until',
      new Date(T0 + 4 * DAY).toISOString(),
      '--count',
    ]);
    expect(window.stdout.trim()).toBe('2');
    const table = await runCli(['query', '--db', db, '--secret', 'prod/payments', '--tz', 'Europe/Berlin']);
    expect(table.stdout).toContain('2026-11-11T11:00:00.000+01:00');
    const none = await runCli(['query', '--db', db, '--secret', 'nothing-like-this', '--count']);
    expect(none.stdout.trim()).toBe('0');
  });

  it('exits 1 when nothing could be ingested', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, 'not json at all\n');
    const r = await runCli(['ingest', bad, '--db', join(dir, 'other.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 quarantined/);
  });

  it('npm start runs the demo without network or credentials and shows its alerts', async () => {
    const cwd = tempDir();
    const r = await runCli(['run'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('orders-api');
    expect(r.stdout).toContain('signing-key');
    expect(r.stderr).toMatch(/Try next:/);
    expect(statSync(join(cwd, '.vigil', 'demo', 'demo.db')).mode & 0o777).toBe(0o600);
  });

  it('rejects a config file with an unknown field, naming it', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'vigil.config.json'), JSON.stringify({ store: { path: 'x.db', colour: 'red' } }));
    const r = await runCli(['ingest', logs], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('store: unknown field colour');
  });
});
