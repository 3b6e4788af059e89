import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alert.js';
import type { SecretAccessEvent } from '../../core/event.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { MemoryEventQueue } from '../../detectors/queue.js';
import { DETECTORS } from '../../detectors/registry.js';
import { MemoryState } from '../../detectors/state.js';
import { PendingQueue } from '../../store/pending.js';
import { Store } from '../../store/store.js';
import { CLI_UA, DAY, ev, HOUR, habit, person, role, secret, T0 } from './events.js';

const db = secret('prod/orders/db');
const key = secret('prod/payments/key');
const others = Array.from({ length: 30 }, (_, i) => secret(`prod/x-${i}/token`));

function benign(days: number, start = T0): SecretAccessEvent[] {
  return [
    ...habit(role('orders-api'), { start, days, hours: [...Array(24).keys()], perHour: 3, secrets: [db] }),
    ...habit(role('billing-batch'), { start, days, hours: [2], perHour: 8, secrets: [key, db] }),
    ...habit(person('alice@example.com'), {
      start,
      days,
      hours: [9, 10, 14, 15],
      perHour: 2,
      secrets: [db, key],
      weekdaysOnly: true,
      ip: '73.162.1.1',
      ua: CLI_UA,
    }),
    ...habit(person('bob@example.com'), {
      start,
      days,
      hours: [8, 11, 16],
      perHour: 1,
      secrets: [key],
      weekdaysOnly: true,
      ip: '81.2.69.142',
      ua: CLI_UA,
    }),
  ];
}

function attacks(): SecretAccessEvent[] {
  const t = T0 + 15 * DAY + 3 * HOUR;
  const api = role('orders-api');
  return [
    ...others
      .slice(0, 22)
      .map((s, i) => ev({ time: t + i * 7000, principal: api, resource: s, ip: '193.0.6.139', ua: CLI_UA })),
    ...others
      .slice(0, 12)
      .map((s, i) =>
        ev({ time: t + HOUR + i * 9000, principal: role('prober'), resource: s, outcome: 'denied' }),
      ),
    ev({
      time: t + 2 * HOUR,
      principal: person('alice@example.com'),
      operation: 'DeleteSecret',
      action: 'delete',
      details: { forceDeleteWithoutRecovery: true },
    }),
  ];
}

/** Detection as a runner does it: queue, take in event-time order, fold into alerts. */
function detect(batches: SecretAccessEvent[][]): Map<string, Alert> {
  const engine = new DetectionEngine({ detectors: DETECTORS });
  const queue = new MemoryEventQueue();
  const state = new MemoryState();
  const alerts = new Map<string, Alert>();
  let first = Number.POSITIVE_INFINITY;
  for (const b of batches) {
    queue.push(b);
    for (const e of b) first = Math.min(first, Date.parse(e.time));
  }
  for (;;) {
    const chunk = queue.take(Number.POSITIVE_INFINITY, 997);
    if (chunk.length === 0) break;
    for (const { alert } of engine
      .run(chunk, { state, firstEventTime: first }, (id) => alerts.get(id))
      .values())
      alerts.set(alert.id, alert);
  }
  return alerts;
}

function shuffle<T>(xs: T[], seed = 7): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const canon = (m: Map<string, Alert>) =>
  [...m.values()]
    .map((a) => ({ ...a, eventIds: [...a.eventIds].sort(), resources: [...a.resources].sort() }))
    .sort((a, b) => a.id.localeCompare(b.id));

describe('detection engine', () => {
  const events = [...benign(21), ...attacks()];
  const inOrder = detect([[...events].sort((a, b) => a.time.localeCompare(b.time))]);

  it('raises the attacks and only them on this traffic', () => {
    const detectors = new Set([...inOrder.values()].map((a) => a.detector));
    expect([...detectors].sort()).toEqual([
      'denied-burst',
      'mass-retrieval',
      'new-access',
      'sensitive-operation',
      'unusual-source',
      'volume-spike',
    ]);
    for (const a of inOrder.values())
      expect(['orders-api', 'prober', 'alice@example.com']).toContain(a.principal.name);
  });

  it('gives the same alerts for shuffled input and for input split in batches', () => {
    const shuffled = shuffle(events);
    expect(canon(detect([shuffled]))).toEqual(canon(inOrder));
    const thirds = [shuffled.slice(0, 5000), shuffled.slice(5000, 9000), shuffled.slice(9000)];
    expect(canon(detect(thirds))).toEqual(canon(inOrder));
  });

  it('stays silent on benign traffic', () => {
    expect([...detect([benign(28)]).values()].map((a) => a.title)).toEqual([]);
  });

  it('keeps state bounded by entities over a long run', () => {
    const engine = new DetectionEngine({ detectors: DETECTORS });
    const state = new MemoryState();
    const sizes: number[] = [];
    for (let month = 0; month < 3; month++) {
      const chunk = benign(30, T0 + month * 30 * DAY).sort((a, b) => a.time.localeCompare(b.time));
      for (const e of chunk) engine.evaluate(e, { state, firstEventTime: T0 });
      sizes.push(state.stats().bytes);
    }
    const { entries } = state.stats();
    expect(entries).toBeLessThan(20);
    // The third month adds as many events as the second but no state.
    expect(sizes[2]! / sizes[1]!).toBeLessThan(1.1);
  });
});

describe('detection queue in the store', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same alerts across several ingest runs as in one', () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-det-'));
    const store = Store.open(join(dir, 'v.db'));
    const engine = new DetectionEngine({ detectors: DETECTORS });
    const queue = new PendingQueue(store);
    const sorted = [...events()].sort((a, b) => a.time.localeCompare(b.time));
    const first = Date.parse(sorted[0]!.time);
    // Three runs, each with its files in shuffled order: store, queue, then detect everything queued.
    const runs = [sorted.slice(0, 4000), sorted.slice(4000, 8000), sorted.slice(8000)];
    for (const run of runs) {
      store.transaction(() => queue.push(store.insertEvents(shuffle(run))));
      store.transaction(() => {
        const touched = engine.run(
          queue.take(Number.POSITIVE_INFINITY, 1e6),
          { state: store.state, firstEventTime: first },
          (id) => store.getAlert(id),
        );
        for (const { alert } of touched.values()) store.saveAlert(alert, 0);
        store.state.flush();
      });
      // Re-ingesting the same files adds nothing to detect.
      store.transaction(() => queue.push(store.insertEvents(run)));
      expect(queue.size()).toBe(0);
    }
    const stored = new Map([...store.listAlerts()].map((a) => [a.id, a]));
    store.close();
    expect(canon(stored)).toEqual(canon(detect([sorted])));
  });

  function events() {
    return [...benign(21), ...attacks()];
  }
});
