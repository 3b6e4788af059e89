import { describe, expect, it } from 'vitest';
import { cloudtrailLogAnalytics } from '../../ingest/cloudtrail-loganalytics.js';
import { keyvaultLogAnalytics } from '../../ingest/keyvault-loganalytics.js';
import { SOURCES } from '../../ingest/sources.js';
import { fixture, run } from './helpers.js';

const row = (name: string) => fixture('cloudtrail-loganalytics', name);
const original = (name: string) => fixture('cloudtrail', name);

describe('cloudtrail Log Analytics exports (the AWSCloudTrail table of Microsoft Sentinel)', () => {
  it('reads query API rows into the same events, with the same ids, as the CloudTrail records they came from', async () => {
    const raw = await run([
      original('secret-by-name.json'),
      original('denied.json'),
      original('kms-decrypt-via-secretsmanager.json'),
      original('batch-get-secret-value.json'),
    ]);
    const la = await run(row('awscloudtrail-query.json'));
    expect(la.quarantine).toEqual([]);
    // An assumed role's read collapsed into the role, an AccessDenied, the KMS Decrypt Secrets Manager
    // makes (linked to the secret by its encryption context), a batch read expanded per secret.
    expect(la.events).toEqual(raw.events);
    expect(la.events.map((e) => e.id).slice(0, 2)).toEqual([
      'aws:e0000001-0000-4000-8000-000000000001',
      'aws:e0000004-0000-4000-8000-000000000001',
    ]);
    expect(la.events[0]!.principal).toMatchObject({
      id: 'arn:aws:iam::111122223333:role/orders-api',
      type: 'role',
    });
    expect(la.events[1]).toMatchObject({ outcome: 'denied', errorCode: 'AccessDenied' });
    expect(la.events[3]).toMatchObject({
      operation: 'Decrypt',
      relatedResource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db',
      source: { viaService: 'secretsmanager.amazonaws.com' },
    });
    // The S3 row's RequestParameters was cut short: not ours, so skipped, not quarantined.
    expect(Object.fromEntries(la.stats.skipped)).toEqual({
      'other service: ec2.amazonaws.com': 1,
      'other service: s3.amazonaws.com': 1,
    });
  });

  it('reads `az monitor log-analytics query` rows (every value text, the deprecated AwsRequestId, JSON null) as the records', async () => {
    const raw = await run([
      original('cross-account.json'),
      original('records.ndjson'),
      row('on-behalf-of.json'),
    ]);
    const la = await run(row('awscloudtrail-cli.json'));
    expect(la.quarantine).toEqual([]);
    // Cross-account with a VPC endpoint, root, a service event, a parameter read, a session on behalf of
    // an Identity Center user (UserIdentityUserId, UserIdentityStoreArn).
    expect(la.events).toEqual(raw.events);
    expect(la.events[4]!.principal.type).toBe('person');
    expect(Object.fromEntries(la.stats.skipped)).toEqual(Object.fromEntries(raw.stats.skipped));
  });

  it('reads the portal CSV export ("TimeGenerated [UTC]", en-US time); a damaged JSON column is quarantined, naming it', async () => {
    const raw = await run([original('identity-center-two-people.json'), original('get-parameters.json')]);
    const csv = await run(row('awscloudtrail.csv'));
    expect(csv.events).toEqual(raw.events);
    expect(csv.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 5', 'cloudtrail-loganalytics: RequestParameters is not JSON'],
    ]);
    // Its ResponseElements is cut short too: another service, so not read.
    expect(Object.fromEntries(csv.stats.skipped)).toEqual({ 'other service: sts.amazonaws.com': 1 });
  });

  it('quarantines a "TimeGenerated [Local Time]" column, and rows whose columns cloudtrail cannot read, by column', async () => {
    const r = await run([row('awscloudtrail-local-time.csv'), row('awscloudtrail-projected.json')]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([
      'cloudtrail-loganalytics: TimeGenerated [Local Time] has no time zone; export the results in UTC',
      'cloudtrail-loganalytics: EventSource missing',
      'cloudtrail-loganalytics: RequestParameters is not a JSON object',
      'cloudtrail-loganalytics: Resources is not a JSON array',
    ]);
    // Another service's row is skipped whatever its time column.
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'other service: sts.amazonaws.com': 1 });
    // A projection without AwsEventId is still read (by Type), with a hash id as a record without eventID.
    expect(r.events.map((e) => [e.operation, e.id.startsWith('aws:h:')])).toEqual([['PutSecretValue', true]]);
  });

  it('is offered AWSCloudTrail rows before keyvault-loganalytics, which would take any row with TimeGenerated', () => {
    const full = { TimeGenerated: '2024-05-01T10:00:00Z', AwsEventId: 'x', EventSource: 'kms.amazonaws.com' };
    const projected = { 'TimeGenerated [UTC]': '5/1/2024, 10:00:00.000 AM', Type: 'AWSCloudTrail' };
    for (const r of [full, projected]) {
      expect(keyvaultLogAnalytics.detect(r)).toBe(true);
      expect(SOURCES.find((s) => s.detect(r))?.id).toBe(cloudtrailLogAnalytics.id);
    }
  });
});
