import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AlertsConfig } from '../../alerts/config.js';
import { buildNotification } from '../../alerts/notification.js';
import { createSinks } from '../../alerts/setup.js';
import { fakeTime, makeAlert } from './helpers.js';
import { startSlack } from './peers.js';

let hook: Awaited<ReturnType<typeof startSlack>>;
beforeEach(async () => {
  hook = await startSlack('hooks/x', { anyJson: true });
});
afterEach(async () => {
  await hook.close();
});

it('POSTs the notification JSON with an idempotency key and a verifiable HMAC-SHA256 signature', async () => {
  const time = fakeTime();
  const sink = createSinks(
    AlertsConfig.parse({
      sinks: { h: { type: 'webhook', url: { insecurePlaintext: hook.url }, secret: 'env:KEY' } },
    }),
    { clock: time.clock, stdout: process.stdout, env: { KEY: 'k' } },
  ).get('h')!;
  const n = buildNotification('h', 'g', [makeAlert(1), makeAlert(2)]);
  expect(await sink.deliver(sink.render(n), AbortSignal.timeout(5000))).toEqual({ ok: true });
  const r = hook.received[0]!;
  const ts = String(r.headers['x-vigil-timestamp']);
  expect(r.headers['idempotency-key']).toBe(n.id);
  expect(r.headers['x-vigil-signature']).toBe(
    `sha256=${createHmac('sha256', 'k').update(`${ts}.${r.raw}`).digest('hex')}`,
  );
  expect(JSON.parse(r.raw)).toMatchObject({
    vigil: 1,
    notification: { id: n.id, count: 2, kind: 'group' },
    alerts: [{ id: 'new-access:000001' }, { id: 'new-access:000002' }],
  });
});
