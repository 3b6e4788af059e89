import { StoreError } from '../core/errors.js';
import { eventTime, type SecretAccessEvent } from '../core/event.js';
import { compareEvents, type EventQueue } from '../detectors/queue.js';
import { EVENT_COLUMNS, type EventRow } from './rows.js';
import type { Store } from './store.js';

interface QueuedRow extends EventRow {
  qtime: number;
  qseq: number;
}

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
  private readonly window;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.insert = db.prepare('INSERT OR IGNORE INTO pending (time, seq) VALUES (?, ?)');
    const rows = `SELECT q.time AS qtime, q.seq AS qseq, ${EVENT_COLUMNS} FROM pending q JOIN events e ON e.seq = q.seq`;
    this.select = db.prepare(`${rows} WHERE q.time <= ? ORDER BY q.time, q.seq LIMIT ?`);
    this.ties = db.prepare(`${rows} WHERE q.time = ? AND q.seq > ? ORDER BY q.seq`);
    this.window = db.prepare(`${rows} WHERE q.time > ? AND q.time < ? ORDER BY q.time, q.seq LIMIT ?`);
    this.remove = db.prepare('DELETE FROM pending WHERE time <= ?');
    this.count = db.prepare('SELECT count(*) FROM pending').pluck();
  }

  /** Queues events that `store.insertEvents` just stored. */
  push(events: readonly SecretAccessEvent[]): void {
    for (const e of events) {
      const seq = this.store.seqOf(e);
      if (seq === undefined)
        throw new StoreError(`event ${e.id} was not stored by this store; queue what insertEvents returns`);
      this.add(eventTime(e.time), seq);
    }
  }

  /** Queues one stored row by its event time. */
  add(time: number, seq: number): void {
    this.insert.run(time, seq);
  }

  take(until: number, limit: number): SecretAccessEvent[] {
    const bound = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    const rows = this.select.all(bound, Math.min(limit, Number.MAX_SAFE_INTEGER)) as QueuedRow[];
    if (rows.length === 0) return [];
    const full = this.withTies(rows, limit);
    // What was taken is exactly the queue's prefix up to here: one range delete.
    this.remove.run(full ? rows[rows.length - 1]!.qtime : bound);
    return this.events(rows);
  }

  /**
   * Reads, without removing, up to `limit` queued events with `after < time < before`, oldest first,
   * plus the rest of the last millisecond read (so a millisecond is never split). For detection that
   * may be thrown away: `removeThrough` removes them once it is kept.
   */
  peek(after: number, before: number, limit: number): { events: SecretAccessEvent[]; last: number } {
    const rows = this.window.all(after, before, limit) as QueuedRow[];
    if (rows.length === 0) return { events: [], last: after };
    this.withTies(rows, limit);
    return { events: this.events(rows), last: rows[rows.length - 1]!.qtime };
  }

  /**
   * When a read stopped at its limit, adds the rest of its last millisecond, so events of the same
   * millisecond are read together and their (time, id) order never depends on where a chunk ended.
   * Returns whether the read was full.
   */
  private withTies(rows: QueuedRow[], limit: number): boolean {
    if (rows.length !== limit) return false;
    const last = rows[rows.length - 1]!;
    for (const r of this.ties.iterate(last.qtime, last.qseq)) rows.push(r as QueuedRow);
    return true;
  }

  private events(rows: readonly QueuedRow[]): SecretAccessEvent[] {
    return rows.map((r) => this.store.hydrate(r)).sort(compareEvents);
  }

  /** Removes every queued event with time <= `time` (ms). */
  removeThrough(time: number): void {
    this.remove.run(time);
  }

  size(): number {
    return this.count.get() as number;
  }
}
