import type { SecretAccessEvent } from '../core/event.js';
import type { EventQueue } from '../detectors/queue.js';
import type { Store } from './store.js';

/**
 * The detection queue kept in the store (table `pending`, migration 2): newly stored events wait here
 * until the runner takes them in event-time order. Take and detect in one transaction, so a crash
 * neither loses nor repeats an event's detection.
 */
export class PendingQueue implements EventQueue {
  private readonly insert;
  private readonly select;
  private readonly remove;
  private readonly count;

  constructor(store: Store) {
    const db = store.db;
    this.insert = db.prepare('INSERT OR IGNORE INTO pending (time, event_id, body) VALUES (?, ?, ?)');
    this.select = db.prepare(
      'SELECT time, event_id AS id, body FROM pending WHERE time <= ? ORDER BY time, event_id LIMIT ?',
    );
    this.remove = db.prepare('DELETE FROM pending WHERE time = ? AND event_id = ?');
    this.count = db.prepare('SELECT count(*) FROM pending').pluck();
  }

  push(events: readonly SecretAccessEvent[]): void {
    for (const e of events) this.insert.run(Date.parse(e.time), e.id, JSON.stringify(e));
  }

  take(until: number, limit: number): SecretAccessEvent[] {
    const bound = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    const rows = this.select.all(bound, limit) as { time: number; id: string; body: string }[];
    for (const r of rows) this.remove.run(r.time, r.id);
    return rows.map((r) => JSON.parse(r.body) as SecretAccessEvent);
  }

  size(): number {
    return this.count.get() as number;
  }
}
