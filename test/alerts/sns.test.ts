import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../alerts/config.js';
import { dispatchDue } from '../../alerts/dispatch.js';
import { buildNotification } from '../../alerts/notification.js';
import { createSinks } from '../../alerts/setup.js';
import type { Sink } from '../../alerts/sink.js';
import { MAX_MESSAGE_BYTES, snsSubject } from '../../alerts/sns.js';
import { openDeliveries } from '../../store/deliveries.js';
import { fakeTime, makeAlert, saveAlerts, T0, tempStore } from './helpers.js';
import { FAKE_CREDENTIALS, startSns } from './peers.js';

let sns: Awaited<ReturnType<typeof startSns>>;
beforeEach(async () => {
  sns = await startSns();
});
afterEach(async () => {
  await sns.close();
});

function snsSink(topicArn = 'arn:aws:sns:eu-west-1:111122223333:vigil-alerts', time = fakeTime()): Sink {
  const cfg = AlertsConfig.parse({ sinks: { sec: { type: 'sns', topicArn } } });
  return createSinks(cfg, {
    clock: time.clock,
    stdout: process.stdout,
    env: {},
    aws: { endpoint: sns.endpoint, credentials: FAKE_CREDENTIALS },
  }).get('sec')!;
}

const one = (a = makeAlert(1)) => buildNotification('sec', a.id, [a]);

describe('sns sink against an SNS query-protocol endpoint', () => {
  it('publishes the alert JSON with a short subject and filterable attributes', async () => {
    const sink = snsSink();
    const r = await sink.deliver(sink.render(one()), AbortSignal.timeout(5000));
    expect(r).toEqual({ ok: true });
    const m = sns.published[0]!;
    expect(m.action).toBe('Publish');
    expect(m.topicArn).toBe('arn:aws:sns:eu-west-1:111122223333:vigil-alerts');
    expect(JSON.parse(m.message).id).toBe('new-access:000001');
    expect(m.subject!.length).toBeLessThan(100);
    expect(m.attributes).toEqual({
      severity: { type: 'String', value: 'high' },
      detector: { type: 'String', value: 'new-access' },
      provider: { type: 'String', value: 'aws' },
      principalType: { type: 'String', value: 'role' },
      kind: { type: 'String', value: 'alert' },
    });
    expect(m.groupId).toBeUndefined();
  });

  it('sets FIFO group and dedupe ids on a .fifo topic', async () => {
    const sink = snsSink('arn:aws:sns:eu-west-1:111122223333:vigil.fifo');
    const n = one();
    await sink.deliver(sink.render(n), AbortSignal.timeout(5000));
    expect(sns.published[0]).toMatchObject({ groupId: n.alerts[0]!.groupKey, dedupeId: n.id });
  });

  it('keeps the subject ASCII, one line, under 100 characters', () => {
    const s = snsSubject(`[HIGH] ${'é\n'.repeat(80)} done`);
    expect(s.length).toBeLessThan(100);
    expect(s).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
  });

  it('cuts a message over 256 KB and says so', () => {
    const sink = snsSink();
    const big = {
      ...makeAlert(1),
      eventIds: Array.from({ length: 20_000 }, (_, i) => `event-${i}-${'x'.repeat(20)}`),
    };
    const entry = sink.render(one(big)) as { Message: string };
    expect(Buffer.byteLength(entry.Message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(JSON.parse(entry.Message)).toMatchObject({ truncated: true, count: 1 });
  });

  it('uses PublishBatch and checks each entry', async () => {
    const { store, cleanup } = tempStore();
    try {
      const time = fakeTime();
      const sink = snsSink(undefined, time);
      saveAlerts(
        store,
        Array.from({ length: 25 }, (_, i) => makeAlert(i)),
        ['sec'],
        T0,
      );
      sns.state.failEntries.set('e3', { code: 'InternalError', senderFault: false });
      sns.state.failEntries.set('e5', { code: 'InvalidParameter', senderFault: true });
      const ledger = openDeliveries(store);
      const r = await dispatchDue(ledger, new Map([['sec', sink]]), { clock: time.clock, sleep: time.sleep });
      expect(sns.requests.filter((a) => a === 'PublishBatch')).toHaveLength(1); // paused after the retryable entry failed
      expect(r.delivered.sec).toBe(8);
      expect(r.failed.sec).toBe(1);
      expect(r.dead.sec).toBe(1);
      expect(ledger.failed()[0]!.reason).toBe('SNS entry failed: InvalidParameter');
      sns.state.failEntries.clear();
      await dispatchDue(ledger, new Map([['sec', sink]]), {
        clock: time.clock,
        sleep: time.sleep,
        until: T0 + 600_000,
      });
      expect(ledger.counts().sec).toEqual({ pending: 0, delivered: 24, dead: 1 });
      expect(new Set(sns.published.map((m) => JSON.parse(m.message).id)).size).toBe(24);
      expect(sns.published).toHaveLength(24);
    } finally {
      cleanup();
    }
  });

  const errors = [
    { mode: 'AuthorizationError', retryable: false },
    { mode: 'NotFound', retryable: false },
    { mode: 'Throttled', retryable: true },
    { mode: 'InternalError', retryable: true },
  ] as const;
  for (const e of errors) {
    it(`classifies ${e.mode} as ${e.retryable ? 'retryable' : 'permanent'}`, async () => {
      sns.state.mode = e.mode;
      const sink = snsSink();
      const r = await sink.deliver(sink.render(one()), AbortSignal.timeout(5000));
      expect(r).toMatchObject({ ok: false, retryable: e.retryable, reason: expect.stringContaining(e.mode) });
    });
  }
});
