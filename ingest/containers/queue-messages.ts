import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';

/**
 * Records that arrive through a queue or topic: an SQS message as Lambda sees it (`body`), an SNS
 * notification (`Message`), and a Lambda SNS record (`Sns.Message`). The text inside is parsed again,
 * so an EventBridge event or a CloudTrail record delivered through SQS is read like any other.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
 */
export const queueMessages: Container = {
  id: 'queue-message',
  match: (d) =>
    (d.eventSource === 'aws:sqs' && typeof d.body === 'string') ||
    (d.Type === 'Notification' && typeof d.Message === 'string') ||
    (isObject(d.Sns) && typeof d.Sns.Message === 'string'),
  *unwrap(d): Iterable<Unwrapped> {
    const text = (
      typeof d.body === 'string'
        ? d.body
        : typeof d.Message === 'string'
          ? d.Message
          : (d.Sns as { Message: string }).Message
    ).trimStart();
    if (text[0] !== '{' && text[0] !== '[') {
      yield { skip: 'queue message is not JSON' };
      return;
    }
    yield { value: text, position: typeof d.body === 'string' ? 'body' : 'Message' };
  },
};
