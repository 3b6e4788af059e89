import { cloudtrail } from './cloudtrail.js';
import { column, timeGenerated } from './log-analytics.js';
import { invalid, type NormalizeResult, type Source } from './source.js';

/**
 * CloudTrail records as rows of Microsoft Sentinel's `AWSCloudTrail` Log Analytics table, exported as JSON
 * (query API rows, `az monitor log-analytics query`) or CSV (the portal's export). Each row is rebuilt as the
 * CloudTrail record it came from (`TimeGenerated` is its `eventTime`, `AwsEventId` its `eventID`, the
 * `UserIdentity*`, `SessionIssuer*` columns its `userIdentity`) and mapped by the cloudtrail source, so a
 * record has the same event (and id) whichever way it was exported, and rows of other services are skipped
 * as cloudtrail skips them. The JSON columns are handed on as text: cloudtrail parses them only for the
 * services it reads. Columns no rule reads, reformatted by the table (`SessionMfaAuthenticated`,
 * `SessionCreationDate`, `ReadOnly`), or Sentinel's own (`TenantId`, TLS details) are not carried over.
 * The table keeps no `sourceIdentity`: a role session named by one alone reads as the role, not the person.
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/awscloudtrail
 */

const LABEL = 'cloudtrail-loganalytics';

/** CloudTrail field → the column holding it. */
const RECORD: Record<string, string> = {
  eventVersion: 'EventVersion',
  eventSource: 'EventSource',
  eventName: 'EventName',
  eventType: 'EventTypeName',
  awsRegion: 'AWSRegion',
  sourceIPAddress: 'SourceIpAddress',
  userAgent: 'UserAgent',
  errorCode: 'ErrorCode',
  errorMessage: 'ErrorMessage',
  eventID: 'AwsEventId',
  apiVersion: 'APIVersion',
  recipientAccountId: 'RecipientAccountId',
  sharedEventID: 'SharedEventId',
  vpcEndpointId: 'VpcEndpointId',
};
const IDENTITY: Record<string, string> = {
  type: 'UserIdentityType',
  principalId: 'UserIdentityPrincipalid',
  arn: 'UserIdentityArn',
  accountId: 'UserIdentityAccountId',
  accessKeyId: 'UserIdentityAccessKeyId',
  userName: 'UserIdentityUserName',
  invokedBy: 'UserIdentityInvokedBy',
};
const SESSION_ISSUER: Record<string, string> = {
  type: 'SessionIssuerType',
  principalId: 'SessionIssuerPrincipalId',
  arn: 'SessionIssuerArn',
  accountId: 'SessionIssuerAccountId',
  userName: 'SessionIssuerUserName',
};
const ON_BEHALF_OF: Record<string, string> = {
  userId: 'UserIdentityUserId',
  identityStoreArn: 'UserIdentityStoreArn',
};

/** CloudTrail field, its column, and the JSON value the field holds. */
const JSON_COLUMNS = [
  ['requestParameters', 'RequestParameters', 'object'],
  ['responseElements', 'ResponseElements', 'any'],
  ['additionalEventData', 'AdditionalEventData', 'object'],
  ['serviceEventDetails', 'ServiceEventDetails', 'object'],
  ['resources', 'Resources', 'array'],
] as const;

/** No value: the query API and CSV write an empty cell as `""` or null, a JSON column may hold `null`. */
const empty = (v: unknown) => v === undefined || v === null || v === '' || v === 'null';

/** The fields whose columns hold a value, or undefined when none does (the record had no such object). */
function pick(
  row: Record<string, unknown>,
  columns: Record<string, string>,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const field in columns) {
    const v = column(row, columns[field]!);
    if (v !== undefined) (out ??= {})[field] = v;
  }
  return out;
}

function rebuild(row: Record<string, unknown>, eventTime: string | undefined): Record<string, unknown> {
  const record: Record<string, unknown> = pick(row, RECORD) ?? {};
  if (eventTime) record.eventTime = eventTime;
  // AwsRequestId is deprecated for AwsRequestId_; older rows have only the first.
  const requestID = column(row, 'AwsRequestId_') ?? column(row, 'AwsRequestId');
  if (requestID) record.requestID = requestID;
  for (const [field, name] of JSON_COLUMNS) {
    const v = row[name];
    // Text, or an object when the query parsed it (`parse_json`).
    if (!empty(v)) record[field] = v;
  }
  const identity = pick(row, IDENTITY);
  const sessionIssuer = pick(row, SESSION_ISSUER);
  const onBehalfOf = pick(row, ON_BEHALF_OF);
  if (identity || sessionIssuer || onBehalfOf) {
    record.userIdentity = {
      ...identity,
      ...(sessionIssuer && { sessionContext: { sessionIssuer } }),
      ...(onBehalfOf && { onBehalfOf }),
    };
  }
  return record;
}

/** Why cloudtrail could not read a row, by column: a required one empty, or a JSON one damaged. */
function columnProblem(row: Record<string, unknown>): string | undefined {
  for (const name of ['EventSource', 'EventName'])
    if (column(row, name) === undefined) return `${name} missing`;
  for (const [, name, shape] of JSON_COLUMNS) {
    let v = row[name];
    if (empty(v)) continue;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        return `${name} is not JSON`;
      }
    }
    if (shape === 'array' && !Array.isArray(v)) return `${name} is not a JSON array`;
    if (shape === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v)))
      return `${name} is not a JSON object`;
  }
  return undefined;
}

function normalizeRow(row: Record<string, unknown>): NormalizeResult {
  const time = timeGenerated(row, LABEL);
  const result = cloudtrail.normalize(rebuild(row, typeof time === 'string' ? time : undefined));
  // Events, or a skip: a row of another service is not ours, whatever else is wrong with it.
  if (result.kind !== 'invalid') return result;
  if (typeof time !== 'string') return time;
  const problem = columnProblem(row);
  return invalid(problem ? `${LABEL}: ${problem}` : result.reason.replace(/^cloudtrail:/, `${LABEL}:`));
}

export const cloudtrailLogAnalytics: Source = {
  id: 'cloudtrail-loganalytics',
  provider: 'aws',
  description:
    'AWS CloudTrail rows exported from the AWSCloudTrail Log Analytics table of Microsoft Sentinel (JSON or CSV)',
  // Two key checks: every AWSCloudTrail row has AwsEventId, an export of fewer columns keeps Type.
  detect: (r) => 'AwsEventId' in r || r.Type === 'AWSCloudTrail',
  normalize: normalizeRow,
};
