import { describe, expect, it } from 'vitest';
import { toOcsf } from '../../ingest/ocsf.js';
import { fixture, run } from './helpers.js';

describe('toOcsf (OCSF 1.1 API Activity)', () => {
  it('maps a denied read with its class, activity, status, actor, resource and cloud', async () => {
    const { events } = await run(fixture('cloudtrail', 'denied.json'));
    const o = toOcsf(events[0]!);
    expect(o).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 2,
      type_uid: 600302,
      time: Date.parse('2024-05-01T10:00:00Z'),
      status_id: 2,
      status: 'Failure',
      status_code: 'AccessDenied',
      status_detail: 'denied',
      metadata: {
        version: '1.1.0',
        uid: events[0]!.id,
        original_uid: 'e0000004-0000-4000-8000-000000000001',
      },
      api: { operation: 'GetSecretValue', service: { name: 'secretsmanager' } },
      actor: { user: { uid: 'arn:aws:iam::111122223333:role/orders-api', name: 'orders-api', type_id: 99 } },
      src_endpoint: { ip: '203.0.113.10' },
      resources: [
        { uid: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/stripe', type: 'secret' },
      ],
      cloud: { provider: 'AWS', region: 'us-east-1', account: { uid: '111122223333' } },
    });
  });

  it('puts a service host that stands for an address in svc_name, and the invoking service in actor.invoked_by', async () => {
    const { events } = await run(fixture('cloudtrail', 'kms-decrypt-via-secretsmanager.json'));
    const o = toOcsf(events[1]!);
    expect(o.src_endpoint).toEqual({ svc_name: 'secretsmanager.amazonaws.com' });
    expect(o.actor).toMatchObject({ invoked_by: 'secretsmanager.amazonaws.com' });
    expect(o.unmapped).toMatchObject({
      related_resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db',
    });
  });

  it('maps every provider and action to a valid activity, and succeeds with status 1', async () => {
    const { events } = await run([
      fixture('keyvault', 'PT1H.json'),
      fixture('gcp-audit', 'log-sink.ndjson'),
      fixture('vault-audit', 'audit.log'),
      fixture('azure-activity', 'diagnostic-export.json'),
    ]);
    for (const e of events) {
      const o = toOcsf(e);
      expect([1, 2, 3, 4, 99]).toContain(o.activity_id);
      expect(o.type_uid).toBe(600300 + o.activity_id);
      expect(Number.isInteger(o.time)).toBe(true);
      expect(o.status_id).toBe(e.outcome === 'success' ? 1 : 2);
    }
    expect(new Set(events.map((e) => (toOcsf(e).cloud as { provider: string }).provider))).toEqual(
      new Set(['Azure', 'GCP', 'HashiCorp Vault']),
    );
  });
});
