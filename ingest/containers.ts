import { cloudwatchLogs } from './containers/cloudwatch-logs.js';
import { eventbridge } from './containers/eventbridge.js';
import { filterLogEvents } from './containers/filter-log-events.js';
import { items } from './containers/items.js';
import { kinesis } from './containers/kinesis.js';
import { logAnalyticsTables } from './containers/log-analytics.js';
import { lookupEvents } from './containers/lookup-events.js';
import { queueMessages } from './containers/queue-messages.js';

/**
 * Containers wrap records: the CloudTrail S3 file `{"Records":[...]}`, Event Hub bodies `{"records":[...]}`,
 * a JSON array. Each container is one entry in CONTAINERS; unwrapping is repeated, so a container may hold
 * another (a Kinesis record holding a CloudWatch Logs payload holding CloudTrail records).
 */

export type Unwrapped =
  | { readonly value: unknown; readonly position?: string }
  | { readonly error: string; readonly position?: string }
  /** Not damage, just not ours (a CloudWatch Logs control message): counted, not quarantined. */
  | { readonly skip: string; readonly position?: string };

export interface Container {
  readonly id: string;
  /** Does this parsed JSON object wrap records? Key checks only. */
  match(doc: Record<string, unknown>): boolean;
  /** The items inside, each a JSON value, a JSON text to parse, or an error. */
  unwrap(doc: Record<string, unknown>): Iterable<Unwrapped>;
}

/** CloudTrail's S3 delivery file: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html */
export const cloudtrailFile: Container = {
  id: 'cloudtrail-file',
  match: (d) => 'Records' in d && Array.isArray(d.Records),
  unwrap: (d) => items(d.Records, 'Records'),
};

/** Azure diagnostic logs as Event Hub bodies and as archived JSON: `{"records":[...]}`. */
export const azureRecords: Container = {
  id: 'azure-records',
  match: (d) => 'records' in d && Array.isArray(d.records),
  unwrap: (d) => items(d.records, 'records'),
};

/** Every container, in the order they are tried. Add a container here with one line. */
export const CONTAINERS: readonly Container[] = [
  lookupEvents,
  cloudwatchLogs,
  filterLogEvents,
  kinesis,
  queueMessages,
  eventbridge,
  logAnalyticsTables,
  cloudtrailFile,
  azureRecords,
];

export type Expanded =
  | { readonly record: Record<string, unknown>; readonly position: string }
  | { readonly error: string; readonly position: string }
  | { readonly skip: string; readonly position: string };

const MAX_DEPTH = 6;

/** Unwraps a parsed JSON value into the records it holds, depth-first, keeping each one's position. */
export function* expand(
  value: unknown,
  position: string,
  containers: readonly Container[] = CONTAINERS,
  depth = 0,
): Generator<Expanded> {
  if (depth > MAX_DEPTH) {
    yield { error: 'containers nested too deep', position };
    return;
  }
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      yield { error: 'embedded text is not JSON', position };
      return;
    }
    yield* expand(parsed, position, containers, depth + 1);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      yield* expand(value[i], `${position} [${i}]`, containers, depth + 1);
    return;
  }
  if (value === null || typeof value !== 'object') {
    yield { error: `not a JSON object (${value === null ? 'null' : typeof value})`, position };
    return;
  }
  const doc = value as Record<string, unknown>;
  for (const c of containers) {
    if (!c.match(doc)) continue;
    for (const item of c.unwrap(doc)) {
      const pos = item.position ? `${position} ${item.position}` : position;
      if ('error' in item) yield { error: `${c.id}: ${item.error}`, position: pos };
      else if ('skip' in item) yield { skip: item.skip, position: pos };
      else yield* expand(item.value, pos, containers, depth + 1);
    }
    return;
  }
  yield { record: doc, position };
}
