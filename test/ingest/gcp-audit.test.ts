import { describe, expect, it } from 'vitest';
import { fixture, run } from './helpers.js';

describe('gcp-audit (Secret Manager)', () => {
  it('reads gcloud logging read --format=json output; project number and id, versions folded into one secret', async () => {
    const r = await run(fixture('gcp-audit', 'gcloud-logging-read.json'));
    expect(r.quarantine).toEqual([]);
    const [ok, denied, list] = r.events;
    expect(ok).toMatchObject({
      provider: 'gcp',
      service: 'secretmanager',
      operation: 'AccessSecretVersion',
      action: 'read',
      outcome: 'success',
      time: '2024-05-01T10:00:00.123Z',
      principal: {
        id: 'gcp:serviceAccount:checkout@acme-prod.iam.gserviceaccount.com',
        type: 'service-account',
        account: 'acme-prod',
      },
      resource: { id: 'gcp:secretmanager:projects/acme-prod/secrets/db-password', name: 'db-password' },
      source: { ip: '35.190.0.10', userAgent: 'grpc-go/1.62.0' },
    });
    expect(denied).toMatchObject({
      outcome: 'denied',
      errorCode: 'PERMISSION_DENIED',
      principal: { type: 'user' },
    });
    expect(denied!.resource?.id).toBe(ok!.resource?.id);
    expect(list).toMatchObject({ action: 'list', resource: { type: 'vault' } });
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'other gcp service: storage.googleapis.com': 1 });
  });

  it('reads NDJSON from a log sink, including regional secrets', async () => {
    const r = await run(fixture('gcp-audit', 'log-sink.ndjson'));
    expect(r.events.map((e) => [e.action, e.resource?.id, e.region])).toEqual([
      [
        'read',
        'gcp:secretmanager:projects/acme-prod/locations/europe-west1/secrets/api-token',
        'europe-west1',
      ],
      ['write', 'gcp:secretmanager:projects/acme-prod/secrets/db-password', null],
    ]);
    expect(r.quarantine).toEqual([]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'gcp log entry without audit payload': 1 });
  });
});
