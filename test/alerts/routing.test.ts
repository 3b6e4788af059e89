import { describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../alerts/config.js';
import { buildNotification, groupKeyOf, providerOf } from '../../alerts/notification.js';
import { compileRouting, PER_ALERT } from '../../alerts/routing.js';
import { withZeroConfig } from '../../alerts/setup.js';
import { makeAlert } from './helpers.js';

const config = AlertsConfig.parse({
  sinks: {
    oncall: { type: 'slack' },
    sec: { type: 'sns' },
    archive: { type: 'ndjson' },
    lowdigest: { type: 'slack' },
  },
  routes: [
    { match: { minSeverity: 'critical' }, sinks: ['oncall', 'sec'], continue: true },
    {
      match: { secret: 'prod/*', minSeverity: 'medium' },
      sinks: ['oncall'],
      groupBy: ['secret'],
      repeatInterval: 'PT30M',
    },
    { match: { principal: 'arn:aws:iam::*:role/ci-*', detector: ['new-*'] }, sinks: ['sec'] },
    { match: { maxSeverity: 'low' }, sinks: ['lowdigest'], digest: 'PT1H' },
  ],
  default: ['archive'],
});
const routing = compileRouting(config);
const all = ['oncall', 'sec', 'archive', 'lowdigest', 'console'];

describe('routing', () => {
  const table: { name: string; alert: ReturnType<typeof makeAlert>; sinks: string[] }[] = [
    {
      name: 'critical goes to both and continues',
      alert: makeAlert(1, { severity: 'critical' }),
      sinks: ['oncall', 'sec', 'console'],
    },
    {
      name: 'a prod secret at high',
      alert: makeAlert(1, { severity: 'high' }),
      sinks: ['oncall', 'console'],
    },
    {
      name: 'a CI role on a non-prod secret',
      alert: makeAlert(1, {
        principal: 'arn:aws:iam::111122223333:role/ci-deploy',
        secret: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:dev/x',
      }),
      sinks: ['sec', 'console'],
    },
    {
      name: 'low goes to the digest',
      alert: makeAlert(1, { severity: 'low', secret: 'arn:aws:secretsmanager:eu-west-1:1:secret:dev/y' }),
      sinks: ['lowdigest', 'console'],
    },
    {
      name: 'nothing matched: default',
      alert: makeAlert(1, { severity: 'medium', secret: 'arn:aws:secretsmanager:eu-west-1:1:secret:dev/y' }),
      sinks: ['archive', 'console'],
    },
  ];
  for (const c of table) it(c.name, () => expect(routing.sinksFor(c.alert, all)).toEqual(c.sinks));

  it('takes grouping from the route that sent the alert, else the sink default', () => {
    const a = makeAlert(1, { severity: 'high' });
    expect(routing.policy(a, 'oncall', PER_ALERT)).toEqual({
      groupBy: ['secret'],
      repeatIntervalMs: 30 * 60_000,
      digest: false,
    });
    expect(routing.policy(a, 'archive', PER_ALERT)).toEqual({ ...PER_ALERT, digest: false });
    expect(routing.policy(makeAlert(1, { severity: 'low' }), 'lowdigest', PER_ALERT)).toMatchObject({
      digest: true,
      repeatIntervalMs: 3_600_000,
    });
  });

  it('sends everything to every sink when there are no routes', () => {
    const r = compileRouting(
      AlertsConfig.parse({ sinks: { a: { type: 'console' }, b: { type: 'console' } } }),
    );
    expect(r.sinksFor(makeAlert(1, { severity: 'low' }), ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('rejects a route to an unknown sink and unknown fields, naming the path', () => {
    const bad = AlertsConfig.safeParse({ sinks: {}, routes: [{ sinks: ['nope'] }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['routes', 0, 'sinks', 0]);
    const typo = AlertsConfig.safeParse({
      sinks: { a: { type: 'console' } },
      routes: [{ sinks: ['a'], match: { severty: 'high' } }],
    });
    expect(typo.success).toBe(false);
  });
});

describe('grouping', () => {
  it('keys by detector and principal, and sums counts with first and last times', () => {
    const a = makeAlert(1, { principal: 'p' });
    const b = { ...makeAlert(2, { principal: 'p' }), count: 4, severity: 'critical' as const };
    expect(groupKeyOf(a, ['detector', 'principal'])).toBe(groupKeyOf(b, ['detector', 'principal']));
    const n = buildNotification('s', 'k', [b, a]);
    expect(n).toMatchObject({
      kind: 'group',
      events: 5,
      severity: 'critical',
      firstTime: a.time,
      lastTime: b.time,
    });
    expect(n.id).toBe(buildNotification('s', 'k', [a, b]).id);
    expect(providerOf(a)).toBe('aws');
  });
});

describe('zero configuration', () => {
  it('routes medium and above to Slack and SNS from the environment alone', () => {
    const cfg = withZeroConfig(AlertsConfig.parse({}), {
      VIGIL_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
      VIGIL_SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:vigil',
    });
    expect(cfg.sinks.slack).toEqual({ type: 'slack', webhookUrl: 'env:VIGIL_SLACK_WEBHOOK_URL' });
    expect(JSON.stringify(cfg)).not.toContain('hooks.slack.com');
    const r = compileRouting(cfg);
    expect(r.sinksFor(makeAlert(1, { severity: 'medium' }), ['slack', 'sns'])).toEqual(['slack', 'sns']);
    expect(r.sinksFor(makeAlert(1, { severity: 'low' }), ['slack', 'sns'])).toEqual([]);
  });

  it('changes nothing without the variables', () => {
    const cfg = AlertsConfig.parse({ sinks: { a: { type: 'console' } } });
    expect(withZeroConfig(cfg, {})).toBe(cfg);
  });
});
