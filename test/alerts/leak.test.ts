import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AlertsConfig } from '../../alerts/config.js';
import { type DispatchEvent, dispatchDue, sendTest } from '../../alerts/dispatch.js';
import { SINK_TYPES } from '../../alerts/registry.js';
import { SecretResolver } from '../../alerts/secrets.js';
import { createSinks } from '../../alerts/setup.js';
import type { Sink } from '../../alerts/sink.js';
import { ConfigError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret.js';
import { openDeliveries } from '../../store/deliveries.js';
import { fakeTime, makeAlert, saveAlerts, T0, tempStore } from './helpers.js';
import { FAKE_CREDENTIALS, SLACK, startSecretsManager, startSlack, startSns } from './peers.js';

const SLACK_TOKEN = 'T0LEAK/B0LEAK/zzLeakCanary0123456789';
const HOOK_TOKEN = 'hooks/LeakCanaryHookToken987';
const HMAC_KEY = 'hmac-LeakCanaryKey-555';
const SM_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:vigil/slack-AbCdEf';

let slack: Awaited<ReturnType<typeof startSlack>>;
let hook: Awaited<ReturnType<typeof startSlack>>;
let sns: Awaited<ReturnType<typeof startSns>>;
beforeAll(async () => {
  slack = await startSlack(SLACK_TOKEN);
  hook = await startSlack(HOOK_TOKEN, { anyJson: true });
  sns = await startSns();
});
afterAll(async () => {
  await Promise.all([slack.close(), hook.close(), sns.close()]);
});

interface LeakCase {
  readonly type: string;
  readonly name: string;
  readonly sink: Record<string, unknown>;
  readonly secrets: () => string[];
  readonly fail: () => void;
}

const cases: LeakCase[] = [
  {
    type: 'slack',
    name: 'slack 404 (env reference)',
    sink: { type: 'slack', webhookUrl: 'env:SLACK_URL' },
    secrets: () => [slack.url, SLACK_TOKEN],
    fail: () => {
      slack.state.answer = () => SLACK.noService;
    },
  },
  {
    type: 'slack',
    name: 'slack network error',
    sink: { type: 'slack', webhookUrl: 'env:DEAD_URL' },
    secrets: () => [`http://127.0.0.1:9/services/${SLACK_TOKEN}`, SLACK_TOKEN],
    fail: () => {},
  },
  {
    type: 'slack',
    name: 'slack 500 (Secrets Manager reference)',
    sink: { type: 'slack', webhookUrl: SM_ARN },
    secrets: () => [slack.url, SLACK_TOKEN],
    fail: () => {
      slack.state.answer = () => SLACK.serverError;
    },
  },
  {
    type: 'webhook',
    name: 'webhook 403 with HMAC',
    sink: { type: 'webhook', url: 'env:HOOK_URL', secret: 'env:HOOK_KEY' },
    secrets: () => [hook.url, HOOK_TOKEN, HMAC_KEY],
    fail: () => {
      hook.state.answer = () => ({ status: 403, body: `forbidden ${hook.url}` });
    },
  },
  {
    type: 'sns',
    name: 'sns AuthorizationError',
    sink: { type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:111122223333:leak' },
    secrets: () => [FAKE_CREDENTIALS.secretAccessKey],
    fail: () => {
      sns.state.mode = 'AuthorizationError';
    },
  },
  {
    type: 'ndjson',
    name: 'ndjson into a directory',
    sink: { type: 'ndjson', path: mkdtempSync(join(tmpdir(), 'vigil-leak-')) },
    secrets: () => [],
    fail: () => {},
  },
  {
    type: 'console',
    name: 'console (no secret to leak)',
    sink: { type: 'console' },
    secrets: () => [],
    fail: () => {},
  },
];

describe('no sink leaks its secret', () => {
  it('covers every registered sink type', () => {
    for (const t of SINK_TYPES)
      expect(
        cases.some((c) => c.type === t.type),
        t.type,
      ).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const { store, cleanup } = tempStore();
      const out = new PassThrough();
      let printed = '';
      out.on('data', (d) => {
        printed += String(d);
      });
      const consoleSpy = vi.spyOn(console, 'log');
      const errSpy = vi.spyOn(console, 'error');
      try {
        const time = fakeTime();
        const smPeer = await startSecretsManager({ [SM_ARN]: slack.url });
        const resolver = new SecretResolver({
          env: {
            SLACK_URL: slack.url,
            DEAD_URL: `http://127.0.0.1:9/services/${SLACK_TOKEN}`,
            HOOK_URL: hook.url,
            HOOK_KEY: HMAC_KEY,
          },
          clock: time.clock,
          secretsManager: (region) =>
            new SecretsManagerClient({
              region,
              endpoint: smPeer.endpoint,
              credentials: FAKE_CREDENTIALS,
              maxAttempts: 1,
            }),
        });
        const sinks = createSinks(AlertsConfig.parse({ sinks: { s: c.sink } }), {
          clock: time.clock,
          stdout: out,
          env: {},
          secrets: resolver,
          aws: { endpoint: sns.endpoint, credentials: FAKE_CREDENTIALS },
        });
        c.fail();
        saveAlerts(store, [makeAlert(1)], ['s'], T0);
        const events: DispatchEvent[] = [];
        const ledger = openDeliveries(store);
        const report = await dispatchDue(ledger, sinks as Map<string, Sink>, {
          clock: time.clock,
          sleep: time.sleep,
          log: (e) => events.push(e),
          maxAttempts: 1,
        });
        const test = await sendTest(sinks.get('s')!, time.clock);
        await smPeer.close();
        const stored = JSON.stringify(store.db.prepare('SELECT * FROM deliveries').all());
        const haystack = [
          stored,
          JSON.stringify(events),
          JSON.stringify(report),
          JSON.stringify(test),
          inspect(sinks, { depth: 8 }),
          printed,
          JSON.stringify(consoleSpy.mock.calls),
          JSON.stringify(errSpy.mock.calls),
        ].join('\n');
        if (c.type !== 'console') {
          expect(report.dead.s ?? 0).toBe(1);
          expect(ledger.failed()[0]!.reason.length).toBeGreaterThan(0);
        }
        for (const s of c.secrets()) expect(haystack).not.toContain(s);
      } finally {
        consoleSpy.mockRestore();
        errSpy.mockRestore();
        cleanup();
        slack.state.answer = () => SLACK.ok;
        hook.state.answer = () => SLACK.ok;
        sns.state.mode = 'ok';
      }
    });
  }

  it('refuses a clear-text webhook URL in the config, naming the field and not echoing it', () => {
    const url = `https://hooks.slack.com/services/${SLACK_TOKEN}`;
    let err: unknown;
    try {
      createSinks(AlertsConfig.parse({ sinks: { oncall: { type: 'slack', webhookUrl: url } } }), {
        clock: fakeTime().clock,
        stdout: new PassThrough(),
        env: {},
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /^alerts\.sinks\.oncall\.webhookUrl: is a secret and must not be written in the config file in clear/,
    );
    expect(`${(err as Error).message}${(err as Error).stack}${inspect(err)}`).not.toContain(SLACK_TOKEN);
    // Allowed only when said explicitly, for local testing.
    const ok = createSinks(
      AlertsConfig.parse({ sinks: { oncall: { type: 'slack', webhookUrl: { insecurePlaintext: url } } } }),
      {
        clock: fakeTime().clock,
        stdout: new PassThrough(),
        env: {},
      },
    );
    expect(inspect(ok, { depth: 10 })).not.toContain(SLACK_TOKEN);
    expect(JSON.stringify(new SecretValue(url))).toBe('"[redacted]"');
  });
});
