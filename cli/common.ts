import { resolve } from 'node:path';
import { compileRouting, type Routing } from '../alerts/routing.js';
import { createSinks, withZeroConfig } from '../alerts/setup.js';
import type { Sink } from '../alerts/sink.js';
import type { Alert } from '../core/alert.js';
import { DetectionEngine } from '../detectors/engine.js';
import { networkOptions } from '../detectors/network.js';
import { DETECTORS } from '../detectors/registry.js';
import { compileSuppressions } from '../detectors/suppress.js';
import type { IngestStats } from '../ingest/pipeline.js';
import { Store } from '../store/store.js';
import { type Io, type ParsedArgs, str } from './command.js';
import { findConfigFile, loadConfig, type RootConfig } from './config.js';
import type { IngestSummary } from './pipeline.js';

export const DEFAULT_DB = '.vigil/vigil.db';

export const DB_HELP = {
  flag: '--db FILE',
  text: `SQLite store (default: $VIGIL_DB, the config's store.path, or ${DEFAULT_DB})`,
};
export const CONFIG_HELP = {
  flag: '--config FILE',
  text: 'config file, JSON or YAML (default: $VIGIL_CONFIG or ./vigil.config.yaml if present)',
};

export function loadRootConfig(args: ParsedArgs, io: Io): { config: RootConfig; file: string | undefined } {
  const file = findConfigFile(str(args, 'config'), io.env, io.cwd);
  return { config: loadConfig(file), file };
}

/** The store: --db, then $VIGIL_DB, then the config file's store.path, then the default. */
export function dbPath(args: ParsedArgs, io: Io, config?: RootConfig): string {
  const explicit = str(args, 'db') ?? io.env.VIGIL_DB;
  if (explicit) return resolve(io.cwd, explicit);
  const fromFile = config ?? loadRootConfig(args, io).config;
  return resolve(io.cwd, fromFile.store.path);
}

export function openStore(path: string, readonly = false): Store {
  return Store.open(path, { readonly });
}

/** The detection engine and suppressions, from the config: what `runIngest` and `watch` detect with. */
export function detectionSetup(config: RootConfig, db: string) {
  const engine = new DetectionEngine({
    detectors: DETECTORS,
    config: config.detectors,
    dbPath: db,
    network: networkOptions(config.network),
  });
  return { engine, suppressions: compileSuppressions(config.suppressions) };
}

export interface Alerting {
  readonly sinks: Map<string, Sink>;
  readonly routing: Routing;
}

/**
 * Sinks and routes from the config file, plus zero configuration (`VIGIL_SLACK_WEBHOOK_URL`,
 * `VIGIL_SNS_TOPIC_ARN`). Each sink is checked against its type's schema; secrets stay references.
 */
export function alerting(config: RootConfig, io: Io): Alerting {
  const alertsConfig = withZeroConfig(config.alerts, io.env);
  const sinks = createSinks(alertsConfig, { clock: io.clock, stdout: io.stdout, env: io.env });
  return { sinks, routing: compileRouting(alertsConfig) };
}

/** The runner's routing function for a set of sinks: routes from the config, every alert to the others. */
export function routeWith(a: Alerting): (alert: Alert) => string[] {
  const names = () => [...a.sinks.keys()];
  return (alert) => a.routing.sinksFor(alert, names());
}

const n = (x: number) => x.toLocaleString('en-US');

function reasons(m: Map<string, number>, max = 6): string {
  const sorted = [...m.entries()].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, max).map(([r, c]) => `${r} ×${n(c)}`);
  if (sorted.length > max) shown.push(`${sorted.length - max} more`);
  return shown.join('; ');
}

export function statsLines(stats: IngestStats): string[] {
  const lines = [
    `read ${n(stats.files)} file${stats.files === 1 ? '' : 's'}, ${n(stats.records)} records → ${n(stats.events)} events, ${n(stats.skippedTotal)} skipped, ${n(stats.quarantinedTotal)} quarantined`,
  ];
  if (stats.skippedTotal) lines.push(`  skipped (not secret access): ${reasons(stats.skipped)}`);
  if (stats.quarantinedTotal) lines.push(`  quarantined: ${reasons(stats.quarantined)}`);
  return lines;
}

export function summaryLines(s: IngestSummary, db: string): string[] {
  const lines = statsLines(s.stats);
  lines.push(`stored ${n(s.newEvents)} new events (${n(s.duplicateEvents)} already stored) in ${db}`);
  const bySeverity = new Map<string, number>();
  for (const a of s.newAlerts) bySeverity.set(a.severity, (bySeverity.get(a.severity) ?? 0) + 1);
  const sev = ['critical', 'high', 'medium', 'low']
    .filter((k) => bySeverity.has(k))
    .map((k) => `${k} ${bySeverity.get(k)}`)
    .join(', ');
  const extra = [
    s.updatedAlerts ? `${n(s.updatedAlerts)} updated` : '',
    s.suppressedAlerts ? `${n(s.suppressedAlerts)} suppressed (stored, not sent)` : '',
  ].filter(Boolean);
  lines.push(
    `alerts: ${n(s.newAlerts.length)} new${sev ? ` (${sev})` : ''}${extra.length ? `, ${extra.join(', ')}` : ''}`,
  );
  const d = s.delivery;
  const parts = Object.entries(d.delivered).map(([k, v]) => `${k} ${n(v)}`);
  const failed = Object.entries(d.failed).map(([k, v]) => `${k} ${n(v)} will retry`);
  const dead = Object.entries(d.dead).map(([k, v]) => `${k} ${n(v)} failed`);
  if (parts.length || failed.length || dead.length)
    lines.push(`delivered: ${[...parts, ...failed, ...dead].join(', ')}`);
  const t = s.timings;
  if (t) {
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const during = s.ahead?.detected
      ? ` (${n(s.ahead.detected)} events were detected alongside reading)`
      : '';
    lines.push(
      `took ${sec(t.readAndStore + t.detect + t.deliver)}: reading and storing ${sec(t.readAndStore)}, ` +
        `detection ${sec(t.detect)}, delivery ${sec(t.deliver)}${during}`,
    );
  }
  return lines;
}
