import type { Alert } from '../core/alert.js';

export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface PendingDelivery {
  readonly alertId: string;
  readonly sink: string;
  readonly attempts: number;
}

/**
 * Durable delivery records, one per alert and sink. An alert is written here, in the same transaction
 * as the alert itself, before any sink is tried: a crash between detection and delivery loses nothing.
 */
export interface Outbox {
  enqueue(alertId: string, sinks: readonly string[], now: number): void;
  /** Deliveries due at `now`, oldest first. */
  due(now: number, limit: number): PendingDelivery[];
  markDelivered(alertId: string, sink: string, now: number): void;
  markFailed(
    alertId: string,
    sink: string,
    failure: { dead: boolean; reason: string; nextAttemptAt: number },
    now: number,
  ): void;
  alert(id: string): Alert | undefined;
}

/** How one attempt at one notification ended, applied to every delivery it carried. */
export type Settlement =
  | { readonly kind: 'delivered'; readonly notificationId: string; readonly groupKey: string | null }
  | {
      readonly kind: 'failed';
      readonly dead: boolean;
      readonly reason: string;
      readonly nextAttemptAt: number;
    }
  /** Held back by a repeat interval or digest: not an attempt. */
  | { readonly kind: 'deferred'; readonly until: number };

export interface FailedDelivery {
  readonly alertId: string;
  readonly sink: string;
  readonly attempts: number;
  /** Why it was dead-lettered (redacted before it was stored). */
  readonly reason: string;
  readonly updatedAt: number;
  readonly alert: Alert | undefined;
}

export interface DeliveryFilter {
  readonly sink?: string | undefined;
  readonly alertId?: string | undefined;
}

/**
 * The outbox plus what grouping and dead letters need: per-sink queues, settling a whole notification
 * at once, when a group was last sent, the dead-letter list and redelivery. `store/deliveries.ts`.
 */
export interface DeliveryLedger extends Outbox {
  dueFor(sink: string, now: number, limit: number): PendingDelivery[];
  /** The earliest time a pending delivery of `sink` becomes due, if any. */
  nextDueAt(sink: string): number | undefined;
  /** Applies one outcome to every delivery of a notification, in one transaction. */
  settle(sink: string, alertIds: readonly string[], outcome: Settlement, now: number): void;
  /** When a notification of `groupKey` was last delivered to `sink`. */
  lastSent(sink: string, groupKey: string): number | undefined;
  failed(filter?: DeliveryFilter, limit?: number): FailedDelivery[];
  /** Puts dead deliveries back in the queue, due now, with their attempts reset. Returns how many. */
  redeliver(filter: DeliveryFilter, now: number): number;
  counts(): Record<string, Record<DeliveryState, number>>;
}

export function isLedger(o: Outbox): o is DeliveryLedger {
  return typeof (o as Partial<DeliveryLedger>).settle === 'function';
}
