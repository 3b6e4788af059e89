import { describe, expect, it } from 'vitest';
import { fixture, run } from './helpers.js';

describe('azure-activity', () => {
  it('reads the diagnostic export: vault delete and purge by a user; Start entries and other providers skipped', async () => {
    const r = await run(fixture('azure-activity', 'diagnostic-export.json'));
    expect(r.quarantine).toEqual([]);
    expect(r.events.map((e) => [e.operation, e.action, e.resource?.id, e.principal.name])).toEqual([
      ['MICROSOFT.KEYVAULT/VAULTS/DELETE', 'delete', 'azure:keyvault:contoso-pay-kv', 'dana@contoso.com'],
      [
        'MICROSOFT.KEYVAULT/LOCATIONS/DELETEDVAULTS/PURGE/ACTION',
        'delete',
        'azure:keyvault:contoso-pay-kv',
        'dana@contoso.com',
      ],
    ]);
    expect(r.events[0]!.time).toBe('2024-05-02T08:00:00.440Z');
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'azure activity: operation not finished': 1,
      'other azure operation: MICROSOFT.COMPUTE': 1,
    });
  });

  it('reads the REST form: access policy change by an application; a Forbidden write is denied', async () => {
    const r = await run(fixture('azure-activity', 'activity-log-list.json'));
    expect(r.events[0]).toMatchObject({
      action: 'policy',
      outcome: 'success',
      principal: { id: 'azure:app:33334444-0000-4000-8000-00000000ee01', type: 'application' },
      resource: { id: 'azure:keyvault:contoso-pay-kv' },
      source: { ip: '20.40.60.80' },
      id: 'azure:activity:e1e1e1e1-0000-4000-8000-000000000001',
    });
    expect(r.events[1]).toMatchObject({
      outcome: 'denied',
      errorCode: 'Forbidden',
      principal: { id: 'azure:user:99990000-0000-4000-8000-00000000ff01', name: 'mallory@contoso.com' },
    });
  });

  it('reads role assignments at a vault or secret scope as policy events on it; other role assignments are skipped', async () => {
    const r = await run([
      fixture('azure-activity', 'role-assignments.json'),
      fixture('azure-activity', 'role-assignments-rest.json'),
    ]);
    expect(r.quarantine).toEqual([]);
    expect(r.events.map((e) => [e.operation, e.action, e.outcome, e.resource?.id, e.principal.name])).toEqual(
      [
        [
          'MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE',
          'policy',
          'success',
          'azure:keyvault:contoso-pay-kv',
          'dana@contoso.com',
        ],
        [
          'MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/DELETE',
          'policy',
          'success',
          'azure:keyvault:contoso-pay-kv/secrets/stripe-key',
          'dana@contoso.com',
        ],
        [
          'MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE',
          'policy',
          'success',
          'azure:keyvault:contoso-pay-kv',
          'dana@contoso.com',
        ],
      ],
    );
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'azure activity: operation not finished': 1,
      'other azure operation: MICROSOFT.AUTHORIZATION': 2,
    });
  });

  it('skips resource logs of other providers before validating them (FunctionAppLogs with properties as text); a damaged Key Vault entry is quarantined', async () => {
    const r = await run(fixture('azure-activity', 'function-app-logs.json'));
    expect(r.events).toEqual([]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'other azure operation: MICROSOFT.WEB': 2 });
    expect(r.quarantine.map((q) => [q.position, q.reason.replace(/: Invalid input.*/, '')])).toEqual([
      ['line 1 records[2]', 'azure-activity: properties'],
    ]);
  });

  it("reads an operation the same in every casing: the export's upper case, lower case, REST's mixed case", async () => {
    const exported = await run(fixture('azure-activity', 'export-casing.json'));
    const rest = await run(fixture('azure-activity', 'activity-log-list.json'));
    expect(exported.quarantine).toEqual([]);
    // MICROSOFT.KEYVAULT/VAULTS/WRITE and microsoft.keyvault/vaults/write: one event, one id.
    expect(exported.events).toHaveLength(2);
    expect(exported.events[1]).toEqual(exported.events[0]);
    expect(exported.events[0]).toMatchObject({
      operation: 'MICROSOFT.KEYVAULT/VAULTS/WRITE',
      outcome: 'denied',
      errorCode: 'Forbidden',
    });
    // The REST entry (Microsoft.KeyVault/vaults/write) is the same event; its id is its eventDataId,
    // which the export does not carry.
    expect({ ...exported.events[0]!, id: rest.events[1]!.id }).toEqual(rest.events[1]);
  });

  it('does not take location "global" (where the entry was processed) for a region', async () => {
    const r = await run([
      fixture('azure-activity', 'diagnostic-export.json'),
      fixture('azure-activity', 'role-assignments.json'),
    ]);
    expect(r.events.map((e) => e.region)).toEqual([null, null, null, 'westeurope']);
  });

  it('gives a user the same principal id in the Activity Log as in AuditEvent', async () => {
    const act = await run(fixture('azure-activity', 'diagnostic-export.json'));
    const audit = await run(fixture('keyvault', 'PT1H.json'));
    const dana = audit.events.find((e) => e.principal.name === 'dana@contoso.com')!;
    expect(act.events[0]!.principal.id).toBe(dana.principal.id);
  });
});

describe('azure-activity, as the rules see it', () => {
  it('a vault deleted and purged through the Activity Log trips vault-delete and purge', async () => {
    const { RULES } = await import('../../detectors/sensitive-operation.js');
    const r = await run(fixture('azure-activity', 'diagnostic-export.json'));
    const fired = r.events.map((e) => RULES.filter((rule) => rule.match(e)).map((rule) => rule.id));
    expect(fired).toEqual([['vault-delete'], ['purge']]);
  });
});
