import { z } from 'zod';
import type { Action, Principal, Resource, SecretAccessEvent } from '../core/event.js';
import { stableId } from '../core/hash.js';
import {
  describeIssues,
  events,
  invalid,
  isoTime,
  type NormalizeResult,
  type Source,
  skip,
} from './source.js';

/**
 * Google Cloud Audit Logs entries of Secret Manager (`protoPayload.methodName`
 * `google.cloud.secretmanager.v1.SecretManagerService.*`), as `gcloud logging read --format=json` output
 * (a JSON array) or NDJSON from a log sink.
 * https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog
 * https://cloud.google.com/secret-manager/docs/audit-logging
 */

const str = z.string().nullish();
const AuditLogEntry = z.looseObject({
  timestamp: z.string(),
  insertId: str,
  logName: str,
  resource: z.looseObject({ type: str, labels: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  protoPayload: z.looseObject({
    serviceName: str,
    methodName: z.string(),
    resourceName: str,
    status: z.looseObject({ code: z.number().nullish(), message: str }).nullish(),
    authenticationInfo: z
      .looseObject({
        principalEmail: str,
        principalSubject: str,
        serviceAccountDelegationInfo: z.array(z.unknown()).nullish(),
      })
      .nullish(),
    requestMetadata: z.looseObject({ callerIp: str, callerSuppliedUserAgent: str }).nullish(),
    request: z.record(z.string(), z.unknown()).nullish(),
    authorizationInfo: z
      .array(z.looseObject({ resource: str, permission: str, granted: z.boolean().nullish() }))
      .nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
  }),
});
type AuditLogEntry = z.infer<typeof AuditLogEntry>;

/** Method name prefixes of Secret Manager: the v1 API, and the v1beta1 one (`google.cloud.secrets.v1beta1`). */
const PREFIXES = ['google.cloud.secretmanager.', 'google.cloud.secrets.'];
const SERVICE = 'secretmanager.googleapis.com';
const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';

const METHODS: Record<string, Action> = {
  AccessSecretVersion: 'read',
  GetSecret: 'describe',
  GetSecretVersion: 'describe',
  GetIamPolicy: 'describe',
  TestIamPermissions: 'describe',
  ListSecrets: 'list',
  ListSecretVersions: 'list',
  CreateSecret: 'create',
  AddSecretVersion: 'write',
  UpdateSecret: 'write',
  EnableSecretVersion: 'write',
  DisableSecretVersion: 'disable',
  DestroySecretVersion: 'delete',
  DeleteSecret: 'delete',
  SetIamPolicy: 'policy',
};

// google.rpc.Code: https://cloud.google.com/apis/design/errors#error_codes
const CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

function outcomeOf(code: number | null | undefined): Pick<SecretAccessEvent, 'outcome' | 'errorCode'> {
  if (!code) return { outcome: 'success', errorCode: null };
  const name = CODES[code] ?? String(code);
  return { outcome: code === 7 || code === 16 ? 'denied' : 'error', errorCode: name };
}

/**
 * `projects/P/secrets/S`, `projects/P/locations/L/secrets/S`, with or without `/versions/N`: one id per
 * secret. The project is named by id when the entry's resource labels give it (resource names often use
 * the project number), so the same secret has one id either way.
 */
function resourceOf(rec: AuditLogEntry): Resource | null {
  const p = rec.protoPayload;
  const labels = rec.resource?.labels ?? {};
  const metadata = p.metadata as { resourceNames?: unknown } | null | undefined;
  const named = Array.isArray(metadata?.resourceNames) ? metadata.resourceNames : [];
  // VPC Service Controls denials name the project in resourceName and the secret in metadata.resourceNames:
  // a name that reaches a secret wins over one that stops at the project.
  const candidates = [
    p.resourceName,
    p.request?.name,
    p.request?.parent,
    p.authorizationInfo?.[0]?.resource,
    ...named,
  ];
  let project: Resource | null = null;
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const m = /projects\/([^/]+)(?:\/locations\/([^/]+))?(?:\/secrets\/([^/]+))?/.exec(c);
    if (!m) continue;
    const id = typeof labels.project_id === 'string' ? labels.project_id : m[1]!;
    const location = m[2] ?? null;
    const where = `projects/${id}${location ? `/locations/${location}` : ''}`;
    if (m[3])
      return {
        id: `gcp:secretmanager:${where}/secrets/${m[3]}`,
        type: 'secret',
        name: m[3],
        account: id,
        region: location,
      };
    project ??= { id: `gcp:secretmanager:${where}`, type: 'vault', name: id, account: id, region: location };
  }
  return project;
}

/** Who or what one entry of `serviceAccountDelegationInfo` names (a first-party e-mail or a federated subject). */
function delegatorOf(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const e = entry as {
    firstPartyPrincipal?: { principalEmail?: unknown; principalSubject?: unknown };
    principalSubject?: unknown;
  };
  for (const v of [
    e.firstPartyPrincipal?.principalEmail,
    e.firstPartyPrincipal?.principalSubject,
    e.principalSubject,
  ])
    if (typeof v === 'string' && v) return v;
  return null;
}

const SA_DOMAIN = '.gserviceaccount.com';

/** A federated identity (`principal://...` subject, or `//iam.googleapis.com/...` in principalEmail). */
function isFederated(name: string): boolean {
  return name.startsWith('principal://') || name.startsWith('//');
}

/**
 * A person's e-mail: not a service account, not a federated subject, and not Google's own infrastructure
 * acting for a service (`app-engine-appserver@prod.google.com` delegating to an App Engine account).
 */
function isPersonEmail(name: string): boolean {
  return (
    name.includes('@') && !name.endsWith(SA_DOMAIN) && !isFederated(name) && !name.endsWith('.google.com')
  );
}

/**
 * A service account: its project, and whether Google manages it for a service (a service agent such as
 * `service-NUMBER@gcp-sa-secretmanager.iam.gserviceaccount.com`, whose domain is Google's, not a project).
 * https://cloud.google.com/iam/docs/service-account-types
 */
function serviceAccount(email: string): Principal {
  const [local = '', domain = ''] = email.toLowerCase().split('@');
  const agent =
    /^service-(?:org-|folder-)?(\d+)$/.exec(local) ??
    (domain === 'cloudservices.gserviceaccount.com' ? /^(\d+)$/.exec(local) : null);
  let account: string | null = null;
  if (agent) account = agent[1]!;
  else if (domain.endsWith(`.iam${SA_DOMAIN}`)) account = domain.slice(0, -`.iam${SA_DOMAIN}`.length);
  else if (domain === `appspot${SA_DOMAIN}`) account = local;
  else account = /^(\d+)(?:-compute)?$/.exec(local)?.[1] ?? null;
  return {
    id: `gcp:serviceAccount:${email.toLowerCase()}`,
    type: agent ? 'service' : 'service-account',
    name: email,
    account,
  };
}

/** A federated subject keeps its case (its subject part is the identity provider's); one id for both spellings. */
function federated(name: string): Principal {
  const subject = name.startsWith('//') ? `principal:${name}` : name;
  return {
    id: `gcp:subject:${subject}`,
    type: subject.includes('/workforcePools/') ? 'user' : 'unknown',
    name,
    account: null,
  };
}

/**
 * The principal of an entry. A person who impersonates a service account stays that person (their id is
 * the one of their own calls) with the service account in `via`, as a person acting through an AWS role
 * does; a workload that impersonates one collapses into the service account, with the workload in `via`.
 * The chain's last entry is taken as the original caller: in chained impersonation the person who started
 * it is logged last (user -> central account -> project account gives [central account, user]).
 * An `authenticationInfo` with no identity is a caller Google redacted (a denied read by someone outside the
 * organization, say), not an anonymous one.
 */
function principalOf(rec: AuditLogEntry): Principal {
  const auth = rec.protoPayload.authenticationInfo;
  const email = auth?.principalEmail || null;
  const chain = auth?.serviceAccountDelegationInfo ?? [];
  const origin = chain.length > 0 ? delegatorOf(chain[chain.length - 1]) : null;
  if (email?.endsWith(SA_DOMAIN)) {
    if (origin && isPersonEmail(origin))
      return {
        id: `gcp:user:${origin.toLowerCase()}`,
        type: 'user',
        name: origin,
        account: null,
        via: email,
      };
    if (origin && isFederated(origin) && origin.includes('/workforcePools/'))
      return { ...federated(origin), via: email };
    return { ...serviceAccount(email), via: origin };
  }
  if (email && isFederated(email)) return { ...federated(email), via: origin };
  if (email)
    return { id: `gcp:user:${email.toLowerCase()}`, type: 'user', name: email, account: null, via: origin };
  const subject = auth?.principalSubject || null;
  if (subject) {
    // `serviceAccount:E` and `user:E` subjects name what principalEmail would have.
    const [kind, rest] = [subject.slice(0, subject.indexOf(':')), subject.slice(subject.indexOf(':') + 1)];
    if (kind === 'serviceAccount' && rest) return { ...serviceAccount(rest), via: origin };
    if (kind === 'user' && rest)
      return { id: `gcp:user:${rest.toLowerCase()}`, type: 'user', name: rest, account: null };
    return federated(subject);
  }
  if (auth) return { id: 'gcp:redacted', type: 'unknown', name: 'redacted caller', account: null };
  return { id: 'gcp:anonymous', type: 'anonymous', name: 'anonymous', account: null };
}

/**
 * A LogEntry (or a row of an export this file reads) as events. `label` names the source in quarantine
 * reasons: sources that rebuild entries from other row shapes (gcp-audit-loganalytics) pass their own.
 */
export function normalizeGcp(input: Record<string, unknown>, label = 'gcp-audit'): NormalizeResult {
  const raw = fromLogAnalytics(fromBigQuery(input));
  if (typeof raw === 'string') return invalid(`${label}: ${raw}`);
  const payload = raw.protoPayload;
  if (typeof payload !== 'object' || payload === null) {
    // `gcloud logging read` mixes audit entries with application logs (`jsonPayload`, `textPayload`);
    // anything else is not a log entry at all (a format forced on the wrong input).
    if (isLogEntry(raw)) return skip('gcp log entry without audit payload');
    return invalid(`${label}: not a log entry (keys: ${Object.keys(input).slice(0, 8).join(',')})`);
  }
  // A protoPayload of another type (App Engine's RequestLog) is an application log too.
  const type = (payload as Record<string, unknown>)['@type'];
  if (typeof type === 'string' && type !== AUDIT_LOG_TYPE) return skip('gcp log entry without audit payload');
  const parsed = AuditLogEntry.safeParse(raw);
  if (!parsed.success) return invalid(`${label}: ${describeIssues(parsed.error.issues)}`);
  const rec = parsed.data;
  const p = rec.protoPayload;
  const other = otherCall(p.methodName, p.serviceName);
  if (other) return other;
  const method = p.methodName.slice(p.methodName.lastIndexOf('.') + 1);
  const time = isoTime(rec.timestamp);
  if (!time) return invalid(`${label}: timestamp is not a time`);
  const resource = resourceOf(rec);
  const project =
    resource?.account ??
    (typeof rec.resource?.labels?.project_id === 'string' ? rec.resource.labels.project_id : null);
  const ip = p.requestMetadata?.callerIp ?? null;
  return events([
    {
      id: rec.insertId
        ? `gcp:${stableId(rec.logName ?? '', rec.insertId, time)}`
        : `gcp:h:${stableId(JSON.stringify(raw))}`,
      time,
      provider: 'gcp',
      service: 'secretmanager',
      operation: method,
      action: METHODS[method] ?? 'other',
      ...outcomeOf(p.status?.code),
      principal: principalOf(rec),
      resource,
      source: {
        ip,
        userAgent: p.requestMetadata?.callerSuppliedUserAgent ?? null,
        // Google services calling on a principal's behalf appear as `*.googleapis.com` callers.
        viaService: ip?.endsWith('.googleapis.com') ? ip : null,
      },
      region:
        resource?.region ??
        (typeof rec.resource?.labels?.location === 'string' ? rec.resource.labels.location : null),
      account: project,
      providerEventId: rec.insertId ?? null,
      ...(method === 'SetIamPolicy' ? policyDetails(p.request) : {}),
    },
  ]);
}

/**
 * The skip of a call that is not Secret Manager's on a secret (another service, or Secret Manager's
 * `Locations.ListLocations`); null for one of ours. Exported so row formats can skip before reading columns.
 */
export function otherCall(
  methodName: string,
  serviceName: string | null | undefined,
): NormalizeResult | null {
  if (PREFIXES.some((prefix) => methodName.startsWith(prefix))) return null;
  if (serviceName === SERVICE) return skip(`secret manager call on no secret: ${methodName}`);
  return skip(`other gcp service: ${serviceName ?? methodName.split('.').slice(0, 3).join('.')}`);
}

/**
 * The members a `SetIamPolicy` grants, for rules (`allUsers` makes a secret public): `details.members`,
 * the distinct members of the new policy's bindings, comma-separated. Roles and conditions stay in the log.
 */
function policyDetails(
  request: Record<string, unknown> | null | undefined,
): Pick<SecretAccessEvent, 'details'> {
  const bindings = (request?.policy as { bindings?: unknown } | undefined)?.bindings;
  if (!Array.isArray(bindings)) return {};
  const members = new Set<string>();
  for (const b of bindings) {
    const list = (b as { members?: unknown } | null)?.members;
    if (Array.isArray(list)) for (const m of list) if (typeof m === 'string') members.add(m);
  }
  return members.size > 0 ? { details: { members: [...members].sort().join(',') } } : {};
}

/**
 * A row of a BigQuery log sink's table, as `bq extract` or a query export writes it: the audit payload is
 * the `protopayload_auditlog` column (nested fields keep their names, the request and the metadata are
 * JSON text in `requestJson` and `metadataJson`), times are `2024-05-01 10:00:00.123456 UTC`, and
 * `bq query --format=json` writes integers and booleans as text (`"7"`, `"true"`). Read as the LogEntry
 * it was made from. https://cloud.google.com/logging/docs/export/bigquery#fields-audit-logs
 */
function fromBigQuery(r: Record<string, unknown>): Record<string, unknown> {
  const p = r.protopayload_auditlog;
  if (typeof p !== 'object' || p === null || 'protoPayload' in r) return r;
  const { requestJson, metadataJson, ...rest } = p as Record<string, unknown>;
  // The request and the metadata are context: a damaged one does not lose the event.
  const request = object(requestJson);
  const metadata = object(metadataJson);
  const status = object(rest.status);
  const checks = list(rest.authorizationInfo);
  const { protopayload_auditlog: _, ...entry } = r;
  return {
    ...entry,
    protoPayload: {
      '@type': AUDIT_LOG_TYPE,
      ...rest,
      ...(status ? { status: { ...status, code: int(status.code) } } : {}),
      ...(checks
        ? { authorizationInfo: checks.map((c) => (isRecord(c) ? { ...c, granted: bool(c.granted) } : c)) }
        : {}),
      ...(request ? { request } : {}),
      ...(metadata ? { metadata } : {}),
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A row of a Log Analytics log view (`_AllLogs` of a bucket upgraded to Log Analytics, queried there or
 * through its linked BigQuery dataset), as query results are exported: JSON rows (the console,
 * `bq query --format=json`, client libraries) or CSV with one column per top-level field. Its columns are
 * the LogEntry's in snake_case (`log_name`, `insert_id`, `proto_payload.audit_log.authentication_info`);
 * JSON-typed columns (`resource.labels`, `request`, `metadata`) and, in CSV, records come as objects or as
 * JSON text; integers and booleans may be strings; an empty CSV cell is null. Read as the LogEntry it was
 * made from (the fields vigil reads), so it becomes the same event with the same id.
 * https://cloud.google.com/logging/docs/analyze/query-and-view
 * Returns a quarantine reason for a row that cannot be read as one.
 */
function fromLogAnalytics(r: Record<string, unknown>): Record<string, unknown> | string {
  if ('protoPayload' in r || !('proto_payload' in r || 'log_name' in r)) return r;
  const payload = object(r.proto_payload);
  if (!payload) {
    // A damaged payload, or records flattened into columns: not silently an entry without an audit log.
    const text = r.proto_payload;
    if (typeof text === 'string' && text !== '' && text !== 'null')
      return 'proto_payload is not a JSON object';
    if ('proto_payload.audit_log.method_name' in r || 'proto_payload.type' in r)
      return 'Log Analytics row with flattened proto_payload columns; export whole rows (SELECT *) as JSON';
  }
  const resource = object(r.resource);
  const entry: Record<string, unknown> = {
    logName: blank(r.log_name),
    insertId: blank(r.insert_id),
    timestamp: r.timestamp,
    resource: resource && { type: blank(resource.type), labels: object(resource.labels) },
  };
  const audit = object(payload?.audit_log);
  const type = blank(payload?.type);
  if (audit) entry.protoPayload = { '@type': type ?? AUDIT_LOG_TYPE, ...auditLogOf(audit) };
  else if (type) entry.protoPayload = { '@type': type };
  else {
    if (blank(r.json_payload) !== undefined) entry.jsonPayload = r.json_payload;
    if (blank(r.text_payload) !== undefined) entry.textPayload = r.text_payload;
  }
  return entry;
}

/** `proto_payload.audit_log` as the LogEntry's `protoPayload` (an AuditLog in its JSON names). */
function auditLogOf(a: Record<string, unknown>): Record<string, unknown> {
  const auth = object(a.authentication_info);
  const status = object(a.status);
  const meta = object(a.request_metadata);
  return {
    serviceName: blank(a.service_name),
    methodName: blank(a.method_name),
    resourceName: blank(a.resource_name),
    status: status && { code: int(status.code), message: blank(status.message) },
    authenticationInfo: auth && {
      principalEmail: blank(auth.principal_email),
      principalSubject: blank(auth.principal_subject),
      serviceAccountDelegationInfo: list(auth.service_account_delegation_info)?.map(delegationOf),
    },
    authorizationInfo: list(a.authorization_info)?.map((i) => {
      const o = object(i);
      return o
        ? { resource: blank(o.resource), permission: blank(o.permission), granted: bool(o.granted) }
        : i;
    }),
    requestMetadata: meta && {
      callerIp: blank(meta.caller_ip),
      callerSuppliedUserAgent: blank(meta.caller_supplied_user_agent),
    },
    request: object(a.request),
    metadata: object(a.metadata),
  };
}

/** One `service_account_delegation_info` entry in the LogEntry's names. */
function delegationOf(entry: unknown): unknown {
  const e = object(entry);
  if (!e) return entry;
  const first = object(e.first_party_principal);
  return {
    firstPartyPrincipal: first && {
      principalEmail: blank(first.principal_email),
      principalSubject: blank(first.principal_subject),
    },
    principalSubject: blank(e.principal_subject),
  };
}

/** Null and the empty CSV cell are absent; anything else is left for the schema to judge. */
const blank = (v: unknown): unknown => (v === null || v === '' ? undefined : v);

/** A record or JSON column: an object, or JSON text of one; a damaged text is absent (context only). */
function object(v: unknown): Record<string, unknown> | undefined {
  const o = parsed(v);
  return typeof o === 'object' && o !== null && !Array.isArray(o)
    ? (o as Record<string, unknown>)
    : undefined;
}

/** A repeated column: an array, or JSON text of one. */
function list(v: unknown): unknown[] | undefined {
  const a = parsed(v);
  return Array.isArray(a) ? a : undefined;
}

/** The value of JSON text of an object or array; any other value as it is. */
function parsed(v: unknown): unknown {
  if (typeof v !== 'string' || (v[0] !== '{' && v[0] !== '[')) return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** BigQuery's JSON gives INT64 as text (`"7"`). */
const int = (v: unknown): unknown => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : blank(v));

const bool = (v: unknown): unknown => (v === 'true' ? true : v === 'false' ? false : blank(v));

/** A Cloud Logging LogEntry: its name and id, or one of its payloads. */
function isLogEntry(r: Record<string, unknown>): boolean {
  return (
    (typeof r.logName === 'string' || typeof r.insertId === 'string') &&
    ('jsonPayload' in r || 'textPayload' in r || 'protoPayload' in r || 'timestamp' in r)
  );
}

export const gcpAudit: Source = {
  id: 'gcp-audit',
  provider: 'gcp',
  description: 'Google Cloud Audit Logs entries of Secret Manager',
  detect: (r) =>
    (typeof r.protoPayload === 'object' && r.protoPayload !== null) ||
    (typeof r.protopayload_auditlog === 'object' && r.protopayload_auditlog !== null) ||
    (typeof r.logName === 'string' && 'insertId' in r && ('jsonPayload' in r || 'textPayload' in r)) ||
    // Log Analytics rows: a whole row has the proto_payload column, null for other logs unless the export
    // leaves nulls out.
    'proto_payload' in r ||
    (typeof r.log_name === 'string' && ('json_payload' in r || 'text_payload' in r)),
  normalize: (r) => normalizeGcp(r),
};
