import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Checkpoints } from '../../store/checkpoints.js';
import type { Store } from '../../store/store.js';
import { tempDir } from '../helpers.js';
import { eventIds, fakeAwsEnv, rig } from './harness.js';
import { trailRecord } from './records.js';
import { FakeCloudTrail, FakeSts, type Request, type StsCredentials } from './servers.js';

const MIN = 60_000;
const ACCT_A = '111122223333';
const ACCT_B = '444455556666';
const ROLE_A = `arn:aws:iam::${ACCT_A}:role/vigil-reader`;
const ROLE_B = `arn:aws:iam::${ACCT_B}:role/audit/vigil-reader-b`;
const CREDS_A: StsCredentials = {
  accessKeyId: 'ASIAVIGILACCOUNTAAAA',
  secretAccessKey: 'assumed-secret-key-for-account-a',
  sessionToken: 'FwoGZXIvYXdzEVIGILSESSIONTOKENACCOUNTA',
};
const CREDS_B: StsCredentials = {
  accessKeyId: 'ASIAVIGILACCOUNTBBBB',
  secretAccessKey: 'assumed-secret-key-for-account-b',
  sessionToken: 'FwoGZXIvYXdzEVIGILSESSIONTOKENACCOUNTB',
};
const SERVICES = ['secretsmanager', 'kms'] as const;

/** The access key id in a SigV4 `Authorization` header's credential scope. */
const keyOf = (authorization: string) => /Credential=([^/]+)\//.exec(authorization)?.[1];

/** Everything the store wrote to disk: the database file and its write-ahead log. */
function storeBytes(dir: string): string {
  return ['vigil.db', 'vigil.db-wal']
    .map((f) => join(dir, f))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

/** Stored events per account (`recipientAccountId` of the record). */
function byAccount(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of store.queryEvents({})) if (e.account) out[e.account] = (out[e.account] ?? 0) + 1;
  return out;
}

describe('cloudtrail-lookup accounts: credentials from STS AssumeRole', () => {
  let ct: FakeCloudTrail;
  let sts: FakeSts;
  beforeEach(async () => {
    for (const [k, v] of Object.entries(fakeAwsEnv())) vi.stubEnv(k, v);
    ct = new FakeCloudTrail();
    sts = new FakeSts();
    // Both peers reached through the SDK's per-service endpoint variables, not a config option.
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDTRAIL', await ct.start());
    vi.stubEnv('AWS_ENDPOINT_URL_STS', await sts.start());
    // Each account's trail holds its own events; a request sees those of the account its key belongs to.
    const keyAccount = new Map([
      [CREDS_A.accessKeyId, ACCT_A],
      [CREDS_B.accessKeyId, ACCT_B],
    ]);
    ct.visibleTo = (r: Request, e) =>
      keyAccount.get(keyOf(r.authorization) ?? '') === e.record.recipientAccountId;
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all([ct.close(), sts.close()]);
  });

  const add = (account: string, n: number, time: number, service: (typeof SERVICES)[number]) =>
    ct.add({ ...trailRecord({ n, time, service, role: `app-${account}` }), recipientAccountId: account });

  const source = () => ({
    type: 'cloudtrail-lookup',
    regions: ['us-east-1'],
    eventSources: [...SERVICES],
    accounts: [
      { roleArn: ROLE_A, externalId: 'vigil-ext-a' },
      { roleArn: ROLE_B, externalId: 'vigil-ext-b', sessionName: 'vigil-audit' },
    ],
  });

  const streamId = (account: string, service: string) => `cloudtrail-lookup:${account}:us-east-1:${service}`;

  it('assumes each role with its external id and signs that account’s lookups with the assumed credentials', async () => {
    sts.roles.set(ROLE_A, CREDS_A);
    sts.roles.set(ROLE_B, CREDS_B);
    const now = Date.now();
    for (let i = 0; i < 3; i++) add(ACCT_A, i, now - 30 * MIN + i * 1000, 'secretsmanager');
    add(ACCT_A, 10, now - 20 * MIN, 'kms');
    for (let i = 0; i < 4; i++) add(ACCT_B, 100 + i, now - 25 * MIN + i * 1000, 'secretsmanager');
    add(ACCT_B, 110, now - 15 * MIN, 'kms');
    add(ACCT_B, 111, now - 14 * MIN, 'kms');

    const dir = tempDir();
    const r = rig(dir, [source()]);
    const result = await r.run();
    expect(result.failed).toEqual([]);

    // (1) AssumeRole over the query protocol for each role, signed with the default chain's base credentials.
    for (const [role, externalId, session] of [
      [ROLE_A, 'vigil-ext-a', 'vigil'],
      [ROLE_B, 'vigil-ext-b', 'vigil-audit'],
    ] as const) {
      const calls = sts.assumed(role);
      // One client per account and region: its event sources share one set of assumed credentials.
      expect(calls).toHaveLength(1);
      for (const c of calls) {
        expect(c.params).toMatchObject({
          Action: 'AssumeRole',
          Version: '2011-06-15',
          RoleArn: role,
          RoleSessionName: session,
          ExternalId: externalId,
        });
        expect(c.authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDVIGILTEST\/\d{8}\/us-east-1\/sts\//,
        );
      }
    }
    expect(sts.requests.length).toBe(sts.assumed(ROLE_A).length + sts.assumed(ROLE_B).length);

    // (2) Every lookup is signed with the key STS handed out and carries its session token; one key per
    // account, never the base key.
    const lookups = ct.lookups();
    expect(lookups.length).toBeGreaterThanOrEqual(2 * SERVICES.length);
    const tokenOf = new Map([
      [CREDS_A.accessKeyId, CREDS_A.sessionToken],
      [CREDS_B.accessKeyId, CREDS_B.sessionToken],
    ]);
    for (const q of lookups) {
      expect(q.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA\w+\/\d{8}\/us-east-1\/cloudtrail\//);
      expect(q.securityToken).toBe(tokenOf.get(keyOf(q.authorization)!));
    }
    const keysBySource = new Map<string, Set<string>>();
    for (const q of lookups) {
      const src = (q.body.LookupAttributes as { AttributeValue: string }[])[0]!.AttributeValue;
      const keys = keysBySource.get(src) ?? new Set();
      keys.add(keyOf(q.authorization)!);
      keysBySource.set(src, keys);
    }
    for (const s of SERVICES)
      expect([...keysBySource.get(`${s}.amazonaws.com`)!].sort()).toEqual([
        CREDS_A.accessKeyId,
        CREDS_B.accessKeyId,
      ]);

    // (3) Both accounts' events stored, each account and event source with its own checkpoint.
    expect(eventIds(r.store)).toHaveLength(10);
    expect(byAccount(r.store)).toEqual({ [ACCT_A]: 4, [ACCT_B]: 6 });
    const cps = new Checkpoints(r.store).list('cloudtrail-lookup:');
    expect(cps.map((c) => c.source).sort()).toEqual(
      [ACCT_A, ACCT_B].flatMap((a) => SERVICES.map((s) => streamId(a, s))).sort(),
    );
    for (const c of cps) expect(JSON.parse(c.value).until).toBeGreaterThanOrEqual(now);

    r.store.close();
    const written = `${r.logs.join('\n')}\n${storeBytes(dir)}`;
    for (const secret of [CREDS_A, CREDS_B].flatMap((c) => [c.secretAccessKey, c.sessionToken]))
      expect(written).not.toContain(secret);
  });

  it('when STS denies one role, that account’s streams fail as a credentials error and the other account is read', async () => {
    sts.roles.set(ROLE_A, CREDS_A);
    const now = Date.now();
    add(ACCT_A, 1, now - 10 * MIN, 'secretsmanager');
    add(ACCT_A, 2, now - 9 * MIN, 'kms');
    add(ACCT_B, 101, now - 8 * MIN, 'secretsmanager');

    const dir = tempDir();
    const r = rig(dir, [source()]);
    const result = await r.run();

    expect(result.failed.sort()).toEqual(SERVICES.map((s) => streamId(ACCT_B, s)).sort());
    expect(sts.assumed(ROLE_B).length).toBeGreaterThan(0);
    // No lookup goes out without credentials: account B never reached CloudTrail.
    expect(ct.lookups().every((q) => keyOf(q.authorization) === CREDS_A.accessKeyId)).toBe(true);
    expect(byAccount(r.store)).toEqual({ [ACCT_A]: 2 });
    expect(
      new Checkpoints(r.store)
        .list('cloudtrail-lookup:')
        .map((c) => c.source)
        .sort(),
    ).toEqual(SERVICES.map((s) => streamId(ACCT_A, s)).sort());
    for (const s of SERVICES) {
      const health = r.metrics.streams.get(streamId(ACCT_B, s))!;
      expect(health.lastError?.kind).toBe('credentials');
      expect(health.lastError?.message).toContain('AccessDenied');
      expect(r.metrics.streams.get(streamId(ACCT_A, s))!.lastError).toBeUndefined();
    }
    const logged = r.logs.map((l) => JSON.parse(l) as { level: string; msg: string; kind?: string });
    const denied = logged.filter((l) => l.kind === 'credentials');
    expect(denied.length).toBeGreaterThan(0);
    for (const l of denied) {
      expect(l.level).toBe('error');
      expect(l.msg).toMatch(new RegExp(`^cloudtrail-lookup:${ACCT_B}:us-east-1:\\w+: `));
      expect(l.msg).toContain('AccessDenied');
    }

    r.store.close();
    const written = `${r.logs.join('\n')}\n${storeBytes(dir)}`;
    for (const secret of [CREDS_A.secretAccessKey, CREDS_A.sessionToken, 'vigil-test-secret-key'])
      expect(written).not.toContain(secret);
  });
});
