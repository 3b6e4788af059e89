import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { z } from 'zod';
import { once } from '../../core/once.js';
import {
  Duration,
  type LiveBatch,
  type LiveRecord,
  type PollContext,
  type RateBudget,
  readWindowCheckpoint,
  slices,
} from './source.js';

/** An account reached through an assumed role; without any, the default AWS credential chain is used. */
export const AccountConfig = z.strictObject({
  roleArn: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
  /** Required by roles whose trust policy asks for one (a confused-deputy guard, not a secret). */
  externalId: z.string().min(2).optional(),
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of letters, digits and +=,.@-')
    .default('vigil'),
});
export type AccountConfig = z.infer<typeof AccountConfig>;

/** Options every time-ranged AWS source shares. */
export const WindowOptions = {
  accounts: z.array(AccountConfig).default([]),
  /** How often to poll. */
  pollInterval: Duration('PT1M'),
  /** Re-read this much before the checkpoint on every poll: events arrive minutes late. */
  overlap: Duration('PT15M'),
  /** On a first start (no checkpoint), read back this far. */
  initialLookback: Duration('P1D'),
  /**
   * Long windows (a first start, a backfill, a long outage) are read oldest first in slices of this size;
   * the checkpoint advances after each. Every slice costs at least one request of the budget.
   */
  slice: Duration('P1D'),
  /** Override the service endpoint (a VPC endpoint, a local test server). AWS_ENDPOINT_URL_* also work. */
  endpoint: z.url().optional(),
};

export interface AccountTarget {
  /** The account id from the role ARN, or `default` for the default credential chain. */
  readonly label: string;
  readonly credentials: AwsCredentialIdentityProvider | undefined;
}

export function accountTargets(accounts: readonly AccountConfig[], region: string): AccountTarget[] {
  if (accounts.length === 0) return [{ label: 'default', credentials: undefined }];
  return accounts.map((a) => ({
    label: /:iam::(\d{12}):/.exec(a.roleArn)![1]!,
    credentials: lazyCredentials(async () =>
      (await import('@aws-sdk/credential-providers')).fromTemporaryCredentials({
        params: {
          RoleArn: a.roleArn,
          RoleSessionName: a.sessionName,
          ...(a.externalId ? { ExternalId: a.externalId } : {}),
        },
        clientConfig: { region },
      }),
    ),
  }));
}

/** A credential provider made on first use (its SDK package costs every command time to load). */
function lazyCredentials(make: () => Promise<AwsCredentialIdentityProvider>): AwsCredentialIdentityProvider {
  const provider = once(make);
  return async (options) => (await provider())(options);
}

/** SDK client options: region, the account's credentials, an endpoint only when configured. */
export function clientConfig(
  region: string,
  target: AccountTarget,
  endpoint: string | undefined,
): { region: string; credentials?: AwsCredentialIdentityProvider; endpoint?: string } {
  return {
    region,
    ...(target.credentials ? { credentials: target.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

/** The time range one poll reads: from the checkpoint minus the overlap (or the lookback) to now. */
export function pollWindow(
  ctx: PollContext,
  key: string,
  opts: { overlap: number; initialLookback: number },
): { from: number; to: number; previous: number | undefined } {
  const previous = readWindowCheckpoint(ctx.checkpoint(key));
  const from =
    ctx.since ?? (previous !== undefined ? previous - opts.overlap : ctx.now - opts.initialLookback);
  return { from: Math.max(0, from), to: ctx.now, previous };
}

/** One page of a time-ranged API: its records and the token of the next page, if any. */
export interface WindowPage {
  readonly records: LiveRecord[];
  readonly token: string | undefined;
}

/**
 * The read loop every time-ranged AWS source shares: the poll window (checkpoint minus overlap, or the
 * lookback, or `since`) cut into slices, oldest first; each slice paged until the token disappears (a page
 * may be empty and still carry one), a request budget taken before every call; the checkpoint moves to a
 * slice's end after its last page. A stop request finishes the page in flight and leaves the rest.
 */
export async function* pagedWindows(
  ctx: PollContext,
  id: string,
  opts: { overlap: number; initialLookback: number; slice: number },
  budget: RateBudget,
  fetchPage: (start: number, end: number, token: string | undefined) => Promise<WindowPage>,
): AsyncGenerator<LiveBatch> {
  const { from, to, previous } = pollWindow(ctx, id, opts);
  for (const [start, end] of slices(from, to, opts.slice)) {
    let token: string | undefined;
    do {
      await budget.take();
      const page = await fetchPage(start, end, token);
      token = page.token;
      const until = Math.max(previous ?? 0, end);
      yield {
        records: page.records,
        origin: id,
        ...(token ? {} : { checkpoint: { key: id, value: JSON.stringify({ until }) }, watermark: until }),
        progress: { done: (token ? start : end) - from, total: to - from },
      };
    } while (token && !ctx.signal.aborted);
    if (ctx.signal.aborted) return;
  }
}
