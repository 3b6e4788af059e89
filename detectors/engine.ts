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

/** Runs every enabled detector over events and groups their findings into alerts. */
export class DetectionEngine {
  private readonly units: { detector: Detector; instance: DetectorInstance }[];
  private readonly dbPath: string | undefined;
  private readonly network: NetworkClassifier;

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
      return { detector, instance: detector.create(parsed.data) };
    });
  }

  /**
   * Runs every detector on one event, then folds the event into the baselines. Events must come in
   * event-time order (detectors/queue.ts puts them in order); the result then does not depend on the
   * order files were read in.
   */
  evaluate(event: SecretAccessEvent, ctx: RunContext): { detector: Detector; finding: Finding }[] {
    const profiles = loadProfiles(ctx.state, event);
    const source = this.network.classify(event);
    const time = eventTime(event.time);
    const dctx: DetectorContext = {
      state: ctx.state,
      firstEventTime: ctx.firstEventTime,
      profiles,
      source,
      time,
    };
    const out: { detector: Detector; finding: Finding }[] = [];
    for (const u of this.units) {
      for (const finding of u.instance.evaluate(event, dctx)) out.push({ detector: u.detector, finding });
    }
    learn(ctx.state, event, source, profiles, time);
    return out;
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
    for (const event of events) {
      for (const { detector, finding } of this.evaluate(event, ctx)) {
        const id = this.idOf(detector, finding);
        const open = touched.get(id);
        // An alert this run already touched is this run's own copy: fold into it in place.
        if (open) fold(open.alert, detector, finding);
        else {
          const existing = load(id);
          touched.set(id, { alert: this.toAlert(detector, finding, existing), isNew: !existing });
        }
      }
    }
    return touched;
  }

  /** Alert ids by detector, group key and window: a hash each, remembered (bounded) across findings. */
  private readonly ids = new Map<string, string>();

  private idOf(detector: Detector, f: Finding): string {
    const groupKey = f.groupKey ?? `${detector.id}|${f.principal.id}`;
    const window = Math.floor(eventTime(f.event.time) / detector.groupWindowMs) * detector.groupWindowMs;
    const k = `${detector.id}\u0000${groupKey}\u0000${window}`;
    let id = this.ids.get(k);
    if (id === undefined) {
      if (this.ids.size >= 10_000) this.ids.clear();
      id = alertId(detector.id, groupKey, window);
      this.ids.set(k, id);
    }
    return id;
  }

  /**
   * Folds a finding into its alert: findings with the same group key (detector + principal by default) in
   * the same fixed window of event time are one alert, so the result does not depend on reading order.
   * Returns a new alert; `existing` is not changed.
   */
  toAlert(detector: Detector, f: Finding, existing: Alert | undefined): Alert {
    if (existing) {
      if (existing.eventIds.includes(f.event.id)) return existing;
      const copy = { ...existing, resources: [...existing.resources], eventIds: [...existing.eventIds] };
      fold(copy, detector, f);
      return copy;
    }
    const groupKey = f.groupKey ?? `${detector.id}|${f.principal.id}`;
    const t = eventTime(f.event.time);
    return {
      id: this.idOf(detector, f),
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

/** Per alert being folded: the last event folded into it and its resources as a set. */
const folded = new WeakMap<Alert, { last: string; resources: Set<string> }>();

/** Adds a finding to an alert in place (the caller owns `a`): times, severity, resources, event ids. */
function fold(a: Alert, detector: Detector, f: Finding): void {
  // Findings come in event order, so a repeated event is the last one folded.
  const seen = folded.get(a);
  if (seen ? seen.last === f.event.id : a.eventIds.includes(f.event.id)) return;
  let resources = seen?.resources;
  if (!resources) {
    resources = new Set(a.resources);
    folded.set(a, { last: f.event.id, resources });
  } else seen!.last = f.event.id;
  const t = eventTime(f.event.time);
  const later = t >= eventTime(a.lastTime);
  if (t < eventTime(a.time)) a.time = f.event.time;
  if (later) {
    a.lastTime = f.event.time;
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
