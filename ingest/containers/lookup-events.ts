import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';

/**
 * `aws cloudtrail lookup-events` output: `{"Events":[{"EventId":..,"CloudTrailEvent":"<JSON text>"}]}`.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 */
export const lookupEvents: Container = {
  id: 'cloudtrail-lookup-events',
  match: (d) => Array.isArray(d.Events) && (d.Events.length === 0 || isObject(d.Events[0])),
  *unwrap(d): Iterable<Unwrapped> {
    const list = d.Events as unknown[];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      const position = `Events[${i}]`;
      const text = isObject(e) ? e.CloudTrailEvent : undefined;
      if (typeof text === 'string') yield { value: text, position };
      else yield { error: 'CloudTrailEvent is missing', position };
    }
  },
};
