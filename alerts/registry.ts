import { consoleSink } from './console.js';
import { ndjsonSink } from './ndjson.js';
import type { SinkType } from './sink.js';
import { slackSink } from './slack.js';
import { snsSink } from './sns.js';
import { webhookSink } from './webhook.js';

/** Every kind of sink. Add a sink here with one line. */
export const SINK_TYPES: readonly SinkType[] = [consoleSink, ndjsonSink, slackSink, snsSink, webhookSink];

export function sinkType(type: string): SinkType | undefined {
  return SINK_TYPES.find((s) => s.type === type);
}
