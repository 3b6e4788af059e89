import type { Container, Unwrapped } from '../containers.js';
import { decodeBase64Payload, isObject } from './items.js';

/**
 * A Kinesis Data Streams record as Lambda sees it, `{"kinesis":{"data":"<base64>"}}`: the data is a
 * gzip CloudWatch Logs subscription payload, or a JSON record put on the stream directly.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
 */
export const kinesis: Container = {
  id: 'kinesis-record',
  match: (d) => isObject(d.kinesis) && typeof d.kinesis.data === 'string',
  *unwrap(d): Iterable<Unwrapped> {
    const decoded = decodeBase64Payload((d.kinesis as Record<string, unknown>).data as string);
    if ('error' in decoded) {
      yield { error: decoded.error, position: 'kinesis.data' };
      return;
    }
    try {
      yield { value: JSON.parse(decoded.text), position: 'kinesis.data' };
    } catch {
      yield { error: 'kinesis.data is not JSON', position: 'kinesis.data' };
    }
  },
};
