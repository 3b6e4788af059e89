import { z } from 'zod';
import type { Action, Principal, Resource, SecretAccessEvent } from '../core/event.js';
import { stableId } from '../core/hash.js';
import { memo } from '../core/memo.js';
import {
  awsOutcome,
  awsPrincipal,
  kmsResource,
  parameterResource,
  parseArn,
  secretResource,
  viaService,
} from './aws-identity.js';
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
 * AWS CloudTrail records of Secrets Manager, SSM Parameter Store and KMS.
 * Record format: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */

const str = z.string().nullish();
const Identity = z.looseObject({
  type: str,
  principalId: str,
  arn: str,
  accountId: str,
  userName: str,
  invokedBy: str,
  sourceIdentity: str,
  sessionContext: z
    .looseObject({
      sessionIssuer: z.looseObject({ type: str, arn: str, userName: str }).nullish(),
      sourceIdentity: str,
      webIdFederationData: z.looseObject({ federatedProvider: str }).nullish(),
    })
    .nullish(),
  onBehalfOf: z.looseObject({ userId: str, identityStoreArn: str }).nullish(),
});

export const CloudTrailRecord = z.looseObject({
  eventTime: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  awsRegion: str,
  sourceIPAddress: str,
  userAgent: str,
  userIdentity: Identity.nullish(),
  errorCode: str,
  requestParameters: z.record(z.string(), z.unknown()).nullish(),
  responseElements: z.unknown().optional(),
  additionalEventData: z.record(z.string(), z.unknown()).nullish(),
  serviceEventDetails: z.record(z.string(), z.unknown()).nullish(),
  eventID: str,
  requestID: str,
  eventType: str,
  recipientAccountId: str,
  vpcEndpointId: str,
  resources: z.array(z.looseObject({ ARN: str, accountId: str, type: str })).nullish(),
});
type CloudTrailRecord = z.infer<typeof CloudTrailRecord>;

// The hot path: a hand check of exactly what the schema checks, so a conforming record (nearly all of
// them) skips zod's copy. Anything else goes through the schema, whose issues name the field.
const optStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optObj = (v: unknown) => v === undefined || v === null || isObj(v);
const RECORD_STR = [
  'awsRegion',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'eventID',
  'requestID',
  'eventType',
  'recipientAccountId',
  'vpcEndpointId',
] as const;
const IDENTITY_STR = [
  'type',
  'principalId',
  'arn',
  'accountId',
  'userName',
  'invokedBy',
  'sourceIdentity',
] as const;

// CloudTrail Lake and some SIEM exports carry the nested objects as JSON text.
const NESTED = [
  'userIdentity',
  'requestParameters',
  'responseElements',
  'additionalEventData',
  'serviceEventDetails',
  'resources',
] as const;

function destringify(raw: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k of NESTED) {
    const v = raw[k];
    if (typeof v !== 'string' || (v[0] !== '{' && v[0] !== '[')) continue;
    try {
      (out ??= { ...raw })[k] = JSON.parse(v);
    } catch {
      // Left as text: the schema then names the field.
    }
  }
  return out ?? raw;
}

export function conforms(r: Record<string, unknown>): boolean {
  if (typeof r.eventTime !== 'string' || typeof r.eventSource !== 'string' || typeof r.eventName !== 'string')
    return false;
  for (const k of RECORD_STR) if (!optStr(r[k])) return false;
  if (!optObj(r.requestParameters) || !optObj(r.additionalEventData) || !optObj(r.serviceEventDetails))
    return false;
  const u = r.userIdentity;
  if (u !== undefined && u !== null) {
    if (!isObj(u)) return false;
    for (const k of IDENTITY_STR) if (!optStr(u[k])) return false;
    const sc = u.sessionContext;
    if (sc !== undefined && sc !== null) {
      if (!isObj(sc) || !optStr(sc.sourceIdentity)) return false;
      const si = sc.sessionIssuer;
      if (
        si !== undefined &&
        si !== null &&
        !(isObj(si) && optStr(si.type) && optStr(si.arn) && optStr(si.userName))
      )
        return false;
      const wi = sc.webIdFederationData;
      if (wi !== undefined && wi !== null && !(isObj(wi) && optStr(wi.federatedProvider))) return false;
    }
    const ob = u.onBehalfOf;
    if (ob !== undefined && ob !== null && !(isObj(ob) && optStr(ob.userId) && optStr(ob.identityStoreArn)))
      return false;
  }
  const res = r.resources;
  if (res !== undefined && res !== null) {
    if (!Array.isArray(res)) return false;
    for (const x of res)
      if (!(isObj(x) && optStr(x.ARN) && optStr(x.accountId) && optStr(x.type))) return false;
  }
  return true;
}

const SERVICES: Record<string, string> = {
  'secretsmanager.amazonaws.com': 'secretsmanager',
  'ssm.amazonaws.com': 'ssm',
  'kms.amazonaws.com': 'kms',
};

const SECRETS_ACTIONS: Record<string, Action> = {
  GetSecretValue: 'read',
  BatchGetSecretValue: 'read',
  DescribeSecret: 'describe',
  ListSecretVersionIds: 'list',
  ListSecrets: 'list',
  GetResourcePolicy: 'describe',
  ValidateResourcePolicy: 'describe',
  GetRandomPassword: 'other',
  CreateSecret: 'create',
  PutSecretValue: 'write',
  UpdateSecret: 'write',
  UpdateSecretVersionStage: 'write',
  TagResource: 'write',
  UntagResource: 'write',
  ReplicateSecretToRegions: 'write',
  RemoveRegionsFromReplication: 'write',
  StopReplicationToReplica: 'write',
  DeleteSecret: 'delete',
  RestoreSecret: 'restore',
  RotateSecret: 'rotate',
  CancelRotateSecret: 'rotate',
  RotationStarted: 'rotate',
  RotationSucceeded: 'rotate',
  RotationFailed: 'rotate',
  RotationAbandoned: 'rotate',
  // Rotation tests (RotateSecret with RotateImmediately false) log these service events.
  TestRotationStarted: 'rotate',
  TestRotationSucceeded: 'rotate',
  TestRotationFailed: 'rotate',
  PutResourcePolicy: 'policy',
  DeleteResourcePolicy: 'policy',
  StartSecretVersionDelete: 'delete',
  CancelSecretVersionDelete: 'restore',
  EndSecretVersionDelete: 'delete',
};

const SSM_ACTIONS: Record<string, Action> = {
  GetParameter: 'read',
  GetParameters: 'read',
  GetParametersByPath: 'read',
  GetParameterHistory: 'read',
  DescribeParameters: 'list',
  PutParameter: 'write',
  LabelParameterVersion: 'write',
  UnlabelParameterVersion: 'write',
  DeleteParameter: 'delete',
  DeleteParameters: 'delete',
};

const KMS_ACTIONS: Record<string, Action> = {
  Decrypt: 'decrypt',
  ReEncrypt: 'decrypt',
  Encrypt: 'encrypt',
  GenerateDataKey: 'encrypt',
  GenerateDataKeyWithoutPlaintext: 'encrypt',
  GenerateDataKeyPair: 'encrypt',
  GenerateDataKeyPairWithoutPlaintext: 'encrypt',
  Sign: 'encrypt',
  GenerateMac: 'encrypt',
  DeriveSharedSecret: 'decrypt',
  Verify: 'other',
  VerifyMac: 'other',
  GenerateRandom: 'other',
  DescribeKey: 'describe',
  GetKeyPolicy: 'describe',
  GetKeyRotationStatus: 'describe',
  GetPublicKey: 'describe',
  GetParametersForImport: 'describe',
  ListKeys: 'list',
  ListAliases: 'list',
  ListGrants: 'list',
  ListRetirableGrants: 'list',
  ListKeyPolicies: 'list',
  ListKeyRotations: 'list',
  ListResourceTags: 'list',
  DescribeCustomKeyStores: 'list',
  CreateKey: 'create',
  CreateAlias: 'write',
  UpdateAlias: 'write',
  DeleteAlias: 'write',
  UpdateKeyDescription: 'write',
  TagResource: 'write',
  UntagResource: 'write',
  EnableKey: 'write',
  ImportKeyMaterial: 'write',
  ReplicateKey: 'write',
  UpdatePrimaryRegion: 'write',
  CreateCustomKeyStore: 'write',
  UpdateCustomKeyStore: 'write',
  ConnectCustomKeyStore: 'write',
  DisconnectCustomKeyStore: 'write',
  DeleteCustomKeyStore: 'delete',
  DeleteImportedKeyMaterial: 'delete',
  // Service events: KMS deleting expired imported key material (the key stops working), and syncing the
  // shared properties of a multi-Region key.
  DeleteExpiredKeyMaterial: 'delete',
  SynchronizeMultiRegionKey: 'write',
  DisableKey: 'disable',
  ScheduleKeyDeletion: 'disable',
  DeleteKey: 'delete',
  CancelKeyDeletion: 'restore',
  PutKeyPolicy: 'policy',
  CreateGrant: 'policy',
  RetireGrant: 'policy',
  RevokeGrant: 'policy',
  EnableKeyRotation: 'rotate',
  DisableKeyRotation: 'rotate',
  RotateKey: 'rotate',
  RotateKeyOnDemand: 'rotate',
};

const ACTIONS: Record<string, Record<string, Action>> = {
  secretsmanager: SECRETS_ACTIONS,
  ssm: SSM_ACTIONS,
  kms: KMS_ACTIONS,
};

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function param(rec: CloudTrailRecord, ...keys: string[]): unknown {
  for (const k of keys) {
    const v = rec.requestParameters?.[k] ?? rec.additionalEventData?.[k] ?? rec.serviceEventDetails?.[k];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

const secretOf = memo(20_000, (id, region, account, full) =>
  secretResource(id, region ?? null, account ?? null, full ? [id] : []),
);
const parameterOf = memo(20_000, (name, region, account) =>
  parameterResource(name, region ?? null, account ?? null),
);
const kmsOf = memo(20_000, (key, region, account) => kmsResource(key, region ?? null, account ?? null));
const secretIdOf = memo(
  20_000,
  (arn, region, account) => secretResource(arn, region ?? null, account ?? null).id,
);

const principals = new Map<string, Principal>();
/** Common identities by type, then invokedBy, then ARN: no key to build per record. */
const plainPrincipals = new Map<unknown, Map<unknown, Map<string, Principal>>>();
let plainCount = 0;

/**
 * awsPrincipal, remembered per distinct identity (a session makes many calls). Events of the same
 * identity share the principal object: events are values, nothing changes them after normalizing.
 */
function principalOf(u: CloudTrailRecord['userIdentity'], account: string | null): Principal {
  if (!u) return awsPrincipal(u, account);
  const sc = u.sessionContext;
  // The common identity (a role session or a user, perhaps through a service, nothing else said): its
  // type, ARN and invoking service decide it.
  if (
    u.arn &&
    u.accountId === account &&
    !u.userName &&
    !u.sourceIdentity &&
    !u.onBehalfOf &&
    !sc?.sourceIdentity &&
    !sc?.webIdFederationData &&
    u.type !== 'AWSAccount'
  ) {
    let byInvoker = plainPrincipals.get(u.type);
    if (byInvoker === undefined) {
      byInvoker = new Map();
      plainPrincipals.set(u.type, byInvoker);
    }
    let byArn = byInvoker.get(u.invokedBy);
    if (byArn === undefined) {
      byArn = new Map();
      byInvoker.set(u.invokedBy, byArn);
    }
    let p = byArn.get(u.arn);
    if (p === undefined) {
      if (plainCount >= 20_000) {
        for (const m of plainPrincipals.values()) for (const n of m.values()) n.clear();
        plainCount = 0;
      }
      p = awsPrincipal(u, account);
      byArn.set(u.arn, p);
      plainCount++;
    }
    return p;
  }
  // Everything awsPrincipal reads; with an ARN, principalId is read only for AWSAccount identities.
  let key = `${u.type}\u0001${u.arn}\u0001${account}\u0001${u.accountId}\u0001${u.invokedBy}\u0001${u.userName}`;
  if (!u.arn || u.type === 'AWSAccount') key += `\u0001${u.principalId}`;
  if (sc || u.sourceIdentity || u.onBehalfOf)
    key += `\u0001${u.sourceIdentity}\u0001${sc?.sourceIdentity}\u0001${sc?.webIdFederationData?.federatedProvider}\u0001${u.onBehalfOf?.userId}`;
  let p = principals.get(key);
  if (p === undefined) {
    if (principals.size >= 20_000) principals.clear();
    p = awsPrincipal(u, account);
    principals.set(key, p);
  }
  return p;
}

/** The resources a record touches, in the order the caller named them (one event each). */
function resourcesOf(
  rec: CloudTrailRecord,
  service: string,
  region: string | null,
  account: string | null,
): Resource[] {
  const fullArns: string[] = [];
  for (const r of rec.resources ?? []) if (r.ARN) fullArns.push(r.ARN);
  // A response's ARN is always the complete one (CreateSecret, PutSecretValue, DeleteSecret, ...).
  const resp = rec.responseElements as { arn?: unknown; aRN?: unknown } | null | undefined;
  const respArn = resp?.arn ?? resp?.aRN;
  if (typeof respArn === 'string') fullArns.push(respArn);
  const out: Resource[] = [];
  if (service === 'secretsmanager') {
    const ids = strings(param(rec, 'secretIdList', 'secretId', 'SecretId', 'name', 'Name', 'secretArn'));
    for (const id of ids) out.push(secretOf(id, region, account, fullArns.includes(id) ? '1' : ''));
    if (out.length === 0) {
      for (const a of fullArns)
        if (parseArn(a)?.service === 'secretsmanager') out.push(secretResource(a, region, account, fullArns));
    }
    // BatchGetSecretValue with filters only: the response lists what was read, if the trail kept it.
    if (out.length === 0 && rec.eventName === 'BatchGetSecretValue') {
      const resp = rec.responseElements as {
        secretValues?: { aRN?: string; arn?: string; name?: string }[];
      } | null;
      for (const v of resp?.secretValues ?? []) {
        const id = v.aRN ?? v.arn ?? v.name;
        if (id) out.push(secretResource(id, region, account, fullArns));
      }
    }
  } else if (service === 'ssm') {
    const names = strings(param(rec, 'names', 'name', 'path'));
    for (const n of names) out.push(parameterOf(n, region, account));
  } else if (service === 'kms') {
    const keyArn = fullArns.find((a) => parseArn(a)?.service === 'kms');
    const keyId = param(rec, 'keyId', 'destinationKeyId', 'targetKeyId', 'KeyId');
    if (keyArn) out.push(kmsOf(keyArn, region, account));
    else if (typeof keyId === 'string') out.push(kmsOf(keyId, region, account));
    else if (typeof param(rec, 'aliasName') === 'string') {
      out.push(kmsOf(param(rec, 'aliasName') as string, region, account));
    }
  }
  if (out.length <= 1) return out;
  // Duplicates (the same secret named twice in one batch) are one read.
  const unique = new Map<string, Resource>();
  for (const r of out) if (!unique.has(r.id)) unique.set(r.id, r);
  return [...unique.values()];
}

/** The secret or parameter a KMS operation served, from its encryption context. */
function relatedResource(
  rec: CloudTrailRecord,
  region: string | null,
  account: string | null,
): string | null {
  const ctx = param(rec, 'encryptionContext') as Record<string, unknown> | undefined;
  if (!ctx || typeof ctx !== 'object') return null;
  const secretArn = ctx.SecretARN;
  if (typeof secretArn === 'string') return secretIdOf(secretArn, region, account);
  const paramArn = ctx.PARAMETER_ARN;
  if (typeof paramArn === 'string') return parameterResource(paramArn, region, account).id;
  return null;
}

// Request flags that rules look at. Never values: a policy document is configuration, not a secret.
const DETAIL_KEYS = [
  'withDecryption',
  'forceDeleteWithoutRecovery',
  'recoveryWindowInDays',
  'pendingWindowInDays',
  'resourcePolicy',
  'policy',
  'blockPublicPolicy',
] as const;

function details(rec: CloudTrailRecord): Record<string, string | number | boolean> | undefined {
  const p = rec.requestParameters;
  if (!p) return undefined;
  // Most requests carry none of these: look before building anything.
  let any = false;
  for (const k of DETAIL_KEYS) if (k in p) any = true;
  if (!any) return undefined;
  let out: Record<string, string | number | boolean> | undefined;
  for (const k of DETAIL_KEYS) {
    const v = p[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') (out ??= {})[k] = v;
  }
  return out;
}

// Rotation service events report a failure in their name, not in errorCode.
const FAILED_EVENTS = new Set(['RotationFailed', 'RotationAbandoned', 'TestRotationFailed']);

function outcomeOf(rec: CloudTrailRecord): Pick<SecretAccessEvent, 'outcome' | 'errorCode'> {
  if (rec.errorCode) return { outcome: awsOutcome(rec.errorCode), errorCode: rec.errorCode };
  if (FAILED_EVENTS.has(rec.eventName)) return { outcome: 'error', errorCode: rec.eventName };
  return SUCCESS;
}

const SUCCESS = { outcome: 'success', errorCode: null } as const;

function normalizeCloudTrail(raw: Record<string, unknown>): NormalizeResult {
  if (raw.eventType === 'AwsCloudTrailInsight') return skip('cloudtrail insight');
  const service = typeof raw.eventSource === 'string' ? SERVICES[raw.eventSource] : undefined;
  if (typeof raw.eventSource === 'string' && !service) return skip(`other service: ${raw.eventSource}`);
  let rec: CloudTrailRecord;
  if (conforms(raw)) rec = raw as CloudTrailRecord;
  else {
    const parsed = CloudTrailRecord.safeParse(destringify(raw));
    if (!parsed.success) return invalid(`cloudtrail: ${describeIssues(parsed.error.issues)}`);
    rec = parsed.data;
  }
  if (!service) return invalid('cloudtrail: eventSource missing');
  const action = ACTIONS[service]?.[rec.eventName];
  if (!action) {
    // SSM has many non-parameter APIs (SendCommand, StartSession): not secret access.
    if (service === 'ssm') return skip(`other ssm operation: ${rec.eventName}`);
  }
  const time = isoTime(rec.eventTime);
  if (!time) return invalid('cloudtrail: eventTime is not a time');
  const region = rec.awsRegion ?? null;
  const account = rec.recipientAccountId ?? rec.userIdentity?.accountId ?? null;
  const principal = principalOf(rec.userIdentity, account);
  const resources = resourcesOf(rec, service, region, account);
  const baseId = rec.eventID ? `aws:${rec.eventID}` : `aws:h:${stableId(JSON.stringify(raw))}`;
  const { outcome, errorCode } = outcomeOf(rec);
  const base: SecretAccessEvent = {
    id: baseId,
    time,
    provider: 'aws',
    service,
    operation: rec.eventName,
    action: action ?? 'other',
    outcome,
    errorCode,
    principal,
    resource: resources[0] ?? null,
    source: {
      ip: rec.sourceIPAddress ?? null,
      userAgent: rec.userAgent ?? null,
      viaService: viaService(rec.userIdentity, rec.sourceIPAddress),
      vpcEndpointId: rec.vpcEndpointId ?? null,
    },
    region,
    account,
    providerEventId: rec.eventID ?? null,
    relatedResource: service === 'kms' ? relatedResource(rec, region, account) : null,
    details:
      rec.eventName === 'BatchGetSecretValue'
        ? { ...details(rec), batchCall: true } // Secrets Manager also logs a GetSecretValue per secret
        : details(rec),
  };
  if (resources.length <= 1) return events([base]);
  return events(resources.map((resource, i) => ({ ...base, id: `${baseId}#${i}`, resource })));
}

export const cloudtrail: Source = {
  id: 'cloudtrail',
  provider: 'aws',
  description: 'AWS CloudTrail records (Secrets Manager, SSM Parameter Store, KMS)',
  detect: (r) =>
    ('eventSource' in r && ('eventName' in r || 'eventVersion' in r)) ||
    ('eventVersion' in r && 'eventType' in r && 'recipientAccountId' in r),
  normalize: normalizeCloudTrail,
};
