import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTAINERS } from '../../ingest/containers.js';
import { tempDir } from '../helpers.js';
import { fixture, run } from './helpers.js';

const DB = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db';
const API = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/api-key';

describe('containers', () => {
  it('have unique ids', () => {
    expect(new Set(CONTAINERS.map((c) => c.id)).size).toBe(CONTAINERS.length);
  });

  it('reads lookup-events output: CloudTrailEvent strings; an entry without one is quarantined', async () => {
    const r = await run(fixture('containers', 'lookup-events.json'));
    expect(r.events.map((e) => e.resource?.id)).toEqual([DB]);
    expect(r.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 1 Events[1]', 'cloudtrail-lookup-events: CloudTrailEvent is missing'],
    ]);
  });

  for (const name of [
    'cwlogs-subscription-gzip.json',
    'cwlogs-subscription-zlib.json',
    'cwlogs-decoded.json',
    'kinesis.json',
  ]) {
    it(`reads a CloudWatch Logs subscription payload (${name}): records kept, plain text skipped, a damaged record quarantined`, async () => {
      const r = await run(fixture('containers', name));
      expect(r.events.map((e) => e.resource?.id)).toEqual([DB, API]);
      expect(r.events[0]!.principal.id).toBe('arn:aws:iam::111122223333:role/orders-api');
      expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'log message is not JSON': 1 });
      expect(r.quarantine).toHaveLength(1);
      expect(r.quarantine[0]!.position).toMatch(/logEvents\[3\]$/);
      expect(r.quarantine[0]!.reason).toBe('cloudwatch-logs-subscription: log message is not valid JSON');
    });
  }

  it('skips CONTROL_MESSAGE payloads', async () => {
    const r = await run(fixture('containers', 'cwlogs-control.json'));
    expect(r.events).toEqual([]);
    expect(r.quarantine).toEqual([]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'cloudwatch logs control message': 1 });
  });

  it('reads filter-log-events output', async () => {
    const r = await run(fixture('containers', 'filter-log-events.json'));
    expect(r.events.map((e) => e.resource?.id)).toEqual([DB, API]);
  });

  it('reads EventBridge events whose detail lacks eventSource and userIdentity; other detail-types are skipped', async () => {
    const r = await run(fixture('containers', 'eventbridge.json'));
    expect(r.quarantine).toEqual([]);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      account: '111122223333',
      resource: { id: API },
      principal: { type: 'unknown' },
    });
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'eventbridge: other detail-type: KMS CMK Rotation': 1,
    });
  });

  it('reads CloudTrail Lake query results: a row of columns is a record, a damaged row is quarantined', async () => {
    const r = await run(fixture('containers', 'lake-query-results.json'));
    const original = await run(fixture('cloudtrail', 'secret-by-name.json'));
    // Nested objects as JSON text and a zone-less eventTime read as the original record.
    expect(r.events).toEqual(original.events);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'other service: cloudtrail.amazonaws.com': 1 });
    expect(r.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 1 QueryResultRows[2]', 'cloudtrail-lake-results: row is not a list of columns'],
    ]);
  });

  it('skips a CloudTrail digest file given by path', async () => {
    const r = await run(fixture('containers', 'cloudtrail-digest.json'));
    expect(r.events).toEqual([]);
    expect(r.quarantine).toEqual([]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'cloudtrail digest file': 1 });
  });

  it('reads an Azure REST list page {"value":[...],"nextLink":...} like the bare list', async () => {
    const page = await run(fixture('containers', 'activity-log-rest-page.json'));
    const list = await run(fixture('azure-activity', 'activity-log-list.json'));
    expect(page.quarantine).toEqual([]);
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events).toEqual(list.events);
  });

  it('reads a CloudEvent whose data is base64 (data_base64), and skips one whose data is not JSON', async () => {
    const record = readFileSync(fixture('cloudtrail', 'secret-by-name.json'));
    const path = join(tempDir(), 'cloudevents.ndjson');
    const event = (data: Buffer, id: string) =>
      JSON.stringify({
        specversion: '1.0',
        id,
        source: 'test',
        type: 't',
        data_base64: data.toString('base64'),
      });
    writeFileSync(path, `${event(record, '1')}\n${event(Buffer.from('plain text'), '2')}\n`);
    const r = await run(path);
    expect(r.events).toEqual((await run(fixture('cloudtrail', 'secret-by-name.json'))).events);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'cloudevent data is not JSON': 1 });
  });

  it('gives a record the same id whichever container it came in', async () => {
    const direct = await run(fixture('containers', 'filter-log-events.json'));
    const kinesis = await run(fixture('containers', 'kinesis.json'));
    expect(kinesis.events.map((e) => e.id)).toEqual(direct.events.map((e) => e.id));
  });
});

describe('queue messages', () => {
  it('reads an EventBridge event delivered through SQS, and skips a body that is not JSON', async () => {
    const r = await run(fixture('containers', 'sqs-eventbridge.json'));
    expect(r.quarantine).toEqual([]);
    expect(r.events.map((e) => [e.operation, e.outcome, e.principal.id])).toEqual([
      ['GetSecretValue', 'denied', 'arn:aws:iam::111122223333:role/orders-api'],
    ]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'queue message is not JSON': 1 });
  });
});

describe('SIEM exports (Splunk, Elasticsearch / OpenSearch)', () => {
  const raw = (...parts: string[]) => run(fixture(...parts));
  const quarantined = (r: Awaited<ReturnType<typeof run>>) => r.quarantine.map((q) => [q.position, q.reason]);

  it('reads a Splunk export, one result a line: each _raw is the record it indexed, read as the raw logs are', async () => {
    // CloudTrail (aws:cloudtrail), Key Vault AuditEvents (HEC _json), and a log sink's entries as the
    // Splunk Add-on for Google Cloud Platform indexes them ({"publish_time":..,"data":<LogEntry>}).
    const r = await raw('containers', 'splunk-export.ndjson');
    const ct = await raw('cloudtrail', 'secret-by-name.json');
    const kv = await raw('keyvault', 'PT1H.json');
    const gcp = await raw('gcp-audit', 'log-sink.ndjson');
    expect(r.quarantine).toEqual([]);
    expect(r.events).toHaveLength(9);
    expect(r.events).toEqual([...ct.events, ...kv.events, ...gcp.events]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual(Object.fromEntries(gcp.stats.skipped));
  });

  it('reads Splunk REST results {"results":[...]} as the raw records', async () => {
    const r = await raw('containers', 'splunk-results.json');
    const records = await raw('cloudtrail', 'records.ndjson');
    expect(r.quarantine).toEqual([]);
    expect(r.events.length).toBeGreaterThan(0);
    expect(r.events).toEqual(records.events);
    expect(Object.fromEntries(r.stats.skipped)).toEqual(Object.fromEntries(records.stats.skipped));
  });

  it('Splunk: skips _raw that is not JSON; quarantines a result without _raw, a cut _raw, a FATAL search and json_rows', async () => {
    const r = await raw('containers', 'splunk-export-problems.ndjson');
    expect(r.events).toEqual([]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({
      'splunk _raw is not JSON': 1,
      'splunk pub/sub message data is not JSON': 1,
    });
    expect(quarantined(r)).toEqual([
      ['line 2 result', 'splunk-export: result without _raw: export the raw events'],
      ['line 3 result._raw', 'splunk-export: _raw is not valid JSON (cut by the sourcetype TRUNCATE limit?)'],
      ['line 6 messages[0]', 'splunk-export: search reported FATAL: the export may be incomplete'],
      [
        'line 7',
        'splunk-export: output_mode json_rows or json_cols is not read: export with output_mode=json',
      ],
    ]);
  });

  it('reads an Elasticsearch _search response: a raw _source as it is, an ECS document from event.original', async () => {
    const r = await raw('containers', 'elasticsearch-search.json');
    const ct = await raw('cloudtrail', 'secret-by-name.json');
    const denied = await raw('cloudtrail', 'denied.json');
    const kv = await raw('keyvault', 'PT1H.json');
    const gcp = await raw('gcp-audit', 'log-sink.ndjson');
    expect(r.quarantine).toEqual([]);
    expect(r.events).toEqual([...ct.events, ...denied.events, kv.events[0], gcp.events[0]]);
  });

  it('reads hits one a line (elasticdump): ECS Key Vault documents and LogEntries indexed by Logstash', async () => {
    const r = await raw('containers', 'elasticdump.ndjson');
    const kv = await raw('keyvault', 'PT1H.json');
    const gcp = await raw('gcp-audit', 'log-sink.ndjson');
    expect(r.quarantine).toEqual([]);
    expect(r.events).toEqual([...kv.events, ...gcp.events]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual(Object.fromEntries(gcp.stats.skipped));
  });

  it('Elasticsearch: quarantines an ECS document without event.original, a hit without _source and a cut original', async () => {
    const r = await raw('containers', 'elasticsearch-problems.ndjson');
    expect(quarantined(r)).toEqual([
      [
        'line 1 _source',
        'elasticsearch-hits: ECS document without event.original: enable preserve_original_event or export the raw logs',
      ],
      ['line 2', 'elasticsearch-hits: hit without _source: export the documents with their _source'],
      ['line 4 _source.event.original', 'elasticsearch-hits: event.original is not valid JSON'],
    ]);
    // Another dataset's original text (an sshd line) is skipped; a dotted `event.original` key is read.
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'elasticsearch event.original is not JSON': 1 });
    expect(r.events).toEqual((await raw('cloudtrail', 'secret-by-partial-arn.json')).events);
  });

  it('Elasticsearch: reads the line a shipper kept as message (Filebeat without a pipeline, ECS without event.original)', async () => {
    const record = (name: string) => readFileSync(fixture('cloudtrail', name), 'utf8');
    const hit = (id: string, source: object) =>
      JSON.stringify({ _index: 'filebeat-8.11.0', _id: id, _source: source });
    const agent = { type: 'filebeat', version: '8.11.0' };
    const path = join(tempDir(), 'filebeat.ndjson');
    writeFileSync(
      path,
      [
        // Filebeat reading CloudTrail NDJSON with no processors: the record is the text of `message`.
        hit('1', {
          '@timestamp': '2026-11-01T10:00:01.000Z',
          agent,
          ecs: { version: '8.0.0' },
          input: { type: 'filestream' },
          log: { file: { path: '/var/log/cloudtrail/trail.ndjson' }, offset: 0 },
          message: JSON.stringify(JSON.parse(record('secret-by-name.json'))),
        }),
        // An ECS document whose pipeline dropped event.original but left `message`.
        hit('2', {
          '@timestamp': '2026-11-01T10:00:02.000Z',
          event: { dataset: 'aws.cloudtrail', kind: 'event' },
          message: record('denied.json'),
        }),
        // Another log shipped beside it: skipped, not quarantined.
        hit('3', {
          '@timestamp': '2026-11-01T10:00:03.000Z',
          agent,
          message: 'sshd[811]: Accepted publickey for ops',
        }),
        // A line cut short is a damaged record.
        hit('4', {
          '@timestamp': '2026-11-01T10:00:04.000Z',
          agent,
          message: '{"eventVersion":"1.09","userIdent',
        }),
      ].join('\n'),
    );
    const r = await run(path);
    const ct = await raw('cloudtrail', 'secret-by-name.json');
    const denied = await raw('cloudtrail', 'denied.json');
    expect(r.events).toEqual([...ct.events, ...denied.events]);
    expect(Object.fromEntries(r.stats.skipped)).toEqual({ 'elasticsearch message is not JSON': 1 });
    expect(quarantined(r)).toEqual([
      ['line 4 _source.message', 'elasticsearch-hits: message is not valid JSON'],
    ]);
  });
});
