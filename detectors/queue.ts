import type { SecretAccessEvent } from '../core/event.js';

/**
 * Events waiting for detection. CloudTrail delivers files minutes late and in no particular order,
 * and baselines must see events in event-time order; so the runner pushes newly stored events here
 * and takes them back in (time, id) order up to a watermark: at the end of each ingest run, everything
 * (`take(Infinity)`); a streaming runner may hold back the last few minutes. The same events give the
 * same alerts however the files were ordered or split within a run.
 */
export interface EventQueue {
  push(events: readonly SecretAccessEvent[]): void;
  /** Removes and returns up to `limit` events with time <= `until` (ms), oldest first. */
  take(until: number, limit: number): SecretAccessEvent[];
  size(): number;
}

export function compareEvents(a: SecretAccessEvent, b: SecretAccessEvent): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** An in-memory queue for tests and short runs; the store's queue (store/pending.ts) survives restarts. */
export class MemoryEventQueue implements EventQueue {
  private items: SecretAccessEvent[] = [];
  private sorted = true;

  push(events: readonly SecretAccessEvent[]): void {
    if (events.length === 0) return;
    this.items.push(...events);
    this.sorted = false;
  }

  take(until: number, limit: number): SecretAccessEvent[] {
    if (!this.sorted) {
      this.items.sort(compareEvents);
      this.sorted = true;
    }
    let n = 0;
    while (n < this.items.length && n < limit && Date.parse(this.items[n]!.time) <= until) n++;
    return this.items.splice(0, n);
  }

  size(): number {
    return this.items.length;
  }
}
