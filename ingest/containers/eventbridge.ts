import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';

const CLOUDTRAIL_DETAIL = new Set(['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail']);

/**
 * EventBridge events carrying a CloudTrail record in `detail`. The envelope's fields fill what an
 * abridged detail leaves out: `source` `aws.secretsmanager` is eventSource `secretsmanager.amazonaws.com`.
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html
 */
export const eventbridge: Container = {
  id: 'eventbridge',
  match: (d) => typeof d['detail-type'] === 'string' && 'detail' in d && 'source' in d,
  *unwrap(d): Iterable<Unwrapped> {
    const type = d['detail-type'] as string;
    if (!CLOUDTRAIL_DETAIL.has(type)) {
      yield { skip: `eventbridge: other detail-type: ${type.slice(0, 60)}` };
      return;
    }
    if (!isObject(d.detail)) {
      yield { error: 'detail is not an object', position: 'detail' };
      return;
    }
    const source = typeof d.source === 'string' ? d.source : '';
    const record: Record<string, unknown> = {
      eventSource: source.startsWith('aws.') ? `${source.slice(4)}.amazonaws.com` : undefined,
      eventTime: d.time,
      awsRegion: d.region,
      recipientAccountId: d.account,
      eventID: d.id,
      ...d.detail,
    };
    for (const k of Object.keys(record)) if (record[k] === undefined) delete record[k];
    yield { value: record, position: 'detail' };
  },
};
