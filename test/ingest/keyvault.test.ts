import { describe, expect, it } from 'vitest';
import { fixture, run } from './helpers.js';

const STRIPE = 'azure:keyvault:contoso-pay-kv/secrets/stripe-key';
const MI = 'azure:mi:5c6d7e8f-0000-4000-8000-00000000bb01';

describe('keyvault AuditEvent', () => {
  it('reads a PT1H.json blob: versioned and unversioned URIs, any case, are one secret; 7-digit times to ms', async () => {
    const r = await run(fixture('keyvault', 'PT1H.json'));
    expect(r.quarantine).toEqual([]);
    const gets = r.events.filter((e) => e.operation === 'SecretGet');
    expect(gets.slice(0, 3).map((e) => e.resource?.id)).toEqual([STRIPE, STRIPE, STRIPE]);
    expect(gets.map((e) => e.time)).toEqual([
      '2024-05-01T10:00:00.123Z',
      '2024-05-01T10:05:00.999Z',
      '2024-05-01T10:06:00.000Z',
      '2024-05-01T10:09:00.000Z',
    ]);
    expect(gets[0]!.principal).toMatchObject({ id: MI, type: 'managed-identity', name: 'checkout-mi' });
    expect(gets[1]!.principal.id).toBe(MI);
    expect(gets[0]!.account).toBe('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
  });

  it('maps outcomes: 403 Forbidden is denied, 404 is an error', async () => {
    const r = await run(fixture('keyvault', 'PT1H.json'));
    const gets = r.events.filter((e) => e.operation === 'SecretGet');
    expect(gets[2]).toMatchObject({
      outcome: 'denied',
      errorCode: 'Forbidden',
      principal: {
        type: 'user',
        name: 'dana@contoso.com',
        id: 'azure:user:0a1b2c3d-0000-4000-8000-00000000cc01',
      },
      source: { ip: '198.51.100.7' },
    });
    expect(gets[3]).toMatchObject({ outcome: 'error', errorCode: 'Not Found' });
    expect(gets[0]).toMatchObject({ outcome: 'success', errorCode: null });
  });

  it('maps keys, lists and applications', async () => {
    const r = await run(fixture('keyvault', 'PT1H.json'));
    const list = r.events.find((e) => e.operation === 'SecretList')!;
    expect(list).toMatchObject({
      action: 'list',
      resource: { id: 'azure:keyvault:contoso-pay-kv', type: 'vault' },
    });
    expect(list.principal).toMatchObject({
      type: 'application',
      id: 'azure:app:33334444-0000-4000-8000-00000000ee01',
    });
    const unwrap = r.events.find((e) => e.operation === 'KeyUnwrap')!;
    expect(unwrap).toMatchObject({
      action: 'decrypt',
      resource: { id: 'azure:keyvault:contoso-pay-kv/keys/cmk', type: 'key' },
    });
  });

  it('reads Event Hub bodies {"records":[...]} with the same ids as the blob', async () => {
    const blob = await run(fixture('keyvault', 'PT1H.json'));
    const hub = await run(fixture('keyvault', 'eventhub-body.json'));
    expect(hub.events.map((e) => e.id)).toEqual(blob.events.slice(0, 2).map((e) => e.id));
  });

  it('quarantines an AuditEvent without a time', async () => {
    const r = await run(fixture('keyvault', 'missing-time.json'));
    expect(r.events).toEqual([]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([expect.stringMatching(/^keyvault: time: /)]);
  });
});
