import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Principal, Resource, SecretAccessEvent } from '../../core/event.js';
import { IngestStats, normalizeInputs } from '../../ingest/pipeline.js';
import {
  batchBody,
  bodyId,
  bodyOf,
  contextOf,
  encodeRows,
  OUTCOME_CODE,
  type RowBatch,
  RowsBuilder,
  rowKey,
} from '../../store/rows.js';
import { ROOT } from '../helpers.js';

/**
 * The plain encoding the optimized one must match byte for byte: row keys are persisted dedupe keys,
 * and bodies and contexts are what stores already hold.
 */
function reference(events: readonly SecretAccessEvent[]): RowBatch {
  const opt = <T>(v: T | undefined): T | 0 => (v === undefined ? 0 : v);
  const indexer = <T>(list: T[]) => {
    const at = new Map<string, number>();
    return (key: string, value: T): number => {
      let i = at.get(key);
      if (i === undefined) {
        i = list.length;
        list.push(value);
        at.set(key, i);
      }
      return i;
    };
  };
  const n = events.length;
  const batch: RowBatch = {
    count: n,
    keys: new BigInt64Array(n),
    times: new Float64Array(n),
    outcomes: new Uint8Array(n),
    principal: new Int32Array(n),
    resource: new Int32Array(n),
    context: new Int32Array(n),
    bodies: new Uint8Array(0),
    bodyEnds: new Uint32Array(n),
    principals: [],
    resources: [],
    contexts: [],
  };
  const bodies: string[] = [];
  const principal = indexer<Principal>(batch.principals);
  const resource = indexer<Resource>(batch.resources);
  const context = indexer<string>(batch.contexts);
  events.forEach((e, i) => {
    const time = Date.parse(e.time);
    const seconds = Math.min(2 ** 31 - 1, Math.max(0, Math.floor(time / 1000) - 946_684_800));
    const h = createHash('sha1').update(e.id).digest().readUInt32BE(0);
    batch.keys[i] = (BigInt(seconds) << 32n) | BigInt(h);
    batch.times[i] = time;
    batch.outcomes[i] = OUTCOME_CODE[e.outcome];
    const p = e.principal;
    batch.principal[i] = principal(p.id, { id: p.id, type: p.type, name: p.name, account: p.account });
    batch.resource[i] = e.resource ? resource(e.resource.id, e.resource) : -1;
    const c = JSON.stringify([
      e.provider,
      e.service,
      e.operation,
      e.action,
      e.errorCode,
      e.source.userAgent,
      e.source.viaService,
      opt(e.source.vpcEndpointId),
      e.region,
      e.account,
      opt(e.principal.via),
    ]);
    batch.context[i] = context(c, c);
    const pe = e.providerEventId;
    bodies[i] = JSON.stringify([
      e.id,
      pe !== null && e.id === `${e.provider}:${pe}` ? 1 : pe,
      opt(e.principal.session),
      e.source.ip,
      opt(e.relatedResource),
      opt(e.details),
    ]);
  });
  const bytes = bodies.map((b) => Buffer.from(b, 'utf8'));
  let end = 0;
  bytes.forEach((b, i) => {
    end += b.length;
    batch.bodyEnds[i] = end;
  });
  return { ...batch, bodies: new Uint8Array(Buffer.concat(bytes)) };
}

/** Every event the source fixtures normalize to. */
async function fixtureEvents(): Promise<SecretAccessEvent[]> {
  const out: SecretAccessEvent[] = [];
  for await (const item of normalizeInputs([join(ROOT, 'test', 'fixtures')], new IngestStats())) {
    if (item.kind === 'event') out.push(item.event);
  }
  return out;
}

const base: SecretAccessEvent = {
  id: 'aws:e-0',
  time: '2026-11-02T10:00:00.000Z',
  provider: 'aws',
  service: 'secretsmanager',
  operation: 'GetSecretValue',
  action: 'read',
  outcome: 'success',
  errorCode: null,
  principal: { id: 'arn:aws:iam::111122223333:role/app', type: 'role', name: 'app', account: '111122223333' },
  resource: {
    id: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db',
    type: 'secret',
    name: 'prod/db',
    account: '111122223333',
    region: 'us-east-1',
  },
  source: { ip: '10.0.0.1', userAgent: 'sdk', viaService: null },
  region: 'us-east-1',
  account: '111122223333',
  providerEventId: 'e-0',
};

/** Hand-made events for what the fixtures may not hold: text JSON must escape, absent and null fields. */
function edgeEvents(): SecretAccessEvent[] {
  const odd = [
    'quote " and \\ backslash',
    'tab\tnew\nline\u0000nul\u001f',
    'lone \ud800 high',
    'lone \udc00 low',
    'pair 😀 é ü 中',
    '\u007f\u2028\u2029',
    '',
  ];
  const out: SecretAccessEvent[] = [];
  const at = (i: number) => odd[i % odd.length]!;
  for (let i = 0; i < 60; i++) {
    const e: SecretAccessEvent = structuredClone(base);
    e.id = i % 5 === 0 ? `aws:${at(i)}` : `${base.provider}:e-${i}`;
    e.providerEventId = [`e-${i}`, null, at(i), `x-${i}`, e.id.slice(4)][i % 5]!;
    e.time =
      i % 7 === 0 ? '1999-12-31T23:59:59.999Z' : `2026-11-02T10:00:${String(i % 60).padStart(2, '0')}.${i}Z`;
    e.outcome = (['success', 'denied', 'error'] as const)[i % 3]!;
    e.errorCode = i % 3 === 0 ? null : at(i + 1);
    e.operation = i % 4 === 0 ? at(i + 2) : 'GetSecretValue';
    e.source = {
      ip: i % 6 === 0 ? null : at(i + 3),
      userAgent: i % 8 === 0 ? null : at(i),
      viaService: i % 9 === 0 ? 'kms.amazonaws.com' : null,
    };
    if (i % 4 === 1) e.source.vpcEndpointId = null;
    if (i % 4 === 2) e.source.vpcEndpointId = at(i);
    e.principal = { ...base.principal, id: `${base.principal.id}${i % 4}`, name: at(i) };
    if (i % 3 === 1) e.principal.via = null;
    if (i % 3 === 2) e.principal.via = at(i + 4);
    if (i % 5 === 1) e.principal.session = null;
    if (i % 5 === 2) e.principal.session = at(i + 5);
    e.resource = i % 6 === 5 ? null : { ...base.resource!, id: `r-${i % 9}${at(i)}` };
    if (i % 7 === 1) e.relatedResource = null;
    if (i % 7 === 2) e.relatedResource = at(i + 6);
    if (i % 6 === 3) e.details = { note: at(i), count: i, ok: i % 2 === 0, [at(i + 1)]: 'v' };
    if (i % 10 === 4) e.region = null;
    if (i % 11 === 4) e.account = at(i);
    out.push(e);
  }
  return out;
}

describe('encodeRows', () => {
  it('encodes the fixtures and odd events byte for byte as the plain encoding does', async () => {
    const events = [...(await fixtureEvents()), ...edgeEvents()];
    expect(events.length).toBeGreaterThan(100);
    expect(new Set(events.map((e) => e.provider)).size).toBeGreaterThanOrEqual(4);
    const want = reference(events);
    expect(encodeRows(events)).toEqual(want);
    // Again in another order and in small batches: nothing remembered from one batch leaks into the next.
    const reversed = [...events].reverse();
    expect(encodeRows(reversed)).toEqual(reference(reversed));
    for (let i = 0; i < events.length; i += 7) {
      const part = events.slice(i, i + 7);
      expect(encodeRows(part)).toEqual(reference(part));
    }
    expect(encodeRows([])).toEqual(reference([]));
    // Added one at a time into a builder that starts small and grows.
    const rows = new RowsBuilder(3);
    for (const e of events) rows.add(e);
    expect(rows.count).toBe(events.length);
    expect(rows.build()).toEqual(want);
  });

  it('keeps the first principal and resource seen for an id, and copies no principal extras', () => {
    const a = structuredClone(base);
    const b = structuredClone(base);
    b.id = 'aws:e-1';
    b.principal = { ...b.principal, name: 'other', via: 'x', session: 's' };
    b.resource = { ...b.resource!, name: 'other' };
    const rows = encodeRows([a, b, a]);
    expect(rows).toEqual(reference([a, b, a]));
    expect(rows.principals).toEqual([
      { id: base.principal.id, type: 'role', name: 'app', account: '111122223333' },
    ]);
    expect(rows.resources).toEqual([base.resource]);
    expect(rows.contexts).toHaveLength(2);
  });

  it('writes rowKey into the keys and the same texts as contextOf and bodyOf', () => {
    const events = edgeEvents();
    const rows = encodeRows(events);
    events.forEach((e, i) => {
      expect(rows.keys[i]).toBe(rowKey(e.id, Date.parse(e.time)));
      expect(rows.contexts[rows.context[i]!]).toBe(contextOf(e));
      expect(batchBody(rows, i)).toBe(bodyOf(e));
      expect(bodyId(batchBody(rows, i))).toBe(e.id);
    });
  });

  it('grows its body bytes for long and multi-byte bodies, from a capacity of one', () => {
    const events = edgeEvents().map((e, i) => ({ ...e, details: { note: `${'😀é'.repeat(i * 40)}${i}` } }));
    const rows = new RowsBuilder(1);
    for (const e of events) rows.add(e);
    const batch = rows.build();
    expect(batch.bodyEnds[events.length - 1]).toBe(batch.bodies.length);
    for (const [i, e] of events.entries()) expect(batchBody(batch, i)).toBe(bodyOf(e));
  });

  it('reads ids back from bodies whatever they hold, escapes and quotes included', () => {
    const ids = [
      '',
      'plain-id',
      'a"b',
      'back\\slash',
      '\\',
      '"',
      'tab\there',
      'ünï',
      '\u2028',
      'x'.repeat(300),
    ];
    for (const id of ids) {
      const body = bodyOf({ ...base, id, providerEventId: null });
      expect(bodyId(body), JSON.stringify(id)).toBe(id);
    }
  });
});
