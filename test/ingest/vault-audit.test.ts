import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, run } from './helpers.js';

describe('vault-audit', () => {
  it('makes events of response entries: kv v2 data and metadata on one secret id, entities as principals', async () => {
    const r = await run(fixture('vault-audit', 'audit.log'));
    expect(r.quarantine).toEqual([]);
    const [read, meta] = r.events;
    expect(read).toMatchObject({
      provider: 'vault',
      action: 'read',
      outcome: 'success',
      id: 'vault:11111111-aaaa-4bbb-8ccc-000000000001',
      time: '2024-05-01T10:00:00.125Z',
      principal: { id: 'vault:entity:4b2f6c3e-1111-4222-8333-944455556666', name: 'oidc-dana@example.com' },
      resource: { id: 'vault:kv/orders/db', name: 'kv/orders/db', type: 'secret' },
      source: { ip: '10.0.4.20' },
    });
    expect(meta).toMatchObject({ action: 'describe', resource: { id: 'vault:kv/orders/db' } });
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'vault request entry (its response entry is the event)': 2,
      'vault sys path': 1,
    });
  });

  it('collapses tokens of one workload (per-allocation display names) into one principal', async () => {
    const r = await run(fixture('vault-audit', 'audit.log'));
    const ci = r.events.filter((e) => e.resource?.id === 'vault:secret/ci/deploy-key');
    expect(ci).toHaveLength(2);
    expect(new Set(ci.map((e) => e.principal.id))).toEqual(new Set(['vault:token:token-*-runner']));
    expect(ci[0]!.principal.session).not.toBe(ci[1]!.principal.session);
  });

  it('marks permission denied, maps transit decrypt to the key, root tokens to root', async () => {
    const r = await run(fixture('vault-audit', 'audit.log'));
    expect(r.events.find((e) => e.resource?.id === 'vault:kv/payments/stripe')).toMatchObject({
      outcome: 'denied',
      errorCode: 'permission denied',
    });
    expect(r.events.find((e) => e.action === 'decrypt')).toMatchObject({
      principal: { id: 'vault:root', type: 'root' },
      resource: { id: 'vault:transit/orders-key', type: 'key' },
    });
  });

  it("keeps HMAC'd fields HMAC'd: no token or value reaches an event", async () => {
    const r = await run(fixture('vault-audit', 'audit.log'));
    const out = JSON.stringify(r.events);
    expect(readFileSync(fixture('vault-audit', 'audit.log'), 'utf8')).toContain('hmac-sha256:');
    expect(out).not.toContain('hmac-sha256');
  });

  it('names a secret in a namespace once: vault:NAMESPACE/MOUNT/PATH, however mount_point is written, and from the root namespace', async () => {
    const r = await run(fixture('vault-audit', 'namespaces.log'));
    expect(r.quarantine).toEqual([]);
    expect(r.events.map((e) => [e.resource?.id, e.resource?.account])).toEqual([
      ['vault:blue/kv/app/config', 'blue/'], // mount_point `blue/kv/`, path relative to the namespace
      ['vault:blue/kv/app/config', 'blue/'], // mount_point `kv/`
      ['vault:blue/kv/app/config', 'blue/'], // no mount_point (before Vault 1.13)
      ['vault:blue/kv/app/config', null], // root namespace, path `blue/kv/data/app/config`
      ['vault:blue/kv/app/config', null], // no namespace at all
      ['vault:blue/team-a/kv/app/config', 'blue/team-a/'],
      ['vault:blue/blue/app/config', 'blue/'], // a mount named like its namespace
    ]);
    expect(r.events[1]).toMatchObject({ operation: 'read metadata', action: 'describe' });
  });

  it('skips KMIP entries and other entry types (no request.path) instead of quarantining them', async () => {
    const r = await run(fixture('vault-audit', 'kmip.log'));
    expect(r.quarantine).toEqual([]);
    expect(r.events.map((e) => e.resource?.id)).toEqual(['vault:kv/orders/db']);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'vault kmip-request entry (KMIP operations are not read)': 1,
      'vault kmip-response entry (KMIP operations are not read)': 1,
      'vault heartbeat entry': 1,
    });
  });
});
