import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../cli/config.js';
import { systemClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import { createStreams } from '../../ingest/live/registry.js';
import { budgets } from '../../ingest/live/source.js';
import { Checkpoints } from '../../store/checkpoints.js';
import { tempDir } from '../helpers.js';
import { fakeAwsEnv, rig } from './harness.js';
import { trailRecord } from './records.js';
import { FakeLogs, FILTER_TARGET } from './servers.js';

const MIN = 60_000;
const deps = (cwd = '/') => ({
  env: {},
  stdin: new PassThrough(),
  clock: systemClock,
  budgets: budgets(),
  cwd,
});

describe('source config', () => {
  it('accepts the smallest config, as JSON and as YAML', () => {
    const json = parseConfig('{"sources":[{"type":"cloudtrail-lookup","regions":["us-east-1"]}]}', 'c.json');
    const yaml = parseConfig('sources:\n  - type: cloudtrail-lookup\n    regions: [us-east-1]\n', 'c.yaml');
    for (const c of [json, yaml]) {
      const ids = createStreams(c.sources, deps()).map((s) => s.id);
      expect(ids).toEqual([
        'cloudtrail-lookup:default:us-east-1:secretsmanager',
        'cloudtrail-lookup:default:us-east-1:kms',
        'cloudtrail-lookup:default:us-east-1:ssm',
      ]);
    }
  });

  it.each([
    [
      [{ type: 'cloudtrial-lookup', regions: ['us-east-1'] }],
      'sources[0].type: unknown source type "cloudtrial-lookup"',
    ],
    [[{ type: 'cloudtrail-lookup' }], 'sources[0].regions'],
    [
      [{ type: 'cloudtrail-lookup', regions: ['us-east-1'], region: 'x' }],
      'sources[0]: unknown field region',
    ],
    [
      [{ type: 'cloudtrail-lookup', regions: ['us-east-1'], overlap: 'soon' }],
      'sources[0].overlap: not a duration',
    ],
    [
      [{ type: 'cloudtrail-lookup', regions: ['us-east-1'], accounts: [{ roleArn: 'nope' }] }],
      'sources[0].accounts[0].roleArn',
    ],
    [[{ type: 'cloudwatch-logs', region: 'us-east-1' }], 'sources[0].logGroups'],
    [[{ type: 'files' }], 'sources[0].path'],
    [
      [
        { type: 'files', path: 'a' },
        { type: 'files', path: './a' },
      ],
      'sources[1]: reads the same stream as sources[0]',
    ],
  ])('rejects %j naming the field', (sources, message) => {
    expect(() => createStreams(sources, deps('/tmp'))).toThrow(ConfigError);
    expect(() => createStreams(sources, deps('/tmp'))).toThrow(message);
  });

  it('gives each assumed-role account its own streams and checkpoints', () => {
    const ids = createStreams(
      [
        {
          type: 'cloudtrail-lookup',
          regions: ['us-east-1', 'eu-west-1'],
          eventSources: ['kms'],
          accounts: [
            { roleArn: 'arn:aws:iam::111111111111:role/vigil-reader' },
            { roleArn: 'arn:aws:iam::222222222222:role/vigil-reader', externalId: 'vigil-ext' },
          ],
        },
      ],
      deps(),
    ).map((s) => s.id);
    expect(ids).toEqual([
      'cloudtrail-lookup:111111111111:us-east-1:kms',
      'cloudtrail-lookup:222222222222:us-east-1:kms',
      'cloudtrail-lookup:111111111111:eu-west-1:kms',
      'cloudtrail-lookup:222222222222:eu-west-1:kms',
    ]);
  });
});

describe('cloudwatch-logs against a local FilterLogEvents server', () => {
  let logs: FakeLogs;
  beforeEach(async () => {
    for (const [k, v] of Object.entries(fakeAwsEnv())) vi.stubEnv(k, v);
    logs = new FakeLogs();
    await logs.start();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await logs.close();
  });

  it('pages through empty pages with tokens until the token disappears, checkpoints per log group, and goes on when one group fails', async () => {
    const now = Date.now();
    const events = Array.from({ length: 7 }, (_, i) => {
      const rec = trailRecord({ n: i, time: now - 30 * MIN + i * MIN, role: `r${i}` });
      return {
        timestamp: Date.parse(String(rec.eventTime)),
        message: JSON.stringify(rec),
        eventId: `e${i}`,
        logStreamName: '111122223333_CloudTrail_us-east-1',
      };
    });
    logs.groups.set('trail-logs', events);
    logs.emptyPages = 2;
    const r = rig(tempDir(), [
      {
        type: 'cloudwatch-logs',
        region: 'us-east-1',
        logGroups: ['trail-logs', 'missing-group'],
        endpoint: logs.url,
      },
    ]);
    const result = await r.run();
    expect(result.failed).toEqual(['cloudwatch-logs:default:us-east-1:missing-group']);
    expect(r.store.countEvents()).toBe(7);
    const reqs = logs.requests.filter((q) => q.body.logGroupName === 'trail-logs');
    expect(reqs.every((q) => q.target === FILTER_TARGET)).toBe(true);
    expect(reqs.length).toBe(2 + 3); // two empty pages, then 7 events in pages of 3
    expect(String(reqs[0]!.body.filterPattern)).toContain('secretsmanager.amazonaws.com');
    const cps = new Checkpoints(r.store).list('cloudwatch-logs:').map((c) => c.source);
    expect(cps).toEqual(['cloudwatch-logs:default:us-east-1:trail-logs']);
    const log = r.logs.map((l) => JSON.parse(l)).find((l) => l.kind === 'not-found');
    expect(log?.source).toBe('cloudwatch-logs:default:us-east-1:missing-group');
    // A second round reads the overlap again and stores nothing twice.
    logs.emptyPages = 0;
    expect((await r.run()).newEvents).toBe(0);
    r.store.close();
  });
});

describe('files', () => {
  const kvLine = (n: number, t: number) =>
    JSON.stringify({
      time: new Date(t).toISOString(),
      resourceId: '/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV1',
      operationName: 'SecretGet',
      operationVersion: '7.4',
      category: 'AuditEvent',
      resultType: 'Success',
      resultSignature: 'OK',
      resultDescription: '',
      durationMs: '12',
      callerIpAddress: '20.1.1.1',
      correlationId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
      identity: {
        claim: {
          oid: `oid-${n}`,
          appid: 'app-1',
          'http://schemas.microsoft.com/identity/claims/objectidentifier': `oid-${n}`,
        },
      },
      properties: {
        id: `https://kv1.vault.azure.net/secrets/api-key/0123456789abcdef`,
        clientInfo: 'test',
        httpStatusCode: 200,
        requestUri: 'https://kv1.vault.azure.net/secrets/api-key?api-version=7.4',
      },
      location: 'westeurope',
    });

  it('reads a growing Key Vault blob line by line, a settled CloudTrail gzip once, and never twice', async () => {
    const dir = tempDir();
    const inbox = join(dir, 'inbox');
    const blob = join(inbox, 'insights-logs-auditevent/y=2026/m=11/d=28/h=09/m=00/PT1H.json');
    mkdirSync(join(blob, '..'), { recursive: true });
    const t = Date.now() - 10 * MIN;
    writeFileSync(blob, `${kvLine(1, t)}\n${kvLine(2, t + 1)}\n`);
    const trail = join(inbox, 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/trail.json.gz');
    mkdirSync(join(trail, '..'), { recursive: true });
    writeFileSync(
      trail,
      gzipSync(JSON.stringify({ Records: [trailRecord({ n: 1, time: t }), trailRecord({ n: 2, time: t })] })),
    );
    const r = rig(dir, [{ type: 'files', path: 'inbox', settle: '0s' }]);
    await r.run();
    expect(r.store.countEvents()).toBe(4);
    // The blob grows during its hour, the last line still being written.
    const third = kvLine(3, t + 2);
    appendFileSync(blob, `${kvLine(4, t + 3)}\n${third.slice(0, 40)}`);
    writeFileSync(join(inbox, 'junk.ndjson'), 'not json\n');
    await r.run();
    expect(r.store.countEvents()).toBe(5);
    appendFileSync(blob, `${third.slice(40)}\n`);
    await r.run();
    expect(r.store.countEvents()).toBe(6);
    expect((await r.run()).newEvents).toBe(0);
    const cp = JSON.parse(new Checkpoints(r.store).get(`files:${blob}`)!);
    expect(cp).toMatchObject({ mode: 'lines', line: 4 });
    const q = [...r.store.quarantineEntries()];
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({
      file: join(inbox, 'junk.ndjson'),
      position: 'line 1',
      reason: 'line is not valid JSON',
    });
    r.store.close();
  });

  it('reads stdin as it arrives', async () => {
    const stdin = new PassThrough();
    const r = rig(tempDir(), [{ type: 'files', path: '-' }], stdin);
    const t = Date.now() - MIN;
    stdin.write(
      `${JSON.stringify(trailRecord({ n: 1, time: t }))}\n${JSON.stringify(trailRecord({ n: 2, time: t }))}`,
    );
    stdin.end(`\n${JSON.stringify(trailRecord({ n: 3, time: t }))}\n`);
    await r.run();
    expect(r.store.countEvents()).toBe(3);
    r.store.close();
  });
});

describe('docs/examples/vigil.config.yaml', () => {
  it('is a valid config whose sources all build', async () => {
    const { readFileSync } = await import('node:fs');
    const { ROOT } = await import('../helpers.js');
    const c = parseConfig(
      readFileSync(join(ROOT, 'docs/examples/vigil.config.yaml'), 'utf8'),
      'vigil.config.yaml',
    );
    expect(createStreams(c.sources, deps('/tmp')).length).toBe(6 + 6 + 1 + 1);
  });
});
