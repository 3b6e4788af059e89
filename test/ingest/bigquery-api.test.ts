import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { bigqueryApi, timestamp } from '../../ingest/containers/bigquery-api.js';
import { CONTAINERS, type Unwrapped } from '../../ingest/containers.js';
import { tempDir } from '../helpers.js';
import { fixture, run } from './helpers.js';

/** The events of LogEntries in the gcp-audit fixtures, by insertId. */
async function logEntries(...names: string[]): Promise<Map<string | null, SecretAccessEvent>> {
  const r = await run(names.map((n) => fixture('gcp-audit', n)));
  return new Map(r.events.map((e) => [e.providerEventId, e]));
}

/** What the pipeline makes of one response, written to a file as a user would save it. */
async function read(doc: unknown) {
  const path = join(tempDir(), 'response.json');
  writeFileSync(path, JSON.stringify(doc, null, 2));
  const r = await run(path);
  return { ...r, quarantine: r.quarantine.map((q) => [q.position, q.reason]) };
}

const unwrap = (doc: Record<string, unknown>): Unwrapped[] => [...bigqueryApi.unwrap(doc)];

describe('bigquery-api (jobs.query / jobs.getQueryResults responses)', () => {
  it('is registered as a container', () => {
    expect(CONTAINERS).toContain(bigqueryApi);
  });

  it('reads log sink rows (protopayload_auditlog) as the entries they came from: same events, same ids', async () => {
    const r = await run(fixture('containers', 'bigquery-api-sink.json'));
    expect(r.quarantine).toEqual([]);
    const entries = await logEntries('gcloud-logging-read.json', 'log-sink.ndjson', 'identities.ndjson');
    const ids = ['1a2b3c4d5e', '9z8y7x', '9z8y7w', 'fx9'];
    expect(r.events.map((e) => e.providerEventId)).toEqual(ids);
    expect(r.events).toEqual(ids.map((id) => entries.get(id)));
    // The same row as a row object (bigquery-export.ndjson) gives the same event.
    expect((await run(fixture('gcp-audit', 'bigquery-export.ndjson'))).events).toEqual([r.events[1]]);
    // TIMESTAMP 1.714557600123456E9 is the entry's time; INTEGER status.code "7" a denial.
    expect(r.events[0]!.time).toBe('2024-05-01T10:00:00.123Z');
    expect(r.events[3]).toMatchObject({
      outcome: 'denied',
      errorCode: 'PERMISSION_DENIED',
      principal: { id: 'gcp:redacted' },
    });
  });

  it('reads Log Analytics rows (proto_payload.audit_log): nested RECORDs, REPEATED delegation chains, JSON columns', async () => {
    const r = await run(fixture('containers', 'bigquery-api-log-analytics.json'));
    expect(r.quarantine).toEqual([]);
    // The same rows as row objects (log-analytics.ndjson), and as bq query --format=json writes them.
    const rows = await run(fixture('gcp-audit', 'log-analytics.ndjson'));
    expect(r.events).toEqual(rows.events);
    expect(Object.fromEntries(r.stats.skipped)).toEqual(Object.fromEntries(rows.stats.skipped));
    const bq = await run(fixture('gcp-audit', 'log-analytics-bq.json'));
    for (const e of bq.events) expect(r.events).toContainEqual(e);
    // And the LogEntries the rows were made from (p1's is in gcp-audit.test.ts).
    const entries = await logEntries('entries-list.json', 'identities.ndjson');
    const ids = ['fx1', 'fx3', 'fx5', 'fx6', 'fx9', 'fx12', 'p1'];
    expect(r.events.map((e) => e.providerEventId)).toEqual(ids);
    for (const e of r.events.slice(0, 6))
      expect(e, e.providerEventId!).toEqual(entries.get(e.providerEventId));
    const [, bob, dave, ci, , vpcsc, policy] = r.events;
    expect(bob!.principal).toMatchObject({
      id: 'gcp:user:bob@acme.example',
      via: 'deployer@acme-prod.iam.gserviceaccount.com',
    });
    expect(dave!.principal.id).toBe('gcp:user:dave@acme.example');
    expect(ci!.principal.via).toContain('workloadIdentityPools/github');
    expect(vpcsc).toMatchObject({ outcome: 'denied', resource: { type: 'secret', name: 'db-password' } });
    expect(policy!.details).toEqual({ members: 'allUsers,user:ops@acme.example' });
  });

  it('quarantines a row that does not fit the schema at its position, and reads the rows around it', async () => {
    // A getQueryResults page, TIMESTAMPs written as 1714557600.123456.
    const r = await run(fixture('containers', 'bigquery-api-misfit.json'));
    expect(r.quarantine.map((q) => [q.position, q.reason])).toEqual([
      ['line 1 rows[3]', 'bigquery-api: row does not fit the schema: row has 10 cells for 11 fields'],
    ]);
    const sink = await run(fixture('containers', 'bigquery-api-sink.json'));
    expect(r.events).toEqual(sink.events);
  });

  it('quarantines a tabledata.list page: its rows have no schema to read them by', async () => {
    const r = await run(fixture('containers', 'bigquery-api-tabledata.json'));
    expect(r.events).toEqual([]);
    expect(r.stats.records).toBe(0);
    expect(r.quarantine.map((q) => [q.position, q.reason])).toEqual([
      [
        'line 1',
        'bigquery-api: tabledata.list rows have no schema; query the table instead (jobs.query, bq query)',
      ],
    ]);
  });

  it('says why a response holds no rows to read, and reads an empty result as nothing', async () => {
    const job = { projectId: 'acme-prod', jobId: 'job_1', location: 'EU' };
    expect(
      (await read({ kind: 'bigquery#queryResponse', jobReference: job, jobComplete: false })).quarantine,
    ).toEqual([
      [
        'line 1',
        'bigquery-api: query not complete (jobComplete false); read its results with jobs.getQueryResults',
      ],
    ]);
    expect(
      (await read({ kind: 'bigquery#job', id: 'acme-prod:EU.job_1', jobReference: job })).quarantine,
    ).toEqual([['line 1', 'bigquery-api: not query results (kind bigquery#job)']]);
    const fields = [{ name: 'insertId', type: 'STRING', mode: 'NULLABLE' }];
    const empty = await read({
      kind: 'bigquery#getQueryResultsResponse',
      schema: { fields },
      totalRows: '0',
      jobComplete: true,
    });
    expect([empty.quarantine, empty.stats.records]).toEqual([[], 0]);
    expect(
      (await read({ kind: 'bigquery#queryResponse', rows: [{ f: [{ v: 'a' }] }], jobComplete: true }))
        .quarantine,
    ).toEqual([['line 1 schema', 'bigquery-api: schema is missing or not a list of fields']]);
  });

  it('types values by the schema: numbers, booleans, lists, records, NULL; JSON and exact decimals stay text', () => {
    const schema = {
      fields: [
        { name: 'code', type: 'INTEGER', mode: 'NULLABLE' },
        { name: 'big', type: 'INT64', mode: 'NULLABLE' },
        { name: 'ratio', type: 'FLOAT', mode: 'NULLABLE' },
        { name: 'inf', type: 'FLOAT64', mode: 'NULLABLE' },
        { name: 'granted', type: 'BOOLEAN', mode: 'NULLABLE' },
        { name: 'meta', type: 'JSON', mode: 'NULLABLE' },
        { name: 'cost', type: 'NUMERIC', mode: 'NULLABLE' },
        { name: 'day', type: 'DATE', mode: 'NULLABLE' },
        { name: 'at', type: 'TIMESTAMP', mode: 'NULLABLE' },
        { name: 'tags', type: 'STRING', mode: 'REPEATED' },
        { name: 'none', type: 'STRING', mode: 'REPEATED' },
        {
          name: 'chain',
          type: 'RECORD',
          mode: 'REPEATED',
          fields: [
            { name: 'who', type: 'STRING', mode: 'NULLABLE' },
            { name: 'ok', type: 'BOOL', mode: 'NULLABLE' },
          ],
        },
        { name: 'empty', type: 'RECORD', mode: 'NULLABLE', fields: [{ name: 'x', type: 'STRING' }] },
        { name: 'missing', type: 'STRING', mode: 'NULLABLE' },
      ],
    };
    const row = {
      f: [
        { v: '7' },
        { v: '9007199254740993' },
        { v: '0.25' },
        { v: 'Infinity' },
        { v: 'false' },
        { v: '{"a":[1,2]}' },
        { v: '1.10' },
        { v: '2024-05-01' },
        { v: '1.714557600123456E9' },
        { v: [{ v: 'a' }, { v: 'b' }] },
        { v: null },
        { v: [{ v: { f: [{ v: 'bob@acme.example' }, { v: 'true' }] } }] },
        { v: null },
        {},
      ],
    };
    expect(unwrap({ kind: 'bigquery#queryResponse', schema, rows: [row] })).toEqual([
      {
        value: {
          code: 7,
          big: '9007199254740993', // past 2^53: a number would round
          ratio: 0.25,
          inf: 'Infinity',
          granted: false,
          meta: '{"a":[1,2]}',
          cost: '1.10',
          day: '2024-05-01',
          at: '2024-05-01T10:00:00.123456Z',
          tags: ['a', 'b'],
          none: [],
          chain: [{ who: 'bob@acme.example', ok: true }],
          empty: null,
          missing: null,
        },
        position: 'rows[0]',
      },
    ]);
  });

  it('names the field and the mismatch of a row that does not fit, never its value', () => {
    const schema = {
      fields: [
        { name: 'name', type: 'STRING', mode: 'NULLABLE' },
        { name: 'flag', type: 'BOOLEAN', mode: 'NULLABLE' },
        { name: 'at', type: 'TIMESTAMP', mode: 'NULLABLE' },
        { name: 'n', type: 'INTEGER', mode: 'NULLABLE' },
        { name: 'tags', type: 'STRING', mode: 'REPEATED' },
        {
          name: 'auth',
          type: 'RECORD',
          mode: 'NULLABLE',
          fields: [
            { name: 'email', type: 'STRING', mode: 'NULLABLE' },
            {
              name: 'chain',
              type: 'RECORD',
              mode: 'REPEATED',
              fields: [{ name: 'who', type: 'STRING', mode: 'NULLABLE' }],
            },
          ],
        },
      ],
    };
    const secret = 'hunter2-s3cr3t';
    const good = [
      { v: 'x' },
      { v: 'true' },
      { v: '1.7145576E9' },
      { v: '1' },
      { v: [] },
      { v: { f: [{ v: null }, { v: [] }] } },
    ];
    const bad = (i: number, cell: unknown) => ({ f: good.map((c, j) => (j === i ? cell : c)) });
    const rows = [
      { f: good },
      { f: good.slice(1) },
      [secret],
      bad(1, { v: secret }),
      bad(2, { v: secret }),
      bad(3, { v: '1.5' }),
      bad(4, { v: secret }),
      bad(0, { v: { f: [{ v: secret }] } }),
      bad(5, { v: { f: [{ v: secret }] } }),
      bad(5, { v: { f: [{ v: null }, { v: [{ v: { f: [secret] } }] }] } }),
      bad(5, { v: { f: [{ v: null }, { v: [{ v: { f: [{ v: secret }] } }, { v: secret }] }] } }),
      bad(4, [secret]),
    ];
    const out = unwrap({ kind: 'bigquery#queryResponse', schema, rows });
    expect(out.map((u) => ('error' in u ? [u.position, u.error] : u.position))).toEqual([
      'rows[0]',
      ['rows[1]', 'row does not fit the schema: row has 5 cells for 6 fields'],
      ['rows[2]', 'row does not fit the schema: row is not {"f":[...]}'],
      ['rows[3]', 'row does not fit the schema: flag: BOOLEAN value is not true or false'],
      ['rows[4]', 'row does not fit the schema: at: TIMESTAMP value is not a time'],
      ['rows[5]', 'row does not fit the schema: n: INTEGER value is not an integer'],
      ['rows[6]', 'row does not fit the schema: tags: REPEATED value is not a list'],
      ['rows[7]', 'row does not fit the schema: name: STRING value is not a scalar'],
      ['rows[8]', 'row does not fit the schema: auth has 1 cells for 2 fields'],
      ['rows[9]', 'row does not fit the schema: auth.chain[0].who: a cell is not {"v":...}'],
      ['rows[10]', 'row does not fit the schema: auth.chain[1] is not {"f":[...]}'],
      ['rows[11]', 'row does not fit the schema: tags: a cell is not {"v":...}'],
    ]);
    expect(JSON.stringify(out.filter((u) => 'error' in u))).not.toContain(secret);
  });

  it('reads TIMESTAMPs in every form the API writes, to the microsecond, as the entry writes them', () => {
    const cases: [string, string | undefined][] = [
      ['1.714557600123456E9', '2024-05-01T10:00:00.123456Z'], // the default: float seconds
      ['1714557600.123456', '2024-05-01T10:00:00.123456Z'],
      ['1.7145576E9', '2024-05-01T10:00:00.000000Z'],
      ['1714557600', '2024-05-01T10:00:00.000000Z'],
      ['1714557600123456', '2024-05-01T10:00:00.123456Z'], // formatOptions.useInt64Timestamp: microseconds
      ['2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:00.123456Z'], // timestampOutputFormat ISO8601_STRING
      ['1.7145576001234559E9', '2024-05-01T10:00:00.123456Z'], // a double's last digit rounds to the microsecond
      ['1.7145575999999996E9', '2024-05-01T10:00:00.000000Z'],
      ['0', '1970-01-01T00:00:00.000000Z'],
      ['-1.5', '1969-12-31T23:59:58.500000Z'],
      ['-6.21355968E10', '0001-01-01T00:00:00.000000Z'], // BigQuery's first day
      ['2.534023008E11', undefined], // year 10000
      ['1E400', undefined],
      ['', undefined],
      ['soon', undefined],
    ];
    for (const [input, want] of cases) expect(timestamp(input), input).toBe(want);
  });

  it('claims responses by a key or two, and leaves records alone', () => {
    const fields = [{ name: 'a', type: 'STRING' }];
    for (const doc of [
      { kind: 'bigquery#queryResponse', jobComplete: false },
      { kind: 'bigquery#tableDataList', rows: [] },
      { schema: { fields }, rows: [] }, // a partial response (fields=schema,rows)
    ])
      expect(bigqueryApi.match(doc), JSON.stringify(doc)).toBe(true);
    for (const doc of [
      { eventVersion: '1.08', eventSource: 'secretsmanager.amazonaws.com' },
      { kind: 'Event', apiVersion: 'audit.k8s.io/v1' },
      { kind: 'bigquery', rows: [] },
      { schema: 'v2', rows: 'none' },
      { log_name: 'projects/p/logs/x', proto_payload: null },
    ])
      expect(bigqueryApi.match(doc), JSON.stringify(doc)).toBe(false);
  });
});
