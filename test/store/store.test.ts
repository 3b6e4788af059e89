import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { Store } from '../../store/store.js';
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
    // Birthday search for two ids whose SHA-1 share their first 4 bytes: about 2^16 tries.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `evt-${i}`;
      const k = createHash('sha1').update(id).digest().readUInt32BE(0);
      const other = seen.get(k);
      if (other) pair = [other, id];
      seen.set(k, id);
    }
    const s = Store.open(join(tempDir(), 'v.db'));
    const fresh = s.transaction(() => s.insertEvents([event(pair[0]), event(pair[1]), event(pair[0])]));
    expect(fresh.map((e) => e.id)).toEqual(pair);
    expect(s.countEvents()).toBe(2);
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
});
