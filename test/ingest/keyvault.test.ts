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

  it('names the vault for collection-level paths (secrets/restore, keys/restore, certificates/issuers, certificates/contacts)', async () => {
    const r = await run(fixture('keyvault', 'collection-paths.json'));
    expect(r.quarantine).toEqual([]);
    expect(r.events.map((e) => [e.operation, e.resource?.id, e.resource?.type])).toEqual([
      ['SecretRestore', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['KeyRestore', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['CertificateIssuerSet', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['CertificateIssuerDelete', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['CertificateIssuersList', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['CertificateContactsSet', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['CertificateContactsDelete', 'azure:keyvault:contoso-pay-kv', 'vault'],
      ['CertificatePolicyUpdate', 'azure:keyvault:contoso-pay-kv/certificates/web-tls', 'certificate'],
      ['CertificatePolicyGet', 'azure:keyvault:contoso-pay-kv/certificates/web-tls', 'certificate'],
      // A secret may be called "restore": read by name, it is that secret.
      ['SecretGet', 'azure:keyvault:contoso-pay-kv/secrets/restore', 'secret'],
    ]);
  });

  it('maps changes to certificate issuers, contacts and policies to policy; their reads to describe and list', async () => {
    const r = await run(fixture('keyvault', 'collection-paths.json'));
    expect(Object.fromEntries(r.events.map((e) => [e.operation, e.action]))).toMatchObject({
      SecretRestore: 'restore',
      KeyRestore: 'restore',
      CertificateIssuerSet: 'policy',
      CertificateIssuerDelete: 'policy',
      CertificateIssuersList: 'list',
      CertificateContactsSet: 'policy',
      CertificateContactsDelete: 'policy',
      CertificatePolicyUpdate: 'policy',
      CertificatePolicyGet: 'describe',
    });
  });

  it('skips and counts the other categories of a shared Event Hub (StorageRead, Entra sign-ins); a damaged AuditEvent is still quarantined', async () => {
    const r = await run(fixture('keyvault', 'shared-event-hub.json'));
    expect(r.events.map((e) => [e.operation, e.resource?.id])).toEqual([['SecretGet', STRIPE]]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'other category: StorageRead': 1,
      'other category: NonInteractiveUserSignInLogs': 1,
    });
    expect(r.quarantine.map((q) => [q.position, q.reason.replace(/: Invalid input.*/, '')])).toEqual([
      ['line 1 records[3]', 'keyvault: properties'],
    ]);
  });

  it('skips AuditEvent records of other providers; one without a resourceId is still a Key Vault record', async () => {
    const r = await run(fixture('keyvault', 'other-provider-auditevent.json'));
    expect(r.events.map((e) => [e.operation, e.resource?.id])).toEqual([['SecretGet', STRIPE]]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'other resource provider: MICROSOFT.ATTESTATION': 1,
    });
    expect(r.quarantine.map((q) => q.reason)).toEqual([expect.stringMatching(/^keyvault: resourceId: /)]);
  });

  it('reads Managed HSM records: identity as JSON text with nested claims, status, URI and client beside properties', async () => {
    const r = await run(fixture('keyvault', 'managed-hsm.json'));
    const [backup, unwrap, denied] = r.events;
    expect(backup).toMatchObject({
      operation: 'BackupCreate',
      action: 'backup',
      outcome: 'success',
      resource: { id: 'azure:keyvault:fabrikam-hsm', type: 'vault' },
      principal: {
        id: 'azure:user:0a1b2c3d-0000-4000-8000-00000000cc01',
        type: 'user',
        name: 'dana@contoso.com',
        account: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        via: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
      },
      source: { ip: '198.51.100.7', userAgent: 'azsdk-python-keyvault-keys/4.9.0 Python/3.11' },
      account: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    });
    expect(unwrap).toMatchObject({
      action: 'decrypt',
      resource: { id: 'azure:keyvault:fabrikam-hsm/keys/payments-cmk', type: 'key' },
      principal: { id: 'azure:app:33334444-0000-4000-8000-00000000ee01' },
    });
    expect(denied).toMatchObject({ operation: 'KeyGet', outcome: 'denied', errorCode: '403' });
    expect(r.quarantine.map((q) => q.reason)).toEqual(['keyvault: identity is not JSON']);
  });

  it('puts the token tenant in principal.account, and null without a tid claim (not the subscription)', async () => {
    const r = await run(fixture('keyvault', 'no-tenant-claim.json'));
    expect(r.events[0]!.principal).toMatchObject({ name: 'dana@contoso.com', account: null });
    expect(r.events[0]!.account).toBe('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
    const blob = await run(fixture('keyvault', 'PT1H.json'));
    expect(blob.events[0]!.principal.account).toBe('72f988bf-86f1-41af-91ab-2d7cd011db47');
  });

  it('quarantines an AuditEvent without a time', async () => {
    const r = await run(fixture('keyvault', 'missing-time.json'));
    expect(r.events).toEqual([]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([expect.stringMatching(/^keyvault: time: /)]);
  });
});
