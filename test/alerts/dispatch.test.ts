import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../alerts/config.js';
import { backoffMs, dispatchDue, sendTest } from '../../alerts/dispatch.js';
import { compileRouting } from '../../alerts/routing.js';
import { createSinks } from '../../alerts/setup.js';
import { openDeliveries } from '../../store/deliveries.js';
import { fakeTime, makeAlert, saveAlerts, T0, tempStore } from './helpers.js';
import { SLACK, startSlack } from './peers.js';

let slack: Awaited<ReturnType<typeof startSlack>>;
let hook: Awaited<ReturnType<typeof startSlack>>;
let db: ReturnType<typeof tempStore>;
beforeEach(async () => {
  slack = await startSlack();
  hook = await startSlack('hook/abc', { anyJson: true });
  db = tempStore();
});
afterEach(async () => {
  await slack.close();
  await hook.close();
  db.cleanup();
});

function setup(time = fakeTime(), extra: Record<string, unknown> = {}) {
  const config = AlertsConfig.parse({
    sinks: {
      oncall: { type: 'slack', webhookUrl: 'env:SLACK_URL', ...extra },
      hook: { type: 'webhook', url: 'env:HOOK_URL', secret: 'env:HOOK_KEY' },
    },
  });
  const sinks = createSinks(config, {
    clock: time.clock,
    stdout: process.stdout,
    env: { SLACK_URL: slack.url, HOOK_URL: hook.url, HOOK_KEY: 'k3y-for-hmac' },
  });
  return { sinks, routing: compileRouting(config), time };
}

describe('dispatch', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it('a sink down for a while receives everything once it recovers, and the other sink is not held up', async () => {
    const { sinks, routing, time } = setup();
    let down = true;
    slack.state.answer = () => (down ? SLACK.serverError : SLACK.ok);
    const alerts = Array.from({ length: 40 }, (_, i) =>
      makeAlert(i, { principal: `arn:aws:iam::1:role/r${i % 4}` }),
    );
    saveAlerts(db.store, alerts, ['oncall', 'hook'], T0);
    const ledger = openDeliveries(db.store);
    const first = await dispatchDue(ledger, sinks, {
      clock: time.clock,
      sleep: time.sleep,
      routing,
      random: () => 0.5,
    });
    expect(first.delivered.hook).toBe(40);
    expect(hook.received).toHaveLength(40);
    expect(first.failed.oncall).toBe(10); // one group tried, then the sink is paused
    expect(slack.received).toHaveLength(1);
    // Still down for ten minutes of retries: only probes, nothing lost, nothing dead yet.
    await dispatchDue(ledger, sinks, {
      clock: time.clock,
      sleep: time.sleep,
      routing,
      random: () => 0.5,
      until: time.clock.now() + 10 * 60_000,
    });
    expect(ledger.counts().oncall!.delivered).toBe(0);
    expect(ledger.counts().oncall!.dead).toBe(0);
    const probes = slack.received.length;
    expect(probes).toBeLessThan(15);
    down = false;
    const after = await dispatchDue(ledger, sinks, {
      clock: time.clock,
      sleep: time.sleep,
      routing,
      until: time.clock.now() + 30 * 60_000,
    });
    expect(after.delivered.oncall).toBe(40);
    expect(ledger.counts().oncall).toEqual({ pending: 0, delivered: 40, dead: 0 });
    expect(slack.received.length - probes).toBe(4);
    expect(hook.received).toHaveLength(40);
  });

  it('a slow sink does not hold up the others', async () => {
    const { sinks, routing, time } = setup(fakeTime(), { timeout: 'PT0.5S' });
    slack.state.answer = () => ({ ...SLACK.ok, hang: true });
    saveAlerts(db.store, [makeAlert(1), makeAlert(2)], ['oncall', 'hook'], T0);
    const order: string[] = [];
    slack.state.onRequest = () => order.push('slack');
    hook.state.onRequest = () => order.push('hook');
    const r = await dispatchDue(openDeliveries(db.store), sinks, {
      clock: time.clock,
      sleep: time.sleep,
      routing,
    });
    expect(r.delivered.hook).toBe(2);
    expect(r.failed.oncall).toBe(1); // timed out once; the sink is paused, its other group waits
    expect(order.filter((o) => o === 'hook')).toHaveLength(2);
  });

  it('dead-letters permanent failures with the reason, lists them, and redelivers them', async () => {
    const { sinks, routing, time } = setup();
    slack.state.answer = () => SLACK.invalidPayload;
    saveAlerts(
      db.store,
      [makeAlert(1, { principal: 'a' }), makeAlert(2, { principal: 'b' })],
      ['oncall'],
      T0,
    );
    const ledger = openDeliveries(db.store);
    const r = await dispatchDue(ledger, sinks, { clock: time.clock, sleep: time.sleep, routing });
    expect(r.dead.oncall).toBe(2);
    const failed = ledger.failed({ sink: 'oncall' });
    expect(failed).toHaveLength(2);
    expect(failed[0]!.reason).toMatch(/HTTP 400 invalid_payload/);
    expect(failed[0]!.alert?.id).toBe('new-access:000001');
    slack.state.answer = () => SLACK.ok;
    expect(ledger.redeliver({ sink: 'oncall', alertId: 'new-access:000001' }, time.clock.now())).toBe(1);
    const again = await dispatchDue(ledger, sinks, { clock: time.clock, sleep: time.sleep, routing });
    expect(again.delivered.oncall).toBe(1);
    expect(ledger.failed()).toHaveLength(1);
    expect(ledger.redeliver({}, time.clock.now())).toBe(1);
    await dispatchDue(ledger, sinks, { clock: time.clock, sleep: time.sleep, routing });
    expect(ledger.counts().oncall).toEqual({ pending: 0, delivered: 2, dead: 0 });
  });

  it('gives up after maxAttempts on a sink that never recovers', async () => {
    const { sinks, routing, time } = setup();
    slack.state.answer = () => SLACK.serverError;
    saveAlerts(db.store, [makeAlert(1)], ['oncall'], T0);
    const ledger = openDeliveries(db.store);
    await dispatchDue(ledger, sinks, {
      clock: time.clock,
      sleep: time.sleep,
      routing,
      maxAttempts: 3,
      until: T0 + 3_600_000,
    });
    expect(slack.received).toHaveLength(3);
    expect(ledger.failed()[0]).toMatchObject({
      attempts: 3,
      reason: 'Slack answered HTTP 500 internal_error',
    });
  });

  it('sends a digest of low alerts once per interval', async () => {
    const time = fakeTime();
    const config = AlertsConfig.parse({
      sinks: { oncall: { type: 'slack', webhookUrl: 'env:SLACK_URL' } },
      routes: [
        { match: { maxSeverity: 'low' }, sinks: ['oncall'], digest: 'PT1H' },
        { match: {}, sinks: ['oncall'] },
      ],
    });
    const sinks = createSinks(config, {
      clock: time.clock,
      stdout: process.stdout,
      env: { SLACK_URL: slack.url },
    });
    const routing = compileRouting(config);
    const ledger = openDeliveries(db.store);
    const low = (i: number) => makeAlert(i, { severity: 'low', principal: `arn:aws:iam::1:role/r${i}` });
    saveAlerts(db.store, [low(1), low(2), low(3)], ['oncall'], T0);
    await dispatchDue(ledger, sinks, { clock: time.clock, sleep: time.sleep, routing });
    expect(slack.received).toHaveLength(1);
    expect(slack.received[0]!.payload.text).toMatch(/Digest: 3 alerts/);
    time.advance(60_000);
    saveAlerts(db.store, [low(4), low(5)], ['oncall'], time.clock.now());
    const held = await dispatchDue(ledger, sinks, { clock: time.clock, sleep: time.sleep, routing });
    expect(held.held?.oncall).toBe(2);
    await dispatchDue(ledger, sinks, {
      clock: time.clock,
      sleep: time.sleep,
      routing,
      until: time.clock.now() + 3_600_000,
    });
    expect(slack.received).toHaveLength(2);
    expect(slack.received[1]!.payload.text).toMatch(/Digest: 2 alerts/);
  });

  it('sendTest reports the result of a test notification', async () => {
    const { sinks, time } = setup();
    expect(await sendTest(sinks.get('oncall')!, time.clock)).toEqual({ ok: true });
    expect(slack.received[0]!.payload.text).toMatch(/Test notification/);
    slack.state.answer = () => SLACK.noService;
    expect(await sendTest(sinks.get('oncall')!, time.clock)).toMatchObject({
      ok: false,
      retryable: false,
      reason: expect.stringMatching(/no_service/),
    });
  });

  it('still works over the skeleton outbox (store.outbox())', async () => {
    const { sinks, routing, time } = setup();
    saveAlerts(db.store, [makeAlert(1), makeAlert(2)], ['hook'], T0);
    const r = await dispatchDue(db.store.outbox(), sinks, { clock: time.clock, sleep: time.sleep, routing });
    expect(r.delivered.hook).toBe(2);
    expect(db.store.deliveryCounts().hook).toEqual({ delivered: 2 });
  });
});
