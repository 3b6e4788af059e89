import type { MessageAttributeValue, PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { stableId } from '../core/hash.js';
import { once } from '../core/once.js';
import { Duration, GroupField } from './config.js';
import { type Notification, providerOf } from './notification.js';
import { type DeliveryResult, delivered, permanent, retryable, type SinkType } from './sink.js';

// SNS: a message, attributes included, is at most 256 KiB (262,144 bytes); PublishBatch's total too.
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (Message)
export const MAX_MESSAGE_BYTES = 262_144;
// SNS: Subject is ASCII, starts with a letter, number or punctuation, no line breaks or control
// characters, and "must be less than 100 characters long". Same page (Subject).
export const MAX_SUBJECT = 99;
// SNS: PublishBatch takes up to 10 entries. https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html
const MAX_BATCH = 10;
// SNS FIFO: MessageGroupId and MessageDeduplicationId are at most 128 characters. API_Publish.html
const MAX_FIFO_ID = 128;

const TOPIC_ARN = /^arn:aws[\w-]*:sns:([a-z0-9-]+):\d{12}:[\w-]{1,256}(\.fifo)?$/;

const Config = z.strictObject({
  topicArn: z.string().regex(TOPIC_ARN, 'expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)'),
  /** Default: the topic's region. */
  region: z.string().optional(),
  /** Another endpoint (a VPC endpoint, LocalStack). */
  endpoint: z.url().optional(),
  groupBy: z.array(GroupField).default(['id']),
  repeatInterval: Duration.default(0),
  rateLimit: z.strictObject({ count: z.number().int().positive(), per: Duration }).optional(),
  timeout: Duration.default(10_000),
});
type Config = z.infer<typeof Config>;

export type SnsEntry = Omit<PublishBatchRequestEntry, 'Id'> & { Message: string };

/** ASCII, no control characters, starting with a letter, number or punctuation, under 100 characters. */
export function snsSubject(text: string): string {
  let s = text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!/^[\x21-\x7e]/.test(s)) s = `vigil ${s}`.trim();
  return s.length > MAX_SUBJECT ? `${s.slice(0, MAX_SUBJECT - 3)}...` : s;
}

function fifoId(s: string): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '_');
  return clean.length <= MAX_FIFO_ID ? clean : `${clean.slice(0, MAX_FIFO_ID - 25)}-${stableId(s)}`;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The message body, cut to fit `budget` bytes: first event ids, then alert bodies; always says so. */
export function snsMessage(n: Notification, budget: number): string {
  const body = (alerts: readonly unknown[], truncated: boolean) =>
    n.alerts.length === 1 && !truncated
      ? JSON.stringify(n.alerts[0])
      : JSON.stringify({
          vigil: 1,
          kind: n.kind,
          id: n.id,
          groupKey: n.groupKey,
          severity: n.severity,
          count: n.alerts.length,
          events: n.events,
          firstTime: n.firstTime,
          lastTime: n.lastTime,
          ...(truncated ? { truncated: true } : {}),
          alerts,
        });
  let text = body(n.alerts, false);
  if (bytes(text) <= budget) return text;
  const slim = n.alerts.map((a) => ({
    ...a,
    eventIds: [],
    evidence: { ...a.evidence, observed: {}, baseline: null, threshold: null },
  }));
  text = body(slim, true);
  for (let keep = slim.length; bytes(text) > budget && keep > 0; keep = Math.floor(keep / 2)) {
    text = body(slim.slice(0, keep), true);
  }
  if (bytes(text) > budget) text = body([], true);
  return text;
}

function attributes(n: Notification): Record<string, MessageAttributeValue> {
  const a = n.alerts[0]!;
  const s = (v: string): MessageAttributeValue => ({ DataType: 'String', StringValue: v || 'unknown' });
  return {
    severity: s(n.severity),
    detector: s(a.detector),
    provider: s(providerOf(a)),
    principalType: s(a.principal.type),
    kind: s(n.kind),
  };
}

/** One SNS message per notification: the alert JSON, a short subject, filterable attributes. Pure. */
export function renderSns(n: Notification, fifo: boolean): SnsEntry {
  const a = n.alerts[0]!;
  const attrs = attributes(n);
  const attrBytes = Object.entries(attrs).reduce(
    (s, [k, v]) => s + bytes(k) + bytes(v.DataType!) + bytes(v.StringValue!),
    0,
  );
  const subject = snsSubject(
    `[${n.severity.toUpperCase()}] ${n.alerts.length > 1 ? `${n.alerts.length} alerts: ` : ''}${a.title}`,
  );
  return {
    Message: snsMessage(n, MAX_MESSAGE_BYTES - attrBytes - bytes(subject) - 1024),
    Subject: subject,
    MessageAttributes: attrs,
    ...(fifo ? { MessageGroupId: fifoId(a.groupKey), MessageDeduplicationId: fifoId(n.id) } : {}),
  };
}

// SNS errors that retrying will not fix. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors
const PERMANENT = new Set([
  'AuthorizationError',
  'NotFound',
  'InvalidParameter',
  'InvalidParameterValue',
  'EndpointDisabled',
  'InvalidSecurity',
  'KMSAccessDenied',
  'KMSDisabled',
  'KMSInvalidState',
  'KMSNotFound',
  'KMSOptInRequired',
  'PlatformApplicationDisabled',
  'Validation',
  'BatchRequestTooLong',
  'TooManyEntriesInBatchRequest',
  'BatchEntryIdsNotDistinct',
  'EmptyBatchRequest',
  'InvalidBatchEntryId',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
]);

const code = (name: string) => name.replace(/Exception$/, '');

/** Reads an SDK error: only its code and status, never its message. */
export function classifySnsError(err: unknown): DeliveryResult {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const name = code(e.name ?? 'Error');
  const status = e.$metadata?.httpStatusCode;
  const reason = `SNS ${name}${status ? ` (HTTP ${status})` : ''}`;
  if (PERMANENT.has(name)) return permanent(reason);
  if (
    /Throttl|TooManyRequests|Internal|ServiceUnavailable|Timeout/i.test(name) ||
    status === undefined ||
    status >= 500 ||
    status === 429
  )
    return retryable(reason);
  return status >= 400 ? permanent(reason) : retryable(reason);
}

/** Amazon SNS topic (standard or FIFO) through the AWS SDK; PublishBatch for many at once. */
export const snsSink: SinkType<Config> = {
  type: 'sns',
  description: 'Amazon SNS topic: alert JSON with filterable message attributes, FIFO aware',
  config: Config,
  create(name, config, deps) {
    const region = config.region ?? deps.aws?.region ?? TOPIC_ARN.exec(config.topicArn)?.[1] ?? 'us-east-1';
    const endpoint = config.endpoint ?? deps.aws?.endpoint;
    // The SDK is loaded on the first delivery: loading it costs every command about 0.15 s.
    const sns = once(async () => {
      const sdk = await import('@aws-sdk/client-sns');
      const client = new sdk.SNSClient({
        region,
        maxAttempts: 1, // the dispatcher retries, with backoff, across runs
        ...(endpoint ? { endpoint } : {}),
        ...(deps.aws?.credentials ? { credentials: deps.aws.credentials } : {}),
      });
      return { sdk, client };
    });
    const fifo = config.topicArn.endsWith('.fifo');
    const publishBatch = async (
      entries: readonly SnsEntry[],
      signal: AbortSignal,
    ): Promise<DeliveryResult[]> => {
      try {
        const { sdk, client } = await sns();
        const out = await client.send(
          new sdk.PublishBatchCommand({
            TopicArn: config.topicArn,
            PublishBatchRequestEntries: entries.map((e, i) => ({ ...e, Id: `e${i}` })),
          }),
          { abortSignal: signal },
        );
        const results: DeliveryResult[] = entries.map(() => retryable('SNS gave no result for this entry'));
        for (const s of out.Successful ?? []) {
          const i = Number(s.Id?.slice(1));
          if (Number.isInteger(i) && i >= 0 && i < results.length) results[i] = delivered;
        }
        for (const f of out.Failed ?? []) {
          const i = Number(f.Id?.slice(1));
          if (!Number.isInteger(i) || i < 0 || i >= results.length) continue;
          const c = code(f.Code ?? 'Error');
          const reason = `SNS entry failed: ${c}`;
          results[i] =
            PERMANENT.has(c) || (f.SenderFault && !/Throttl/i.test(c))
              ? permanent(reason)
              : retryable(reason);
        }
        return results;
      } catch (err) {
        const r = classifySnsError(err);
        return entries.map(() => r);
      }
    };
    return {
      name,
      type: 'sns',
      grouping: { groupBy: config.groupBy, repeatIntervalMs: config.repeatInterval },
      ...(config.rateLimit
        ? { rateLimit: { count: config.rateLimit.count, perMs: config.rateLimit.per } }
        : {}),
      timeoutMs: config.timeout,
      batchSize: MAX_BATCH,
      render: (n) => renderSns(n, fifo),
      async deliver(entry: SnsEntry, signal) {
        try {
          const { sdk, client } = await sns();
          await client.send(new sdk.PublishCommand({ TopicArn: config.topicArn, ...entry }), {
            abortSignal: signal,
          });
          return delivered;
        } catch (err) {
          return classifySnsError(err);
        }
      },
      async deliverMany(entries: readonly SnsEntry[], signal) {
        // Split so each request stays within the batch's total size.
        const results: DeliveryResult[] = [];
        let chunk: SnsEntry[] = [];
        let size = 0;
        const flush = async () => {
          if (chunk.length) results.push(...(await publishBatch(chunk, signal)));
          chunk = [];
          size = 0;
        };
        for (const e of entries) {
          const b = bytes(e.Message) + bytes(e.Subject ?? '') + 512;
          if (chunk.length === MAX_BATCH || (chunk.length && size + b > MAX_MESSAGE_BYTES)) await flush();
          chunk.push(e);
          size += b;
        }
        await flush();
        return results;
      },
      close: async () => {
        if (sns.started) (await sns()).client.destroy();
      },
    };
  },
};
