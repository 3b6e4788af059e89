import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local peers that speak the real wire protocols, for the real AWS SDK clients and the real Slack sink:
 * AWS JSON 1.1 (POST /, `X-Amz-Target: <service>.<Operation>`, `application/x-amz-json-1.1`, errors as
 * `{"__type": ..., "message": ...}` with a 4xx status) for CloudTrail and CloudWatch Logs, the AWS query
 * protocol (form-encoded POST, XML answers) for STS AssumeRole, and a Slack incoming webhook.
 */

/**
 * The API reference's example requests name the operation `com.amazonaws.cloudtrail.v20131101.
 * CloudTrail_20131101.LookupEvents`; SDK v3 (schema-based serde) sends the Smithy service target
 * `CloudTrail_20131101.LookupEvents`. The service accepts both, so does this peer.
 */
export const LOOKUP_TARGETS = [
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
  'CloudTrail_20131101.LookupEvents',
];
export const FILTER_TARGET = 'Logs_20140328.FilterLogEvents';

export interface Request {
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly authorization: string;
  /** The `X-Amz-Security-Token` header: the session token of temporary credentials, or empty. */
  readonly securityToken?: string;
  readonly at: number;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function awsError(res: ServerResponse, status: number, type: string, message: string) {
  res
    .writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-err' })
    .end(JSON.stringify({ __type: type, message }));
}

export interface TrailEvent {
  /** CloudTrail record (what `CloudTrailEvent` holds as a JSON string). */
  readonly record: Record<string, unknown>;
  /** When the event becomes visible to lookups (ms, server clock); default at once. */
  visibleAt?: number;
}

/**
 * CloudTrail's LookupEvents: filters by the one lookup attribute (EventSource) and the time range
 * (StartTime/EndTime in epoch seconds, inclusive), newest first, MaxResults up to 50, NextToken.
 */
export class FakeCloudTrail {
  readonly events: TrailEvent[] = [];
  readonly requests: Request[] = [];
  /** Next N requests fail with this error type (e.g. ThrottlingException). */
  failNext: { count: number; type: string; status: number } | null = null;
  /** Fail every request whose region (from the credential scope) or key id matches. */
  failWhen: ((r: Request) => { type: string; status: number } | null) | null = null;
  /** Return this many empty pages with a token before the real ones, per lookup. */
  emptyPages = 0;
  /** Which events a request sees (e.g. per account, by the signing key); default all. */
  visibleTo: ((r: Request, e: TrailEvent) => boolean) | null = null;
  private server?: Server;
  url = '';

  add(record: Record<string, unknown>, visibleAt?: number) {
    this.events.push({ record, ...(visibleAt !== undefined ? { visibleAt } : {}) });
  }

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const text = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      const r: Request = {
        target,
        body,
        authorization: String(req.headers.authorization ?? ''),
        securityToken: String(req.headers['x-amz-security-token'] ?? ''),
        at: Date.now(),
      };
      this.requests.push(r);
      if (!LOOKUP_TARGETS.includes(target))
        return awsError(res, 400, 'UnknownOperationException', `unknown target ${target}`);
      const forced = this.failWhen?.(r);
      if (forced) return awsError(res, forced.status, forced.type, 'forced failure');
      if (this.failNext && this.failNext.count > 0) {
        this.failNext.count--;
        return awsError(res, this.failNext.status, this.failNext.type, 'Rate exceeded');
      }
      const attrs = (body.LookupAttributes as { AttributeKey: string; AttributeValue: string }[]) ?? [];
      if (attrs.length > 1) return awsError(res, 400, 'InvalidLookupAttributesException', 'one attribute');
      const max = Number(body.MaxResults ?? 50);
      if (max > 50) return awsError(res, 400, 'InvalidMaxResultsException', 'max 50');
      const start = Number(body.StartTime ?? 0) * 1000;
      const end = body.EndTime !== undefined ? Number(body.EndTime) * 1000 : Number.POSITIVE_INFINITY;
      const token = body.NextToken
        ? JSON.parse(Buffer.from(String(body.NextToken), 'base64').toString())
        : { o: 0, e: 0 };
      if (token.e < this.emptyPages) {
        const next = Buffer.from(JSON.stringify({ o: token.o, e: token.e + 1 })).toString('base64');
        return res
          .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ Events: [], NextToken: next }));
      }
      const now = Date.now();
      const matching = this.events
        .filter((e) => (e.visibleAt ?? 0) <= now)
        .filter((e) => this.visibleTo?.(r, e) ?? true)
        .filter((e) => {
          const t = Date.parse(String(e.record.eventTime));
          const src = String(e.record.eventSource);
          return (
            t >= start &&
            t <= end &&
            attrs.every((a) => a.AttributeKey !== 'EventSource' || a.AttributeValue === src)
          );
        })
        .sort((a, b) => Date.parse(String(b.record.eventTime)) - Date.parse(String(a.record.eventTime)));
      const page = matching.slice(token.o, token.o + max);
      const more = token.o + max < matching.length;
      const out = {
        Events: page.map((e) => ({
          EventId: e.record.eventID,
          EventName: e.record.eventName,
          ReadOnly: 'true',
          EventTime: Date.parse(String(e.record.eventTime)) / 1000,
          EventSource: e.record.eventSource,
          Username: 'someone',
          Resources: [],
          CloudTrailEvent: JSON.stringify(e.record),
        })),
        ...(more
          ? { NextToken: Buffer.from(JSON.stringify({ o: token.o + max, e: token.e })).toString('base64') }
          : {}),
      };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(out));
    });
    this.url = await listen(this.server);
    return this.url;
  }

  lookups(): Request[] {
    return this.requests.filter((r) => LOOKUP_TARGETS.includes(r.target));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly eventId: string;
  readonly logStreamName: string;
}

/**
 * CloudWatch Logs' FilterLogEvents: per log group, startTime/endTime in ms (inclusive), pages of `limit`,
 * and, like the real service scanning streams, pages that are empty but carry a nextToken.
 */
export class FakeLogs {
  readonly groups = new Map<string, LogEvent[]>();
  readonly requests: Request[] = [];
  emptyPages = 0;
  pageSize = 3;
  private server?: Server;
  url = '';

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const text = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      this.requests.push({
        target,
        body,
        authorization: String(req.headers.authorization ?? ''),
        at: Date.now(),
      });
      if (target !== FILTER_TARGET) return awsError(res, 400, 'UnknownOperationException', target);
      const group = String(body.logGroupName ?? body.logGroupIdentifier ?? '');
      const events = this.groups.get(group);
      if (!events)
        return awsError(res, 400, 'ResourceNotFoundException', 'The specified log group does not exist.');
      const token = body.nextToken ? JSON.parse(String(body.nextToken)) : { o: 0, e: 0 };
      // A scan that finds nothing in a stretch: an empty page that still carries a token.
      if (token.e < this.emptyPages) {
        return res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
          JSON.stringify({
            events: [],
            searchedLogStreams: [],
            nextToken: JSON.stringify({ o: token.o, e: token.e + 1 }),
          }),
        );
      }
      const start = Number(body.startTime ?? 0);
      const end = Number(body.endTime ?? Number.POSITIVE_INFINITY);
      const limit = Math.min(this.pageSize, Number(body.limit ?? 10_000));
      const matching = events
        .filter((e) => e.timestamp >= start && e.timestamp <= end)
        .sort((a, b) => a.timestamp - b.timestamp);
      const page = matching.slice(token.o, token.o + limit);
      const more = token.o + limit < matching.length;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
        JSON.stringify({
          events: page.map((e) => ({ ...e, ingestionTime: e.timestamp + 1000 })),
          searchedLogStreams: [],
          ...(more ? { nextToken: JSON.stringify({ o: token.o + limit, e: token.e }) } : {}),
        }),
      );
    });
    this.url = await listen(this.server);
    return this.url;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface StsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface StsRequest {
  /** The form fields: Action, Version, RoleArn, RoleSessionName, ExternalId, ... */
  readonly params: Record<string, string>;
  readonly authorization: string;
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * STS over the query protocol (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * `Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...[&ExternalId=...]`, answered with
 * `AssumeRoleResponse/AssumeRoleResult/{AssumedRoleUser,Credentials}`; errors as `ErrorResponse/Error`.
 */
export class FakeSts {
  /** Credentials handed out per role ARN; a role missing here is answered with AccessDenied. */
  readonly roles = new Map<string, StsCredentials>();
  readonly requests: StsRequest[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
      this.requests.push({ params, authorization: String(req.headers.authorization ?? '') });
      const xml = (status: number, body: string) =>
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': 'req-sts' }).end(body);
      const error = (status: number, code: string, message: string) =>
        xml(
          status,
          `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
            `<Message>${message}</Message></Error><RequestId>req-sts</RequestId></ErrorResponse>`,
        );
      if (params.Action !== 'AssumeRole' || params.Version !== '2011-06-15')
        return error(
          400,
          'InvalidAction',
          `Could not find operation ${params.Action} for version ${params.Version}`,
        );
      const role = params.RoleArn ?? '';
      const creds = this.roles.get(role);
      if (!creds)
        return error(
          403,
          'AccessDenied',
          `User: arn:aws:iam::999988887777:user/vigil is not authorized to perform: sts:AssumeRole on resource: ${role}`,
        );
      const [, account, name] = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(role) ?? [];
      const session = params.RoleSessionName ?? '';
      const expiration = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      xml(
        200,
        `<AssumeRoleResponse xmlns="${STS_NS}"><AssumeRoleResult>` +
          `<AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${name}/${session}</Arn>` +
          `<AssumedRoleId>AROA${account}:${session}</AssumedRoleId></AssumedRoleUser>` +
          `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId>` +
          `<SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${creds.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `</AssumeRoleResult><ResponseMetadata><RequestId>req-sts</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    });
    this.url = await listen(this.server);
    return this.url;
  }

  assumed(role: string): StsRequest[] {
    return this.requests.filter((r) => r.params.RoleArn === role);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A Slack incoming webhook: records each message's alert id; 200 `ok`. */
export class FakeSlack {
  readonly messages: { alertId: string | null; text: string; at: number }[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const text = await readBody(req);
      let alertId: string | null = null;
      try {
        const body = JSON.parse(text) as { text: string; blocks: unknown[] };
        // The context line ends with the first alert's id: `· alert \`<id>\``.
        alertId = [...JSON.stringify(body.blocks).matchAll(/· alert `([^`]+)`/g)].at(-1)?.[1] ?? null;
        this.messages.push({ alertId, text: body.text, at: Date.now() });
      } catch {
        return res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    this.url = await listen(this.server);
    return `${this.url}/services/T000/B000/XXXXSECRETXXXX`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
