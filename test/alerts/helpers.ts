import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../../core/alert.js';
import type { Severity } from '../../core/event.js';
import { Store } from '../../store/store.js';

export function tempStore(): { store: Store; dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  const path = join(dir, 'vigil.db');
  const store = Store.open(path);
  return {
    store,
    dir,
    path,
    cleanup: () => {
      try {
        store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const T0 = Date.parse('2026-03-02T09:00:00Z');

/** An alert as the detection engine makes it (see detectors/engine.ts toAlert). */
export function makeAlert(
  i: number,
  opts: { principal?: string; detector?: string; severity?: Severity; secret?: string; at?: number } = {},
): Alert {
  const principal = opts.principal ?? `arn:aws:iam::111122223333:role/app-${i % 10}`;
  const detector = opts.detector ?? 'new-access';
  const at = opts.at ?? T0 + i * 1000;
  const secret = opts.secret ?? `arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-${i % 7}`;
  const time = new Date(at).toISOString();
  return {
    id: `${detector}:${String(i).padStart(6, '0')}`,
    time,
    lastTime: time,
    detector,
    severity: opts.severity ?? 'high',
    title: `${principal.split('/').pop()} read ${secret.split(':').pop()} for the first time`,
    principal: { id: principal, type: 'role', name: principal.split('/').pop()!, account: '111122223333' },
    resource: {
      id: secret,
      type: 'secret',
      name: secret.split(':').pop()!,
      account: '111122223333',
      region: 'eu-west-1',
    },
    resources: [secret],
    evidence: {
      summary: 'first read of this secret by this principal after 30 days of learning',
      observed: { reads: 1 },
      baseline: { reads: 0 },
      threshold: null,
    },
    runbook: 'Ask the owner of the role whether the new access is expected; if not, revoke it.',
    eventIds: [`e-${i}`],
    count: 1,
    groupKey: `${detector}|${principal}`,
    query: `vigil query --principal ${principal} --since ${time}`,
  };
}

/** Saves alerts and enqueues their deliveries in one transaction, as the ingest pipeline does. */
export function saveAlerts(
  store: Store,
  alerts: readonly Alert[],
  sinks: readonly string[] | ((a: Alert) => readonly string[]),
  now: number,
) {
  const outbox = store.outbox();
  store.transaction(() => {
    for (const a of alerts) {
      store.saveAlert(a, now);
      outbox.enqueue(a.id, typeof sinks === 'function' ? sinks(a) : sinks, now);
    }
  });
}

/** A clock and a sleeper that advances it instead of waiting: tests that would take minutes take ms. */
export function fakeTime(start = T0) {
  let t = start;
  const slept: number[] = [];
  return {
    clock: { now: () => t },
    advance: (ms: number) => {
      t += ms;
    },
    slept,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}
