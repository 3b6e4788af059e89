import type { Principal, Resource } from '../core/event.js';
import { memo, SequenceMemo } from '../core/memo.js';

/** Identity and resource rules shared by every reader of Azure records (Key Vault, Activity Log, Log Analytics). Pure. */

/**
 * The same few callers, vaults and secrets recur on every line of a log: results are remembered (bounded,
 * cleared when full) and shared by the events that use them, which nothing changes after normalizing.
 */
function remembered<V>(max: number, compute: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined && !cache.has(key)) {
      if (cache.size >= max) cache.clear();
      v = compute(key);
      cache.set(key, v);
    }
    return v as V;
  };
}

/** A claim by short name, also under its URI form (`http://schemas.microsoft.com/identity/claims/objectidentifier`). */
export function claim(claims: Record<string, unknown> | null | undefined, ...names: string[]): string | null {
  if (!claims) return null;
  for (const n of names) {
    const direct = claims[n];
    if (typeof direct === 'string' && direct !== '') return direct;
    for (const k in claims) {
      const v = claims[k];
      if (k.endsWith(`/${n}`) && typeof v === 'string' && v !== '') return v;
    }
  }
  return null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One principal per real actor, whatever the log:
 * - users by object id (`oid`), named by upn (`live.com#me@outlook.com` becomes `me@outlook.com`);
 * - managed identities (`xms_mirid`) and applications by application id (`appid`/`azp`), which every
 *   token carries, else object id;
 * `caller` (Activity Log) is a upn for users and an id for applications. `account` is the tenant of the
 * token (`tid`), else null: the subscription of the log is where the vault lives, not the caller.
 * `subscription` only names a caller the record does not identify (`azure:unknown:SUBSCRIPTION`).
 */
export function azurePrincipal(
  claims: Record<string, unknown> | null | undefined,
  subscription: string | null,
  caller?: string | null,
): Principal {
  // Only the claims' text values are read, first match in their order: they and the rest are the key.
  const key = principals.start().next(subscription).next(caller);
  if (claims) {
    for (const k in claims) {
      const v = claims[k];
      if (typeof v === 'string') key.next(k).next(v);
      else if (isPlainObject(v)) return azurePrincipal(flatClaims(claims), subscription, caller);
    }
  }
  return key.value(() => computePrincipal(claims, subscription, caller));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Claims nested by URI segment, as Managed HSM logs them
 * (`{"http_schemas_microsoft_com_identity":{"claims":{"objectidentifier":..}}}`), flattened to
 * `http_schemas_microsoft_com_identity/claims/objectidentifier`, which `claim` reads like the URI form.
 * Only text values are kept: nothing else is read.
 */
function flatClaims(
  claims: Record<string, unknown>,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const k in claims) {
    const v = claims[k];
    if (typeof v === 'string') out[`${prefix}${k}`] = v;
    else if (isPlainObject(v)) flatClaims(v, `${prefix}${k}/`, out);
  }
  return out;
}

const principals = new SequenceMemo<Principal>(20_000);

function computePrincipal(
  claims: Record<string, unknown> | null | undefined,
  subscription: string | null,
  caller: string | null | undefined,
): Principal {
  const oid = claim(claims, 'oid', 'objectidentifier');
  const upnClaim = claim(claims, 'upn', 'unique_name', 'email', 'name');
  const upn =
    upnClaim && (upnClaim.includes('@') || upnClaim.includes('#'))
      ? upnClaim
      : caller?.includes('@')
        ? caller
        : null;
  const appid = claim(claims, 'appid', 'azp');
  const tid = claim(claims, 'tid', 'tenantid');
  const mirid = claim(claims, 'xms_mirid');
  const idtyp = claim(claims, 'idtyp');
  const account = tid;
  if (upn && idtyp !== 'app') {
    const name = upn.includes('#') ? upn.slice(upn.lastIndexOf('#') + 1) : upn;
    return { id: `azure:user:${(oid ?? name).toLowerCase()}`, type: 'user', name, account, via: appid };
  }
  if (mirid) {
    const name = mirid.slice(mirid.lastIndexOf('/') + 1);
    return {
      id: `azure:mi:${(appid ?? oid ?? mirid).toLowerCase()}`,
      type: 'managed-identity',
      name,
      account,
      via: null,
    };
  }
  const app = appid ?? oid ?? (caller && GUID.test(caller) ? caller : null);
  if (app)
    return { id: `azure:app:${app.toLowerCase()}`, type: 'application', name: app, account, via: null };
  return { id: `azure:unknown:${subscription ?? 'unknown'}`, type: 'unknown', name: 'unknown', account };
}

export interface ArmId {
  subscription: string | null;
  resourceGroup: string | null;
  vault: string | null;
  /** `secrets`, `keys`, `certificates` when the id names an object inside the vault. */
  kind: string | null;
  object: string | null;
}

/**
 * The resource provider an ARM id names first, upper-cased as resource logs write it:
 * `/subscriptions/S/resourceGroups/G/providers/Microsoft.Attestation/...` → `MICROSOFT.ATTESTATION`;
 * null for an id without one.
 */
export function armProvider(id: string): string | null {
  return armProviders(id);
}

const armProviders = remembered(20_000, (id): string | null => {
  const m = /\/providers\/([^/]+)/i.exec(id);
  return m ? m[1]!.toUpperCase() : null;
});

/**
 * `/subscriptions/S/resourceGroups/G/providers/Microsoft.KeyVault/vaults/V[/secrets/N[/versions/X]]`, also
 * `.../Microsoft.KeyVault/locations/L/deletedVaults/V` and managed HSMs. Lowercased: ARM ids are case-insensitive.
 */
export function parseKeyVaultArmId(id: string): ArmId {
  return armIds(id);
}

const armIds = remembered(20_000, (id): ArmId => {
  const m =
    /\/subscriptions\/([^/]+)(?:\/resourcegroups\/([^/]+))?\/providers\/microsoft\.keyvault\/(?:vaults|managedhsms|locations\/[^/]+\/deleted(?:vaults|managedhsms))\/([^/]+)(?:\/([a-z]+)\/([^/]+))?/i.exec(
      id,
    );
  return {
    subscription: m?.[1]?.toLowerCase() ?? null,
    resourceGroup: m?.[2]?.toLowerCase() ?? null,
    vault: m?.[3]?.toLowerCase() ?? null,
    kind: m?.[4]?.toLowerCase() ?? null,
    object: m?.[5] ? decodeURIComponent(m[5]).toLowerCase() : null,
  };
});

const OBJECT_TYPES: Record<string, Resource['type']> = {
  secrets: 'secret',
  keys: 'key',
  certificates: 'certificate',
};

/**
 * Canonical id of a vault object; versions are ignored and names are case-insensitive:
 * `azure:keyvault:VAULT/secrets/NAME`, or `azure:keyvault:VAULT` for the vault itself.
 */
export function keyVaultResource(
  vault: string | null,
  kind: string | null,
  object: string | null,
  subscription: string | null,
): Resource | null {
  if (!vault) return null;
  return resources(object ?? '', vault, kind, subscription);
}

// The object name comes first: the memo looks its first argument up and walks a list for the rest, and
// one vault holds hundreds of secrets.
const resources = memo(20_000, (object, vault, kind, subscription) =>
  vaultResource(vault!, kind ?? null, object || null, subscription ?? null),
);

function vaultResource(
  vault: string,
  kind: string | null,
  object: string | null,
  subscription: string | null,
): Resource {
  const k = kind?.toLowerCase().replace(/^deleted/, '') ?? null;
  const type = k ? OBJECT_TYPES[k] : undefined;
  if (type && object) {
    const name = object.toLowerCase();
    return {
      id: `azure:keyvault:${vault}/${k}/${name}`,
      type,
      name: `${vault}/${name}`,
      account: subscription,
      region: null,
    };
  }
  return { id: `azure:keyvault:${vault}`, type: 'vault', name: vault, account: subscription, region: null };
}

/** The vault object a data-plane URI names: `https://V.vault.azure.net/secrets/N/VERSION?api-version=..`. */
export function keyVaultUri(uri: string): VaultUri | null {
  return vaultUris(uri);
}

interface VaultUri {
  readonly vault: string;
  readonly kind: string | null;
  readonly object: string | null;
}

const vaultUris = remembered(20_000, (uri): VaultUri | null => {
  const m = /^https?:\/\/([^./]+)\.(?:vault|managedhsm)\.[^/]+(?:\/([a-z]+)\/([^/?]+))?/i.exec(uri);
  if (!m) return null;
  const kind = m[2]?.toLowerCase() ?? null;
  const known = kind !== null && OBJECT_TYPES[kind.replace(/^deleted/, '')] !== undefined;
  return {
    vault: m[1]!.toLowerCase(),
    kind: known ? kind : null,
    object: known && m[3] ? decodeURIComponent(m[3]) : null,
  };
});
