import { normalizeActivityRecord, otherOperation } from './azure-activity.js';
import { column, jsonColumn, timeGenerated } from './log-analytics.js';
import { invalid, type NormalizeResult, type Source } from './source.js';

/**
 * Azure Activity Log entries exported from the `AzureActivity` Log Analytics table, as JSON (query API
 * rows, `az monitor log-analytics query`) or CSV (the portal's export): `OperationNameValue`,
 * `ActivityStatusValue`, `ActivitySubstatusValue`, `Caller`, `CallerIpAddress`, `CorrelationId`,
 * `EventDataId`, `ResourceId` / `_ResourceId`, `SubscriptionId`, and the JSON columns `Claims_d` / `Claims`,
 * `Properties_d` / `Properties` and `HTTPRequest` (objects, or their text as the query API and CSV write them).
 * Each row is rebuilt as the Activity Log entry it came from and mapped by the azure-activity source, so an
 * operation has the same event (and id) whichever way it was exported. `TenantId` names the workspace,
 * not the caller's tenant: it is not read.
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/azureactivity
 */

const LABEL = 'azure-activity-loganalytics';

/** The first non-empty of the named JSON columns as an object, null when all are empty; the column's name when it holds no JSON object. */
function objectColumn(
  row: Record<string, unknown>,
  ...names: string[]
): Record<string, unknown> | null | string {
  for (const n of names) {
    const v = jsonColumn(row[n], 'object');
    if (v !== undefined) return v === null ? n : (v as Record<string, unknown>);
  }
  return null;
}

const notJson = (name: string) => invalid(`${LABEL}: ${name} is not a JSON object`);

function normalizeRow(row: Record<string, unknown>): NormalizeResult {
  const op = column(row, 'OperationNameValue');
  if (!op) return invalid(`${LABEL}: OperationNameValue missing`);
  const resourceId = column(row, 'ResourceId', '_ResourceId');
  // Other providers' rows are skipped before their JSON columns are read: not ours, not damaged.
  const other = otherOperation(op, resourceId);
  if (other) return other;
  if (!resourceId) return invalid(`${LABEL}: ResourceId missing`);
  const time = timeGenerated(row, LABEL);
  if (typeof time !== 'string') return time;
  const claims = objectColumn(row, 'Claims_d', 'Claims');
  if (typeof claims === 'string') return notJson(claims);
  const properties = objectColumn(row, 'Properties_d', 'Properties');
  if (typeof properties === 'string') return notJson(properties);
  const http = objectColumn(row, 'HTTPRequest');
  if (typeof http === 'string') return notJson(http);
  const statusCode = properties?.statusCode;
  const clientIp = http?.clientIpAddress;
  return normalizeActivityRecord(
    {
      time,
      resourceId,
      operationName: op,
      resultType: column(row, 'ActivityStatusValue', 'ActivityStatus'),
      subStatus: column(row, 'ActivitySubstatusValue', 'ActivitySubstatus'),
      caller: column(row, 'Caller'),
      callerIpAddress:
        column(row, 'CallerIpAddress') ?? (typeof clientIp === 'string' ? clientIp : undefined),
      correlationId: column(row, 'CorrelationId'),
      eventDataId: column(row, 'EventDataId'),
      claims,
      properties: { statusCode: typeof statusCode === 'string' ? statusCode : undefined },
      subscriptionId: column(row, 'SubscriptionId', '_SubscriptionId'),
    },
    LABEL,
  );
}

export const azureActivityLogAnalytics: Source = {
  id: 'azure-activity-loganalytics',
  provider: 'azure',
  description:
    'Azure Activity Log rows exported from the AzureActivity Log Analytics table (JSON or CSV): Key Vault operations and role assignments on vaults',
  // Two key checks: every AzureActivity row has OperationNameValue, an export of fewer columns keeps Type.
  detect: (r) => 'OperationNameValue' in r || r.Type === 'AzureActivity',
  normalize: normalizeRow,
};
