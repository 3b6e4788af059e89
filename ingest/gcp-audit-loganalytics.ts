import { normalizeGcp, otherCall } from './gcp-audit.js';
import { column, jsonColumn, logAnalyticsTime, timeColumn } from './log-analytics.js';
import { invalid, type NormalizeResult, type Source } from './source.js';

/**
 * Cloud Audit Logs entries collected into Microsoft Sentinel by its GCP Pub/Sub connector: rows of the
 * `GCPAuditLogs` Log Analytics table, as JSON (query API rows, `az monitor log-analytics query`) or CSV
 * (the portal's export). The AuditLog's fields are columns: `ServiceName`, `MethodName`, `GCPResourceName`
 * (its `resourceName`), `PrincipalEmail`, and the dynamic `AuthenticationInfo` (with
 * `serviceAccountDelegationInfo`), `AuthorizationInfo`, `RequestMetadata`, `Status`, `Request`, `Metadata`
 * (objects, or their JSON text as the query API and CSV write them); the LogEntry's are `LogName`,
 * `InsertId`, `Timestamp` (when the call happened), `GCPResourceType` and `ProjectId` (the monitored
 * resource's type and `project_id` label). `TimeGenerated` is when Cloud Logging received the entry.
 * Each row is rebuilt as the LogEntry it came from and mapped by the gcp-audit source, so a call has the
 * same event (and id) whichever way it was exported.
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/gcpauditlogs
 */

const LABEL = 'gcp-audit-loganalytics';

/** The dynamic columns read, and the JSON each holds. */
const JSON_COLUMNS = {
  AuthenticationInfo: 'object',
  AuthorizationInfo: 'array',
  RequestMetadata: 'object',
  Status: 'object',
  Request: 'object',
  Metadata: 'object',
} as const;
type JsonColumn = keyof typeof JSON_COLUMNS;
const JSON_COLUMN_NAMES = Object.keys(JSON_COLUMNS) as JsonColumn[];

function normalizeRow(row: Record<string, unknown>): NormalizeResult {
  const method = column(row, 'MethodName');
  if (!method) return invalid(`${LABEL}: MethodName missing`);
  // Other services' rows are skipped before their columns are read: not ours, not damaged.
  const other = otherCall(method, column(row, 'ServiceName'));
  if (other) return other;
  // The entry's timestamp, which its id hashes, is Timestamp; TimeGenerated (when Cloud Logging received
  // it, seconds later) stands in only for an export without Timestamp.
  const stamp = timeColumn(row, 'Timestamp');
  const name = stamp === undefined ? 'TimeGenerated' : 'Timestamp';
  const t = stamp ?? timeColumn(row, 'TimeGenerated');
  if (typeof t === 'object')
    return invalid(`${LABEL}: ${t.local} has no time zone; export the results in UTC`);
  const time = t ? logAnalyticsTime(t) : null;
  if (!time)
    return invalid(
      `${LABEL}: ${t ? `${name} is not an ISO 8601 or en-US (M/D/YYYY, h:mm:ss AM) time` : 'Timestamp missing'}`,
    );
  const json: Partial<Record<JsonColumn, unknown>> = {};
  for (const c of JSON_COLUMN_NAMES) {
    const v = jsonColumn(row[c], JSON_COLUMNS[c]);
    if (v === null) return invalid(`${LABEL}: ${c} is not a JSON ${JSON_COLUMNS[c]}`);
    json[c] = v;
  }
  const auth = json.AuthenticationInfo as Record<string, unknown> | undefined;
  const email = column(row, 'PrincipalEmail');
  const status = json.Status as Record<string, unknown> | undefined;
  const code = status?.code;
  const project = column(row, 'ProjectId');
  return normalizeGcp(
    {
      logName: column(row, 'LogName'),
      insertId: column(row, 'InsertId'),
      timestamp: time,
      resource: {
        type: column(row, 'GCPResourceType'),
        labels: project ? { project_id: project } : undefined,
      },
      protoPayload: {
        serviceName: column(row, 'ServiceName'),
        methodName: method,
        resourceName: column(row, 'GCPResourceName'),
        status: status && {
          ...status,
          code: typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code,
        },
        // PrincipalEmail repeats authenticationInfo.principalEmail: it fills an export without the JSON column.
        authenticationInfo:
          auth || email
            ? { ...auth, ...(email && !auth?.principalEmail ? { principalEmail: email } : {}) }
            : undefined,
        authorizationInfo: json.AuthorizationInfo,
        requestMetadata: json.RequestMetadata,
        request: json.Request,
        metadata: json.Metadata,
      },
    },
    LABEL,
  );
}

export const gcpAuditLogAnalytics: Source = {
  id: 'gcp-audit-loganalytics',
  provider: 'gcp',
  description:
    'Google Cloud Audit Logs rows of Secret Manager from the GCPAuditLogs Log Analytics table (Microsoft Sentinel; JSON or CSV)',
  // Key checks: a whole row keeps Type; an export of fewer columns, the method and who called it or on what.
  detect: (r) =>
    r.Type === 'GCPAuditLogs' || ('MethodName' in r && ('PrincipalEmail' in r || 'GCPResourceName' in r)),
  normalize: normalizeRow,
};
