import type { Alert } from '../core/alert.js';
import { ConfigError } from '../core/errors.js';
import { SEVERITY_RANK, type SecretAccessEvent } from '../core/event.js';
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
    const dctx: DetectorContext = { state: ctx.state, firstEventTime: ctx.firstEventTime, profiles, source };
    const out: { detector: Detector; finding: Finding }[] = [];
    for (const u of this.units) {
      for (const finding of u.instance.evaluate(event, dctx)) out.push({ detector: u.detector, finding });
    }
    learn(ctx.state, event, source, profiles);
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
        const draft = this.toAlert(detector, finding, undefined);
        const open = touched.get(draft.id);
        const existing = open?.alert ?? load(draft.id);
        const alert = existing ? this.toAlert(detector, finding, existing) : draft;
        touched.set(alert.id, { alert, isNew: open ? open.isNew : !existing });
      }
    }
    return touched;
  }

  /**
   * Folds a finding into its alert: findings with the same group key (detector + principal by default) in
   * the same fixed window of event time are one alert, so the result does not depend on reading order.
   */
  toAlert(detector: Detector, f: Finding, existing: Alert | undefined): Alert {
    const groupKey = f.groupKey ?? `${detector.id}|${f.principal.id}`;
    const t = Date.parse(f.event.time);
    const window = Math.floor(t / detector.groupWindowMs) * detector.groupWindowMs;
    const id = alertId(detector.id, groupKey, window);
    if (existing) {
      if (existing.eventIds.includes(f.event.id)) return existing;
      const resources =
        f.resource && !existing.resources.includes(f.resource.id)
          ? [...existing.resources, f.resource.id]
          : existing.resources;
      const later = t >= Date.parse(existing.lastTime);
      const earlier = t < Date.parse(existing.time);
      return {
        ...existing,
        time: earlier ? f.event.time : existing.time,
        lastTime: later ? f.event.time : existing.lastTime,
        severity:
          SEVERITY_RANK[f.severity] > SEVERITY_RANK[existing.severity] ? f.severity : existing.severity,
        resources,
        eventIds:
          existing.eventIds.length < MAX_EVENT_IDS ? [...existing.eventIds, f.event.id] : existing.eventIds,
        count: existing.count + 1,
        evidence: later ? f.evidence : existing.evidence,
        title:
          resources.length > 1
            ? `${detector.title}: ${f.principal.name} (${resources.length} secrets)`
            : existing.title,
      };
    }
    return {
      id,
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
