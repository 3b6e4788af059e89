import { describe, expect, it } from 'vitest';
import { keyvaultLogAnalytics } from '../../ingest/keyvault-loganalytics.js';
import { SOURCES } from '../../ingest/sources.js';
import { fixture, run } from './helpers.js';

const activity = (name: string) => fixture('azure-activity', name);

describe('azure-activity Log Analytics exports (the AzureActivity table)', () => {
  it('reads query API rows into the same events, with the same ids, as the REST entries they came from', async () => {
    const rest = await run([activity('activity-log-list.json'), activity('role-assignments-rest.json')]);
    const la = await run(activity('azureactivity-query.json'));
    expect(la.quarantine).toEqual([]);
    // An access policy change by an application, a Forbidden vault write, a role assignment on the vault.
    expect(la.events).toEqual(rest.events);
    expect(Object.fromEntries(la.stats.skipped)).toEqual({
      'azure activity: operation not finished': 1,
      'other azure operation: MICROSOFT.COMPUTE': 1,
      'other azure operation: MICROSOFT.AUTHORIZATION': 1,
    });
  });

  it('reads `az monitor log-analytics query` rows without EventDataId into the diagnostic export events, ids included', async () => {
    const exported = await run(activity('diagnostic-export.json'));
    const la = await run(activity('azureactivity-cli.json'));
    expect(la.quarantine).toEqual([]);
    // The export writes the purge as Microsoft.KeyVault/locations/deletedVaults/purge/action, the table in upper case.
    expect(la.events).toEqual(exported.events);
    expect(Object.fromEntries(la.stats.skipped)).toEqual({ 'azure activity: operation not finished': 1 });
  });

  it('reads the portal CSV export ("TimeGenerated [UTC]", en-US time); damaged Claims_d is quarantined, another provider skipped', async () => {
    const rest = await run(activity('activity-log-list.json'));
    const csv = await run(activity('azureactivity.csv'));
    expect(csv.events).toEqual([rest.events[1]]);
    expect(csv.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 3', 'azure-activity-loganalytics: Claims_d is not a JSON object'],
    ]);
    // Its Properties_d is not JSON either: not ours, so not read.
    expect(Object.fromEntries(csv.stats.skipped)).toEqual({ 'other azure operation: MICROSOFT.WEB': 1 });
  });

  it('quarantines rows it cannot read rather than leaving them to keyvault-loganalytics: local time, no OperationNameValue', async () => {
    const r = await run([
      activity('azureactivity-local-time.csv'),
      activity('azureactivity-no-operation.json'),
    ]);
    expect(r.events).toEqual([]);
    expect(r.stats.skipped.size).toBe(0);
    expect(r.quarantine.map((q) => q.reason)).toEqual([
      'azure-activity-loganalytics: TimeGenerated [Local Time] has no time zone; export the results in UTC',
      'azure-activity-loganalytics: OperationNameValue missing',
    ]);
  });

  it('is offered AzureActivity rows before keyvault-loganalytics, which would take any row with TimeGenerated', () => {
    const row = {
      TimeGenerated: '2024-05-03T12:05:00Z',
      OperationNameValue: 'MICROSOFT.KEYVAULT/VAULTS/WRITE',
    };
    expect(keyvaultLogAnalytics.detect(row)).toBe(true);
    expect(SOURCES.find((s) => s.detect(row))?.id).toBe('azure-activity-loganalytics');
  });
});
