import type { Alert } from '../core/alert.js';
import { SEVERITY_RANK } from '../core/event.js';
import type { AlertsConfig, GroupField, Route, RouteMatch } from './config.js';
import { providerOf } from './notification.js';

/** How alerts for one sink are grouped into notifications. */
export interface NotifyPolicy {
  readonly groupBy: readonly GroupField[];
  /** 0: every group is sent as soon as it is due. */
  readonly repeatIntervalMs: number;
  readonly digest: boolean;
}

/** What a sink does by default when no route says otherwise: declared by the sink. */
export interface GroupingDefaults {
  readonly groupBy: readonly GroupField[];
  readonly repeatIntervalMs: number;
}

/** One notification per alert, sent at once: for machine sinks (files, SNS, webhooks, the console). */
export const PER_ALERT: GroupingDefaults = { groupBy: ['id'], repeatIntervalMs: 0 };

export interface Routing {
  /** The sinks an alert goes to. Sinks in `available` but not in the config (the CLI's console, --alerts-out) get every alert. */
  sinksFor(alert: Alert, available: readonly string[]): string[];
  /** Grouping for `alert` at `sink`, from the first matching route that names the sink, else the sink's defaults. */
  policy(alert: Alert, sink: string, defaults: GroupingDefaults): NotifyPolicy;
}

function globRegex(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

function anyGlob(globs: readonly string[] | undefined, values: readonly string[]): boolean {
  if (!globs) return true;
  const res = globs.map(globRegex);
  return values.some((v) => res.some((re) => re.test(v)));
}

/** Whether an alert matches a route's conditions; every given condition must hold. Pure. */
export function matches(m: RouteMatch, alert: Alert): boolean {
  const rank = SEVERITY_RANK[alert.severity];
  if (m.minSeverity && rank < SEVERITY_RANK[m.minSeverity]) return false;
  if (m.maxSeverity && rank > SEVERITY_RANK[m.maxSeverity]) return false;
  if (!anyGlob(m.detector, [alert.detector])) return false;
  if (!anyGlob(m.provider, [providerOf(alert)])) return false;
  if (!anyGlob(m.principal, [alert.principal.id, alert.principal.name])) return false;
  const secrets = alert.resource
    ? [alert.resource.id, alert.resource.name, ...alert.resources]
    : alert.resources;
  if (m.secret && !anyGlob(m.secret, secrets)) return false;
  return true;
}

/** The routes an alert takes, in order: the first match, and the following ones while `continue` is set. */
function matchedRoutes(config: AlertsConfig, alert: Alert): Route[] {
  const out: Route[] = [];
  for (const r of config.routes) {
    if (!matches(r.match, alert)) continue;
    out.push(r);
    if (!r.continue) break;
  }
  return out;
}

/** Compiles the `alerts` config into routing decisions. Pure: no I/O, no clock. */
export function compileRouting(config: AlertsConfig): Routing {
  const configured = new Set(Object.keys(config.sinks));
  const fallback = config.default ?? (config.routes.length === 0 ? [...configured] : []);
  return {
    sinksFor(alert, available) {
      const routes = matchedRoutes(config, alert);
      const chosen = new Set(routes.length ? routes.flatMap((r) => r.sinks) : fallback);
      for (const s of available) if (!configured.has(s)) chosen.add(s);
      return available.filter((s) => chosen.has(s));
    },
    policy(alert, sink, defaults) {
      const route = matchedRoutes(config, alert).find((r) => r.sinks.includes(sink));
      if (route?.digest !== undefined) return { groupBy: [], repeatIntervalMs: route.digest, digest: true };
      return {
        groupBy: route?.groupBy ?? defaults.groupBy,
        repeatIntervalMs: route?.repeatInterval ?? defaults.repeatIntervalMs,
        digest: false,
      };
    },
  };
}
