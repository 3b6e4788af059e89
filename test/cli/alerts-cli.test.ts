import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudTrailRecord } from '../../demo/records.js';
import { runCli, tempDir } from '../helpers.js';

const ACCT = '111122223333';
const T0 = Date.UTC(2026, 10, 2, 9);

/** Logs with one event that alerts from the first event: a secret deleted without a recovery window. */
function writeLogs(dir: string) {
  const recs = [
    cloudTrailRecord({
      time: T0,
      actor: { kind: 'user', account: ACCT, user: 'mallory' },
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'DeleteSecret',
      requestParameters: { secretId: 'prod/payments', forceDeleteWithoutRecovery: true },
      sourceIPAddress: '198.51.100.9',
      userAgent: 'aws-cli/2.15.0',
      readOnly: false,
      seed: 'del',
    }),
  ];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trail.json'), JSON.stringify({ Records: recs }));
}

describe('alert delivery from the CLI (zero configuration, dead letters, test)', () => {
  let server: Server;
  let url: string;
  let mode: 'ok' | 'gone' = 'ok';
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (mode === 'gone') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service');
          return;
        }
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/s3cr3tT0kenXYZ`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('delivers to Slack with only VIGIL_SLACK_WEBHOOK_URL set, and never prints the URL', async () => {
    const dir = tempDir();
    writeLogs(join(dir, 'logs'));
    const env = { VIGIL_SLACK_WEBHOOK_URL: url };
    const r = await runCli(['ingest', join(dir, 'logs'), '--db', join(dir, 'v.db'), '-q'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/delivered: slack 1/);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('prod/payments');
    expect(r.stdout + r.stderr).not.toContain('s3cr3tT0ken');

    const t = await runCli(['alerts', 'test', 'slack'], { env });
    expect(t.code, t.stderr).toBe(0);
    expect(bodies).toHaveLength(2);
    expect(t.stderr).not.toContain('s3cr3tT0ken');
  });

  it('dead-letters a revoked webhook, lists it, and redelivers once it works again', async () => {
    const dir = tempDir();
    writeLogs(join(dir, 'logs'));
    const env = { VIGIL_SLACK_WEBHOOK_URL: url };
    const db = join(dir, 'v.db');
    mode = 'gone';
    const before = bodies.length;
    const r = await runCli(['ingest', join(dir, 'logs'), '--db', db, '-q'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/slack 1 failed/);
    const failed = await runCli(['alerts', '--failed', '--db', db, '--json'], { env });
    const rows = failed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(rows[0].sink).toBe('slack');
    expect(rows[0].reason).toMatch(/no_service|404/);
    expect(failed.stdout).not.toContain('s3cr3tT0ken');

    mode = 'ok';
    const again = await runCli(['alerts', 'redeliver', '--db', db], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/1 deliveries queued again/);
    expect(bodies.length).toBe(before + 1);
    const none = await runCli(['alerts', '--failed', '--db', db], { env });
    expect(none.stderr).toMatch(/no failed deliveries/);
  });

  it('refuses a webhook URL written in clear in the config file, naming the field', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'vigil.config.json'),
      JSON.stringify({ alerts: { sinks: { team: { type: 'slack', webhookUrl: url } } } }),
    );
    writeLogs(join(dir, 'logs'));
    const r = await runCli(['ingest', 'logs', '--db', 'v.db'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('alerts.sinks.team.webhookUrl');
    expect(r.stderr).not.toContain('s3cr3tT0ken');
  });
});
