import type { Store } from './store.js';

export interface CheckpointRow {
  readonly source: string;
  readonly value: string;
  readonly updatedAt: number;
}

/**
 * Where each live stream got to, in the store's `checkpoints` table. Write a checkpoint inside the
 * transaction that stores the events it covers: after a crash both are there, or neither.
 */
export class Checkpoints {
  private readonly getStmt;
  private readonly setStmt;
  private readonly listStmt;

  constructor(store: Store) {
    const db = store.db;
    this.getStmt = db.prepare('SELECT value FROM checkpoints WHERE source = ?').pluck();
    this.setStmt = db.prepare(
      `INSERT INTO checkpoints (source, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.listStmt = db.prepare(
      'SELECT source, value, updated_at AS updatedAt FROM checkpoints WHERE source >= ? AND source < ? ORDER BY source',
    );
  }

  get(source: string): string | undefined {
    return this.getStmt.get(source) as string | undefined;
  }

  set(source: string, value: string, now: number): void {
    this.setStmt.run(source, value, now);
  }

  /** Checkpoints whose key starts with `prefix` (all of them by default). */
  list(prefix = ''): CheckpointRow[] {
    return this.listStmt.all(prefix, `${prefix}\uffff`) as CheckpointRow[];
  }
}
