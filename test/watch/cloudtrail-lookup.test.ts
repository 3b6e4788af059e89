import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Checkpoints } from '../../store/checkpoints.js';
import { tempDir } from '../helpers.js';
import { eventIds, fakeAwsEnv, rig } from './harness.js';
import { trailRecord } from './records.js';
import { FakeCloudTrail, LOOKUP_TARGETS } from './servers.js';

const MIN = 60_000;

describe('cloudtrail-lookup against a local LookupEvents server', () => {
  let ct: FakeCloudTrail;
  let endpoint: string;
  beforeEach(async () => {
    for (const [k, v] of Object.entries(fakeAwsEnv())) vi.stubEnv(k, v);
    ct = new FakeCloudTrail();
    endpoint = await ct.start();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await ct.close();
  });

  const source = (extra: object = {}) => ({
    type: 'cloudtrail-lookup',
    regions: ['us-east-1'],
    endpoint,
    ...extra,
  });

  it('reads every page of every event source, one lookup attribute per request, and checkpoints each stream', async () => {
    const now = Date.now();
    for (let i = 0; i < 120; i++)
      ct.add(trailRecord({ n: i, time: now - 100 * MIN + i * 30_000, role: `r${i % 7}` }));
    for (let i = 0; i < 10; i++) ct.add(trailRecord({ n: 1000 + i, time: now - 50 * MIN, service: 'kms' }));
    for (let i = 0; i < 5; i++) ct.add(trailRecord({ n: 2000 + i, time: now - 40 * MIN, service: 'ssm' }));
    const r = rig(tempDir(), [source()]);
    const result = await r.run();
    expect(result.failed).toEqual([]);
    expect(r.store.countEvents()).toBe(135);

    const lookups = ct.lookups();
    expect(lookups.length).toBe(ct.requests.length);
    expect(LOOKUP_TARGETS).toContain(lookups[0]!.target);
    expect(
      lookups.every((q) =>
        /^AWS4-HMAC-SHA256 Credential=AKIDVIGILTEST\/\d{8}\/us-east-1\/cloudtrail\//.test(q.authorization),
      ),
    ).toBe(true);
    for (const q of lookups) {
      expect(q.body.LookupAttributes).toHaveLength(1);
      expect(q.body.MaxResults).toBe(50);
    }
    const bySource = (s: string) =>
      lookups.filter(
        (q) => (q.body.LookupAttributes as { AttributeValue: string }[])[0]!.AttributeValue === s,
      );
    // 120 events in 50s: three pages, the later ones with the token of the one before.
    const sm = bySource('secretsmanager.amazonaws.com');
    expect(sm.length).toBeGreaterThanOrEqual(3);
    expect(sm.filter((q) => q.body.NextToken).length).toBe(2 * (sm.length / 3));
    expect(bySource('kms.amazonaws.com').length).toBeGreaterThan(0);
    expect(bySource('ssm.amazonaws.com').length).toBeGreaterThan(0);
    // A first start reads back the default 24 hours.
    const firstStart = Math.min(...lookups.map((q) => Number(q.body.StartTime) * 1000));
    expect(now - firstStart).toBeGreaterThanOrEqual(24 * 60 * MIN - 5000);

    const cps = new Checkpoints(r.store).list('cloudtrail-lookup:');
    expect(cps.map((c) => c.source).sort()).toEqual([
      'cloudtrail-lookup:default:us-east-1:kms',
      'cloudtrail-lookup:default:us-east-1:secretsmanager',
      'cloudtrail-lookup:default:us-east-1:ssm',
    ]);
    for (const c of cps) expect(JSON.parse(c.value).until).toBeGreaterThanOrEqual(now);
    r.store.close();
  });

  it('restarts from its checkpoint minus the overlap and stores nothing twice', async () => {
    const now = Date.now();
    for (let i = 0; i < 60; i++)
      ct.add(trailRecord({ n: i, time: now - 30 * MIN + i * 1000, role: `r${i % 3}` }));
    const dir = tempDir();
    const r = rig(dir, [source({ eventSources: ['secretsmanager'], overlap: 'PT10M' })]);
    await r.run();
    const firstAlerts = readFileSync(r.alertsFile, 'utf8').trim().split('\n');
    expect(firstAlerts.length).toBeGreaterThan(0);
    const until = JSON.parse(
      new Checkpoints(r.store).get('cloudtrail-lookup:default:us-east-1:secretsmanager')!,
    ).until;
    ct.requests.length = 0;
    const second = await r.run();
    expect(second.newEvents).toBe(0);
    expect(second.newAlerts).toBe(0);
    expect(r.store.countEvents()).toBe(60);
    expect(readFileSync(r.alertsFile, 'utf8').trim().split('\n')).toEqual(firstAlerts);
    expect(Number(ct.lookups()[0]!.body.StartTime) * 1000).toBe(until - 10 * MIN);
    r.store.close();
  });

  it('follows empty pages that carry a token', async () => {
    const now = Date.now();
    for (let i = 0; i < 7; i++) ct.add(trailRecord({ n: i, time: now - 10 * MIN + i }));
    ct.emptyPages = 3;
    const r = rig(tempDir(), [source({ eventSources: ['secretsmanager'] })]);
    await r.run();
    expect(r.store.countEvents()).toBe(7);
    expect(ct.lookups().filter((q) => q.body.NextToken).length).toBeGreaterThanOrEqual(3);
    r.store.close();
  });

  it('recovers from ThrottlingException', async () => {
    const now = Date.now();
    for (let i = 0; i < 3; i++) ct.add(trailRecord({ n: i, time: now - 5 * MIN + i }));
    ct.failNext = { count: 2, type: 'ThrottlingException', status: 400 };
    const r = rig(tempDir(), [source({ eventSources: ['secretsmanager'] })]);
    const result = await r.run();
    expect(result.failed).toEqual([]);
    expect(ct.failNext.count).toBe(0);
    expect(r.store.countEvents()).toBe(3);
    r.store.close();
  });

  it('stores and detects an event that becomes visible late, inside a window already read', async () => {
    const now = Date.now();
    ct.add(trailRecord({ n: 1, time: now - 20 * MIN, role: 'orders-api' }));
    const r = rig(tempDir(), [source({ eventSources: ['secretsmanager'] })]);
    await r.run();
    expect(eventIds(r.store)).toHaveLength(1);
    // CloudTrail delivers this one minutes after it happened: its time is before the checkpoint.
    ct.add(trailRecord({ n: 2, time: now - 3 * MIN, role: 'intruder', secret: 'prod/payments/stripe' }));
    const second = await r.run();
    expect(second.newEvents).toBe(1);
    expect(second.newAlerts).toBeGreaterThan(0);
    const alerts = readFileSync(r.alertsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts.some((a) => a.principal.name.includes('intruder'))).toBe(true);
    expect(r.metrics.total('vigil_late_events_total')).toBe(1);
    r.store.close();
  });

  it('keeps reading the other sources while one fails with an expired credential, and says so', async () => {
    const now = Date.now();
    ct.failWhen = (q) =>
      (q.body.LookupAttributes as { AttributeValue: string }[])[0]!.AttributeValue === 'kms.amazonaws.com'
        ? { type: 'ExpiredTokenException', status: 400 }
        : null;
    ct.add(trailRecord({ n: 1, time: now - 2 * MIN }));
    const dir = tempDir();
    const r = rig(dir, [source({ eventSources: ['secretsmanager', 'kms'], pollInterval: '100ms' })]);
    const stop = new AbortController();
    const running = r.run({ once: false, signal: stop.signal });
    await vi.waitFor(() => expect(r.store.countEvents()).toBe(1), { timeout: 10_000 });
    // New events keep arriving on the healthy stream while the other keeps failing.
    ct.add(trailRecord({ n: 2, time: Date.now() - 1000, role: 'late-role' }));
    await vi.waitFor(() => expect(r.store.countEvents()).toBe(2), { timeout: 10_000 });
    const kms = r.metrics.streams.get('cloudtrail-lookup:default:us-east-1:kms')!;
    await vi.waitFor(() => expect(kms.consecutiveFailures).toBeGreaterThan(1), { timeout: 10_000 });
    expect(kms.lastError?.kind).toBe('credentials');
    const health = r.metrics.health();
    expect(health.ok).toBe(false);
    const bySource = Object.fromEntries(
      (health.body as { sources: { id: string; ok: boolean }[] }).sources.map((s) => [s.id, s.ok]),
    );
    expect(bySource).toEqual({
      'cloudtrail-lookup:default:us-east-1:secretsmanager': true,
      'cloudtrail-lookup:default:us-east-1:kms': false,
    });
    const logged = r.logs.map((l) => JSON.parse(l)).filter((l) => l.kind === 'credentials');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0].level).toBe('error');
    expect(logged[0].msg).toContain('ExpiredTokenException');
    expect(r.logs.join('\n')).not.toContain('vigil-test-secret-key');
    // The credential is renewed: the stream recovers on its own.
    ct.failWhen = null;
    await vi.waitFor(() => expect(kms.consecutiveFailures).toBe(0), { timeout: 10_000 });
    expect(r.metrics.health().ok).toBe(true);
    expect(r.metrics.render()).toMatch(
      /vigil_source_errors_total\{source="cloudtrail-lookup:default:us-east-1:kms",kind="credentials"\} \d+/,
    );
    stop.abort();
    const result = await running;
    expect(result.failed).toEqual([]);
    r.store.close();
  });

  it('with --once, reports the failing stream and still stores the others', async () => {
    ct.failWhen = (q) =>
      (q.body.LookupAttributes as { AttributeValue: string }[])[0]!.AttributeValue === 'ssm.amazonaws.com'
        ? { type: 'AccessDeniedException', status: 400 }
        : null;
    ct.add(trailRecord({ n: 1, time: Date.now() - MIN }));
    const r = rig(tempDir(), [source()]);
    const result = await r.run();
    expect(result.failed).toEqual(['cloudtrail-lookup:default:us-east-1:ssm']);
    expect(r.store.countEvents()).toBe(1);
    r.store.close();
  });
});
