import type {
  DeliveryFilter,
  DeliveryLedger,
  DeliveryState,
  FailedDelivery,
  PendingDelivery,
  Settlement,
} from '../alerts/outbox.js';
import type { Store } from './store.js';

function where(filter: DeliveryFilter, params: unknown[]): string {
  const w = ["state = 'dead'"];
  if (filter.sink) {
    w.push('sink = ?');
    params.push(filter.sink);
  }
  if (filter.alertId) {
    w.push('alert_id = ?');
    params.push(filter.alertId);
  }
  return w.join(' AND ');
}

/** The delivery ledger of a store (tables `deliveries` and `notify_groups`, migration 2). */
export function openDeliveries(store: Store): DeliveryLedger {
  const db = store.db;
  const base = store.outbox();
  const dueFor = db.prepare(
    `SELECT alert_id AS alertId, sink, attempts FROM deliveries
     WHERE sink = ? AND state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, alert_id LIMIT ?`,
  );
  const nextDue = db
    .prepare(`SELECT min(next_attempt_at) FROM deliveries WHERE sink = ? AND state = 'pending'`)
    .pluck();
  const delivered = db.prepare(
    `UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL, notification = ?,
     updated_at = ? WHERE alert_id = ? AND sink = ? AND state = 'pending'`,
  );
  const failed = db.prepare(
    `UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
     WHERE alert_id = ? AND sink = ? AND state = 'pending'`,
  );
  const deferred = db.prepare(
    `UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE alert_id = ? AND sink = ? AND state = 'pending'`,
  );
  const sent = db.prepare(
    `INSERT INTO notify_groups (sink, group_key, last_sent_at) VALUES (?, ?, ?)
     ON CONFLICT(sink, group_key) DO UPDATE SET last_sent_at = max(last_sent_at, excluded.last_sent_at)`,
  );
  const lastSent = db
    .prepare('SELECT last_sent_at FROM notify_groups WHERE sink = ? AND group_key = ?')
    .pluck();

  const settle = db.transaction((sink: string, ids: readonly string[], o: Settlement, now: number) => {
    for (const id of ids) {
      if (o.kind === 'delivered') delivered.run(o.notificationId, now, id, sink);
      else if (o.kind === 'failed')
        failed.run(o.dead ? 'dead' : 'pending', o.reason, o.nextAttemptAt, now, id, sink);
      else deferred.run(o.until, now, id, sink);
    }
    if (o.kind === 'delivered' && o.groupKey !== null) sent.run(sink, o.groupKey, now);
  });

  return {
    ...base,
    dueFor: (sink, now, limit) => dueFor.all(sink, now, limit) as PendingDelivery[],
    nextDueAt: (sink) => (nextDue.get(sink) as number | null) ?? undefined,
    settle: (sink, ids, outcome, now) => settle(sink, ids, outcome, now),
    lastSent: (sink, key) => lastSent.get(sink, key) as number | undefined,
    failed(filter = {}, limit = 1000) {
      const params: unknown[] = [];
      const rows = db
        .prepare(
          `SELECT alert_id AS alertId, sink, attempts, coalesce(last_error, '') AS reason, updated_at AS updatedAt
           FROM deliveries WHERE ${where(filter, params)} ORDER BY updated_at, alert_id LIMIT ?`,
        )
        .all(...params, limit) as Omit<FailedDelivery, 'alert'>[];
      return rows.map((r) => ({ ...r, alert: store.getAlert(r.alertId) }));
    },
    redeliver(filter, now) {
      const params: unknown[] = [];
      const w = where(filter, params);
      return db
        .prepare(
          `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE ${w}`,
        )
        .run(now, now, ...params).changes;
    },
    counts() {
      const out: Record<string, Record<DeliveryState, number>> = {};
      for (const [sink, states] of Object.entries(store.deliveryCounts())) {
        out[sink] = {
          pending: states.pending ?? 0,
          delivered: states.delivered ?? 0,
          dead: states.dead ?? 0,
        };
      }
      return out;
    },
  };
}
