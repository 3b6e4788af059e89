import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SecretRef, SecretResolver, secretRef } from '../../alerts/secrets.js';
import { fakeTime } from './helpers.js';
import { FAKE_CREDENTIALS, startSecretsManager } from './peers.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:vigil/slack-AbCdEf';
const JSON_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:vigil/all-XyZ123';
const URL = 'https://hooks.slack.com/services/T000/B000/smSecretValue42';

let sm: Awaited<ReturnType<typeof startSecretsManager>>;
beforeEach(async () => {
  sm = await startSecretsManager({ [ARN]: `${URL}\n`, [JSON_ARN]: JSON.stringify({ slack: URL, other: 1 }) });
});
afterEach(async () => {
  await sm.close();
});

const parse = (v: unknown): SecretRef => secretRef().parse(v);

function resolver(time = fakeTime(), env: Record<string, string> = {}) {
  return new SecretResolver({
    env,
    clock: time.clock,
    ttlMs: 60_000,
    secretsManager: (region) =>
      new SecretsManagerClient({
        region,
        endpoint: sm.endpoint,
        credentials: FAKE_CREDENTIALS,
        maxAttempts: 1,
      }),
  });
}

describe('secret references', () => {
  it('parses env, file, ARN and object forms', () => {
    expect(parse('env:X')).toEqual({ kind: 'env', name: 'X' });
    expect(parse('file:/run/secrets/slack')).toEqual({ kind: 'file', path: '/run/secrets/slack' });
    expect(parse(`${JSON_ARN}#slack`)).toEqual({ kind: 'secretsManager', arn: JSON_ARN, key: 'slack' });
    expect(parse({ secretsManager: ARN, ttl: 'PT1M' })).toEqual({
      kind: 'secretsManager',
      arn: ARN,
      ttlMs: 60_000,
    });
  });

  it('refuses a clear-text value without echoing it', () => {
    const r = secretRef().safeParse(URL);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error)).not.toContain('smSecretValue42');
    expect(secretRef().safeParse({ env: 'X', extra: 1 }).success).toBe(false);
    expect(secretRef().safeParse('arn:aws:s3:::bucket').success).toBe(false);
  });
});

describe('secret resolver', () => {
  it('reads Secrets Manager through the SDK (JSON 1.1) and caches with a TTL', async () => {
    const time = fakeTime();
    const r = resolver(time);
    const a = await r.resolve(parse(ARN));
    expect(a.ok && a.value.reveal()).toBe(URL);
    expect(String(a.ok && a.value)).toBe('[redacted]');
    await r.resolve(parse(ARN));
    expect(sm.calls).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: ARN }]);
    time.advance(61_000);
    await r.resolve(parse(ARN));
    expect(sm.calls).toHaveLength(2);
  });

  it('picks a field of a JSON secret', async () => {
    const got = await resolver().resolve(parse(`${JSON_ARN}#slack`));
    expect(got.ok && got.value.reveal()).toBe(URL);
    const missing = await resolver().resolve(parse(`${JSON_ARN}#nope`));
    expect(missing).toMatchObject({ ok: false, retryable: false });
  });

  it('classifies Secrets Manager errors', async () => {
    expect(await resolver().resolve(parse(`${ARN}x`))).toMatchObject({
      ok: false,
      retryable: false,
      reason: expect.stringContaining('ResourceNotFoundException'),
    });
    sm.state.deny = true;
    expect(await resolver().resolve(parse(ARN))).toMatchObject({
      ok: false,
      retryable: false,
      reason: expect.stringContaining('AccessDeniedException'),
    });
    sm.state.down = true;
    expect(await resolver().resolve(parse(ARN))).toMatchObject({ ok: false, retryable: true });
  });

  it('reads env and files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-secret-'));
    writeFileSync(join(dir, 'url'), `${URL}\n`, { mode: 0o600 });
    const r = resolver(fakeTime(), { SLACK: URL });
    const e = await r.resolve(parse('env:SLACK'));
    expect(e.ok && e.value.reveal()).toBe(URL);
    const f = await r.resolve(parse(`file:${join(dir, 'url')}`));
    expect(f.ok && f.value.reveal()).toBe(URL);
    expect(await r.resolve(parse('env:UNSET'))).toEqual({
      ok: false,
      retryable: false,
      reason: 'environment variable UNSET is not set',
    });
    expect(await r.resolve(parse(`file:${join(dir, 'none')}`))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('ENOENT'),
    });
  });
});
