import { describe, expect, it } from 'vitest';
import { logAnalyticsTime } from '../../ingest/log-analytics.js';
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

  it('quarantines portal times of day-first locales and impossible dates, naming TimeGenerated; reads the en-US form', async () => {
    const r = await run(fixture('keyvault-loganalytics', 'portal-dayfirst.csv'));
    expect(r.events.map((e) => e.time)).toEqual(['2026-07-16T20:26:12.030Z']);
    // 16/07/2026 (month 16), 07/06/2026 (June 7 in en-GB), en-AU's lower-case pm, February 30.
    expect(r.quarantine.map((q) => [q.position, q.reason])).toEqual(
      ['line 2', 'line 3', 'line 4', 'line 6'].map((p) => [
        p,
        'keyvault-loganalytics: TimeGenerated is not an ISO 8601 or en-US (M/D/YYYY, h:mm:ss AM) time',
      ]),
    );
  });

  it('quarantines rows whose only time is a "TimeGenerated [Local Time]" column: it has no zone', async () => {
    const r = await run(fixture('keyvault-loganalytics', 'portal-local-time.csv'));
    expect(r.events).toEqual([]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([
      'keyvault-loganalytics: TimeGenerated [Local Time] has no time zone; export the results in UTC',
      'keyvault-loganalytics: TimeGenerated [Local Time] has no time zone; export the results in UTC',
    ]);
  });

  it('rejects impossible dates and slashed dates without AM/PM instead of rolling them over', () => {
    expect(logAnalyticsTime('16/07/2026 20:26:12.030')).toBeNull();
    expect(logAnalyticsTime('13/1/2024, 1:00:00 AM')).toBeNull();
    expect(logAnalyticsTime('2/30/2024, 1:00:00 AM')).toBeNull();
    expect(logAnalyticsTime('2/29/2023, 1:00:00 AM')).toBeNull();
    expect(logAnalyticsTime('1/5/2024, 13:00:00 PM')).toBeNull();
    expect(logAnalyticsTime('2024-02-30T10:00:00Z')).toBeNull();
    expect(logAnalyticsTime('2/29/2024, 1:00:00.029 AM')).toBe('2024-02-29T01:00:00.029Z');
  });

  it('parses both time forms', () => {
    expect(logAnalyticsTime('5/1/2024, 1:02:03.456 PM')).toBe('2024-05-01T13:02:03.456Z');
    expect(logAnalyticsTime('12/31/2024, 12:00:00 AM')).toBe('2024-12-31T00:00:00.000Z');
    expect(logAnalyticsTime('2024-05-01T10:00:00.1234567Z')).toBe('2024-05-01T10:00:00.123Z');
    expect(logAnalyticsTime('yesterday')).toBeNull();
  });
});
