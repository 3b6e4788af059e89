import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { MIGRATIONS } from '../../store/schema.js';
import { PAGE_SIZE, Store } from '../../store/store.js';
import { tempDir } from '../helpers.js';

function event(id: string, over: Partial<SecretAccessEvent> = {}): SecretAccessEvent {
  return {
    id,
    time: '2026-11-02T10:00:00.000Z',
    provider: 'aws',
    service: 'secretsmanager',
    operation: 'GetSecretValue',
    action: 'read',
    outcome: 'success',
    errorCode: null,
    principal: {
      id: 'arn:aws:iam::111122223333:role/app',
      type: 'role',
      name: 'app',
      account: '111122223333',
    },
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
    providerEventId: id,
    ...over,
  };
}

/** Two ids whose SHA-1 share their first 4 bytes (a birthday search: about 2^16 tries). */
function collidingIds(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `evt-${i}`;
    const k = createHash('sha1').update(id).digest().readUInt32BE(0);
    const other = seen.get(k);
    if (other) return [other, id];
    seen.set(k, id);
  }
}

describe('Store', () => {
  it('creates the file with mode 0600 and reopens it', () => {
    const path = join(tempDir(), 'sub', 'v.db');
    const s = Store.open(path);
    s.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = Store.open(path, { readonly: true });
    expect(again.countEvents()).toBe(0);
    again.close();
  });

  it('opens :memory: in memory, with no file of that name made', () => {
    const cwd = process.cwd();
    process.chdir(tempDir());
    try {
      const s = Store.open(':memory:');
      s.transaction(() => s.insertEvents([event('a')]));
      expect(s.countEvents()).toBe(1);
      s.close();
      expect(existsSync(':memory:')).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('makes new stores with PAGE_SIZE pages and keeps the page size of existing ones', () => {
    const path = join(tempDir(), 'new.db');
    const s = Store.open(path);
    expect(s.db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    s.close();
    // A store made by an earlier vigil, in SQLite's default pages, stays as it is.
    const old = join(tempDir(), 'old.db');
    const db = new Database(old);
    db.pragma('page_size = 4096');
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    db.close();
    const reopened = Store.open(old);
    expect(reopened.db.pragma('page_size', { simple: true })).toBe(4096);
    expect(reopened.countEvents()).toBe(0);
    reopened.close();
  });

  it('is idempotent: the same event stored twice is one row, and only the first insert reports it new', () => {
    const s = Store.open(join(tempDir(), 'v.db'));
    const first = s.transaction(() => s.insertEvents([event('a'), event('b')]));
    const second = s.transaction(() => s.insertEvents([event('b'), event('c')]));
    expect(first.map((e) => e.id)).toEqual(['a', 'b']);
    expect(second.map((e) => e.id)).toEqual(['c']);
    expect(s.countEvents()).toBe(3);
    s.close();
  });

  it('keeps two different events whose keys collide (same second, same 32-bit hash prefix)', () => {
    const pair = collidingIds();
    const s = Store.open(join(tempDir(), 'v.db'));
    const fresh = s.transaction(() => s.insertEvents([event(pair[0]), event(pair[1]), event(pair[0])]));
    expect(fresh.map((e) => e.id)).toEqual(pair);
    expect(s.countEvents()).toBe(2);
    s.close();
  });

  it('sorts out large batches statement by statement: stored before, repeated in the batch, colliding keys', () => {
    const pair = collidingIds();
    const s = Store.open(join(tempDir(), 'v.db'));
    const old = Array.from({ length: 30 }, (_, i) => event(`old-${i}`));
    s.transaction(() => s.insertEvents(old));
    // 130 events: two full statements of 50 rows, then 30 inserted one by one. The second statement
    // has an event stored before, a repeat of one from the first, a colliding pair and a repeat of the
    // pair's second half; the tail repeats an event of the first statement.
    const batch: SecretAccessEvent[] = Array.from({ length: 130 }, (_, i) => event(`new-${i}`));
    batch[55] = event('old-3');
    batch[60] = event('new-2');
    batch[70] = event(pair[0]);
    batch[71] = event(pair[1]);
    batch[72] = event(pair[1]);
    batch[128] = event('new-5');
    const fresh = s.transaction(() => s.insertEvents(batch));
    const expected = batch
      .filter((e, i) => e.id.startsWith('new-') && ![60, 128].includes(i))
      .map((e) => e.id);
    expected.splice(68, 0, ...pair);
    expect(fresh.map((e) => e.id)).toEqual(expected);
    expect(s.countEvents()).toBe(30 + expected.length);
    // Each new event got its own row, and the row holds that event.
    const seqs = fresh.map((e) => s.seqOf(e)!);
    expect(new Set(seqs).size).toBe(fresh.length);
    const idAt = s.db.prepare("SELECT json_extract(body, '$[0]') FROM events WHERE seq = ?").pluck();
    expect(seqs.map((q) => idAt.get(q))).toEqual(expected);
    s.close();
  });

  it('answers queries by resource, principal, time and outcome, in time order', () => {
    const s = Store.open(join(tempDir(), 'v.db'));
    s.transaction(() =>
      s.insertEvents([
        event('1', { time: '2026-11-02T12:00:00.000Z' }),
        event('2', { time: '2026-11-02T11:00:00.000Z', outcome: 'denied', errorCode: 'AccessDenied' }),
        event('3', {
          time: '2026-11-02T13:00:00.000Z',
          principal: {
            id: 'arn:aws:iam::111122223333:user/bob',
            type: 'user',
            name: 'bob',
            account: '111122223333',
          },
        }),
        event('4', {
          time: '2026-11-03T13:00:00.000Z',
          resource: null,
          operation: 'ListSecrets',
          action: 'list',
        }),
      ]),
    );
    const ids = (q: Parameters<Store['queryEvents']>[0]) => [...s.queryEvents(q)].map((e) => e.id);
    expect(ids({ resource: 'prod/db' })).toEqual(['2', '1', '3']);
    expect(ids({ resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db' })).toEqual([
      '2',
      '1',
      '3',
    ]);
    expect(ids({ principal: 'bob' })).toEqual(['3']);
    expect(ids({ principal: 'arn:aws:iam::*:role/*' })).toEqual(['2', '1', '4']);
    expect(ids({ outcome: 'denied' })).toEqual(['2']);
    expect(
      ids({ since: Date.parse('2026-11-02T11:30:00Z'), until: Date.parse('2026-11-03T00:00:00Z') }),
    ).toEqual(['1', '3']);
    expect(ids({ resource: 'no-such-secret' })).toEqual([]);
    expect(s.countMatching({ resource: 'prod/db', outcome: 'success' })).toBe(2);
    s.close();
  });

  it('keeps quarantine entries once per locator and reason', () => {
    const s = Store.open(join(tempDir(), 'v.db'));
    const q = [{ file: 'a.json', position: 'line 3', reason: 'line is not valid JSON' }];
    s.insertQuarantine(q, 1);
    s.insertQuarantine(q, 2);
    expect([...s.quarantineEntries()]).toHaveLength(1);
    s.close();
  });

  it('keeps detector state across reopen only once flushed', () => {
    const path = join(tempDir(), 'v.db');
    const s = Store.open(path);
    s.transaction(() => {
      s.state.set('ns', 'k', { n: 1 });
      s.state.flush();
    });
    s.state.set('ns', 'other', 2);
    s.state.discard();
    s.close();
    const again = Store.open(path);
    expect(again.state.get('ns', 'k')).toEqual({ n: 1 });
    expect(again.state.get('ns', 'other')).toBeUndefined();
    again.close();
  });

  it('reads a flushed entry back after discarding a later change, in a store that began empty', () => {
    const s = Store.open(join(tempDir(), 'v.db'));
    expect(s.state.get('ns', 'k')).toBeUndefined();
    s.transaction(() => {
      s.state.set('ns', 'k', { n: 1 });
      s.state.flush();
    });
    s.state.set('ns', 'k', { n: 2 });
    s.state.set('ns', 'new', 3);
    s.state.discard();
    expect(s.state.get('ns', 'k')).toEqual({ n: 1 });
    expect(s.state.get('ns', 'new')).toBeUndefined();
    s.close();
  });

  it('gives back exactly the event it stored, optional fields absent, null or set', () => {
    const s = Store.open(join(tempDir(), 'v.db'));
    const variants: SecretAccessEvent[] = [
      event('aws:e1', { providerEventId: 'e1' }), // providerEventId is the id without its prefix
      event('e2', { providerEventId: null, errorCode: 'AccessDenied', outcome: 'denied', resource: null }),
      event('e3', {
        time: '2026-11-02T10:00:01.234Z',
        principal: { id: 'p', type: 'person', name: 'ana', account: null, via: null, session: 'ana@x' },
        source: {
          ip: null,
          userAgent: null,
          viaService: 'secretsmanager.amazonaws.com',
          vpcEndpointId: null,
        },
        relatedResource: null,
        details: { withDecryption: true, recoveryWindowInDays: 7, policy: '{"a":1}' },
      }),
      event('e4', {
        principal: { id: 'p', type: 'person', name: 'ana', account: null, via: 'role/admin' },
        source: { ip: '1.2.3.4', userAgent: 'cli', viaService: null, vpcEndpointId: 'vpce-1' },
        relatedResource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db',
      }),
    ];
    s.transaction(() => s.insertEvents(variants));
    const back = [...s.queryEvents({})].sort((a, b) => (a.id < b.id ? -1 : 1));
    const sorted = [...variants].sort((a, b) => (a.id < b.id ? -1 : 1));
    // toStrictEqual: an absent field must come back absent, not as undefined or null.
    expect(back).toStrictEqual(sorted);
    s.close();
  });

  it('still reads events stored before compact rows (schema 3), and knows them when they come again', () => {
    const path = join(tempDir(), 'v.db');
    const old = new Database(path);
    for (const sql of MIGRATIONS.slice(0, 3)) old.exec(sql);
    old.pragma('user_version = 3');
    const e = event('aws:old', {
      providerEventId: 'old',
      principal: { ...event('x').principal, session: 's1' },
    });
    const { principal, resource, ...rest } = e;
    old
      .prepare("INSERT INTO principals (id, key, type, name, account) VALUES (1, ?, 'role', 'app', ?)")
      .run(principal.id, principal.account);
    old
      .prepare(
        "INSERT INTO resources (id, key, type, name, account, region) VALUES (1, ?, 'secret', ?, ?, ?)",
      )
      .run(resource!.id, resource!.name, resource!.account, resource!.region);
    const key =
      (BigInt(Math.floor(Date.parse(e.time) / 1000) - 946_684_800) << 32n) |
      BigInt(createHash('sha1').update(e.id).digest().readUInt32BE(0));
    old
      .prepare('INSERT INTO events (idh, time, principal, resource, outcome, body) VALUES (?, ?, 1, 1, 0, ?)')
      .run(key, Date.parse(e.time), JSON.stringify({ ...rest, principal: { session: 's1' } }));
    old.close();

    const s = Store.open(path);
    expect([...s.queryEvents({})]).toEqual([e]);
    expect(s.transaction(() => s.insertEvents([e, event('aws:new')])).map((x) => x.id)).toEqual(['aws:new']);
    expect(s.countEvents()).toBe(2);
    s.close();
  });
});
