import { z } from 'zod';
import { once } from '../../core/once.js';
import { accountTargets, clientConfig, pagedWindows, WindowOptions } from './aws.js';
import { defineLiveSource, type LiveStream } from './source.js';

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html:
// FilterLogEvents, 5 transactions per second per account and Region.
const MAX_RPS = 5;
// FilterLogEvents returns at most 10,000 events (1 MB) a page.
const PAGE_LIMIT = 10_000;

/** CloudTrail records of the services vigil reads, in CloudWatch Logs filter pattern syntax. */
export const DEFAULT_FILTER_PATTERN =
  '{ ($.eventSource = "secretsmanager.amazonaws.com") || ($.eventSource = "kms.amazonaws.com") || ($.eventSource = "ssm.amazonaws.com") }';

const Config = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region like us-east-1'),
  /** Log group names, or ARNs (for groups shared from another account). */
  logGroups: z.array(z.string().min(1)).min(1),
  filterPattern: z.string().min(1).default(DEFAULT_FILTER_PATTERN),
  requestsPerSecond: z.number().positive().max(MAX_RPS).default(MAX_RPS),
  ...WindowOptions,
});

/**
 * A trail delivered to CloudWatch Logs: `FilterLogEvents` per log group with a pattern that keeps secret
 * events, paged until `nextToken` disappears (a page may be empty and still carry a token). Each log
 * event's message is one CloudTrail record. Checkpoint per log group.
 */
export const cloudwatchLogs = defineLiveSource({
  type: 'cloudwatch-logs',
  description: 'CloudTrail records in CloudWatch Logs (FilterLogEvents), per log group',
  config: Config,
  create(config, deps) {
    const streams: LiveStream[] = [];
    for (const target of accountTargets(config.accounts, config.region)) {
      // The SDK is loaded on the first poll: loading it costs every command about 0.2 s.
      const logs = once(async () => {
        const sdk = await import('@aws-sdk/client-cloudwatch-logs');
        return {
          sdk,
          client: new sdk.CloudWatchLogsClient(clientConfig(config.region, target, config.endpoint)),
        };
      });
      const budget = deps.budgets.get(`aws:${target.label}:${config.region}:logs`, config.requestsPerSecond);
      for (const group of config.logGroups) {
        const id = `cloudwatch-logs:${target.label}:${config.region}:${group}`;
        const groupParam = group.startsWith('arn:') ? { logGroupIdentifier: group } : { logGroupName: group };
        streams.push({
          id,
          type: 'cloudwatch-logs',
          pollIntervalMs: config.pollInterval,
          timeRanged: true,
          poll: (ctx) =>
            pagedWindows(ctx, id, config, budget, async (start, end, token) => {
              const { sdk, client } = await logs();
              const page = await client.send(
                new sdk.FilterLogEventsCommand({
                  ...groupParam,
                  startTime: start,
                  endTime: end,
                  filterPattern: config.filterPattern,
                  limit: PAGE_LIMIT,
                  nextToken: token,
                }),
              );
              const records = (page.events ?? []).map((e, i) => ({
                value: e.message ?? '',
                position: `${e.logStreamName ?? ''} ${e.eventId ?? `#${i}`}`.trim(),
              }));
              return { records, token: page.nextToken || undefined };
            }),
        });
      }
    }
    return streams;
  },
});
