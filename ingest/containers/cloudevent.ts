import type { Container, Unwrapped } from '../containers.js';
import { base64Json } from './items.js';

/**
 * A CloudEvent in structured mode (`{"specversion":"1.0","type":...,"data":...}`), as Eventarc delivers
 * Cloud Audit Logs entries (`google.cloud.audit.log.v1.written`, `data` is the LogEntry) and as Azure
 * Event Grid's CloudEvents schema does. `data_base64` is read too.
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md,
 * https://cloud.google.com/eventarc/docs/cloudevents
 */
export const cloudEvent: Container = {
  id: 'cloudevent',
  match: (d) => typeof d.specversion === 'string' && ('data' in d || 'data_base64' in d),
  *unwrap(d): Iterable<Unwrapped> {
    if ('data' in d) {
      yield { value: d.data, position: 'data' };
      return;
    }
    if (typeof d.data_base64 !== 'string') {
      yield { error: 'data_base64 is not text', position: 'data_base64' };
      return;
    }
    yield base64Json(d.data_base64, 'data_base64', 'cloudevent data');
  },
};
