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
  }),
});
type AuditLogEntry = z.infer<typeof AuditLogEntry>;

const PREFIX = 'google.cloud.secretmanager.';

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
  const candidates = [p.resourceName, p.request?.name, p.request?.parent, p.authorizationInfo?.[0]?.resource];
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const m = /projects\/([^/]+)(?:\/locations\/([^/]+))?(?:\/secrets\/([^/]+))?/.exec(c);
    if (!m) continue;
    const project = typeof labels.project_id === 'string' ? labels.project_id : m[1]!;
    const location = m[2] ?? null;
    const where = `projects/${project}${location ? `/locations/${location}` : ''}`;
    if (!m[3])
      return {
        id: `gcp:secretmanager:${where}`,
        type: 'vault',
        name: project,
        account: project,
        region: location,
      };
    return {
      id: `gcp:secretmanager:${where}/secrets/${m[3]}`,
      type: 'secret',
      name: m[3],
      account: project,
      region: location,
    };
  }
  return null;
}

function principalOf(rec: AuditLogEntry): Principal {
  const auth = rec.protoPayload.authenticationInfo;
  const email = auth?.principalEmail ?? null;
  const first = auth?.serviceAccountDelegationInfo?.[0] as
    | { firstPartyPrincipal?: { principalEmail?: string } }
    | undefined;
  const via = first?.firstPartyPrincipal?.principalEmail ?? null;
  if (email?.endsWith('.gserviceaccount.com')) {
    const project = /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? null;
    return {
      id: `gcp:serviceAccount:${email.toLowerCase()}`,
      type: 'service-account',
      name: email,
      account: project,
      via,
    };
  }
  if (email) return { id: `gcp:user:${email.toLowerCase()}`, type: 'user', name: email, account: null, via };
  const subject = auth?.principalSubject ?? null;
  if (subject) return { id: `gcp:subject:${subject}`, type: 'unknown', name: subject, account: null };
  return { id: 'gcp:anonymous', type: 'anonymous', name: 'anonymous', account: null };
}

function normalizeGcp(raw: Record<string, unknown>): NormalizeResult {
  // `gcloud logging read` mixes audit entries with application logs (`jsonPayload`, `textPayload`).
  if (typeof raw.protoPayload !== 'object' || raw.protoPayload === null)
    return skip('gcp log entry without audit payload');
  const parsed = AuditLogEntry.safeParse(raw);
  if (!parsed.success) return invalid(`gcp-audit: ${describeIssues(parsed.error.issues)}`);
  const rec = parsed.data;
  const p = rec.protoPayload;
  if (!p.methodName.startsWith(PREFIX))
    return skip(`other gcp service: ${p.serviceName ?? p.methodName.split('.').slice(0, 3).join('.')}`);
  const method = p.methodName.slice(p.methodName.lastIndexOf('.') + 1);
  const time = isoTime(rec.timestamp);
  if (!time) return invalid('gcp-audit: timestamp is not a time');
  const resource = resourceOf(rec);
  const project =
    resource?.account ??
    (typeof rec.resource?.labels?.project_id === 'string' ? rec.resource.labels.project_id : null);
  const ip = p.requestMetadata?.callerIp ?? null;
  return events([
    {
      id: rec.insertId
        ? `gcp:${stableId(rec.logName ?? '', rec.insertId, rec.timestamp)}`
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
    },
  ]);
}

export const gcpAudit: Source = {
  id: 'gcp-audit',
  provider: 'gcp',
  description: 'Google Cloud Audit Logs entries of Secret Manager',
  detect: (r) =>
    (typeof r.protoPayload === 'object' && r.protoPayload !== null) ||
    (typeof r.logName === 'string' && 'insertId' in r && ('jsonPayload' in r || 'textPayload' in r)),
  normalize: normalizeGcp,
};
