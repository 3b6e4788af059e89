import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Local protocol peers for the sink tests: real HTTP servers on 127.0.0.1 speaking each wire format. */

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export interface SlackAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter?: string;
  /** Wait this long (real ms) before answering: a slow Slack. */
  readonly delayMs?: number;
  /** Never answer; the test kills the client. */
  readonly hang?: boolean;
}

export const SLACK = {
  ok: { status: 200, body: 'ok' },
  rateLimited: (seconds: number): SlackAnswer => ({
    status: 429,
    body: 'rate_limited',
    retryAfter: String(seconds),
  }),
  serverError: { status: 500, body: 'internal_error' },
  invalidPayload: { status: 400, body: 'invalid_payload' },
  noService: { status: 404, body: 'no_service' },
  archived: { status: 410, body: 'channel_is_archived' },
} satisfies Record<string, SlackAnswer | ((s: number) => SlackAnswer)>;

export interface SlackReceipt {
  readonly payload: { text: string; blocks: { type: string; [k: string]: unknown }[] };
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
  /** Whether this request was answered with 2xx. */
  acked: boolean;
}

/**
 * A Slack incoming-webhook endpoint (or, with `anyJson`, any JSON webhook): only the secret path is a webhook (any other path is 404
 * `no_service`, as for a revoked URL); `answer` decides each reply; invalid JSON is 400 `invalid_payload`.
 */
export async function startSlack(
  token = 'T0VIGIL/B0TEST/xoxSecretToken1234567890',
  options: { anyJson?: boolean } = {},
) {
  const received: SlackReceipt[] = [];
  const state = { answer: (_n: number): SlackAnswer => SLACK.ok, onRequest: (_r: SlackReceipt) => {} };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    if (req.method !== 'POST' || req.url !== `/services/${token}`) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service');
      return;
    }
    let payload: SlackReceipt['payload'];
    try {
      payload = JSON.parse(raw);
      if (!options.anyJson && typeof payload.text !== 'string' && !Array.isArray(payload.blocks))
        throw new Error('no text');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    const receipt: SlackReceipt = { payload, headers: req.headers, raw, acked: false };
    received.push(receipt);
    state.onRequest(receipt);
    const a = state.answer(received.length - 1);
    if (a.hang) return;
    if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
    if (res.destroyed) return;
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (a.retryAfter) headers['retry-after'] = a.retryAfter;
    res.writeHead(a.status, headers);
    res.end(a.body, () => {
      if (a.status >= 200 && a.status < 300) receipt.acked = true;
    });
  });
  const base = await listen(server);
  return {
    url: `${base}/services/${token}`,
    base,
    token,
    received,
    state,
    close: () => close(server),
  };
}

export interface SnsMessage {
  readonly action: string;
  readonly topicArn: string;
  readonly id?: string;
  readonly message: string;
  readonly subject?: string;
  readonly attributes: Record<string, { type: string; value: string }>;
  readonly groupId?: string;
  readonly dedupeId?: string;
}

const SNS_NS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function snsError(res: ServerResponse, status: number, code: string, type = 'Sender') {
  res
    .writeHead(status, { 'content-type': 'text/xml' })
    .end(
      `<ErrorResponse xmlns="${SNS_NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${code} for this topic</Message></Error><RequestId>req-err</RequestId></ErrorResponse>`,
    );
}

/** Reads `prefix.N.field` style keys of an AWS query request into an array of records. */
function members(form: URLSearchParams, prefix: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const [k, v] of form) {
    if (!k.startsWith(`${prefix}.`)) continue;
    const rest = k.slice(prefix.length + 1);
    const dot = rest.indexOf('.');
    const i = Number(rest.slice(0, dot)) - 1;
    (out[i] ??= {})[rest.slice(dot + 1)] = v;
  }
  return out.filter(Boolean);
}

function parseAttributes(fields: Record<string, string>, prefix: string) {
  const attrs: Record<string, { type: string; value: string }> = {};
  for (let n = 1; fields[`${prefix}.entry.${n}.Name`] !== undefined; n++) {
    attrs[fields[`${prefix}.entry.${n}.Name`]!] = {
      type: fields[`${prefix}.entry.${n}.Value.DataType`] ?? '',
      value: fields[`${prefix}.entry.${n}.Value.StringValue`] ?? '',
    };
  }
  return attrs;
}

/**
 * An SNS endpoint speaking the query protocol (form-encoded `Action=Publish|PublishBatch`, XML answers,
 * `ErrorResponse` on errors). `mode` selects failures; `failEntries` makes PublishBatch entries fail.
 */
export async function startSns() {
  const published: SnsMessage[] = [];
  const requests: string[] = [];
  const state = {
    mode: 'ok' as 'ok' | 'AuthorizationError' | 'NotFound' | 'Throttled' | 'InternalError',
    /** Batch entry ids (as sent) to fail, with their code and whether the sender is at fault. */
    failEntries: new Map<string, { code: string; senderFault: boolean }>(),
  };
  let seq = 0;
  const server = createServer(async (req, res) => {
    const form = new URLSearchParams(await readBody(req));
    const action = form.get('Action') ?? '';
    requests.push(action);
    if (state.mode === 'AuthorizationError') return snsError(res, 403, 'AuthorizationError');
    if (state.mode === 'NotFound') return snsError(res, 404, 'NotFound');
    if (state.mode === 'Throttled') return snsError(res, 400, 'Throttled');
    if (state.mode === 'InternalError') return snsError(res, 500, 'InternalError', 'Receiver');
    const topicArn = form.get('TopicArn') ?? '';
    if (action === 'Publish') {
      const fields = Object.fromEntries(form);
      const m: SnsMessage = {
        action,
        topicArn,
        message: form.get('Message') ?? '',
        ...(form.get('Subject') !== null ? { subject: form.get('Subject')! } : {}),
        attributes: parseAttributes(fields, 'MessageAttributes'),
        ...(form.get('MessageGroupId') ? { groupId: form.get('MessageGroupId')! } : {}),
        ...(form.get('MessageDeduplicationId') ? { dedupeId: form.get('MessageDeduplicationId')! } : {}),
      };
      published.push(m);
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<PublishResponse xmlns="${SNS_NS}"><PublishResult><MessageId>m-${++seq}</MessageId></PublishResult><ResponseMetadata><RequestId>r-${seq}</RequestId></ResponseMetadata></PublishResponse>`,
        );
      return;
    }
    if (action === 'PublishBatch') {
      const ok: string[] = [];
      const failed: string[] = [];
      for (const e of members(form, 'PublishBatchRequestEntries.member')) {
        const id = e.Id ?? '';
        const fail = state.failEntries.get(id);
        if (fail) {
          failed.push(
            `<member><Id>${xml(id)}</Id><Code>${fail.code}</Code><Message>entry failed</Message><SenderFault>${fail.senderFault}</SenderFault></member>`,
          );
          continue;
        }
        published.push({
          action,
          topicArn,
          id,
          message: e.Message ?? '',
          ...(e.Subject !== undefined ? { subject: e.Subject } : {}),
          attributes: parseAttributes(e, 'MessageAttributes'),
          ...(e.MessageGroupId ? { groupId: e.MessageGroupId } : {}),
          ...(e.MessageDeduplicationId ? { dedupeId: e.MessageDeduplicationId } : {}),
        });
        ok.push(`<member><Id>${xml(id)}</Id><MessageId>m-${++seq}</MessageId></member>`);
      }
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<PublishBatchResponse xmlns="${SNS_NS}"><PublishBatchResult><Successful>${ok.join('')}</Successful><Failed>${failed.join('')}</Failed></PublishBatchResult><ResponseMetadata><RequestId>r-${seq}</RequestId></ResponseMetadata></PublishBatchResponse>`,
        );
      return;
    }
    snsError(res, 400, 'InvalidAction');
  });
  const endpoint = await listen(server);
  return { endpoint, published, requests, state, close: () => close(server) };
}

/**
 * A Secrets Manager endpoint speaking JSON 1.1 (`X-Amz-Target: secretsmanager.GetSecretValue`).
 * Unknown ids answer `ResourceNotFoundException`; `deny` answers `AccessDeniedException`.
 */
export async function startSecretsManager(secrets: Record<string, string>) {
  const calls: { target: string; secretId: string }[] = [];
  const state = { deny: false, down: false };
  const server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    let body: { SecretId?: string } = {};
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      body = {};
    }
    const secretId = body.SecretId ?? '';
    calls.push({ target, secretId });
    const json = (status: number, o: unknown, type?: string) =>
      res
        .writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(type ? { 'x-amzn-errortype': type } : {}),
        })
        .end(JSON.stringify(o));
    if (state.down)
      return json(500, { __type: 'InternalServiceError', message: 'try later' }, 'InternalServiceError');
    if (target !== 'secretsmanager.GetSecretValue')
      return json(400, { __type: 'UnknownOperationException' }, 'UnknownOperationException');
    if (state.deny)
      return json(400, { __type: 'AccessDeniedException', Message: 'not allowed' }, 'AccessDeniedException');
    const value = secrets[secretId];
    if (value === undefined)
      return json(
        400,
        { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
        'ResourceNotFoundException',
      );
    json(200, {
      ARN: secretId,
      Name: secretId.split(':secret:')[1] ?? secretId,
      SecretString: value,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_700_000_000,
    });
  });
  const endpoint = await listen(server);
  return { endpoint, calls, state, close: () => close(server) };
}

export const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAVIGILTEST000000',
  secretAccessKey: 'vigil-test-secret-key',
};
