import { KeyVaultRecord, normalizeAuditEvent } from './keyvault.js';
import { timeGenerated } from './log-analytics.js';
import { describeIssues, invalid, type NormalizeResult, type Source, skip } from './source.js';

/**
 * Key Vault AuditEvent rows exported from Log Analytics, as JSON (query API rows, `az monitor
 * log-analytics query`) or CSV (the portal's export):
 * - the legacy `AzureDiagnostics` table, flattened: `identity_claim_upn_s`, `id_s`, `requestUri_s`,
 *   `httpStatusCode_d`, `CallerIPAddress`, `ResultSignature`, `ResourceId`;
 *   https://learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics
 * - the resource-specific `AZKVAuditLogs` table: `Identity` (JSON), `Id`, `RequestUri`, `HttpStatusCode`,
 *   `CallerIpAddress`, `_ResourceId`.
 *   https://learn.microsoft.com/azure/azure-monitor/reference/tables/azkvauditlogs
 * Each row is rebuilt as the AuditEvent it came from and mapped by the keyvault source, so a record
 * has the same event (and id) whichever way it was exported.
 */

/** Column names folded: lowercase, without the portal's ` [UTC]` / ` [Local Time]` suffix. */
function fold(row: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const k in row) {
    const v = row[k];
    if (v === '' || v === null || v === undefined) continue;
    m.set(k.replace(/\s*\[[^\]]*\]\s*$/, '').toLowerCase(), v);
  }
  return m;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/** `identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g` → `claims/objectidentifier`. */
function flattenedClaims(row: Map<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [k, v] of row) {
    if (!k.startsWith('identity_claim_')) continue;
    let name = k.slice('identity_claim_'.length).replace(/_[sgdbt]$/, '');
    const at = name.lastIndexOf('claims_');
    if (at >= 0) name = `claims/${name.slice(at + 'claims_'.length)}`;
    claims[name] = v;
  }
  return claims;
}

function identityColumn(v: unknown): Record<string, unknown> | null | 'bad' {
  if (v === undefined) return null;
  let parsed = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch {
      return 'bad';
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return 'bad';
  const o = parsed as Record<string, unknown>;
  const c = o.claim ?? o.claims;
  return typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : o;
}

function normalizeLogAnalytics(raw: Record<string, unknown>): NormalizeResult {
  const row = fold(raw);
  const table = text(row.get('type'));
  const legacy = table === 'AzureDiagnostics' || row.has('resourceprovider') || row.has('id_s');
  if (legacy) {
    const provider = text(row.get('resourceprovider'));
    if (provider && provider.toUpperCase() !== 'MICROSOFT.KEYVAULT')
      return skip(`other resource provider: ${provider}`);
    const category = text(row.get('category'));
    if (category && category !== 'AuditEvent') return skip(`other category: ${category}`);
  } else if (table && table !== 'AZKVAuditLogs') {
    return skip(`other table: ${table}`);
  }
  const time = timeGenerated(raw, 'keyvault-loganalytics');
  if (typeof time !== 'string') return time;
  const identity = legacy ? flattenedClaims(row) : identityColumn(row.get('identity'));
  if (identity === 'bad') return invalid('keyvault-loganalytics: Identity is not JSON');
  const status = row.get('httpstatuscode_d') ?? row.get('httpstatuscode');
  const record = {
    time,
    resourceId: text(row.get('resourceid') ?? row.get('_resourceid')),
    operationName: text(row.get('operationname')),
    category: 'AuditEvent',
    resultType: text(row.get('resulttype')),
    resultSignature: text(row.get('resultsignature')),
    callerIpAddress: text(row.get('calleripaddress')),
    correlationId: text(row.get('correlationid')),
    identity: identity ? { claim: identity } : null,
    properties: {
      id: text(row.get('id_s') ?? row.get('id')),
      requestUri: text(row.get('requesturi_s') ?? row.get('requesturi')),
      clientInfo: text(row.get('clientinfo_s') ?? row.get('clientinfo')),
      httpStatusCode:
        typeof status === 'number' ? status : status === undefined ? null : Number(text(status)),
    },
  };
  const parsed = KeyVaultRecord.safeParse(record);
  if (!parsed.success) return invalid(`keyvault-loganalytics: ${describeIssues(parsed.error.issues)}`);
  return normalizeAuditEvent(parsed.data, 'keyvault-loganalytics');
}

export const keyvaultLogAnalytics: Source = {
  id: 'keyvault-loganalytics',
  provider: 'azure',
  description:
    'Azure Key Vault audit rows exported from Log Analytics (AzureDiagnostics, AZKVAuditLogs; JSON or CSV)',
  detect: (r) => {
    for (const k in r) if (/^TimeGenerated(\s*\[|$)/i.test(k)) return true;
    return false;
  },
  normalize: normalizeLogAnalytics,
};
