import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../alerts/config.js';
import { dispatchDue } from '../../alerts/dispatch.js';
import { buildNotification } from '../../alerts/notification.js';
import { compileRouting } from '../../alerts/routing.js';
import { createSinks } from '../../alerts/setup.js';
import type { Sink } from '../../alerts/sink.js';
import {
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_SECTION_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  renderSlack,
  slackSink,
  truncate,
} from '../../alerts/slack.js';
import { openDeliveries } from '../../store/deliveries.js';
import { fakeTime, makeAlert, saveAlerts, T0, tempStore } from './helpers.js';
import { SLACK, type SlackAnswer, startSlack } from './peers.js';

const stdout = process.stdout;

function slackFor(url: string, extra: Record<string, unknown> = {}, clock = fakeTime().clock): Sink {
  const [sink] = createSinks(
    AlertsConfig.parse({ sinks: { oncall: { type: 'slack', webhookUrl: 'env:SLACK_URL', ...extra } } }),
    { clock, stdout, env: { SLACK_URL: url } },
  ).values();
  return sink!;
}

describe('slack render', () => {
  it('builds Block Kit for a person on call, with a plain-text fallback', () => {
    const p = renderSlack(buildNotification('oncall', 'k', [makeAlert(1)]));
    expect(p.text).toMatch(/^\[HIGH\] /);
    expect(p.blocks[0]!.type).toBe('header');
    const all = JSON.stringify(p.blocks);
    for (const want of [
      'Severity',
      'Principal',
      'Secret',
      'When (UTC)',
      'Evidence',
      'Runbook',
      'Investigate',
      'vigil query --principal',
    ]) {
      expect(all).toContain(want);
    }
  });

  it('escapes mrkdwn control characters and cuts long text safely, saying so', () => {
    expect(escapeMrkdwn('<!channel> & <x>')).toBe('&lt;!channel&gt; &amp; &lt;x&gt;');
    const t = truncate('a&amp;'.repeat(1000), 100);
    expect(t.length).toBeLessThanOrEqual(100);
    expect(t).toMatch(/truncated by vigil\)$/);
    expect(t).not.toMatch(/&[a-z]{0,4}…/);
    expect(truncate('😀'.repeat(100), 50)).not.toMatch(/[\ud800-\udbff]…/);
  });

  it('keeps within 50 blocks, 3,000 chars per section and the total, whatever the alert holds', () => {
    const huge = makeAlert(1);
    const alerts = Array.from({ length: 300 }, (_, i) => ({
      ...makeAlert(i, { principal: 'arn:aws:iam::111122223333:role/x' }),
      title: 'T'.repeat(900),
      evidence: { ...huge.evidence, summary: '<e>'.repeat(5000) },
      runbook: 'R'.repeat(9000),
    }));
    const p = renderSlack(buildNotification('oncall', 'k', alerts));
    expect(p.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    let total = 0;
    for (const b of p.blocks) {
      const text = (b.text as { text?: string } | undefined)?.text;
      if (b.type === 'section' && text) expect(text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
      total += JSON.stringify(b).length;
    }
    expect(total).toBeLessThan(MAX_TOTAL_BLOCK_TEXT + 4000); // JSON syntax on top of the text budget
    expect(JSON.stringify(p.blocks)).toContain('truncated by vigil');
    expect(JSON.stringify(p.blocks)).toMatch(/and 2\d\d more/);
  });
});

describe('slack delivery against a Slack-like webhook server', () => {
  let slack: Awaited<ReturnType<typeof startSlack>>;
  beforeEach(async () => {
    slack = await startSlack();
  });
  afterEach(async () => {
    await slack.close();
  });

  const cases: {
    name: string;
    answer: SlackAnswer;
    ok: boolean;
    retryable?: boolean;
    reason?: RegExp;
    retryAfterMs?: number;
  }[] = [
    { name: '200 ok', answer: SLACK.ok, ok: true },
    {
      name: '429 with Retry-After',
      answer: SLACK.rateLimited(3),
      ok: false,
      retryable: true,
      retryAfterMs: 3000,
      reason: /429/,
    },
    { name: '500', answer: SLACK.serverError, ok: false, retryable: true, reason: /500/ },
    {
      name: '400 invalid_payload',
      answer: SLACK.invalidPayload,
      ok: false,
      retryable: false,
      reason: /invalid_payload/,
    },
    { name: '404 no_service', answer: SLACK.noService, ok: false, retryable: false, reason: /no_service/ },
    {
      name: '410 channel_is_archived',
      answer: SLACK.archived,
      ok: false,
      retryable: false,
      reason: /channel_is_archived/,
    },
  ];
  for (const c of cases) {
    it(`classifies ${c.name}`, async () => {
      slack.state.answer = () => c.answer;
      const sink = slackFor(slack.url);
      const r = await sink.deliver(
        sink.render(buildNotification('oncall', 'k', [makeAlert(1)])),
        AbortSignal.timeout(5000),
      );
      expect(r.ok).toBe(c.ok);
      if (!r.ok) {
        expect(r.retryable).toBe(c.retryable);
        expect(r.reason).toMatch(c.reason!);
        if (c.retryAfterMs) expect(r.retryAfterMs).toBe(c.retryAfterMs);
      }
    });
  }

  it('treats a slow answer past the timeout as retryable', async () => {
    slack.state.answer = () => ({ ...SLACK.ok, delayMs: 2000 });
    const sink = slackFor(slack.url);
    const r = await sink.deliver(
      sink.render(buildNotification('oncall', 'k', [makeAlert(1)])),
      AbortSignal.timeout(100),
    );
    expect(r).toMatchObject({ ok: false, retryable: true });
  });

  it('treats a revoked webhook (unknown path) as permanent', async () => {
    const sink = slackFor(`${slack.base}/services/T0/B0/revoked`);
    const r = await sink.deliver(
      sink.render(buildNotification('oncall', 'k', [makeAlert(1)])),
      AbortSignal.timeout(5000),
    );
    expect(r).toMatchObject({ ok: false, retryable: false });
  });

  it('delivers a burst of 5,000 alerts grouped, within 1 message/s, none lost', async () => {
    const { store, cleanup } = tempStore();
    try {
      const time = fakeTime();
      const sink = slackFor(slack.url, {}, time.clock);
      const seenAt: number[] = [];
      slack.state.onRequest = () => seenAt.push(time.clock.now());
      // 50 principals × 2 detectors: 100 groups.
      const alerts = Array.from({ length: 5000 }, (_, i) =>
        makeAlert(i, {
          principal: `arn:aws:iam::111122223333:role/app-${Math.floor(i / 2) % 50}`,
          detector: i % 2 ? 'new-access' : 'volume-spike',
        }),
      );
      saveAlerts(store, alerts, ['oncall'], T0);
      const ledger = openDeliveries(store);
      const report = await dispatchDue(ledger, new Map([['oncall', sink]]), {
        clock: time.clock,
        sleep: time.sleep,
        routing: compileRouting(AlertsConfig.parse({ sinks: { oncall: { type: 'slack' } } })),
      });
      expect(report.delivered.oncall).toBe(5000);
      expect(report.notifications?.oncall).toBe(100);
      expect(slack.received).toHaveLength(100);
      for (let i = 1; i < seenAt.length; i++)
        expect(seenAt[i]! - seenAt[i - 1]!).toBeGreaterThanOrEqual(1000);
      // Every alert is counted in exactly one message, and the message says how many it carries.
      let counted = 0;
      const perNotification = store.db
        .prepare(
          `SELECT notification, count(*) AS n FROM deliveries WHERE sink = 'oncall' AND state = 'delivered' GROUP BY notification`,
        )
        .all() as { notification: string; n: number }[];
      const byId = new Map(perNotification.map((r) => [r.notification, r.n]));
      for (const m of slack.received) {
        const n = Number(/— (\d+) alerts/.exec(m.payload.text)?.[1]);
        const id = /`(n-[0-9a-f]+)`/.exec(JSON.stringify(m.payload.blocks))?.[1];
        expect(byId.get(id!)).toBe(n);
        counted += n;
      }
      expect(counted).toBe(5000);
      expect(ledger.counts().oncall).toEqual({ pending: 0, delivered: 5000, dead: 0 });

      // The condition goes on: new alerts of the same groups wait for the repeat interval, then go out grouped.
      time.advance(10 * 60_000);
      const more = Array.from({ length: 200 }, (_, i) =>
        makeAlert(10_000 + i, {
          principal: `arn:aws:iam::111122223333:role/app-${Math.floor(i / 2) % 50}`,
          detector: i % 2 ? 'new-access' : 'volume-spike',
        }),
      );
      saveAlerts(store, more, ['oncall'], time.clock.now());
      const held = await dispatchDue(ledger, new Map([['oncall', sink]]), {
        clock: time.clock,
        sleep: time.sleep,
      });
      expect(held.held?.oncall).toBe(200);
      expect(slack.received).toHaveLength(100);
      const later = await dispatchDue(ledger, new Map([['oncall', sink]]), {
        clock: time.clock,
        sleep: time.sleep,
        until: time.clock.now() + 2 * 3_600_000,
      });
      expect(later.delivered.oncall).toBe(200);
      expect(later.notifications?.oncall).toBe(100);
      expect(ledger.counts().oncall).toEqual({ pending: 0, delivered: 5200, dead: 0 });
    } finally {
      cleanup();
    }
  });

  it('honours Retry-After on 429 and then delivers', async () => {
    const { store, cleanup } = tempStore();
    try {
      const time = fakeTime();
      const sink = slackFor(slack.url, {}, time.clock);
      const seenAt: number[] = [];
      slack.state.onRequest = () => seenAt.push(time.clock.now());
      slack.state.answer = (n) => (n === 0 ? SLACK.rateLimited(7) : SLACK.ok);
      saveAlerts(store, [makeAlert(1)], ['oncall'], T0);
      const report = await dispatchDue(openDeliveries(store), new Map([['oncall', sink]]), {
        clock: time.clock,
        sleep: time.sleep,
        until: T0 + 60_000,
      });
      expect(report.delivered.oncall).toBe(1);
      expect(seenAt).toHaveLength(2);
      expect(seenAt[1]! - seenAt[0]!).toBeGreaterThanOrEqual(7000);
    } finally {
      cleanup();
    }
  });
});

it('slack sink type is registered with a strict config', () => {
  expect(slackSink.config.safeParse({ webhookUrl: 'env:X', colour: 'red' }).success).toBe(false);
});
