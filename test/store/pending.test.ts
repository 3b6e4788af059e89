import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PendingQueue } from '../../store/pending.js';
import { Store } from '../../store/store.js';
import { ev, role, T0 } from '../detectors/events.js';
import { tempDir } from '../helpers.js';

describe('pending queue', () => {
  it('removeThrough takes off the events up to a time, and empties the queue when that is all of them', () => {
    const store = Store.open(join(tempDir(), 'v.db'));
    const queue = new PendingQueue(store);
    const at = (minutes: number) => ev({ time: T0 + minutes * 60_000, principal: role('orders-api') });
    store.transaction(() => queue.push(store.insertEvents([at(1), at(2), at(3), at(3)])));
    expect(queue.size()).toBe(4);
    expect(queue.isEmpty()).toBe(false);
    queue.removeThrough(T0 + 2 * 60_000);
    expect(queue.size()).toBe(2);
    expect(queue.take(Number.POSITIVE_INFINITY, 10).map((e) => e.time)).toEqual([
      new Date(T0 + 3 * 60_000).toISOString(),
      new Date(T0 + 3 * 60_000).toISOString(),
    ]);
    store.transaction(() => queue.push(store.insertEvents([at(5), at(6)])));
    queue.removeThrough(T0 + 10 * 60_000);
    expect(queue.size()).toBe(0);
    expect(queue.isEmpty()).toBe(true);
    // An empty queue takes new events as before.
    store.transaction(() => queue.push(store.insertEvents([at(7)])));
    expect(queue.size()).toBe(1);
    queue.removeThrough(T0 + 6 * 60_000);
    expect(queue.size()).toBe(1);
    store.close();
  });
});
