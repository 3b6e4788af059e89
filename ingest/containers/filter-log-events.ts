import type { Container, Unwrapped } from '../containers.js';
import { isObject, logMessage } from './items.js';

/**
 * `aws logs filter-log-events` / `get-log-events` output: `{"events":[{"message":"<record JSON>",..}]}`.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
export const filterLogEvents: Container = {
  id: 'cloudwatch-logs-events',
  match: (d) =>
    Array.isArray(d.events) &&
    (d.events.length === 0
      ? 'searchedLogStreams' in d || 'nextForwardToken' in d
      : isObject(d.events[0]) && 'message' in d.events[0]),
  *unwrap(d): Iterable<Unwrapped> {
    const list = d.events as unknown[];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      yield logMessage(isObject(e) ? e.message : undefined, `events[${i}]`);
    }
  },
};
