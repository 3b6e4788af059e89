import type { z } from 'zod';
import type { Alert } from '../core/alert.js';
import type { Clock } from '../core/clock.js';

/** The result of one delivery attempt. Failures are values; `retryable` decides retry or dead letter. */
export type DeliveryResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly reason: string;
      readonly retryAfterMs?: number;
    };

export const delivered: DeliveryResult = { ok: true };
export const retryable = (reason: string, retryAfterMs?: number): DeliveryResult =>
  retryAfterMs === undefined
    ? { ok: false, retryable: true, reason }
    : { ok: false, retryable: true, reason, retryAfterMs };
export const permanent = (reason: string): DeliveryResult => ({ ok: false, retryable: false, reason });

/** A configured output. `render` is pure; `deliver` does the I/O and never throws for expected failures. */
export interface Sink<P = unknown> {
  /** The name it was configured under, used in routes and delivery records. */
  readonly name: string;
  readonly type: string;
  render(alert: Alert): P;
  deliver(payload: P, signal: AbortSignal): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** What a sink may use: injected so tests control it. Only entry points read process.env or the console. */
export interface SinkDeps {
  readonly clock: Clock;
  readonly stdout: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A kind of sink: one file, `alerts/<type>.ts`, registered on one line in `alerts/registry.ts`. */
export interface SinkType<C = unknown> {
  readonly type: string;
  readonly description: string;
  /** Strict schema of this sink's config (without `type`), checked once at start. */
  readonly config: z.ZodType<C>;
  create(name: string, config: C, deps: SinkDeps): Sink;
}
