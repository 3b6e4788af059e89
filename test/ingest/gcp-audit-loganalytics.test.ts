import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { gcpAuditLogAnalytics } from '../../ingest/gcp-audit-loganalytics.js';
import { keyvaultLogAnalytics } from '../../ingest/keyvault-loganalytics.js';
import { SOURCES } from '../../ingest/sources.js';
import { fixture, run } from './helpers.js';

const gcp = (name: string) => fixture('gcp-audit', name);

/** The events of the LogEntries the GCPAuditLogs fixtures were written from, by insertId. */
async function fromLogEntries(): Promise<Map<string | null, SecretAccessEvent>> {
  const r = await run([gcp('entries-list.json'), gcp('identities.ndjson'), gcp('set-iam-policy.json')]);
  expect(r.quarantine).toEqual([]);
  return new Map(r.events.map((e) => [e.providerEventId, e]));
}

describe('gcp-audit Log Analytics exports (the GCPAuditLogs table of Microsoft Sentinel)', () => {
  it('reads query API rows into the same events, with the same ids, as the LogEntries they came from', async () => {
    const la = await run(gcp('gcpauditlogs-query.json'));
    expect(la.quarantine).toEqual([]);
    const entries = await fromLogEntries();
    expect(la.events.map((e) => e.providerEventId)).toEqual(['fx1', 'fx3', 'fx5', 'fx9', 'fx12', 'p2']);
    for (const e of la.events) expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
    const [read, bob, dave, denied, vpcsc, policy] = la.events;
    // Timestamp (when the call happened), not TimeGenerated (when Cloud Logging received it, 2 s later).
    expect(read).toMatchObject({
      time: '2024-05-02T09:00:00.250Z',
      operation: 'AccessSecretVersion',
      action: 'read',
      outcome: 'success',
      principal: { id: 'gcp:serviceAccount:orders-api@acme-prod.iam.gserviceaccount.com' },
      resource: { id: 'gcp:secretmanager:projects/acme-prod/secrets/db-password' },
      source: { ip: '203.0.113.40' },
    });
    // Impersonation, from AuthenticationInfo's serviceAccountDelegationInfo (a chain: its last entry).
    expect(bob!.principal).toMatchObject({
      id: 'gcp:user:bob@acme.example',
      via: 'deployer@acme-prod.iam.gserviceaccount.com',
    });
    expect(dave!.principal.id).toBe('gcp:user:dave@acme.example');
    // The outcome from Status.code; a caller Google redacted (AuthenticationInfo `{}`) is not anonymous.
    expect(denied).toMatchObject({
      outcome: 'denied',
      errorCode: 'PERMISSION_DENIED',
      principal: { id: 'gcp:redacted' },
    });
    // VPC Service Controls: the secret is named only in Metadata.
    expect(vpcsc).toMatchObject({ outcome: 'denied', resource: { type: 'secret', name: 'db-password' } });
    // Microseconds in Timestamp are cut to the millisecond, as the entry's are.
    expect(policy).toMatchObject({
      time: '2024-05-02T09:30:00.123Z',
      action: 'policy',
      details: {
        members: 'allAuthenticatedUsers,serviceAccount:orders-api@acme-prod.iam.gserviceaccount.com',
      },
    });
    expect(Object.fromEntries(la.stats.skipped)).toEqual({
      'other gcp service: storage.googleapis.com': 1,
      'secret manager call on no secret: google.cloud.location.Locations.ListLocations': 1,
    });
  });

  it('reads `az monitor log-analytics query` rows (JSON columns as text): federation, service agents, v1beta1', async () => {
    const la = await run(gcp('gcpauditlogs-cli.json'));
    expect(la.quarantine).toEqual([]);
    const entries = await fromLogEntries();
    expect(la.events.map((e) => e.providerEventId)).toEqual(['fx6', 'fx7', 'fx8', 'fx10', 'fx11']);
    for (const e of la.events) expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
    expect(la.events[0]!.principal.via).toContain('workloadIdentityPools/github');
    expect(la.events[2]!.principal).toMatchObject({ type: 'service', account: '123456789012' });
    expect(Object.fromEntries(la.stats.skipped)).toEqual({
      'other gcp service: iamcredentials.googleapis.com': 1,
    });
  });

  it('reads the portal CSV ("Timestamp [UTC]", en-US times); a damaged JSON column is quarantined, another service skipped', async () => {
    const csv = await run(gcp('gcpauditlogs.csv'));
    const entries = await fromLogEntries();
    expect(csv.events.map((e) => e.providerEventId)).toEqual(['fx1', 'fx3', 'fx9']);
    for (const e of csv.events) expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
    expect(csv.events[2]).toMatchObject({ outcome: 'denied', errorCode: 'PERMISSION_DENIED' });
    expect(csv.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 5', 'gcp-audit-loganalytics: AuthenticationInfo is not a JSON object'],
    ]);
    // Its AuthenticationInfo is damaged too: not ours, so not read.
    expect(Object.fromEntries(csv.stats.skipped)).toEqual({ 'other gcp service: storage.googleapis.com': 1 });
  });

  it('quarantines a row in local time rather than guess its zone', async () => {
    const r = await run(gcp('gcpauditlogs-local-time.csv'));
    expect(r.events).toEqual([]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([
      'gcp-audit-loganalytics: Timestamp [Local Time] has no time zone; export the results in UTC',
    ]);
  });

  it('reads a projection without Type and Timestamp, at TimeGenerated (so under another id than its entry)', async () => {
    const r = await run(gcp('gcpauditlogs-projected.json'));
    expect(r.quarantine).toEqual([]);
    const entry = (await fromLogEntries()).get('fx1')!;
    expect(r.events).toHaveLength(1);
    const { id, time, ...rest } = r.events[0]!;
    expect(time).toBe('2024-05-02T09:00:02.390Z');
    expect(id).not.toBe(entry.id);
    expect(rest).toEqual(
      Object.fromEntries(Object.entries(entry).filter(([k]) => k !== 'id' && k !== 'time')),
    );
  });

  it('is offered GCPAuditLogs rows before keyvault-loganalytics, and claims no other table', () => {
    const row = {
      TimeGenerated: '2024-05-02T09:00:02.39Z',
      MethodName: 'google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion',
      PrincipalEmail: 'orders-api@acme-prod.iam.gserviceaccount.com',
    };
    expect(keyvaultLogAnalytics.detect(row)).toBe(true);
    expect(SOURCES.find((s) => s.detect(row))?.id).toBe('gcp-audit-loganalytics');
    expect(
      SOURCES.find((s) => s.detect({ TimeGenerated: row.TimeGenerated, Type: 'GCPAuditLogs' }))?.id,
    ).toBe('gcp-audit-loganalytics');
    // Rows of the other Log Analytics tables vigil reads, and an AWSCloudTrail row.
    const others: Record<string, unknown>[] = [
      ...rowsOf(fixture('keyvault-loganalytics', 'azkvauditlogs-query.json')),
      ...rowsOf(fixture('keyvault-loganalytics', 'azurediagnostics.json')),
      ...rowsOf(fixture('azure-activity', 'azureactivity-query.json')),
      ...rowsOf(fixture('azure-activity', 'azureactivity-cli.json')),
      {
        TimeGenerated: '2024-05-02T09:00:01Z',
        AwsEventId: '3f1c9a2e-0000-4000-8000-000000000001',
        EventName: 'GetSecretValue',
        EventSource: 'secretsmanager.amazonaws.com',
        UserIdentityPrincipalid: 'AROAEXAMPLE:app',
        Type: 'AWSCloudTrail',
      },
    ];
    expect(others.length).toBeGreaterThan(5);
    for (const r of others)
      expect(gcpAuditLogAnalytics.detect(r), JSON.stringify(r).slice(0, 80)).toBe(false);
  });
});

/** The rows of a query API response or of an `az` array, as objects. */
function rowsOf(path: string): Record<string, unknown>[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (Array.isArray(doc)) return doc as Record<string, unknown>[];
  const out: Record<string, unknown>[] = [];
  for (const t of (doc as { tables: { columns: { name: string }[]; rows: unknown[][] }[] }).tables)
    for (const row of t.rows) out.push(Object.fromEntries(t.columns.map((c, i) => [c.name, row[i]])));
  return out;
}
