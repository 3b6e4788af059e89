import { azureValueList } from './containers/azure-value-list.js';
import { bigqueryApi } from './containers/bigquery-api.js';
import { cloudEvent } from './containers/cloudevent.js';
import { cloudtrailDigest } from './containers/cloudtrail-digest.js';
import { cloudtrailLake } from './containers/cloudtrail-lake.js';
import { cloudwatchLogs } from './containers/cloudwatch-logs.js';
import { elasticsearchHits } from './containers/elasticsearch.js';
import { eventbridge } from './containers/eventbridge.js';
import { filterLogEvents } from './containers/filter-log-events.js';
import { items } from './containers/items.js';
import { kinesis } from './containers/kinesis.js';
import { logAnalyticsTables } from './containers/log-analytics.js';
import { loggingEntries } from './containers/logging-entries.js';
import { lookupEvents } from './containers/lookup-events.js';
import { pubsub } from './containers/pubsub.js';
import { queueMessages } from './containers/queue-messages.js';
import { splunkExport } from './containers/splunk.js';

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
  /**
   * A container that is one array under one key says so: its items are then read straight from the
   * array, each at `KEY[i]`, the same as `unwrap` would give, without an object per item.
   */
  readonly list?: string;
}

/** CloudTrail's S3 delivery file: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html */
export const cloudtrailFile: Container = {
  id: 'cloudtrail-file',
  match: (d) => 'Records' in d && Array.isArray(d.Records),
  unwrap: (d) => items(d.Records, 'Records'),
  list: 'Records',
};

/** Azure diagnostic logs as Event Hub bodies and as archived JSON: `{"records":[...]}`. */
export const azureRecords: Container = {
  id: 'azure-records',
  match: (d) => 'records' in d && Array.isArray(d.records),
  unwrap: (d) => items(d.records, 'records'),
  list: 'records',
};

/** Every container, in the order they are tried. Add a container here with one line. */
export const CONTAINERS: readonly Container[] = [
  lookupEvents,
  cloudtrailLake,
  cloudtrailDigest,
  cloudwatchLogs,
  filterLogEvents,
  kinesis,
  queueMessages,
  pubsub,
  eventbridge,
  cloudEvent,
  logAnalyticsTables,
  bigqueryApi,
  cloudtrailFile,
  azureRecords,
  azureValueList,
  loggingEntries,
  splunkExport,
  elasticsearchHits,
];

/**
 * Where a value is in its input: text, a line number (`line N`), or an item of a list inside another
 * position. Only a quarantine entry needs the text, so it is built then (`positionText`), not per record.
 */
export type Position = string | number | Item;

class Item {
  constructor(
    readonly parent: Position,
    /** `KEY[i]` for a container's list, `[i]` for a bare array. */
    readonly key: string,
    readonly index: number,
  ) {}
}

export function positionText(p: Position): string {
  if (typeof p === 'string') return p;
  if (typeof p === 'number') return `line ${p}`;
  return `${positionText(p.parent)} ${p.key}[${p.index}]`;
}

/** What expansion finds, handed over as it is found. */
export interface ExpandVisitor {
  record(record: Record<string, unknown>, position: Position): void;
  error(error: string, position: Position): void;
  skip(reason: string, position: Position): void;
}

const MAX_DEPTH = 6;

/** Unwraps a parsed JSON value into the records it holds, depth-first, keeping each one's position. */
export function expandInto(
  value: unknown,
  position: Position,
  containers: readonly Container[],
  visit: ExpandVisitor,
  depth = 0,
): void {
  if (depth > MAX_DEPTH) {
    visit.error('containers nested too deep', position);
    return;
  }
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      visit.error('embedded text is not JSON', position);
      return;
    }
    expandInto(parsed, position, containers, visit, depth + 1);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      expandInto(value[i], new Item(position, '', i), containers, visit, depth + 1);
    return;
  }
  if (value === null || typeof value !== 'object') {
    visit.error(`not a JSON object (${value === null ? 'null' : typeof value})`, position);
    return;
  }
  const doc = value as Record<string, unknown>;
  for (const c of containers) {
    if (!c.match(doc)) continue;
    const list = c.list === undefined ? undefined : doc[c.list];
    if (Array.isArray(list)) {
      for (let i = 0; i < list.length; i++)
        expandInto(list[i], new Item(position, c.list!, i), containers, visit, depth + 1);
      return;
    }
    for (const item of c.unwrap(doc)) {
      const pos = item.position ? `${positionText(position)} ${item.position}` : position;
      if ('error' in item) visit.error(`${c.id}: ${item.error}`, pos);
      else if ('skip' in item) visit.skip(item.skip, pos);
      else expandInto(item.value, pos, containers, visit, depth + 1);
    }
    return;
  }
  visit.record(doc, position);
}
