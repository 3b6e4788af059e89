import { z } from 'zod';
import { once } from '../../core/once.js';
import { accountTargets, clientConfig, pagedWindows, WindowOptions } from './aws.js';
import { defineLiveSource, type LiveRecord, type LiveStream } from './source.js';

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html:
// "two per second, per account, per Region", "a maximum of 50" results a page, one lookup attribute.
const MAX_RPS = 2;
const PAGE_SIZE = 50;

export const EVENT_SOURCES = ['secretsmanager', 'kms', 'ssm'] as const;

const Config = z.strictObject({
  regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region like us-east-1')).min(1),
  /** One lookup per event source (LookupEvents takes a single attribute). */
  eventSources: z
    .array(z.enum(EVENT_SOURCES))
    .min(1)
    .default([...EVENT_SOURCES]),
  /** Request budget per account and region, shared by its lookups. */
  requestsPerSecond: z.number().positive().max(MAX_RPS).default(MAX_RPS),
  ...WindowOptions,
});

/**
 * CloudTrail event history through `LookupEvents`: per account, region and event source, pages of 50,
 * newest first within a window. Windows are read in slices, oldest first; the checkpoint moves to a
 * slice's end after its last page, and each poll re-reads `overlap` before it for late events.
 */
export const cloudtrailLookup = defineLiveSource({
  type: 'cloudtrail-lookup',
  description: 'CloudTrail event history (LookupEvents) per account, region and event source',
  config: Config,
  create(config, deps) {
    const streams: LiveStream[] = [];
    for (const region of config.regions) {
      for (const target of accountTargets(config.accounts, region)) {
        // The SDK is loaded on the first poll: loading it costs every command about 0.2 s.
        const cloudtrail = once(async () => {
          const sdk = await import('@aws-sdk/client-cloudtrail');
          return { sdk, client: new sdk.CloudTrailClient(clientConfig(region, target, config.endpoint)) };
        });
        const budget = deps.budgets.get(`aws:${target.label}:${region}:cloudtrail`, config.requestsPerSecond);
        for (const service of config.eventSources) {
          const id = `cloudtrail-lookup:${target.label}:${region}:${service}`;
          streams.push({
            id,
            type: 'cloudtrail-lookup',
            pollIntervalMs: config.pollInterval,
            timeRanged: true,
            poll: (ctx) =>
              pagedWindows(ctx, id, config, budget, async (start, end, token) => {
                const { sdk, client } = await cloudtrail();
                const page = await client.send(
                  new sdk.LookupEventsCommand({
                    LookupAttributes: [
                      { AttributeKey: 'EventSource', AttributeValue: `${service}.amazonaws.com` },
                    ],
                    StartTime: new Date(start),
                    EndTime: new Date(end),
                    MaxResults: PAGE_SIZE,
                    NextToken: token,
                  }),
                );
                const records: LiveRecord[] = (page.Events ?? []).map((e, i) => {
                  const position = `event ${e.EventId ?? `#${i}`}`;
                  return e.CloudTrailEvent
                    ? { value: e.CloudTrailEvent, position }
                    : { error: 'lookup result without CloudTrailEvent', position };
                });
                return { records, token: page.NextToken || undefined };
              }),
          });
        }
      }
    }
    return streams;
  },
});
