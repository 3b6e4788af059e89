import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Notification } from './notification.js';
import type { GroupingDefaults } from './routing.js';
import type { SecretResolver } from './secrets.js';

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

/** At most `count` notifications per `perMs`, per sink (a token bucket of `count`). */
export interface RateLimit {
  readonly count: number;
  readonly perMs: number;
}

/**
 * A configured output. `render` is pure; `deliver` does the I/O and never throws for expected failures.
 * A notification carries one alert, or a group of them with a count and first/last times.
 */
export interface Sink<P = unknown> {
  /** The name it was configured under, used in routes and delivery records. */
  readonly name: string;
  readonly type: string;
  render(notification: Notification): P;
  deliver(payload: P, signal: AbortSignal): Promise<DeliveryResult>;
  /** Sends several notifications in one request (SNS PublishBatch); one result per payload, in order. */
  deliverMany?(payloads: readonly P[], signal: AbortSignal): Promise<DeliveryResult[]>;
  /** Most payloads `deliverMany` accepts at once. */
  readonly batchSize?: number;
  /** How this sink groups alerts unless a route says otherwise. Default: one notification per alert. */
  readonly grouping?: GroupingDefaults;
  readonly rateLimit?: RateLimit;
  /** Per-attempt timeout; default 10 s. */
  readonly timeoutMs?: number;
  close?(): Promise<void>;
}

/** Options for the AWS SDK clients sinks and secret readers create (tests point `endpoint` at a local peer). */
export interface AwsClientOptions {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** What a sink may use: injected so tests control it. Only entry points read process.env or the console. */
export interface SinkDeps {
  readonly clock: Clock;
  readonly stdout: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves webhook URLs and keys; one per process so the Secrets Manager cache is shared. */
  readonly secrets?: SecretResolver;
  readonly aws?: AwsClientOptions;
}

/** A kind of sink: one file, `alerts/<type>.ts`, registered on one line in `alerts/registry.ts`. */
export interface SinkType<C = unknown> {
  readonly type: string;
  readonly description: string;
  /** Strict schema of this sink's config (without `type`), checked once at start. */
  readonly config: z.ZodType<C, unknown>;
  create(name: string, config: C, deps: SinkDeps): Sink;
}
