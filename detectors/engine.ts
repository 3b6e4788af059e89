import type { Alert } from '../core/alert.js';
import { ConfigError } from '../core/errors.js';
import { eventTime, SEVERITY_RANK, type SecretAccessEvent } from '../core/event.js';
import { stableId } from '../core/hash.js';
import { learn, loadProfiles } from './baseline.js';
import type { Detector, DetectorContext, DetectorInstance, Finding, RunContext } from './detector.js';
import { NetworkClassifier, type NetworkOptions } from './network.js';

/** At most this many event ids are kept on one alert; `count` keeps the true number. */
const MAX_EVENT_IDS = 100;

export interface EngineOptions {
  readonly detectors: readonly Detector[];
  /** Per-detector config by id, validated against each detector's schema; missing means defaults. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Store path, to print a ready-to-run investigation command on each alert. */
  readonly dbPath?: string;
  /** How sources are classified (AWS ip-ranges, internal CIDRs); see detectors/network.ts. */
  readonly network?: NetworkOptions | NetworkClassifier;
}

/** An alert touched by a run of detection, and whether it is new. */
export interface TouchedAlert {
  alert: Alert;
  isNew: boolean;
}

/** An enabled detector, its instance, and the ids of its latest alert windows by group. */
interface Unit {
  readonly detector: Detector;
  readonly instance: DetectorInstance;
  /** Default group (detector + principal): principal id → latest window and its alert id. */
  readonly byPrincipal: Map<string, WindowId>;
  /** Findings with their own group key: group key → latest window and its alert id. */
  readonly byGroup: Map<string, WindowId>;
}

interface WindowId {
  window: number;
  id: string;
}

/** Runs every enabled detector over events and groups their findings into alerts. */
export class DetectionEngine {
  private readonly units: Unit[];
  private readonly unitOf = new Map<Detector, Unit>();
  private readonly dbPath: string | undefined;
  private readonly network: NetworkClassifier;
  /** Findings of the event being evaluated, and their units (reused from event to event). */
  private readonly found: Finding[] = [];
  private readonly foundBy: Unit[] = [];

  constructor(options: EngineOptions) {
    this.dbPath = options.dbPath;
    this.network =
      options.network instanceof NetworkClassifier ? options.network : new NetworkClassifier(options.network);
    this.units = options.detectors.map((detector) => {
      const parsed = detector.config.safeParse(options.config?.[detector.id] ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ConfigError(`detectors.${detector.id}.${issue.path.join('.')}`, issue.message);
      }
      const unit = {
        detector,
        instance: detector.create(parsed.data),
        byPrincipal: new Map(),
        byGroup: new Map(),
      };
      this.unitOf.set(detector, unit);
      return unit;
    });
  }

  /**
   * Runs every detector on one event, then folds the event into the baselines. Events must come in
   * event-time order (detectors/queue.ts puts them in order); the result then does not depend on the
   * order files were read in.
   */
  evaluate(event: SecretAccessEvent, ctx: RunContext): { detector: Detector; finding: Finding }[] {
    this.detect(event, ctx, eventTime(event.time));
    return this.found.map((finding, i) => ({ detector: this.foundBy[i]!.detector, finding }));
  }

  /** `evaluate` into `found` and `foundBy`, with the event's time already read. */
  private detect(event: SecretAccessEvent, ctx: RunContext, time: number): void {
    const found = this.found;
    const foundBy = this.foundBy;
    found.length = 0;
    foundBy.length = 0;
    const profiles = loadProfiles(ctx.state, event);
    const source = this.network.classify(event);
    const dctx: DetectorContext = {
      state: ctx.state,
      firstEventTime: ctx.firstEventTime,
      profiles,
      source,
      time,
    };
    const units = this.units;
    for (let u = 0; u < units.length; u++) {
      const findings = units[u]!.instance.evaluate(event, dctx);
      for (let i = 0; i < findings.length; i++) {
        found.push(findings[i]!);
        foundBy.push(units[u]!);
      }
    }
    learn(ctx.state, event, source, profiles, time);
  }

  /**
   * Detection over events in time order, folding findings into alerts: `load` returns a stored alert
   * by id (or undefined). Returns the alerts touched, keyed by id; the caller stores them.
   */
  run(
    events: Iterable<SecretAccessEvent>,
    ctx: RunContext,
    load: (id: string) => Alert | undefined,
  ): Map<string, TouchedAlert> {
    const touched = new Map<string, TouchedAlert>();
    const found = this.found;
    const foundBy = this.foundBy;
    for (const event of events) {
      const time = eventTime(event.time);
      this.detect(event, ctx, time);
      for (let i = 0; i < found.length; i++) {
        const finding = found[i]!;
        const unit = foundBy[i]!;
        const t = finding.event === event ? time : eventTime(finding.event.time);
        const id = this.idAt(unit, finding, t);
        const open = touched.get(id);
        // An alert this run already touched is this run's own copy: fold into it in place.
        if (open) fold(open.alert, unit.detector, finding, t);
        else {
          const existing = load(id);
          touched.set(id, { alert: this.alertOf(unit, finding, existing, t), isNew: !existing });
        }
      }
    }
    return touched;
  }

  /** Alert ids by detector, group key and window: a hash each, remembered (bounded) per group. */
  private idCount = 0;

  private idAt(unit: Unit, f: Finding, t: number): string {
    const ms = unit.detector.groupWindowMs;
    const window = Math.floor(t / ms) * ms;
    const byKey = f.groupKey === undefined ? unit.byPrincipal : unit.byGroup;
    const key = f.groupKey ?? f.principal.id;
    const known = byKey.get(key);
    if (known !== undefined && known.window === window) return known.id;
    const id = alertId(unit.detector.id, f.groupKey ?? `${unit.detector.id}|${f.principal.id}`, window);
    if (known !== undefined) {
      known.window = window;
      known.id = id;
    } else {
      if (++this.idCount > 10_000) {
        for (const u of this.units) {
          u.byPrincipal.clear();
          u.byGroup.clear();
        }
        this.idCount = 1;
      }
      byKey.set(key, { window, id });
    }
    return id;
  }

  private unit(detector: Detector): Unit {
    let unit = this.unitOf.get(detector);
    if (unit === undefined) {
      // A detector this engine does not run (tests build findings by hand): ids only, nothing kept.
      unit = { detector, instance: { evaluate: () => [] }, byPrincipal: new Map(), byGroup: new Map() };
    }
    return unit;
  }

  /**
   * Folds a finding into its alert: findings with the same group key (detector + principal by default) in
   * the same fixed window of event time are one alert, so the result does not depend on reading order.
   * Returns a new alert; `existing` is not changed.
   */
  toAlert(detector: Detector, f: Finding, existing: Alert | undefined): Alert {
    return this.alertOf(this.unit(detector), f, existing, eventTime(f.event.time));
  }

  private alertOf(unit: Unit, f: Finding, existing: Alert | undefined, t: number): Alert {
    const detector = unit.detector;
    if (existing) {
      if (existing.eventIds.includes(f.event.id)) return existing;
      const copy = { ...existing, resources: [...existing.resources], eventIds: [...existing.eventIds] };
      fold(copy, detector, f, t);
      return copy;
    }
    const groupKey = f.groupKey ?? `${detector.id}|${f.principal.id}`;
    return {
      id: this.idAt(unit, f, t),
      time: f.event.time,
      lastTime: f.event.time,
      detector: detector.id,
      severity: f.severity,
      title: f.title,
      principal: f.principal,
      resource: f.resource,
      resources: f.resource ? [f.resource.id] : [],
      evidence: f.evidence,
      runbook: detector.runbook,
      eventIds: [f.event.id],
      count: 1,
      groupKey,
      query: investigateCommand(f, t, this.dbPath),
    };
  }
}

/**
 * Per alert being folded: the last event folded into it, its resources as a set, and its first and last
 * times as read (the text beside each, so a time changed elsewhere is read again).
 */
interface Folded {
  last: string;
  resources: Set<string>;
  timeText: string;
  time: number;
  lastText: string;
  lastTime: number;
}
const folded = new WeakMap<Alert, Folded>();

/** Adds a finding at time `t` to an alert in place (the caller owns `a`): times, severity, resources, event ids. */
function fold(a: Alert, detector: Detector, f: Finding, t: number): void {
  // Findings come in event order, so a repeated event is the last one folded.
  let seen = folded.get(a);
  if (seen ? seen.last === f.event.id : a.eventIds.includes(f.event.id)) return;
  if (!seen) {
    seen = {
      last: f.event.id,
      resources: new Set(a.resources),
      timeText: a.time,
      time: eventTime(a.time),
      lastText: a.lastTime,
      lastTime: eventTime(a.lastTime),
    };
    folded.set(a, seen);
  } else {
    seen.last = f.event.id;
    if (seen.timeText !== a.time) {
      seen.timeText = a.time;
      seen.time = eventTime(a.time);
    }
    if (seen.lastText !== a.lastTime) {
      seen.lastText = a.lastTime;
      seen.lastTime = eventTime(a.lastTime);
    }
  }
  const resources = seen.resources;
  const later = t >= seen.lastTime;
  if (t < seen.time) {
    a.time = seen.timeText = f.event.time;
    seen.time = t;
  }
  if (later) {
    a.lastTime = seen.lastText = f.event.time;
    seen.lastTime = t;
    a.evidence = f.evidence;
  }
  if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[a.severity]) a.severity = f.severity;
  if (f.resource && !resources.has(f.resource.id)) {
    resources.add(f.resource.id);
    a.resources.push(f.resource.id);
    if (a.resources.length > 1)
      a.title = `${detector.title}: ${f.principal.name} (${a.resources.length} secrets)`;
  }
  if (a.eventIds.length < MAX_EVENT_IDS) a.eventIds.push(f.event.id);
  a.count += 1;
}

export function alertId(detectorId: string, groupKey: string, windowStart: number): string {
  return `${detectorId}:${stableId(groupKey, String(windowStart))}`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function investigateCommand(f: Finding, t: number, dbPath: string | undefined): string {
  const since = new Date(t - 86_400_000).toISOString();
  const until = new Date(t + 3_600_000).toISOString();
  const db = dbPath ? ` --db ${shellQuote(dbPath)}` : '';
  return `vigil query${db} --principal ${shellQuote(f.principal.id)} --since ${since} --until ${until}`;
}
