import type { Alert } from '../core/alert.js';
import { SEVERITY_RANK, type Severity } from '../core/event.js';
import { stableId } from '../core/hash.js';
import type { GroupField } from './config.js';

/**
 * What a sink sends: one or more alerts of one group, with the count and the first and last times.
 * An ungrouped alert is a notification of one. Built by the dispatcher, rendered by each sink.
 */
export interface Notification {
  /** Stable for the same sink, group and alerts: an idempotency key for receivers. */
  readonly id: string;
  readonly sink: string;
  readonly kind: 'alert' | 'group' | 'digest' | 'test';
  readonly groupKey: string;
  /** In event-time order. */
  readonly alerts: readonly Alert[];
  /** The highest severity among the alerts. */
  readonly severity: Severity;
  readonly firstTime: string;
  readonly lastTime: string;
  /** Events behind all the alerts. */
  readonly events: number;
}

/** The cloud an alert's principal or secret lives in, from the canonical ids the sources produce. */
export function providerOf(alert: Pick<Alert, 'principal' | 'resource'>): string {
  for (const id of [alert.resource?.id, alert.principal.id]) {
    if (!id) continue;
    if (/^(arn:|aws:)/.test(id)) return 'aws';
    if (id.startsWith('azure:')) return 'azure';
    if (/^(gcp:|projects\/|serviceAccount:)/.test(id)) return 'gcp';
    if (id.startsWith('vault:')) return 'vault';
  }
  return 'unknown';
}

export function fieldValue(alert: Alert, field: GroupField): string {
  switch (field) {
    case 'detector':
      return alert.detector;
    case 'principal':
      return alert.principal.id;
    case 'secret':
      return alert.resource?.id ?? '';
    case 'severity':
      return alert.severity;
    case 'provider':
      return providerOf(alert);
    case 'groupKey':
      return alert.groupKey;
    case 'id':
      return alert.id;
  }
}

export function groupKeyOf(alert: Alert, groupBy: readonly GroupField[]): string {
  return groupBy.map((f) => fieldValue(alert, f)).join('|');
}

export function buildNotification(
  sink: string,
  groupKey: string,
  alerts: readonly Alert[],
  digest = false,
): Notification {
  if (alerts.length === 0) throw new Error('a notification needs at least one alert');
  const sorted = [...alerts].sort((a, b) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1,
  );
  let severity: Severity = 'low';
  let last = sorted[0]!.lastTime;
  let events = 0;
  for (const a of sorted) {
    if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[severity]) severity = a.severity;
    if (a.lastTime > last) last = a.lastTime;
    events += a.count;
  }
  return {
    id: `n-${stableId(sink, groupKey, ...sorted.map((a) => a.id))}`,
    sink,
    kind: digest ? 'digest' : sorted.length === 1 ? 'alert' : 'group',
    groupKey,
    alerts: sorted,
    severity,
    firstTime: sorted[0]!.time,
    lastTime: last,
    events,
  };
}

/** A harmless notification for `vigil alerts test SINK`. */
export function testNotification(sink: string, now: number): Notification {
  const time = new Date(now).toISOString();
  const alert: Alert = {
    id: `vigil-test:${stableId(sink, time)}`,
    time,
    lastTime: time,
    detector: 'vigil-test',
    severity: 'low',
    title: `Test notification from vigil to sink "${sink}"`,
    principal: { id: 'vigil:test', type: 'unknown', name: 'vigil', account: null },
    resource: null,
    resources: [],
    evidence: {
      summary: 'This is a test: if you can read it, the sink works.',
      observed: {},
      baseline: null,
      threshold: null,
    },
    runbook: 'Nothing to do.',
    eventIds: [],
    count: 1,
    groupKey: 'vigil-test',
    query: 'vigil alerts',
  };
  return { ...buildNotification(sink, 'vigil-test', [alert]), kind: 'test' };
}
