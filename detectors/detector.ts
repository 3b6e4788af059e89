import type { z } from 'zod';
import type { Evidence } from '../core/alert.js';
import type { Principal, Resource, SecretAccessEvent, Severity } from '../core/event.js';
import type { Profiles } from './baseline.js';
import type { SourceInfo } from './network.js';

/**
 * Detector state: a small key-value store of JSON values in namespaces, one entry per entity
 * (principal, secret, principal × secret). Never one entry per event: memory follows entities.
 */
export interface StateStore {
  get<T>(ns: string, key: string): T | undefined;
  set<T>(ns: string, key: string, value: T): void;
  delete(ns: string, key: string): void;
}

/** What the runner gives the engine for each event. */
export interface RunContext {
  readonly state: StateStore;
  /** Event time (ms) of the first event the store ever saw: the start of the global warm-up. */
  readonly firstEventTime: number;
}

/** What a detector sees: the runner's context plus the baselines before this event and its source. */
export interface DetectorContext extends RunContext {
  /** Principal, secret and principal × secret profiles as they were before this event. Read-only. */
  readonly profiles: Profiles;
  /** The event's source, classified once by the engine. */
  readonly source: SourceInfo;
  /** The event's time in ms, read once by the engine. */
  readonly time: number;
}

/** What a detector reports about one event; the engine groups findings into alerts. */
export interface Finding {
  readonly severity: Severity;
  readonly title: string;
  readonly principal: Principal;
  readonly resource: Resource | null;
  readonly evidence: Evidence;
  readonly event: SecretAccessEvent;
  /** Overrides the default group key (detector + principal). */
  readonly groupKey?: string;
}

export interface DetectorInstance {
  /** Looks at one event in event-time order; reads and updates only the state it is given. */
  evaluate(event: SecretAccessEvent, ctx: DetectorContext): Finding[];
}

/** A detector: one file, `detectors/<id>.ts`, registered on one line in `detectors/registry.ts`. */
export interface Detector<C = unknown> {
  /** Stable forever: it appears in dedupe keys, suppressions and dashboards. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** What the person on call does first; it reaches every alert. */
  readonly runbook: string;
  /** Config schema with defaults; `{}` must parse. */
  readonly config: z.ZodType<C>;
  /** How long related findings are grouped into one alert (ms). */
  readonly groupWindowMs: number;
  create(config: C): DetectorInstance;
}

/** Identity helper that keeps a detector's type parameter while registering it in a list. */
export function defineDetector<C>(d: Detector<C>): Detector<C> {
  return d;
}
