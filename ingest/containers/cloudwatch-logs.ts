import type { Container, Unwrapped } from '../containers.js';
import { decodeBase64Payload, isObject, logMessage } from './items.js';

/**
 * CloudWatch Logs subscription payloads: the Lambda event `{"awslogs":{"data":"<base64 gzip>"}}` and the
 * decoded JSON `{"messageType":"DATA_MESSAGE","logEvents":[{"message":..}]}`. Each log event's message
 * is one CloudTrail record when the trail delivers to CloudWatch Logs. CONTROL_MESSAGE checks that the
 * destination is reachable and carries no events.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 */
export const cloudwatchLogs: Container = {
  id: 'cloudwatch-logs-subscription',
  match: (d) =>
    (isObject(d.awslogs) && typeof d.awslogs.data === 'string') ||
    (typeof d.messageType === 'string' && 'logEvents' in d),
  *unwrap(d): Iterable<Unwrapped> {
    if (isObject(d.awslogs)) {
      const decoded = decodeBase64Payload(d.awslogs.data as string);
      if ('error' in decoded) {
        yield { error: decoded.error, position: 'awslogs.data' };
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(decoded.text);
      } catch {
        yield { error: 'decoded awslogs.data is not JSON', position: 'awslogs.data' };
        return;
      }
      yield { value: payload, position: 'awslogs.data' };
      return;
    }
    if (d.messageType === 'CONTROL_MESSAGE') {
      yield { skip: 'cloudwatch logs control message' };
      return;
    }
    if (d.messageType !== 'DATA_MESSAGE') {
      yield { error: `unknown messageType ${String(d.messageType).slice(0, 40)}` };
      return;
    }
    if (!Array.isArray(d.logEvents)) {
      yield { error: 'logEvents is not an array' };
      return;
    }
    for (let i = 0; i < d.logEvents.length; i++) {
      const e = d.logEvents[i];
      yield logMessage(isObject(e) ? e.message : undefined, `logEvents[${i}]`);
    }
  },
};
