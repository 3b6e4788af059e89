import { describe, expect, it } from 'vitest';
import { isSecretRead } from '../../core/event.js';
import { cloudtrail } from '../../ingest/cloudtrail.js';
import { fixture, run } from './helpers.js';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db';
const ROLE = 'arn:aws:iam::111122223333:role/orders-api';

describe('cloudtrail identity rules', () => {
  it('gives one resource id to a secret read by name, full ARN with suffix and partial ARN, and one principal to sessions of a role', async () => {
    const r = await run([
      fixture('cloudtrail', 'secret-by-name.json'),
      fixture('cloudtrail', 'secret-by-full-arn.json'),
      fixture('cloudtrail', 'secret-by-partial-arn.json'),
    ]);
    expect(r.quarantine).toEqual([]);
    expect(r.events).toHaveLength(3);
    expect(new Set(r.events.map((e) => e.resource?.id))).toEqual(new Set([SECRET]));
    expect(new Set(r.events.map((e) => e.principal.id))).toEqual(new Set([ROLE]));
    expect(r.events.map((e) => e.principal.session)).toEqual([
      'orders-api-fn-a1',
      'orders-api-fn-b2',
      '1714557600123456789',
    ]);
    for (const e of r.events) {
      expect(e.principal.type).toBe('role');
      expect(e.resource?.name).toBe('prod/orders/db');
      expect(isSecretRead(e)).toBe(true);
    }
  });

  it('does not take a six-letter word at the end of a partial ARN for the random suffix', async () => {
    const r = await run(fixture('cloudtrail', 'secret-name-ends-like-suffix.json'));
    expect(new Set(r.events.map((e) => e.resource?.id))).toEqual(
      new Set(['arn:aws:secretsmanager:us-east-1:111122223333:secret:payments/app-config']),
    );
  });

  it('keeps two people of one Identity Center permission set apart, each named', async () => {
    const r = await run(fixture('cloudtrail', 'identity-center-two-people.json'));
    expect(r.events.map((e) => [e.principal.type, e.principal.name])).toEqual([
      ['person', 'alice@example.com'],
      ['person', 'bob@example.com'],
    ]);
    expect(r.events[0]!.principal.id).not.toBe(r.events[1]!.principal.id);
    expect(r.events[0]!.principal.via).toBe(
      'arn:aws:iam::111122223333:role/AWSReservedSSO_ReadOnly_0123456789abcdef',
    );
  });

  it('links the KMS Decrypt Secrets Manager makes to the secret, marks it viaService, and does not count it as a read', async () => {
    const r = await run(fixture('cloudtrail', 'kms-decrypt-via-secretsmanager.json'));
    const [get, decrypt] = r.events;
    expect(get!.operation).toBe('GetSecretValue');
    expect(get!.source.viaService).toBeNull();
    expect(decrypt!.operation).toBe('Decrypt');
    expect(decrypt!.service).toBe('kms');
    expect(decrypt!.source.viaService).toBe('secretsmanager.amazonaws.com');
    expect(decrypt!.source.ip).toBe('secretsmanager.amazonaws.com');
    expect(decrypt!.relatedResource).toBe(SECRET);
    expect(decrypt!.resource?.id).toBe(
      'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(decrypt!.principal.id).toBe(get!.principal.id);
    expect(r.events.filter(isSecretRead)).toHaveLength(1);
  });

  it('marks AccessDenied as denied and keeps the error code', async () => {
    const r = await run(fixture('cloudtrail', 'denied.json'));
    expect(r.events[0]).toMatchObject({ outcome: 'denied', errorCode: 'AccessDenied', action: 'read' });
  });

  it('keeps the caller account apart from the account that owns the secret (cross-account)', async () => {
    const r = await run(fixture('cloudtrail', 'cross-account.json'));
    const e = r.events[0]!;
    expect(e.principal).toMatchObject({
      id: 'arn:aws:iam::444455556666:role/partner-sync',
      account: '444455556666',
      type: 'role',
    });
    expect(e.account).toBe('111122223333');
    expect(e.resource).toMatchObject({
      id: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:shared/partner-api',
      account: '111122223333',
    });
    expect(e.source.vpcEndpointId).toBe('vpce-0a1b2c3d4e5f67890');
  });

  it('expands BatchGetSecretValue into one event per distinct secret, with distinct ids', async () => {
    const r = await run(fixture('cloudtrail', 'batch-get-secret-value.json'));
    expect(r.events.map((e) => e.resource?.name)).toEqual([
      'prod/orders/db',
      'prod/orders/api-key',
      'prod/orders/redis',
    ]);
    expect(new Set(r.events.map((e) => e.id)).size).toBe(3);
    expect(r.events.every((e) => e.action === 'read' && e.details?.batchCall === true)).toBe(true);
  });

  it('expands GetParameters into one event per parameter, versions and ARNs folded', async () => {
    const r = await run(fixture('cloudtrail', 'get-parameters.json'));
    expect(r.events.map((e) => e.resource?.id)).toEqual([
      'arn:aws:ssm:us-east-1:111122223333:parameter/orders/db/password',
      'arn:aws:ssm:us-east-1:111122223333:parameter/orders/api/token',
    ]);
    expect(r.events[0]!.details).toEqual({ withDecryption: true });
  });

  it('reads NDJSON: root, AWS service events, skips other services and non-parameter SSM calls', async () => {
    const r = await run(fixture('cloudtrail', 'records.ndjson'));
    expect(r.quarantine).toEqual([]);
    const [del, rotation, param] = r.events;
    expect(del).toMatchObject({ operation: 'DeleteSecret', action: 'delete', principal: { type: 'root' } });
    expect(del!.details).toEqual({ forceDeleteWithoutRecovery: true });
    expect(rotation).toMatchObject({
      operation: 'RotationSucceeded',
      action: 'rotate',
      principal: { id: 'aws:service:secretsmanager.amazonaws.com', type: 'service' },
      source: { viaService: 'secretsmanager.amazonaws.com' },
      resource: { id: SECRET },
    });
    expect(param!.resource?.id).toBe('arn:aws:ssm:us-east-1:111122223333:parameter/orders/feature-flags');
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'other service: ec2.amazonaws.com': 1,
      'other ssm operation: StartSession': 1,
    });
  });

  it('quarantines a wrongly typed field with the field name and no value', async () => {
    const r = await run(fixture('cloudtrail', 'wrong-type.json'));
    expect(r.events).toEqual([]);
    expect(r.quarantine).toEqual([
      {
        file: fixture('cloudtrail', 'wrong-type.json'),
        position: 'line 1',
        reason: expect.stringMatching(/^cloudtrail: eventTime: /),
      },
    ]);
    expect(r.quarantine[0]!.reason).not.toContain('12345');
  });

  it('gives the same id when the same record is read again', async () => {
    const a = await run(fixture('cloudtrail', 'batch-get-secret-value.json'));
    const b = await run(fixture('cloudtrail', 'batch-get-secret-value.json'));
    expect(a.events.map((e) => e.id)).toEqual(b.events.map((e) => e.id));
  });

  it('normalizes times to milliseconds in UTC', () => {
    const res = cloudtrail.normalize({
      eventTime: '2024-05-01T12:00:00+02:00',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'ListSecrets',
      eventID: 'x',
    });
    expect(res.kind === 'events' && res.events[0]!.time).toBe('2024-05-01T10:00:00.000Z');
  });
});

describe('partitions and service events', () => {
  const call = (
    eventName: string,
    awsRegion: string,
    requestParameters: Record<string, unknown>,
    source = 'secretsmanager',
  ) =>
    cloudtrail.normalize({
      eventTime: '2024-05-01T10:00:00Z',
      eventSource: `${source}.amazonaws.com`,
      eventName,
      awsRegion,
      eventID: `${eventName}-${awsRegion}`,
      recipientAccountId: '111122223333',
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws-cn:iam::111122223333:user/ops',
        accountId: '111122223333',
        userName: 'ops',
      },
      requestParameters,
    });
  const resourceOf = (res: ReturnType<typeof call>) =>
    res.kind === 'events' ? res.events[0]!.resource?.id : undefined;

  it('names a secret, parameter or key read by name in its partition, as its ARN does', () => {
    const byName = resourceOf(call('GetSecretValue', 'cn-north-1', { secretId: 'prod/db' }));
    const byArn = resourceOf(
      call('GetSecretValue', 'cn-north-1', {
        secretId: 'arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:prod/db-AbC123',
      }),
    );
    expect(byName).toBe('arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:prod/db');
    expect(byName).toBe(byArn);
    expect(resourceOf(call('GetParameter', 'us-gov-west-1', { name: '/app/db' }, 'ssm'))).toBe(
      'arn:aws-us-gov:ssm:us-gov-west-1:111122223333:parameter/app/db',
    );
    expect(
      resourceOf(call('Decrypt', 'cn-northwest-1', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }, 'kms')),
    ).toBe('arn:aws-cn:kms:cn-northwest-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(resourceOf(call('GetSecretValue', 'eu-west-1', { secretId: 'prod/db' }))).toBe(
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db',
    );
  });

  it('maps rotation tests and KMS service events; a failed rotation test is an error', () => {
    const service = (eventSource: string, eventName: string) =>
      cloudtrail.normalize({
        eventTime: '2024-05-01T10:00:00Z',
        eventSource,
        eventName,
        eventType: 'AwsServiceEvent',
        awsRegion: 'us-east-1',
        eventID: eventName,
        recipientAccountId: '111122223333',
        userIdentity: { accountId: '111122223333', invokedBy: 'secretsmanager.amazonaws.com' },
        additionalEventData: {
          SecretId: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbC123',
        },
        serviceEventDetails: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
      });
    const first = (r: ReturnType<typeof service>) => (r.kind === 'events' ? r.events[0]! : undefined);
    expect(first(service('secretsmanager.amazonaws.com', 'TestRotationFailed'))).toMatchObject({
      action: 'rotate',
      outcome: 'error',
    });
    expect(first(service('secretsmanager.amazonaws.com', 'TestRotationSucceeded'))).toMatchObject({
      action: 'rotate',
      outcome: 'success',
    });
    expect(first(service('kms.amazonaws.com', 'DeleteExpiredKeyMaterial'))?.action).toBe('delete');
    expect(first(service('kms.amazonaws.com', 'SynchronizeMultiRegionKey'))?.action).toBe('write');
  });
});

describe('cloudtrail exports', () => {
  it('reads records whose nested objects are JSON text (CloudTrail Lake, SIEM exports) like the original', async () => {
    const text = await run(fixture('cloudtrail', 'nested-as-text.json'));
    const original = await run(fixture('cloudtrail', 'denied.json'));
    expect(text.quarantine).toEqual([]);
    expect(text.events).toEqual(original.events);
  });
});
