import { describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alert.js';
import { Suppression, SuppressionsConfig } from '../../detectors/config.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { MemoryState } from '../../detectors/state.js';
import { compileSuppressions, suppressionFor } from '../../detectors/suppress.js';
import { CLI_UA, detector, ev, person, role, secret, T0 } from './events.js';

function alertFor(p = role('orders-api'), ip = '193.0.6.139'): Alert {
  const engine = new DetectionEngine({ detectors: [detector('sensitive-operation')] });
  const e = ev({
    time: T0,
    principal: p,
    operation: 'DeleteSecret',
    action: 'delete',
    ip,
    ua: CLI_UA,
    details: { forceDeleteWithoutRecovery: true },
  });
  const [f] = engine.evaluate(e, { state: new MemoryState(), firstEventTime: T0 });
  return engine.toAlert(f!.detector, f!.finding, undefined);
}

describe('suppressions', () => {
  const alert = alertFor();
  const rules = (r: unknown[]) => compileSuppressions(SuppressionsConfig.parse(r));

  it.each([
    ['detector', { detector: 'sensitive-operation' }, true],
    ['other detector', { detector: 'volume-spike' }, false],
    ['principal name', { principal: 'orders-*' }, true],
    ['principal arn', { principal: role('orders-api').id }, true],
    ['other principal', { principal: 'billing-*' }, false],
    ['secret name', { secret: 'prod/orders/*' }, true],
    ['other secret', { secret: 'dev/*' }, false],
    ['network', { network: '193.0.6.0/24' }, true],
    ['other network', { network: '10.0.0.0/8' }, false],
    [
      'all fields',
      { detector: 'sensitive-operation', principal: 'orders-api', secret: secret('prod/orders/db').id },
      true,
    ],
  ])('%s', (_n, fields, matches) => {
    const got = suppressionFor(
      alert,
      rules([{ ...fields, reason: 'migration ticket OPS-12', expires: '2026-04-01' }]),
    );
    expect(got !== null).toBe(matches);
    if (matches) expect(got?.reason).toBe('migration ticket OPS-12');
  });

  it('expires on event time, a bare date at the end of that day', () => {
    const at = (expires: string) =>
      suppressionFor(alert, rules([{ detector: 'sensitive-operation', reason: 'x', expires }]));
    expect(at('2026-03-02')).not.toBeNull(); // alert at 2026-03-02T00:00Z, rule lasts the whole day
    expect(at('2026-03-01')).toBeNull();
    expect(at('2026-03-02T00:00:00Z')).toBeNull();
    expect(at('2026-03-02T00:00:01Z')).not.toBeNull();
  });

  it('needs a reason, an expiry and something to match; typos are errors', () => {
    expect(Suppression.safeParse({ detector: 'x', expires: '2026-01-01' }).success).toBe(false);
    expect(Suppression.safeParse({ detector: 'x', reason: 'r' }).success).toBe(false);
    expect(Suppression.safeParse({ reason: 'r', expires: '2026-01-01' }).success).toBe(false);
    expect(Suppression.safeParse({ detectr: 'x', reason: 'r', expires: '2026-01-01' }).success).toBe(false);
    expect(
      Suppression.safeParse({ principal: 'a', reason: 'r', expires: '2026-01-01T10:00:00Z' }).success,
    ).toBe(true);
  });

  it('a secret rule covers an alert only when every secret on it matches', () => {
    const a = { ...alert, resources: [secret('prod/orders/db').id, secret('prod/payments/key').id] };
    expect(suppressionFor(a, rules([{ secret: '*orders*', reason: 'r', expires: '2027-01-01' }]))).toBeNull();
    expect(
      suppressionFor(a, rules([{ secret: '*:secret:prod/*', reason: 'r', expires: '2027-01-01' }])),
    ).not.toBeNull();
  });

  it('a person is matched by name', () => {
    const a = alertFor(person('carol@example.com'));
    expect(
      suppressionFor(a, rules([{ principal: 'carol@example.com', reason: 'r', expires: '2027-01-01' }])),
    ).not.toBeNull();
  });
});
