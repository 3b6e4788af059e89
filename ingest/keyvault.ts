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
 * Azure Key Vault diagnostic `AuditEvent` records (storage blobs, Event Hub bodies).
 * Schema: https://learn.microsoft.com/azure/key-vault/general/logging
 */

const str = z.string().nullish();
const KeyVaultRecord = z.looseObject({
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
type KeyVaultRecord = z.infer<typeof KeyVaultRecord>;

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

function claim(claims: Record<string, unknown> | null | undefined, ...names: string[]): string | null {
  if (!claims) return null;
  for (const n of names) {
    for (const [k, v] of Object.entries(claims)) {
      if ((k === n || k.endsWith(`/${n}`)) && typeof v === 'string' && v !== '') return v;
    }
  }
  return null;
}

function principalOf(rec: KeyVaultRecord, subscription: string | null): Principal {
  const claims = rec.identity?.claim;
  const oid = claim(claims, 'oid', 'objectidentifier');
  const upn = claim(claims, 'upn', 'unique_name', 'name');
  const appid = claim(claims, 'appid', 'azp');
  const tid = claim(claims, 'tid', 'tenantid');
  const mirid = claim(claims, 'xms_mirid');
  const account = tid ?? subscription;
  if (upn && (upn.includes('@') || upn.includes('#'))) {
    const name = upn.includes('#') ? upn.slice(upn.lastIndexOf('#') + 1) : upn;
    return { id: `azure:user:${(oid ?? name).toLowerCase()}`, type: 'user', name, account, via: appid };
  }
  if (mirid) {
    const name = mirid.slice(mirid.lastIndexOf('/') + 1);
    return {
      id: `azure:mi:${(oid ?? mirid).toLowerCase()}`,
      type: 'managed-identity',
      name,
      account,
      via: appid,
    };
  }
  if (appid || oid) {
    return {
      id: `azure:app:${(oid ?? appid)!.toLowerCase()}`,
      type: 'application',
      name: appid ?? oid!,
      account,
      via: null,
    };
  }
  return { id: `azure:unknown:${subscription ?? 'unknown'}`, type: 'unknown', name: 'unknown', account };
}

/** `/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/NAME` → parts, lowercased. */
function parseResourceId(id: string): { subscription: string | null; vault: string | null } {
  const m =
    /\/subscriptions\/([^/]+)\/.*\/providers\/microsoft\.keyvault\/(?:vaults|managedhsms)\/([^/]+)/i.exec(id);
  return { subscription: m?.[1]?.toLowerCase() ?? null, vault: m?.[2]?.toLowerCase() ?? null };
}

const OBJECT_TYPES: Record<string, Resource['type']> = {
  secrets: 'secret',
  keys: 'key',
  certificates: 'certificate',
  deletedsecrets: 'secret',
  deletedkeys: 'key',
  deletedcertificates: 'certificate',
};

/**
 * Canonical id of the object the call touched; versions are ignored and names are case-insensitive:
 * `azure:keyvault:VAULT/secrets/NAME`, or the vault itself.
 */
function resourceOf(
  rec: KeyVaultRecord,
  vaultFromId: string | null,
  subscription: string | null,
): Resource | null {
  const uri = rec.properties?.id || rec.properties?.requestUri || '';
  const m = /^https?:\/\/([^./]+)\.[^/]+\/([a-z]+)\/([^/?]+)/i.exec(uri);
  const vault = (m?.[1] ?? vaultFromId)?.toLowerCase() ?? null;
  if (m && OBJECT_TYPES[m[2]!.toLowerCase()]) {
    const kind = m[2]!.toLowerCase().replace(/^deleted/, '');
    const name = decodeURIComponent(m[3]!).toLowerCase();
    return {
      id: `azure:keyvault:${vault}/${kind}/${name}`,
      type: OBJECT_TYPES[kind]!,
      name: `${vault}/${name}`,
      account: subscription,
      region: null,
    };
  }
  if (!vault) return null;
  return { id: `azure:keyvault:${vault}`, type: 'vault', name: vault, account: subscription, region: null };
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
  const parsed = KeyVaultRecord.safeParse(raw);
  if (!parsed.success) return invalid(`keyvault: ${describeIssues(parsed.error.issues)}`);
  const rec = parsed.data;
  const time = isoTime(rec.time);
  if (!time) return invalid('keyvault: time is not a time');
  const { subscription, vault } = parseResourceId(rec.resourceId);
  const { outcome, errorCode } = outcomeOf(rec);
  const id = `azure:${stableId(rec.time, rec.resourceId, rec.operationName, rec.correlationId ?? '', rec.properties?.id ?? '', rec.callerIpAddress ?? '', JSON.stringify(rec.identity ?? null))}`;
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
      principal: principalOf(rec, subscription),
      resource: resourceOf(rec, vault, subscription),
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
    /microsoft\.keyvault/i.test(String(r.resourceId ?? r.ResourceId ?? '')),
  normalize: normalizeKeyVault,
};
