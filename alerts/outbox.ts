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
