import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';
import { originalText } from './original-text.js';

/**
 * Splunk search results as exported. The export endpoint (`/services/search/jobs/export?output_mode=json`)
 * and `splunk search ... -output json` write a line per result,
 * `{"preview":false,"offset":N,"result":{"_raw":..,"_time":..,"sourcetype":..}}`, with `"lastrow":true`
 * on the last and lines of only `messages` between; a job's results (`output_mode=json`) are one document
 * `{"preview":false,"init_offset":0,"messages":[..],"fields":[..],"results":[..]}`. The record is `_raw`,
 * the event as it was indexed; the fields Splunk extracted from it are not read. Preview results (a
 * running or real-time search) are read too: a record read twice keeps its id, and is stored once.
 * https://docs.splunk.com/Documentation/Splunk/latest/RESTREF/RESTsearch#search.2Fjobs.2Fexport
 */
export const splunkExport: Container = {
  id: 'splunk-export',
  match: (d) => typeof d.preview === 'boolean' || ('messages' in d && Object.keys(d).length === 1),
  *unwrap(d): Iterable<Unwrapped> {
    yield* searchMessages(d.messages);
    if ('result' in d) yield raw(d.result, 'result');
    else if (Array.isArray(d.results))
      for (let i = 0; i < d.results.length; i++) yield raw(d.results[i], `results[${i}]`);
    else if ('rows' in d || 'columns' in d)
      yield { error: 'output_mode json_rows or json_cols is not read: export with output_mode=json' };
  },
};

/** A search that failed on the way (a peer down, a FATAL error) says so in a message: its export lacks results. */
function* searchMessages(messages: unknown): Iterable<Unwrapped> {
  if (!Array.isArray(messages)) return;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const type = isObject(m) ? m.type : undefined;
    if (type === 'FATAL' || type === 'ERROR')
      yield { error: `search reported ${type}: the export may be incomplete`, position: `messages[${i}]` };
  }
}

function raw(result: unknown, position: string): Unwrapped {
  if (!isObject(result)) return { error: 'result is not an object', position };
  // `| table`, `| fields` and `| stats` keep the fields Splunk extracted, a lossy copy, and drop `_raw`.
  if (!('_raw' in result)) return { error: 'result without _raw: export the raw events', position };
  if (typeof result._raw !== 'string') return { error: '_raw is not text', position: `${position}._raw` };
  const item = originalText(result._raw, `${position}._raw`, {
    notJson: 'splunk _raw is not JSON',
    // Splunk cuts an event at TRUNCATE (10,000 bytes unless the sourcetype sets more) when it indexes it.
    damaged: '_raw is not valid JSON (cut by the sourcetype TRUNCATE limit?)',
  });
  return 'value' in item ? pubsubMessage(item.value, item.position ?? position) : item;
}

/**
 * The Splunk Add-on for Google Cloud Platform indexes a Pub/Sub message of a log sink as
 * `{"publish_time":<seconds>,"data":<the LogEntry>,"attributes":{..}}`, its data decoded and, when it is
 * JSON, parsed; data that is not JSON stays text.
 */
function pubsubMessage(value: unknown, position: string): Unwrapped {
  if (!isObject(value) || typeof value.publish_time !== 'number' || !('data' in value))
    return { value, position };
  if (typeof value.data === 'string') return { skip: 'splunk pub/sub message data is not JSON', position };
  return { value: value.data, position: `${position}.data` };
}
