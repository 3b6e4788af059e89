import { createHash } from 'node:crypto';

/**
 * Builders of raw provider records, in the documented formats, for the demo and the simulator.
 * CloudTrail: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * Key Vault: https://learn.microsoft.com/azure/key-vault/general/logging
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same traffic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID derived from a string, so that records have stable ids across runs. */
export function uuidFrom(text: string): string {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export type AwsActor =
  | { kind: 'role'; account: string; role: string; session: string; roleId?: string }
  | { kind: 'sso'; account: string; permissionSet: string; user: string }
  | { kind: 'user'; account: string; user: string }
  | { kind: 'service'; account: string; service: string };

export function userIdentity(a: AwsActor, invokedBy?: string): Record<string, unknown> {
  const base = (() => {
    switch (a.kind) {
      case 'role': {
        const roleId =
          a.roleId ?? `AROA${createHash('sha1').update(a.role).digest('hex').slice(0, 17).toUpperCase()}`;
        return {
          type: 'AssumedRole',
          principalId: `${roleId}:${a.session}`,
          arn: `arn:aws:sts::${a.account}:assumed-role/${a.role}/${a.session}`,
          accountId: a.account,
          accessKeyId: 'ASIAEXAMPLEEXAMPLE00',
          sessionContext: {
            sessionIssuer: {
              type: 'Role',
              principalId: roleId,
              arn: `arn:aws:iam::${a.account}:role/${a.role}`,
              accountId: a.account,
              userName: a.role,
            },
            attributes: { creationDate: '2026-11-01T00:00:00Z', mfaAuthenticated: 'false' },
          },
        };
      }
      case 'sso': {
        const role = `AWSReservedSSO_${a.permissionSet}_0123456789abcdef`;
        return {
          type: 'AssumedRole',
          principalId: `AROASSOEXAMPLE0000001:${a.user}`,
          arn: `arn:aws:sts::${a.account}:assumed-role/${role}/${a.user}`,
          accountId: a.account,
          accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
          sessionContext: {
            sessionIssuer: {
              type: 'Role',
              principalId: 'AROASSOEXAMPLE0000001',
              arn: `arn:aws:iam::${a.account}:role/aws-reserved/sso.amazonaws.com/${role}`,
              accountId: a.account,
              userName: role,
            },
            attributes: { creationDate: '2026-11-01T00:00:00Z', mfaAuthenticated: 'false' },
          },
        };
      }
      case 'user':
        return {
          type: 'IAMUser',
          principalId: 'AIDAEXAMPLEEXAMPLE01',
          arn: `arn:aws:iam::${a.account}:user/${a.user}`,
          accountId: a.account,
          accessKeyId: 'AKIAEXAMPLEEXAMPLE01',
          userName: a.user,
        };
      case 'service':
        return { type: 'AWSService', invokedBy: a.service };
    }
  })();
  return invokedBy ? { ...base, invokedBy } : base;
}

export interface CloudTrailInput {
  time: number;
  actor: AwsActor;
  eventSource: string;
  eventName: string;
  region?: string;
  requestParameters?: Record<string, unknown> | null;
  sourceIPAddress: string;
  userAgent: string;
  invokedBy?: string;
  resources?: { ARN: string; accountId: string; type: string }[];
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  seed: string;
}

export function cloudTrailRecord(i: CloudTrailInput): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    eventVersion: '1.09',
    userIdentity: userIdentity(i.actor, i.invokedBy),
    eventTime: new Date(i.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: i.eventSource,
    eventName: i.eventName,
    awsRegion: i.region ?? 'us-east-1',
    sourceIPAddress: i.sourceIPAddress,
    userAgent: i.userAgent,
    requestParameters: i.requestParameters ?? null,
    responseElements: null,
    requestID: uuidFrom(`req:${i.seed}`),
    eventID: uuidFrom(`evt:${i.seed}`),
    readOnly: i.readOnly ?? true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: i.actor.account,
    eventCategory: 'Management',
  };
  if (i.errorCode) {
    rec.errorCode = i.errorCode;
    rec.errorMessage = i.errorMessage ?? 'User is not authorized to perform this operation';
  }
  if (i.resources) rec.resources = i.resources;
  return rec;
}

export interface KeyVaultInput {
  time: number;
  subscription: string;
  resourceGroup: string;
  vault: string;
  operationName: string;
  objectUri?: string;
  callerIp: string;
  identity: { upn?: string; oid: string; appid: string; tid?: string };
  status?: number;
  clientInfo?: string;
  seed: string;
}

/** A Key Vault AuditEvent as written to `insights-logs-auditevent` blobs (one JSON object per line). */
export function keyVaultRecord(i: KeyVaultInput): Record<string, unknown> {
  const status = i.status ?? 200;
  const ms = new Date(i.time).toISOString();
  const claim: Record<string, string> = {
    'http://schemas.microsoft.com/identity/claims/objectidentifier': i.identity.oid,
    appid: i.identity.appid,
    'http://schemas.microsoft.com/identity/claims/tenantid':
      i.identity.tid ?? '72f988bf-86f1-41af-91ab-2d7cd011db47',
  };
  if (i.identity.upn) claim['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn'] = i.identity.upn;
  return {
    time: ms.replace(/Z$/, '0000Z'),
    category: 'AuditEvent',
    operationName: i.operationName,
    resultType: status < 400 ? 'Success' : 'Failure',
    resultSignature:
      status === 200 ? 'OK' : status === 403 ? 'Forbidden' : status === 401 ? 'Unauthorized' : String(status),
    resultDescription: '',
    durationMs: 12,
    callerIpAddress: i.callerIp,
    correlationId: uuidFrom(`corr:${i.seed}`),
    identity: { claim },
    properties: {
      id: i.objectUri ?? `https://${i.vault}.vault.azure.net/`,
      clientInfo: i.clientInfo ?? 'azsdk-net-Security.KeyVault.Secrets/4.5.0',
      httpStatusCode: status,
      requestUri: `${i.objectUri ?? `https://${i.vault}.vault.azure.net/`}?api-version=7.4`,
      isAccessPolicyMatch: true,
      tlsVersion: 'TLS1_2',
    },
    resourceId: `/SUBSCRIPTIONS/${i.subscription.toUpperCase()}/RESOURCEGROUPS/${i.resourceGroup.toUpperCase()}/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/${i.vault.toUpperCase()}`,
    operationVersion: '7.4',
  };
}

/** CloudTrail's S3 object key for a file of one hour. */
export function cloudTrailKey(account: string, region: string, hourStart: number, suffix: string): string {
  const d = new Date(hourStart);
  const y = d.getUTCFullYear();
  const m = String(d.getUTCMonth() + 1).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, '0');
  const hh = String(d.getUTCHours()).padStart(2, '0');
  return `AWSLogs/${account}/CloudTrail/${region}/${y}/${m}/${day}/${account}_CloudTrail_${region}_${y}${m}${day}T${hh}00Z_${suffix}.json.gz`;
}

/** Key Vault diagnostic blob path for one hour. */
export function keyVaultBlobPath(
  subscription: string,
  resourceGroup: string,
  vault: string,
  hourStart: number,
): string {
  const d = new Date(hourStart);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/${subscription.toUpperCase()}/RESOURCEGROUPS/${resourceGroup.toUpperCase()}` +
    `/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/${vault.toUpperCase()}/y=${d.getUTCFullYear()}/m=${p(d.getUTCMonth() + 1)}/d=${p(d.getUTCDate())}/h=${p(d.getUTCHours())}/m=00/PT1H.json`
  );
}
