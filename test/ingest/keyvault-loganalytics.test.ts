import { describe, expect, it } from 'vitest';
import { logAnalyticsTime } from '../../ingest/keyvault-loganalytics.js';
import { fixture, run } from './helpers.js';

describe('keyvault Log Analytics exports', () => {
  it('reads AzureDiagnostics rows (JSON) into the same events, with the same ids, as the blob records', async () => {
    const blob = await run(fixture('keyvault', 'PT1H.json'));
    const la = await run(fixture('keyvault-loganalytics', 'azurediagnostics.json'));
    expect(la.quarantine).toEqual([]);
    expect(la.events).toHaveLength(2);
    expect(la.events[0]).toEqual(blob.events[0]);
    expect(la.events[1]).toEqual(blob.events[2]);
    expect(Object.fromEntries(la.stats.skipped)).toEqual({ 'other resource provider: MICROSOFT.SQL': 1 });
  });

  it('reads the portal CSV export: BOM, "TimeGenerated [UTC]", US-locale times; a short row is quarantined, its neighbours kept', async () => {
    const blob = await run(fixture('keyvault', 'PT1H.json'));
    const csv = await run(fixture('keyvault-loganalytics', 'azurediagnostics.csv'));
    expect(csv.events.map((e) => e.id)).toEqual([blob.events[0]!.id, blob.events[2]!.id]);
    expect(csv.events[0]!.principal.name).toBe('checkout-mi');
    expect(csv.events[1]).toMatchObject({ outcome: 'denied', principal: { name: 'dana@contoso.com' } });
    expect(csv.quarantine).toEqual([
      {
        file: fixture('keyvault-loganalytics', 'azurediagnostics.csv'),
        position: 'line 3',
        reason: 'csv: wrong number of fields: 5, header has 26',
      },
    ]);
  });

  it('reads AZKVAuditLogs from the query API response and from CSV with the Identity column as JSON', async () => {
    const blob = await run(fixture('keyvault', 'PT1H.json'));
    const api = await run(fixture('keyvault-loganalytics', 'azkvauditlogs-query.json'));
    expect(api.events.map((e) => e.id)).toEqual([blob.events[0]!.id, blob.events[4]!.id]);
    const csv = await run(fixture('keyvault-loganalytics', 'azkvauditlogs.csv'));
    expect(csv.quarantine).toEqual([]);
    expect(csv.events.map((e) => [e.operation, e.principal.id, e.resource?.id])).toEqual([
      [
        'SecretGet',
        'azure:mi:5c6d7e8f-0000-4000-8000-00000000bb01',
        'azure:keyvault:contoso-pay-kv/secrets/stripe-key',
      ],
      ['SecretList', 'azure:app:33334444-0000-4000-8000-00000000ee01', 'azure:keyvault:contoso-pay-kv'],
    ]);
  });

  it('parses both time forms', () => {
    expect(logAnalyticsTime('5/1/2024, 1:02:03.456 PM')).toBe('2024-05-01T13:02:03.456Z');
    expect(logAnalyticsTime('12/31/2024, 12:00:00 AM')).toBe('2024-12-31T00:00:00.000Z');
    expect(logAnalyticsTime('2024-05-01T10:00:00.1234567Z')).toBe('2024-05-01T10:00:00.123Z');
    expect(logAnalyticsTime('yesterday')).toBeNull();
  });
});
