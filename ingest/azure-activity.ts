import { z } from 'zod';
import type { Action, SecretAccessEvent } from '../core/event.js';
import { stableId } from '../core/hash.js';
import { azurePrincipal, keyVaultResource, parseKeyVaultArmId } from './azure-identity.js';
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
 * Azure Activity Log entries for `Microsoft.KeyVault/*` operations: the management plane that
 * AuditEvent does not cover (vault deletion and purge, access policies, network rules, and the role
 * assignments that grant access to an RBAC vault). Two shapes:
 * the diagnostic-settings export (`time`, `operationName` string, `identity.claims`, `resultType`) and the
 * REST / `az monitor activity-log list` form (`eventTimestamp`, `operationName.value`, `claims`, `caller`,
 * `status.value`, `httpRequest.clientIpAddress`). The `AzureActivity` Log Analytics table is read by
 * azure-activity-loganalytics, which rebuilds its rows as entries and maps them here.
 * The forms spell one operation differently (`MICROSOFT.KEYVAULT/VAULTS/WRITE` in the export and the table,
 * `Microsoft.KeyVault/vaults/write` from REST, lower case in some exports): it is upper-cased, as the export
 * writes it, so an entry has one operation and one id whichever way it was read.
 * https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema
 */

const str = z.string().nullish();
const Localized = z.union([z.string(), z.looseObject({ value: str, localizedValue: str })]).nullish();
const ActivityRecord = z.looseObject({
  time: str,
  eventTimestamp: str,
  resourceId: z.string(),
  operationName: Localized,
  category: Localized,
  resultType: str,
  resultSignature: str,
  status: Localized,
  subStatus: Localized,
  callerIpAddress: str,
  caller: str,
  correlationId: str,
  eventDataId: str,
  operationId: str,
  identity: z.looseObject({ claims: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  claims: z.record(z.string(), z.unknown()).nullish(),
  httpRequest: z.looseObject({ clientIpAddress: str }).nullish(),
  properties: z.looseObject({ statusCode: str }).nullish(),
  subscriptionId: str,
});

const value = (v: z.infer<typeof Localized>): string | null =>
  typeof v === 'string' ? v : (v?.value ?? v?.localizedValue ?? null);

/** The operation name of a record not yet validated: a string, or the REST form's `{value}`. */
function rawOperation(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const name = o.value ?? o.localizedValue;
  return typeof name === 'string' ? name : null;
}

/**
 * Whether an operation is about a Key Vault: its own (`Microsoft.KeyVault/...`), or a role assignment
 * whose scope is a vault or an object in it, which is how an RBAC vault grants access
 * (`.../Microsoft.KeyVault/vaults/V/providers/Microsoft.Authorization/roleAssignments/ID`).
 */
function aboutKeyVault(op: string, resourceId: unknown): boolean {
  if (/^microsoft\.keyvault\//i.test(op)) return true;
  return (
    /^microsoft\.authorization\/roleassignments\//i.test(op) &&
    typeof resourceId === 'string' &&
    /\/providers\/microsoft\.keyvault\/(?:vaults|managedhsms)\/[^/]+\/(?:[^/]+\/[^/]+\/)?providers\/microsoft\.authorization\/roleassignments\//i.test(
      resourceId,
    )
  );
}

/**
 * The region of the entry, if it has one: the diagnostic export writes `location: "global"` for where the
 * event was processed, which says nothing about the vault.
 * https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema
 */
function regionOf(location: unknown): string | null {
  return typeof location === 'string' && location !== '' && location.toLowerCase() !== 'global'
    ? location
    : null;
}

/** `Microsoft.KeyVault/vaults/secrets/getSecret/action` → its action; lowercased first. */
function actionOf(op: string): Action {
  const o = op.toLowerCase();
  if (o.endsWith('/purge/action')) return 'delete';
  if (o.endsWith('/recover/action') || o.endsWith('/restore/action')) return 'restore';
  if (o.endsWith('/backup/action')) return 'backup';
  if (/accesspolicies\/|networkacls|privateendpointconnections|\/roleassignments\//.test(o)) return 'policy';
  if (/\/(getsecret|readsecret)\/action$/.test(o)) return 'read';
  if (/\/(decrypt|unwrap|unwrapkey)\/action$/.test(o)) return 'decrypt';
  if (/\/(encrypt|wrap|wrapkey|sign)\/action$/.test(o)) return 'encrypt';
  if (o.endsWith('/rotate/action')) return 'rotate';
  if (o.endsWith('/delete')) return 'delete';
  if (o.endsWith('/write') || o.endsWith('/update/action') || o.endsWith('/create/action')) return 'write';
  if (o.endsWith('/read') || o.endsWith('/read/action')) return 'describe';
  if (/\/list/.test(o)) return 'list';
  return 'other';
}

/**
 * Whether a record is not ours: an operation of another provider, or a role assignment elsewhere. Counted
 * under the provider's name, upper-cased so every form counts under one reason.
 */
export function otherOperation(op: string, resourceId: unknown): NormalizeResult | null {
  return aboutKeyVault(op, resourceId)
    ? null
    : skip(`other azure operation: ${op.split('/')[0]!.toUpperCase()}`);
}

/**
 * The HTTP status name of the call: `properties.statusCode` and `subStatus` (REST) hold it, the export's
 * `resultSignature` prefixes it with the status (`Failed.Forbidden`, `Succeeded.Created`, `Started.`).
 */
function statusCodeOf(rec: z.infer<typeof ActivityRecord>): string | null {
  const sig = rec.resultSignature;
  return (
    rec.properties?.statusCode ||
    value(rec.subStatus) ||
    (sig ? sig.slice(sig.indexOf('.') + 1) : null) ||
    null
  );
}

function outcomeOf(
  status: string | null,
  code: string | null,
): { outcome: SecretAccessEvent['outcome']; errorCode: string | null } {
  const s = (status ?? '').toLowerCase();
  if (
    code === '401' ||
    code === '403' ||
    /forbidden|unauthorized|authorizationfailed/i.test(`${status} ${code}`)
  )
    return { outcome: 'denied', errorCode: code ?? status };
  if (s === 'failure' || s === 'failed') return { outcome: 'error', errorCode: code ?? status };
  return { outcome: 'success', errorCode: null };
}

/** One Activity Log entry, in any of its forms, to its event; `label` names the source in quarantine reasons. */
export function normalizeActivityRecord(raw: Record<string, unknown>, label: string): NormalizeResult {
  // Other providers' records (FunctionAppLogs with `properties` as text, too) are skipped before the
  // schema: they are not ours, and not damaged either.
  const rawOp = rawOperation(raw.operationName);
  const other = rawOp ? otherOperation(rawOp, raw.resourceId) : null;
  if (other) return other;
  const parsed = ActivityRecord.safeParse(raw);
  if (!parsed.success) return invalid(`${label}: ${describeIssues(parsed.error.issues)}`);
  const rec = parsed.data;
  const op = value(rec.operationName)?.toUpperCase();
  if (!op) return invalid(`${label}: operationName missing`);
  const status = value(rec.status) ?? rec.resultType ?? null;
  // Activity Log writes Started, then Accepted/Succeeded/Failed for one operation: only the end counts.
  if (status && /^(start|started|accept|accepted|active)$/i.test(status))
    return skip('azure activity: operation not finished');
  const rawTime = rec.time ?? rec.eventTimestamp;
  const time = rawTime ? isoTime(rawTime) : null;
  if (!time) return invalid(`${label}: time ${rawTime ? 'is not a time' : 'missing'}`);
  const arm = parseKeyVaultArmId(rec.resourceId);
  const account = arm.subscription ?? rec.subscriptionId?.toLowerCase() ?? null;
  const { outcome, errorCode } = outcomeOf(status, statusCodeOf(rec));
  const claims = rec.identity?.claims ?? rec.claims ?? null;
  const id = rec.eventDataId
    ? `azure:activity:${rec.eventDataId}`
    : `azure:${stableId(time, rec.resourceId.toLowerCase(), op, rec.correlationId ?? '', status ?? '')}`;
  return events([
    {
      id,
      time,
      provider: 'azure',
      service: 'keyvault',
      operation: op,
      action: actionOf(op),
      outcome,
      errorCode,
      principal: azurePrincipal(claims, account, rec.caller ?? null),
      resource: keyVaultResource(arm.vault, arm.kind, arm.object, account),
      source: {
        ip: rec.callerIpAddress ?? rec.httpRequest?.clientIpAddress ?? null,
        userAgent: null,
        viaService: null,
      },
      region: regionOf(raw.location),
      account,
      providerEventId: rec.correlationId || null,
    },
  ]);
}

export const azureActivity: Source = {
  id: 'azure-activity',
  provider: 'azure',
  description:
    'Azure Activity Log entries for Microsoft.KeyVault operations and role assignments on vaults (management plane)',
  detect: (r) =>
    'resourceId' in r &&
    ((typeof r.operationName === 'string' && r.operationName.includes('/')) ||
      (typeof r.operationName === 'object' && r.operationName !== null)),
  normalize: (r) => normalizeActivityRecord(r, 'azure-activity'),
};
