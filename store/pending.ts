import { StoreError } from '../core/errors.js';
import type { SecretAccessEvent } from '../core/event.js';
import { compareEvents, type EventQueue } from '../detectors/queue.js';
import type { Store } from './store.js';

/**
 * The detection queue kept in the store (table `pending`, migration 3): newly stored events wait here, as
 * (time, row) pairs pointing into `events`, until the runner takes them in event-time order. Take and
 * detect in one transaction, so a crash neither loses nor repeats an event's detection.
 */
export class PendingQueue implements EventQueue {
  private readonly insert;
  private readonly select;
  private readonly ties;
  private readonly remove;
  private readonly count;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.insert = db.prepare('INSERT OR IGNORE INTO pending (time, seq) VALUES (?, ?)');
    this.select = db.prepare('SELECT time, seq FROM pending WHERE time <= ? ORDER BY time, seq LIMIT ?');
    this.ties = db.prepare('SELECT time, seq FROM pending WHERE time = ? ORDER BY seq');
    this.remove = db.prepare('DELETE FROM pending WHERE time <= ?');
    this.count = db.prepare('SELECT count(*) FROM pending').pluck();
  }

  /** Queues events that `store.insertEvents` just stored. */
  push(events: readonly SecretAccessEvent[]): void {
    for (const e of events) {
      const seq = this.store.seqOf(e);
      if (seq === undefined)
        throw new StoreError(`event ${e.id} was not stored by this store; queue what insertEvents returns`);
      this.insert.run(Date.parse(e.time), seq);
    }
  }

  take(until: number, limit: number): SecretAccessEvent[] {
    const bound = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    let rows = this.select.all(bound, Math.min(limit, Number.MAX_SAFE_INTEGER)) as {
      time: number;
      seq: number;
    }[];
    // Events of the same millisecond are taken together, so their (time, id) order never depends on
    // where a chunk ended.
    const last = rows.at(-1);
    let upTo = bound;
    if (last && rows.length === limit) {
      rows = [...rows.filter((r) => r.time !== last.time), ...(this.ties.all(last.time) as typeof rows)];
      upTo = last.time;
    }
    // What was taken is exactly the queue's prefix up to `upTo`: one range delete.
    if (rows.length > 0) this.remove.run(upTo);
    return this.store.eventsBySeq(rows.map((r) => r.seq)).sort(compareEvents);
  }

  size(): number {
    return this.count.get() as number;
  }
}
