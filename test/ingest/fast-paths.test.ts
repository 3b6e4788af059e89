import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CloudTrailRecord, conforms as ctConforms } from '../../ingest/cloudtrail.js';
import { KeyVaultRecord, conforms as kvConforms } from '../../ingest/keyvault.js';
import { isoTime } from '../../ingest/source.js';
import { fixture } from './helpers.js';

/** Every way of breaking one field of a record: the hand check may never accept what the schema rejects. */
function* mutations(
  root: Record<string, unknown>,
  node: Record<string, unknown> = root,
  path: string[] = [],
): Generator<Record<string, unknown>> {
  const bad: unknown[] = [42, 'text', true, [], {}, null, undefined, [{}], [1]];
  for (const key of Object.keys(node)) {
    for (const b of bad) yield setAt(root, [...path, key], b);
    const v = node[key];
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      yield* mutations(root, v as Record<string, unknown>, [...path, key]);
    if (Array.isArray(v) && typeof v[0] === 'object')
      for (const b of bad) yield setAt(root, [...path, key, '0'], b);
  }
}

function setAt(root: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(root) as Record<string, unknown>;
  let o: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[path.at(-1)!] = value;
  return copy;
}

function* withNested(record: Record<string, unknown>): Generator<Record<string, unknown>> {
  yield record;
  const top = mutations(record);
  for (const m of top) yield m;
}

describe('fast paths agree with the schemas', () => {
  const ct = JSON.parse(readFileSync(fixture('cloudtrail', 'kms-decrypt-via-secretsmanager.json'), 'utf8'))
    .Records as Record<string, unknown>[];
  const identityCenter = JSON.parse(
    readFileSync(fixture('cloudtrail', 'identity-center-two-people.json'), 'utf8'),
  ).Records[0];
  const kv = readFileSync(fixture('keyvault', 'PT1H.json'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('cloudtrail: conforms(r) implies the schema accepts r, over every one-field mutation', () => {
    let checked = 0;
    for (const base of [...ct, identityCenter]) {
      for (const r of withNested(base)) {
        if (ctConforms(r)) expect(CloudTrailRecord.safeParse(r).success).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(ctConforms(ct[0]!)).toBe(true);
  });

  it('keyvault: conforms(r) implies the schema accepts r, over every one-field mutation', () => {
    let checked = 0;
    for (const r of withNested(kv[0]!)) {
      if (kvConforms(r)) expect(KeyVaultRecord.safeParse(r).success).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
    expect(kvConforms(kv[0]!)).toBe(true);
  });

  it('isoTime fast path equals Date.parse for UTC times of any precision, and takes no impossible day', () => {
    // Date.parse rolls February 30 over to March 1: isoTime has no time for it, on either path.
    const slow = (v: string) => {
      const ms = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
      const iso = Number.isFinite(ms) ? new Date(ms).toISOString() : null;
      return iso?.slice(0, 10) === v.slice(0, 10) ? iso : null;
    };
    expect(isoTime('2024-02-30 10:00:00')).toBeNull();
    expect(isoTime('2023-02-29T10:00:00+02:00')).toBeNull();
    expect(isoTime('2024-02-29 10:00:00.123456 UTC')).toBe('2024-02-29T10:00:00.123Z');
    for (const y of [2000, 2023, 2024, 2100])
      for (let m = 1; m <= 12; m++)
        for (const d of [1, 28, 29, 30, 31])
          for (const frac of ['', '.5', '.12', '.123', '.1234567', '.999999999']) {
            const v = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T23:59:59${frac}Z`;
            expect(isoTime(v)).toBe(slow(v));
          }
  });
});
