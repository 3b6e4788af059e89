import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { gcpAudit } from '../../ingest/gcp-audit.js';
import { tempDir } from '../helpers.js';
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

  it('reads entries delivered through Pub/Sub (push body, gcloud pull), the Logging API page and an Eventarc CloudEvent, with one id', async () => {
    const ids = new Set<string>();
    for (const name of ['pubsub-push.json', 'pubsub-pull.json', 'entries-list.json', 'cloudevent.json']) {
      const r = await run(fixture('gcp-audit', name));
      expect(r.quarantine, name).toEqual([]);
      const read = r.events.find((e) => e.operation === 'AccessSecretVersion')!;
      expect(read, name).toMatchObject({
        action: 'read',
        time: '2024-05-02T09:00:00.250Z',
        principal: { id: 'gcp:serviceAccount:orders-api@acme-prod.iam.gserviceaccount.com' },
        resource: { id: 'gcp:secretmanager:projects/acme-prod/secrets/db-password' },
      });
      ids.add(read.id);
    }
    expect(ids.size).toBe(1);
    const pull = await run(fixture('gcp-audit', 'pubsub-pull.json'));
    expect(Object.fromEntries(pull.stats.skipped)).toEqual({ 'pub/sub message is not JSON': 1 });
    expect((await run(fixture('gcp-audit', 'entries-list.json'))).events.map((e) => e.operation)).toEqual([
      'AccessSecretVersion',
      'GetSecret',
    ]);
  });

  it('names the real actor: people through service accounts, chains, federation, service agents, redacted callers', async () => {
    const r = await run(fixture('gcp-audit', 'identities.ndjson'));
    expect(r.quarantine).toEqual([]);
    const who = r.events.map((e) => ({ ...e.principal, session: undefined }));
    const deployer = 'deployer@acme-prod.iam.gserviceaccount.com';
    expect(who.slice(0, 3)).toEqual([
      // A person impersonating a service account stays the person: two people are two principals.
      {
        id: 'gcp:user:bob@acme.example',
        type: 'user',
        name: 'bob@acme.example',
        account: null,
        via: deployer,
      },
      {
        id: 'gcp:user:carol@acme.example',
        type: 'user',
        name: 'carol@acme.example',
        account: null,
        via: deployer,
      },
      // In a chain the original caller is the last entry.
      {
        id: 'gcp:user:dave@acme.example',
        type: 'user',
        name: 'dave@acme.example',
        account: null,
        via: deployer,
      },
    ]);
    // A federated workload and Google's infrastructure collapse into the service account they act as.
    expect(who[3]).toMatchObject({
      id: 'gcp:serviceAccount:ci@acme-prod.iam.gserviceaccount.com',
      type: 'service-account',
      account: 'acme-prod',
      via: expect.stringContaining('workloadIdentityPools/github/subject/repo:acme/app'),
    });
    expect(who[4]).toMatchObject({
      id: 'gcp:serviceAccount:acme-prod@appspot.gserviceaccount.com',
      account: 'acme-prod',
      via: 'app-engine-appserver@prod.google.com',
    });
    // A service agent is Google's, in the project it serves (by number), not a project named after its domain.
    expect(who[5]).toMatchObject({ type: 'service', account: '123456789012' });
    // A caller Google redacted is not anonymous.
    expect(who[6]).toMatchObject({ id: 'gcp:redacted', type: 'unknown' });
    expect(r.events[6]).toMatchObject({ outcome: 'denied', errorCode: 'PERMISSION_DENIED' });
    // A workforce identity keeps its subject's case, with one id for both ways of writing it.
    expect(who[7]).toMatchObject({
      id: 'gcp:subject:principal://iam.googleapis.com/locations/global/workforcePools/acme-pool/subject/Erin@acme.example',
      type: 'user',
    });
    // The v1beta1 API, and a VPC Service Controls denial that names the secret only in its metadata.
    expect(r.events[8]).toMatchObject({ operation: 'AccessSecretVersion', action: 'read' });
    expect(r.events[9]).toMatchObject({
      outcome: 'denied',
      resource: { id: 'gcp:secretmanager:projects/acme-prod/secrets/db-password', type: 'secret' },
    });
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'secret manager call on no secret: google.cloud.location.Locations.ListLocations': 1,
      'gcp log entry without audit payload': 1,
    });
  });

  it('reads a BigQuery sink row as the entry it was made from, with the same id', async () => {
    const bq = await run(fixture('gcp-audit', 'bigquery-export.ndjson'));
    const sink = await run(fixture('gcp-audit', 'log-sink.ndjson'));
    expect(bq.quarantine).toEqual([]);
    expect(bq.events).toEqual(sink.events.slice(0, 1));
  });

  it('reads a sink row as `bq query --format=json` prints it: integers and booleans as text, metadataJson', async () => {
    const [line] = readFileSync(fixture('gcp-audit', 'bigquery-export.ndjson'), 'utf8').split('\n');
    const row = JSON.parse(line!);
    const p = row.protopayload_auditlog;
    const texted = {
      ...row,
      protopayload_auditlog: {
        ...p,
        authorizationInfo: p.authorizationInfo.map((a: object) => ({ ...a, granted: 'true' })),
        status: {},
      },
    };
    // A VPC Service Controls denial: the project in resourceName, the secret only in the metadata.
    const denied = {
      ...row,
      insertId: 'vpcsc-1',
      protopayload_auditlog: {
        ...p,
        resourceName: 'projects/acme-prod',
        requestJson: undefined,
        authorizationInfo: [],
        status: { code: '7', message: "Request is prohibited by organization's policy." },
        metadataJson: JSON.stringify({
          '@type': 'type.googleapis.com/google.cloud.audit.VpcServiceControlAuditMetadata',
          resourceNames: ['projects/acme-prod/secrets/api-token/versions/1'],
          violationReason: 'NO_MATCHING_ACCESS_LEVEL',
        }),
      },
    };
    const path = join(tempDir(), 'bq.ndjson');
    writeFileSync(path, [texted, denied].map((r) => JSON.stringify(r)).join('\n'));
    const r = await run(path);
    const original = await run(fixture('gcp-audit', 'bigquery-export.ndjson'));
    expect(r.quarantine).toEqual([]);
    expect(r.events[0]).toEqual(original.events[0]);
    expect(r.events[1]).toMatchObject({
      outcome: 'denied',
      errorCode: 'PERMISSION_DENIED',
      resource: { id: 'gcp:secretmanager:projects/acme-prod/secrets/api-token', type: 'secret' },
    });
  });

  it('with --format gcp-audit, quarantines what is not a log entry rather than skip it', async () => {
    const path = join(tempDir(), 'ct.ndjson');
    const record = { eventVersion: '1.08', eventSource: 'secretsmanager.amazonaws.com', eventName: 'x' };
    writeFileSync(path, `${JSON.stringify(record)}\n`);
    const r = await run(path, { format: 'gcp-audit' });
    expect(r.events).toEqual([]);
    expect(r.quarantine.map((q) => q.reason)).toEqual([
      'gcp-audit: not a log entry (keys: eventVersion,eventSource,eventName)',
    ]);
  });

  it('keeps the members a SetIamPolicy grants in details, for rules', () => {
    const res = gcpAudit.normalize(SET_IAM_POLICY);
    expect(res.kind === 'events' && res.events[0]).toMatchObject({
      action: 'policy',
      details: { members: 'allUsers,user:ops@acme.example' },
    });
  });

  describe('Log Analytics rows (the _AllLogs view, its linked BigQuery dataset)', () => {
    /** The events of the LogEntries the Log Analytics fixtures were written from, by insertId. */
    async function fromLogEntries(): Promise<Map<string | null, SecretAccessEvent>> {
      const r = await run([
        fixture('gcp-audit', 'entries-list.json'),
        fixture('gcp-audit', 'identities.ndjson'),
      ]);
      const res = gcpAudit.normalize(SET_IAM_POLICY);
      const all = [...r.events, ...(res.kind === 'events' ? res.events : [])];
      return new Map(all.map((e) => [e.providerEventId, e]));
    }

    it('reads JSON rows as the entries they came from: same events, same ids', async () => {
      const r = await run(fixture('gcp-audit', 'log-analytics.ndjson'));
      expect(r.quarantine).toEqual([]);
      const entries = await fromLogEntries();
      expect(r.events.map((e) => e.providerEventId)).toEqual([
        'fx1',
        'fx3',
        'fx5',
        'fx6',
        'fx9',
        'fx12',
        'p1',
      ]);
      for (const e of r.events) expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
      // The rules that depend on the payload's nested records and JSON columns, spelled out.
      const [read, bob, dave, ci, redacted, vpcsc, policy] = r.events;
      expect(read).toMatchObject({
        time: '2024-05-02T09:00:00.250Z',
        principal: { id: 'gcp:serviceAccount:orders-api@acme-prod.iam.gserviceaccount.com' },
        resource: { id: 'gcp:secretmanager:projects/acme-prod/secrets/db-password' },
      });
      expect(bob!.principal).toMatchObject({
        id: 'gcp:user:bob@acme.example',
        via: 'deployer@acme-prod.iam.gserviceaccount.com',
      });
      expect(dave!.principal.id).toBe('gcp:user:dave@acme.example');
      expect(ci!.principal.via).toContain('workloadIdentityPools/github');
      expect(redacted).toMatchObject({ outcome: 'denied', principal: { id: 'gcp:redacted' } });
      expect(vpcsc).toMatchObject({ outcome: 'denied', resource: { type: 'secret', name: 'db-password' } });
      expect(policy!.details).toEqual({ members: 'allUsers,user:ops@acme.example' });
      expect(Object.fromEntries(r.stats.skipped)).toEqual({
        'gcp log entry without audit payload': 2, // an application log and App Engine's request log
        'other gcp service: storage.googleapis.com': 1,
      });
    });

    it('reads bq query --format=json output: JSON columns as text, INT64 and BOOL as text, times in UTC form', async () => {
      const r = await run(fixture('gcp-audit', 'log-analytics-bq.json'));
      expect(r.quarantine).toEqual([]);
      const entries = await fromLogEntries();
      expect(r.events.map((e) => e.providerEventId)).toEqual(['fx1', 'fx9', 'fx12', 'p1']);
      for (const e of r.events) expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
      expect(r.events.map((e) => e.outcome)).toEqual(['success', 'denied', 'denied', 'success']);
      expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'gcp log entry without audit payload': 1 });
    });

    it('reads CSV with records as JSON text and empty cells for NULL', async () => {
      const r = await run(fixture('gcp-audit', 'log-analytics.csv'));
      expect(r.quarantine).toEqual([]);
      const entries = await fromLogEntries();
      expect(r.events.map((e) => e.providerEventId)).toEqual(['fx1', 'fx3', 'fx9']);
      for (const e of r.events) expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
      expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'gcp log entry without audit payload': 1 });
    });

    it('quarantines a damaged payload and flattened columns rather than skip them as other logs', async () => {
      const dir = tempDir();
      const damaged = join(dir, 'damaged.csv');
      writeFileSync(
        damaged,
        'timestamp,log_name,insert_id,proto_payload,json_payload\n' +
          '2024-05-02 09:00:00 UTC,projects/p/logs/cloudaudit.googleapis.com%2Fdata_access,a1,"{""type"":""type.goo",\n',
      );
      const flat = join(dir, 'flat.ndjson');
      const row = {
        timestamp: '2024-05-02 09:00:00 UTC',
        log_name: 'projects/p/logs/cloudaudit.googleapis.com%2Fdata_access',
        'proto_payload.audit_log.method_name':
          'google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion',
        json_payload: null,
      };
      writeFileSync(flat, `${JSON.stringify(row)}\n`);
      const r = await run([damaged, flat]);
      expect(r.events).toEqual([]);
      expect(r.quarantine.map((q) => q.reason)).toEqual([
        'gcp-audit: proto_payload is not a JSON object',
        'gcp-audit: Log Analytics row with flattened proto_payload columns; export whole rows (SELECT *) as JSON',
      ]);
    });
  });
});

/** A LogEntry whose Log Analytics row is in log-analytics.ndjson (insertId p1). */
const SET_IAM_POLICY = {
  timestamp: '2024-05-02T09:30:00Z',
  insertId: 'p1',
  logName: 'projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity',
  protoPayload: {
    methodName: 'google.cloud.secretmanager.v1.SecretManagerService.SetIamPolicy',
    resourceName: 'projects/acme-prod/secrets/db-password',
    authenticationInfo: { principalEmail: 'mallory@acme.example' },
    requestMetadata: {
      callerIp: '203.0.113.40',
      callerSuppliedUserAgent: 'google-cloud-sdk gcloud/473.0.0,gzip(gfe)',
    },
    request: {
      resource: 'projects/acme-prod/secrets/db-password',
      policy: {
        bindings: [
          { role: 'roles/secretmanager.secretAccessor', members: ['allUsers', 'user:ops@acme.example'] },
          { role: 'roles/secretmanager.viewer', members: ['user:ops@acme.example'] },
        ],
      },
    },
  },
};
