import type { Container, Unwrapped } from '../containers.js';
import { isObject, items } from './items.js';
import { originalText } from './original-text.js';

/**
 * Elasticsearch and OpenSearch documents as exported: a `_search` or scroll response
 * `{"took":..,"hits":{"total":..,"hits":[..]}}`, and hits one per line or in an array, as elasticdump and
 * scroll exports write them, `{"_index":..,"_id":..,"_source":{..}}`. A `_source` indexed as the provider
 * wrote it (a CloudTrail record, an AuditEvent, a LogEntry) is the record. An ECS document (one with an
 * `event` object, as Elastic's integrations and Logstash write) re-maps the record into other fields and
 * loses some: it is read from `event.original`, the record's text, which the integrations keep when
 * `preserve_original_event` is on.
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/search-search.html#search-api-response-body,
 * https://www.elastic.co/guide/en/ecs/current/ecs-event.html#field-event-original
 */
export const elasticsearchHits: Container = {
  id: 'elasticsearch-hits',
  match: (d) => '_index' in d || ('hits' in d && isObject(d.hits) && Array.isArray(d.hits.hits)),
  *unwrap(d): Iterable<Unwrapped> {
    if ('_index' in d) yield hit(d);
    else yield* items((d.hits as Record<string, unknown>).hits, 'hits.hits');
  },
};

function hit(d: Record<string, unknown>): Unwrapped {
  // A search with `"_source": false`, or only `fields`, returns hits without it.
  if (!('_source' in d)) return { error: 'hit without _source: export the documents with their _source' };
  const source = d._source;
  if (!isObject(source)) return { error: '_source is not an object', position: '_source' };
  const event = isObject(source.event) ? source.event : undefined;
  // Some shippers index ECS field names as dotted keys rather than as objects.
  if (!event && !('event.original' in source)) {
    // Filebeat or Logstash without a parsing pipeline keeps each line as `message`, beside its own fields.
    if (typeof source.message === 'string' && '@timestamp' in source) return shipped(source.message);
    return { value: source, position: '_source' };
  }
  const original = event && 'original' in event ? event.original : source['event.original'];
  const position = '_source.event.original';
  if (original === undefined) {
    // A pipeline that did not keep event.original may still have left the line in `message`.
    if (typeof source.message === 'string' && source.message.trimStart().startsWith('{'))
      return shipped(source.message);
    return {
      error: 'ECS document without event.original: enable preserve_original_event or export the raw logs',
      position: '_source',
    };
  }
  if (typeof original !== 'string') return { error: 'event.original is not text', position };
  return originalText(original, position, {
    notJson: 'elasticsearch event.original is not JSON',
    damaged: 'event.original is not valid JSON',
  });
}

/** The line a shipper kept as `message`: a record when it is JSON, another log's line when it is not. */
function shipped(message: string): Unwrapped {
  return originalText(message, '_source.message', {
    notJson: 'elasticsearch message is not JSON',
    damaged: 'message is not valid JSON',
  });
}
