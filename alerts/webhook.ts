import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { redact, type SecretValue } from '../core/secret.js';
import { Duration, GroupField } from './config.js';
import { classifyStatus, isAnswer, post } from './http.js';
import type { Notification } from './notification.js';
import { SecretResolver, secretRef } from './secrets.js';
import { permanent, retryable, type SinkType } from './sink.js';

const Config = z.strictObject({
  /** Where to POST. A plain http(s) URL is allowed here, but a reference keeps a tokenized URL out of the config. */
  url: secretRef({ plainAllowed: true }),
  /** HMAC-SHA256 key for the signature header: a reference, never the key. */
  secret: secretRef().optional(),
  signatureHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default('X-Vigil-Signature'),
  groupBy: z.array(GroupField).default(['id']),
  repeatInterval: Duration.default(0),
  rateLimit: z.strictObject({ count: z.number().int().positive(), per: Duration }).optional(),
  timeout: Duration.default(10_000),
});
type Config = z.infer<typeof Config>;

export interface WebhookPayload {
  readonly id: string;
  readonly body: string;
}

/** The JSON body: the notification's summary and its alerts. Pure. */
export function renderWebhook(n: Notification): WebhookPayload {
  const { alerts, sink: _sink, ...summary } = n;
  return {
    id: n.id,
    body: JSON.stringify({ vigil: 1, notification: { ...summary, count: alerts.length }, alerts }),
  };
}

/** `sha256=` + hex HMAC-SHA256 over `timestamp.body`; receivers recompute it and compare in constant time. */
export function signature(key: SecretValue, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key.reveal()).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Any HTTP endpoint: a JSON POST per notification, optionally signed, with an idempotency key. */
export const webhookSink: SinkType<Config> = {
  type: 'webhook',
  description: 'generic webhook: JSON POST per notification, optional HMAC-SHA256 signature header',
  config: Config,
  create(name, config, deps) {
    const secrets = deps.secrets ?? new SecretResolver({ env: deps.env, clock: deps.clock });
    return {
      name,
      type: 'webhook',
      grouping: { groupBy: config.groupBy, repeatIntervalMs: config.repeatInterval },
      ...(config.rateLimit
        ? { rateLimit: { count: config.rateLimit.count, perMs: config.rateLimit.per } }
        : {}),
      timeoutMs: config.timeout,
      render: renderWebhook,
      async deliver(payload: WebhookPayload, signal) {
        const url = await secrets.resolve(config.url, signal);
        if (!url.ok) return url.retryable ? retryable(`url: ${url.reason}`) : permanent(`url: ${url.reason}`);
        const now = deps.clock.now();
        const timestamp = String(Math.floor(now / 1000));
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'idempotency-key': payload.id,
          'x-vigil-timestamp': timestamp,
        };
        const known: SecretValue[] = [url.value];
        if (config.secret) {
          const key = await secrets.resolve(config.secret, signal);
          if (!key.ok)
            return key.retryable ? retryable(`secret: ${key.reason}`) : permanent(`secret: ${key.reason}`);
          headers[config.signatureHeader.toLowerCase()] = signature(key.value, timestamp, payload.body);
          known.push(key.value);
        }
        const answer = await post(url.value, payload.body, headers, signal, now);
        if (!isAnswer(answer)) return answer;
        const result = classifyStatus(answer, 'webhook');
        return result.ok ? result : { ...result, reason: redact(result.reason, known) };
      },
    };
  },
};
