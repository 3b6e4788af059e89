import type { Container, Unwrapped } from '../containers.js';
import { base64Json, isObject } from './items.js';

/**
 * Google Cloud Pub/Sub messages, the way a log sink's entries leave a topic: a push subscription's
 * request body `{"message":{"data":"<base64>",...},"subscription":...}`, an entry of
 * `gcloud pubsub subscriptions pull --format=json` (`{"ackId":...,"message":{...}}`), and the REST pull
 * response `{"receivedMessages":[...]}`. `data` is the LogEntry's JSON, base64-encoded.
 * https://cloud.google.com/pubsub/docs/reference/rest/v1/PubsubMessage,
 * https://cloud.google.com/pubsub/docs/push#receive_push
 */
export const pubsub: Container = {
  id: 'pubsub-message',
  match: (d) =>
    Array.isArray(d.receivedMessages) ||
    (isObject(d.message) &&
      typeof d.message.data === 'string' &&
      ('subscription' in d || 'ackId' in d || 'messageId' in d.message || 'message_id' in d.message)),
  *unwrap(d): Iterable<Unwrapped> {
    if (Array.isArray(d.receivedMessages)) {
      for (let i = 0; i < d.receivedMessages.length; i++) {
        const m: unknown = d.receivedMessages[i];
        const data = isObject(m) && isObject(m.message) ? m.message.data : undefined;
        yield messageData(data, `receivedMessages[${i}].message.data`);
      }
      return;
    }
    yield messageData((d.message as Record<string, unknown>).data, 'message.data');
  },
};

function messageData(data: unknown, position: string): Unwrapped {
  if (typeof data !== 'string') return { error: 'message without data', position };
  return base64Json(data, position, 'pub/sub message');
}
