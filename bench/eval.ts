import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIngest } from '../cli/pipeline.js';
import type { Alert } from '../core/alert.js';
import { systemClock } from '../core/clock.js';
import type { AttackLabel } from '../demo/simulate.js';
import { DetectionEngine } from '../detectors/engine.js';
import { DETECTORS } from '../detectors/registry.js';
import { Store } from '../store/store.js';

/**
 * Scores the detectors on a simulated (or any labelled) data set: ingests it with the runner `vigil
 * ingest` uses, then matches alerts to labelled attacks by principal and time.
 */

export interface EvaluateOptions {
  /** Directory with the raw logs and `labels.json` (from `simulate`). */
  readonly dir: string;
  /** Detector config; by default the one in labels.json (canary secrets). */
  readonly detectors?: Record<string, unknown>;
  /** Keep the store here instead of a temp dir. */
  readonly dbPath?: string;
}

export interface KindScore {
  kind: string;
  attacks: number;
  detected: number;
  recall: number;
  /** Alerts matched to attacks of this kind. */
  alerts: number;
  /** Detectors that caught it. */
  detectors: string[];
}

export interface DetectorScore {
  detector: string;
  alerts: number;
  truePositives: number;
  precision: number;
}

export interface EvaluationReport {
  days: number;
  events: number;
  principals: number;
  alerts: number;
  falseAlerts: number;
  falseAlertsPerDay: number;
  /** False alerts of medium severity or above, per day: what pages someone. */
  falsePagesPerDay: number;
  byKind: KindScore[];
  byDetector: DetectorScore[];
  missed: AttackLabel[];
  falseExamples: { detector: string; severity: string; title: string; time: string }[];
}

const SLACK_BEFORE = 10 * 60_000;
const SLACK_AFTER = 2 * 3_600_000;

function matches(a: Alert, l: AttackLabel): boolean {
  const who = a.principal.id === l.principal || a.principal.name === l.principalName;
  return (
    who &&
    Date.parse(a.time) <= Date.parse(l.end) + SLACK_AFTER &&
    Date.parse(a.lastTime) >= Date.parse(l.start) - SLACK_BEFORE
  );
}

export async function evaluate(options: EvaluateOptions): Promise<EvaluationReport> {
  const meta = JSON.parse(readFileSync(join(options.dir, 'labels.json'), 'utf8')) as {
    days: number;
    labels: AttackLabel[];
    config?: { detectors?: Record<string, unknown> };
  };
  const tmp = options.dbPath ? null : mkdtempSync(join(tmpdir(), 'vigil-eval-'));
  const store = Store.open(options.dbPath ?? join(tmp!, 'eval.db'));
  try {
    // Exactly what `vigil ingest` runs: batches stored, detection in event-time order at the end.
    const engine = new DetectionEngine({
      detectors: DETECTORS,
      config: options.detectors ?? meta.config?.detectors ?? {},
    });
    await runIngest([options.dir], { store, engine, sinks: new Map(), clock: systemClock });
    const principals = { size: store.db.prepare('SELECT count(*) FROM principals').pluck().get() as number };
    const alerts = [...store.listAlerts()];
    const labels = meta.labels;
    const byKind = new Map<string, KindScore>();
    for (const l of labels) {
      const k = byKind.get(l.kind) ?? {
        kind: l.kind,
        attacks: 0,
        detected: 0,
        recall: 0,
        alerts: 0,
        detectors: [],
      };
      const hit = alerts.filter((a) => matches(a, l));
      k.attacks++;
      if (hit.length) k.detected++;
      k.alerts += hit.length;
      for (const a of hit) if (!k.detectors.includes(a.detector)) k.detectors.push(a.detector);
      byKind.set(l.kind, k);
    }
    for (const k of byKind.values()) k.recall = k.detected / k.attacks;
    const byDetector = new Map<string, DetectorScore>();
    const falseAlerts: Alert[] = [];
    for (const a of alerts) {
      const d = byDetector.get(a.detector) ?? {
        detector: a.detector,
        alerts: 0,
        truePositives: 0,
        precision: 0,
      };
      d.alerts++;
      if (labels.some((l) => matches(a, l))) d.truePositives++;
      else falseAlerts.push(a);
      byDetector.set(a.detector, d);
    }
    for (const d of byDetector.values()) d.precision = d.truePositives / d.alerts;
    const days = meta.days;
    return {
      days,
      events: store.countEvents(),
      principals: principals.size,
      alerts: alerts.length,
      falseAlerts: falseAlerts.length,
      falseAlertsPerDay: falseAlerts.length / days,
      falsePagesPerDay: falseAlerts.filter((a) => a.severity !== 'low').length / days,
      byKind: [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind)),
      byDetector: [...byDetector.values()].sort((a, b) => a.detector.localeCompare(b.detector)),
      missed: labels.filter((l) => !alerts.some((a) => matches(a, l))),
      falseExamples: falseAlerts
        .slice(0, 40)
        .map((a) => ({ detector: a.detector, severity: a.severity, title: a.title, time: a.time })),
    };
  } finally {
    store.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The report as Markdown tables (what the README shows). */
export function formatReport(r: EvaluationReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const lines = [
    `${r.events} events, ${r.principals} principals, ${r.days} days: ${r.alerts} alerts, ${r.falseAlerts} false ` +
      `(${r.falseAlertsPerDay.toFixed(2)} per day; ${r.falsePagesPerDay.toFixed(2)} per day at medium or above)`,
    '',
    '| attack kind | attacks | detected | recall | alerts | caught by |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.byKind.map(
      (k) =>
        `| ${k.kind} | ${k.attacks} | ${k.detected} | ${pct(k.recall)} | ${k.alerts} | ${k.detectors.join(', ')} |`,
    ),
    '',
    '| detector | alerts | true | precision |',
    '| --- | --- | --- | --- |',
    ...r.byDetector.map((d) => `| ${d.detector} | ${d.alerts} | ${d.truePositives} | ${pct(d.precision)} |`),
  ];
  if (r.missed.length) lines.push('', 'Missed:', ...r.missed.map((l) => `- ${l.id}: ${l.description}`));
  if (r.falseExamples.length)
    lines.push(
      '',
      'False alerts:',
      ...r.falseExamples.map((f) => `- ${f.time} ${f.detector} (${f.severity}): ${f.title}`),
    );
  return lines.join('\n');
}
