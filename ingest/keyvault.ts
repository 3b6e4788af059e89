import { z } from 'zod';
import type { Action, Resource, SecretAccessEvent } from '../core/event.js';
import { stableId } from '../core/hash.js';
import {
  type ArmId,
  azurePrincipal,
  keyVaultResource,
  keyVaultUri,
  parseKeyVaultArmId,
} from './azure-identity.js';
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
 * Azure Key Vault diagnostic `AuditEvent` records (storage blobs, Event Hub bodies).
 * Schema: https://learn.microsoft.com/azure/key-vault/general/logging
 */

const str = z.string().nullish();
export const KeyVaultRecord = z.looseObject({
  time: z.string(),
  resourceId: z.string(),
  operationName: z.string(),
  category: str,
  resultType: str,
  resultSignature: str,
  resultDescription: str,
  callerIpAddress: str,
  correlationId: str,
  identity: z.looseObject({ claim: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  properties: z
    .looseObject({
      id: str,
      requestUri: str,
      clientInfo: str,
      httpStatusCode: z.union([z.number(), z.string()]).nullish(),
    })
    .nullish(),
});
export type KeyVaultRecord = z.infer<typeof KeyVaultRecord>;

// The hot path: a hand check of exactly what KeyVaultRecord checks (see test/ingest/fast-paths.test.ts).
const optStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const RECORD_STR = [
  'category',
  'resultType',
  'resultSignature',
  'resultDescription',
  'callerIpAddress',
  'correlationId',
] as const;

export function conforms(r: Record<string, unknown>): boolean {
  if (typeof r.time !== 'string' || typeof r.resourceId !== 'string' || typeof r.operationName !== 'string')
    return false;
  for (const k of RECORD_STR) if (!optStr(r[k])) return false;
  const id = r.identity;
  if (id !== undefined && id !== null) {
    if (!isObj(id)) return false;
    if (id.claim !== undefined && id.claim !== null && !isObj(id.claim)) return false;
  }
  const p = r.properties;
  if (p !== undefined && p !== null) {
    if (!isObj(p) || !optStr(p.id) || !optStr(p.requestUri) || !optStr(p.clientInfo)) return false;
    const h = p.httpStatusCode;
    if (h !== undefined && h !== null && typeof h !== 'number' && typeof h !== 'string') return false;
  }
  return true;
}

// Operation names: https://learn.microsoft.com/azure/key-vault/general/logging#operation-names-for-object-api-version
const EXACT: Record<string, Action> = {
  SecretGet: 'read',
  CertificateGet: 'describe',
  KeyGet: 'describe',
  SecretGetDeleted: 'describe',
  KeyGetDeleted: 'describe',
  CertificateGetDeleted: 'describe',
  VaultGet: 'describe',
  SecretBackup: 'backup',
  KeyBackup: 'backup',
  CertificateBackup: 'backup',
  SecretRestore: 'restore',
  KeyRestore: 'restore',
  CertificateRestore: 'restore',
  SecretRecover: 'restore',
  KeyRecover: 'restore',
  CertificateRecover: 'restore',
  KeyDecrypt: 'decrypt',
  KeyUnwrap: 'decrypt',
  KeyEncrypt: 'encrypt',
  KeyWrap: 'encrypt',
  KeySign: 'encrypt',
  KeyVerify: 'other',
  KeyRotate: 'rotate',
  KeyRotationPolicyGet: 'describe',
  KeyRotationPolicyUpdate: 'rotate',
  SecretNearExpiry: 'other',
  SecretExpired: 'other',
  Authentication: 'other',
  VaultPut: 'write',
  VaultPatch: 'write',
  VaultDelete: 'delete',
  VaultRecover: 'restore',
  VaultAccessPolicyChangedEventGridNotification: 'policy',
};

function actionOf(op: string): Action {
  const exact = EXACT[op];
  if (exact) return exact;
  if (/Purge$/.test(op) || /Delete$/.test(op)) return 'delete';
  if (/List/.test(op)) return 'list';
  if (/(Set|Create|Import|Update|Put|Merge)$/.test(op))
    return op.startsWith('Key') && op.endsWith('Create') ? 'create' : 'write';
  if (/Policy|Contacts|Issuer/.test(op)) return 'policy';
  return 'other';
}

function resourceOf(rec: KeyVaultRecord, arm: ArmId): Resource | null {
  for (const uri of [rec.properties?.id, rec.properties?.requestUri]) {
    const u = uri ? keyVaultUri(uri) : null;
    if (u?.object) return keyVaultResource(u.vault, u.kind, u.object, arm.subscription);
  }
  const u = rec.properties?.id ? keyVaultUri(rec.properties.id) : null;
  return keyVaultResource(u?.vault ?? arm.vault, arm.kind, arm.object, arm.subscription);
}

function outcomeOf(rec: KeyVaultRecord): { outcome: SecretAccessEvent['outcome']; errorCode: string | null } {
  const status = Number(rec.properties?.httpStatusCode ?? Number.NaN);
  const sig = rec.resultSignature ?? '';
  if (status === 401 || status === 403 || /^(Forbidden|Unauthorized)$/i.test(sig)) {
    return { outcome: 'denied', errorCode: sig || String(status) };
  }
  const ok = /^(Success|Succeeded)$/i.test(rec.resultType ?? '') && (Number.isNaN(status) || status < 400);
  if (ok || (Number.isFinite(status) && status < 400)) return { outcome: 'success', errorCode: null };
  return {
    outcome: 'error',
    errorCode: sig || (Number.isFinite(status) ? String(status) : (rec.resultType ?? 'error')),
  };
}

function normalizeKeyVault(raw: Record<string, unknown>): NormalizeResult {
  if (typeof raw.category === 'string' && raw.category !== 'AuditEvent')
    return skip(`other category: ${raw.category}`);
  if (conforms(raw)) return normalizeAuditEvent(raw as KeyVaultRecord, 'keyvault');
  const parsed = KeyVaultRecord.safeParse(raw);
  if (!parsed.success) return invalid(`keyvault: ${describeIssues(parsed.error.issues)}`);
  return normalizeAuditEvent(parsed.data, 'keyvault');
}

/** Maps one AuditEvent (from a blob, an Event Hub body or a Log Analytics row) to its event. */
export function normalizeAuditEvent(rec: KeyVaultRecord, label: string): NormalizeResult {
  const time = isoTime(rec.time);
  if (!time) return invalid(`${label}: time is not a time`);
  const arm = parseKeyVaultArmId(rec.resourceId);
  const subscription = arm.subscription;
  const { outcome, errorCode } = outcomeOf(rec);
  // From fields every export keeps, so the same record read from a blob or a Log Analytics export has one id.
  const id = `azure:${stableId(time, rec.resourceId.toLowerCase(), rec.operationName, rec.correlationId ?? '', rec.properties?.id ?? rec.properties?.requestUri ?? '', rec.callerIpAddress ?? '', String(rec.properties?.httpStatusCode ?? ''))}`;
  return events([
    {
      id,
      time,
      provider: 'azure',
      service: 'keyvault',
      operation: rec.operationName,
      action: actionOf(rec.operationName),
      outcome,
      errorCode,
      principal: azurePrincipal(rec.identity?.claim, subscription),
      resource: resourceOf(rec, arm),
      source: {
        ip: rec.callerIpAddress || null,
        userAgent: rec.properties?.clientInfo ?? null,
        viaService: null,
      },
      region: null,
      account: subscription,
      providerEventId: rec.correlationId || null,
    },
  ]);
}

export const keyvault: Source = {
  id: 'keyvault',
  provider: 'azure',
  description: 'Azure Key Vault diagnostic AuditEvent records',
  // Activity Log entries name operations as `Microsoft.KeyVault/vaults/delete`; AuditEvent as `VaultDelete`.
  detect: (r) =>
    typeof r.operationName === 'string' &&
    !r.operationName.includes('/') &&
    (r.category === 'AuditEvent' || /microsoft\.keyvault/i.test(String(r.resourceId ?? ''))),
  normalize: normalizeKeyVault,
};
