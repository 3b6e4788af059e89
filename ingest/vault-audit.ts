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
 * HashiCorp Vault file audit device: JSON Lines, one `request` and one `response` entry per request.
 * The response entry carries the outcome, so it is the event; request entries are skipped. Fields Vault
 * HMACs (tokens, accessors, data) stay HMAC'd: nothing here unhashes or copies them.
 * https://developer.hashicorp.com/vault/docs/audit
 */

const str = z.string().nullish();
const VaultEntry = z.looseObject({
  time: z.string(),
  type: z.string(),
  error: str,
  auth: z
    .looseObject({
      display_name: str,
      entity_id: str,
      policies: z.array(z.string()).nullish(),
      metadata: z.record(z.string(), z.unknown()).nullish(),
      token_type: str,
    })
    .nullish(),
  request: z.looseObject({
    id: str,
    operation: str,
    mount_type: str,
    mount_point: str,
    path: z.string(),
    remote_address: str,
    namespace: z.looseObject({ id: str, path: str }).nullish(),
    headers: z.record(z.string(), z.unknown()).nullish(),
  }),
  response: z.looseObject({ mount_type: str }).nullish(),
});
type VaultEntry = z.infer<typeof VaultEntry>;

// Vault's system and login paths are not secret reads; kv, database, aws, pki, transit, ... are.
const NOT_SECRETS = /^(sys|auth|identity|cubbyhole)\//;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * An entity is the real actor when Vault knows one. A token without an entity is named by its
 * display name, with per-instance ids (a Nomad allocation, a Kubernetes pod uid) taken out, so
 * every instance of one workload is one principal, as AWS role sessions collapse into their role.
 */
function principalOf(e: VaultEntry, namespace: string): Principal {
  const a = e.auth;
  const display = a?.display_name ?? null;
  const account = namespace === 'root' ? null : namespace;
  if (a?.entity_id) {
    return {
      id: `vault:entity:${a.entity_id}`,
      type: 'user',
      name: display ?? a.entity_id,
      account,
      session: display,
    };
  }
  if (a?.policies?.includes('root') || display === 'root') {
    return { id: 'vault:root', type: 'root', name: 'root', account };
  }
  if (display) {
    const name = display.replace(UUID, '*');
    return { id: `vault:token:${name}`, type: 'token', name, account, session: display };
  }
  return { id: 'vault:anonymous', type: 'anonymous', name: 'anonymous', account };
}

/** A namespace as the prefix of the paths in it: `blue/`, or '' for the root namespace. */
function namespacePrefix(namespace: string): string {
  const p = namespace.replace(/^\/+|\/+$/g, '');
  return p === '' || p === 'root' ? '' : `${p}/`;
}

/**
 * The mount a path (relative to its namespace) is on, relative to the namespace too. Vault Enterprise
 * writes `mount_point` with the namespace in front (`blue/kv/` for `kv/data/app` in `blue/`); it is read
 * with or without it. Without `mount_point` (Vault before 1.13) the first path segment is the mount.
 */
function mountOf(path: string, mountPoint: string | null | undefined, ns: string): string {
  const within = `${path}/`;
  const mount = mountPoint?.replace(/^\/+|\/+$/g, '');
  if (mount) {
    const relative = ns !== '' && mount.startsWith(ns) ? `${mount.slice(ns.length)}/` : null;
    if (relative && within.startsWith(relative)) return relative;
    if (within.startsWith(`${mount}/`)) return `${mount}/`;
  }
  return `${path.split('/')[0]}/`;
}

/**
 * The secret a path names: namespace, mount and secret path, with kv v2's `data/`, `metadata/`,
 * `delete/`, `undelete/`, `destroy/` segment taken out so every operation on one secret has one id. A
 * read from the namespace and one from its parent (`blue/kv/...` from the root) give the same id.
 */
function resourceOf(e: VaultEntry, namespace: string): { resource: Resource; kvOp: string | null } {
  const r = e.request;
  const path = r.path.replace(/^\/+/, '');
  const ns = namespacePrefix(namespace);
  const mount = mountOf(path, r.mount_point, ns);
  let rest = path.slice(mount.length);
  let kvOp: string | null = null;
  const mountType = r.mount_type ?? e.response?.mount_type ?? '';
  if (mountType === 'kv') {
    const m = /^(data|metadata|delete|undelete|destroy)\/(.*)$/.exec(rest);
    if (m) {
      kvOp = m[1]!;
      rest = m[2]!;
    }
  }
  if (mountType === 'transit') {
    // transit/encrypt/KEY, transit/decrypt/KEY, transit/keys/KEY/rotate: the key is the resource.
    const m = /^[a-z-]+\/([^/]+)/.exec(rest);
    if (m) rest = m[1]!;
  }
  const name = `${ns}${mount}${rest}`.replace(/\/$/, '');
  const type: Resource['type'] =
    mountType === 'transit' ? 'key' : mountType === 'pki' ? 'certificate' : 'secret';
  return {
    resource: {
      id: `vault:${name}`,
      type,
      name,
      account: namespace === 'root' ? null : namespace,
      region: null,
    },
    kvOp,
  };
}

function actionOf(op: string, mountType: string, kvOp: string | null, path: string): Action {
  if (kvOp === 'metadata')
    return op === 'read' ? 'describe' : op === 'list' ? 'list' : op === 'delete' ? 'delete' : 'write';
  if (kvOp === 'delete' || kvOp === 'destroy') return 'delete';
  if (kvOp === 'undelete') return 'restore';
  if (mountType === 'transit') {
    if (/\/(decrypt|rewrap)\//.test(`/${path}`)) return 'decrypt';
    if (/\/(encrypt|sign|hmac|datakey)\//.test(`/${path}`)) return 'encrypt';
    if (/\/keys\/[^/]+\/rotate$/.test(path)) return 'rotate';
  }
  switch (op) {
    case 'read':
      return 'read';
    case 'list':
      return 'list';
    case 'create':
      return 'create';
    case 'update':
      // Dynamic secrets are issued by update (pki issue, database creds via POST): a read of secret material.
      return mountType === 'pki' && /\/(issue|sign)\//.test(`/${path}`) ? 'read' : 'write';
    case 'delete':
      return 'delete';
    default:
      return 'other';
  }
}

function outcomeOf(error: string | null | undefined): Pick<SecretAccessEvent, 'outcome' | 'errorCode'> {
  if (!error) return { outcome: 'success', errorCode: null };
  if (/permission denied|invalid token|unauthorized|forbidden/i.test(error))
    return { outcome: 'denied', errorCode: 'permission denied' };
  return { outcome: 'error', errorCode: error.replace(/\s+/g, ' ').trim().slice(0, 120) };
}

// Entry types are short names (`response`, `kmip-request`); anything else is not copied into a reason.
const ENTRY_TYPE = /^[a-z][a-z0-9_-]{0,39}$/;

/**
 * Entries that are not a request's response are skipped before the schema is checked: Vault Enterprise's
 * KMIP entries (`kmip-request`, `kmip-response`) are well formed but have no `request.path`.
 */
function skipByType(type: unknown): NormalizeResult | null {
  if (type === 'response' || typeof type !== 'string') return null;
  if (type === 'request') return skip('vault request entry (its response entry is the event)');
  if (type === 'kmip-request' || type === 'kmip-response')
    return skip(`vault ${type} entry (KMIP operations are not read)`);
  return skip(`vault ${ENTRY_TYPE.test(type) ? type : 'other'} entry`);
}

function normalizeVault(raw: Record<string, unknown>): NormalizeResult {
  const skipped = skipByType(raw.type);
  if (skipped) return skipped;
  const parsed = VaultEntry.safeParse(raw);
  if (!parsed.success) return invalid(`vault-audit: ${describeIssues(parsed.error.issues)}`);
  const e = parsed.data;
  const path = e.request.path.replace(/^\/+/, '');
  if (NOT_SECRETS.test(path)) return skip(`vault ${path.split('/')[0]} path`);
  const op = e.request.operation ?? 'unknown';
  if (op === 'help' || op === 'alias-lookahead' || op === 'resolve-role' || op === 'header')
    return skip(`vault ${op} request`);
  const time = isoTime(e.time);
  if (!time) return invalid('vault-audit: time is not a time');
  const namespace = e.request.namespace?.path || e.request.namespace?.id || 'root';
  const { resource, kvOp } = resourceOf(e, namespace);
  const mountType = e.request.mount_type ?? e.response?.mount_type ?? '';
  const forwarded = e.request.headers?.['x-forwarded-for'];
  return events([
    {
      id: e.request.id ? `vault:${e.request.id}` : `vault:h:${stableId(JSON.stringify(raw))}`,
      time,
      provider: 'vault',
      service: mountType ? `vault-${mountType}` : 'vault',
      operation: kvOp ? `${op} ${kvOp}` : op,
      action: actionOf(op, mountType, kvOp, path),
      ...outcomeOf(e.error),
      principal: principalOf(e, namespace),
      resource,
      source: {
        ip:
          e.request.remote_address ??
          (Array.isArray(forwarded) && typeof forwarded[0] === 'string' ? forwarded[0] : null),
        userAgent: null,
        viaService: null,
      },
      region: null,
      account: namespace === 'root' ? null : namespace,
      providerEventId: e.request.id ?? null,
    },
  ]);
}

export const vaultAudit: Source = {
  id: 'vault-audit',
  provider: 'vault',
  description: 'HashiCorp Vault file audit device entries (JSON Lines of request/response)',
  detect: (r) =>
    typeof r.type === 'string' && typeof r.request === 'object' && r.request !== null && 'time' in r,
  normalize: normalizeVault,
};
