import { z } from 'zod';
import type { Action, Resource, SecretAccessEvent } from '../core/event.js';
import { stableId } from '../core/hash.js';
import {
  type ArmId,
  armProvider,
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
 * Azure Key Vault diagnostic `AuditEvent` records (storage blobs, Event Hub bodies), managed HSMs' too.
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
  // Managed HSM: a full backup of the HSM (https://learn.microsoft.com/azure/key-vault/managed-hsm/logging).
  BackupCreate: 'backup',
};

function actionOf(op: string): Action {
  const exact = EXACT[op];
  if (exact) return exact;
  // Certificate policies, issuers and contacts govern how the vault issues certificates: changing or
  // deleting one is a policy change. Tested first, as `CertificateIssuerSet` also ends like a write.
  if (/^Certificate(?:Policy|Contacts|Issuer)/.test(op))
    return op.endsWith('Get') ? 'describe' : op.endsWith('List') ? 'list' : 'policy';
  if (/Purge$/.test(op) || /Delete$/.test(op)) return 'delete';
  if (/List/.test(op)) return 'list';
  if (/(Set|Create|Import|Update|Put|Merge)$/.test(op))
    return op.startsWith('Key') && op.endsWith('Create') ? 'create' : 'write';
  if (/Policy|Contacts|Issuer/.test(op)) return 'policy';
  return 'other';
}

/**
 * Whether a URI's first segment after `secrets/`, `keys/` or `certificates/` names an object for this
 * operation. Vault-level operations sit under those collections without naming one: `POST /secrets/restore`
 * (the name is inside the backup blob), `PUT /certificates/issuers/NAME` and `PUT /certificates/contacts`
 * (issuers and contacts are settings of the vault, so the vault is their resource).
 */
function namesObject(op: string, object: string): boolean {
  if (/^Certificate(?:Contacts|Issuer)/.test(op)) return false;
  return !(op.endsWith('Restore') && object.toLowerCase() === 'restore');
}

function resourceOf(rec: KeyVaultRecord, arm: ArmId): Resource | null {
  for (const uri of [rec.properties?.id, rec.properties?.requestUri]) {
    const u = uri ? keyVaultUri(uri) : null;
    if (u?.object && namesObject(rec.operationName, u.object))
      return keyVaultResource(u.vault, u.kind, u.object, arm.subscription);
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

/**
 * Managed HSM writes `identity` as JSON text and `httpStatusCode`, `requestUri` and `clientInfo` beside
 * `properties` rather than in it (https://learn.microsoft.com/azure/key-vault/managed-hsm/logging): such a
 * record is rebuilt in the vault layout, so one mapping and one id rule serve both. Any other record is
 * returned as it is; a reason when `identity` is text that is not JSON.
 */
function vaultLayout(raw: Record<string, unknown>): Record<string, unknown> | string {
  const { identity, properties } = raw;
  const beside =
    raw.httpStatusCode !== undefined || raw.requestUri !== undefined || raw.clientInfo !== undefined;
  if (!beside && typeof identity !== 'string') return raw;
  const record = { ...raw };
  if (typeof identity === 'string') {
    try {
      record.identity = identity === '' ? null : (JSON.parse(identity) as unknown);
    } catch {
      return 'identity is not JSON';
    }
  }
  // A `properties` of the wrong type is left for the schema to name.
  if (beside && (properties === undefined || properties === null || isObj(properties))) {
    const p = properties ?? {};
    record.properties = {
      ...p,
      httpStatusCode: p.httpStatusCode ?? raw.httpStatusCode,
      requestUri: p.requestUri ?? raw.requestUri,
      clientInfo: p.clientInfo ?? raw.clientInfo,
    };
  }
  return record;
}

function normalizeKeyVault(raw: Record<string, unknown>): NormalizeResult {
  // A shared Event Hub or storage export mixes every category and provider: theirs are well-formed
  // records that are not ours, skipped before the record is checked as a Key Vault one.
  if (typeof raw.category === 'string' && raw.category !== 'AuditEvent')
    return skip(`other category: ${raw.category}`);
  // Other providers log `AuditEvent` too (Microsoft.Attestation). A record without a resourceId is
  // still read, and quarantined if that is what it lacks.
  // (Key Vault writes its resource ids upper-case: those are known without parsing.)
  const rid = raw.resourceId;
  if (typeof rid === 'string' && !rid.includes('/MICROSOFT.KEYVAULT/')) {
    const provider = armProvider(rid);
    if (provider !== null && provider !== 'MICROSOFT.KEYVAULT')
      return skip(`other resource provider: ${provider}`);
  }
  const record = vaultLayout(raw);
  if (typeof record === 'string') return invalid(`keyvault: ${record}`);
  if (conforms(record)) return normalizeAuditEvent(record as KeyVaultRecord, 'keyvault');
  const parsed = KeyVaultRecord.safeParse(record);
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
  description: 'Azure Key Vault and Managed HSM diagnostic AuditEvent records',
  // Activity Log entries name operations as `Microsoft.KeyVault/vaults/delete`; AuditEvent as `VaultDelete`.
  // Also every other resource log (`category` and `resourceId`: the common schema), so that the other
  // categories of a shared Event Hub are skipped and counted here, not quarantined as unknown.
  detect: (r) =>
    typeof r.operationName === 'string' &&
    !r.operationName.includes('/') &&
    (r.category === 'AuditEvent' ||
      (typeof r.category === 'string' && typeof r.resourceId === 'string') ||
      /microsoft\.keyvault/i.test(String(r.resourceId ?? ''))),
  normalize: normalizeKeyVault,
};
