import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { isSecretRead, type SecretAccessEvent } from '../core/event.js';
import { HOUR } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';

const Config = z.strictObject({
  /** Accounts whose principals may read secrets of other accounts (12-digit AWS account ids). */
  allowAccounts: z.array(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id')).default([]),
  /** Also allow account pairs seen reading during the learning period (existing sharing is not news). */
  learn: z.boolean().default(true),
  learningPeriod: z.string().default('P7D'),
});

const NS = 'cross-account';
/** An AWS account id: 12 ASCII digits (what /^\d{12}$/ matches, without a regex run on every read). */
function isAccountId(s: string): boolean {
  if (s.length !== 12) return false;
  for (let i = 0; i < 12; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export const crossAccount = defineDetector({
  id: 'cross-account',
  title: 'Secret read from another account',
  severity: 'high',
  runbook:
    'A principal of another account read this secret through its resource policy. Confirm the account ' +
    'belongs to your organisation and the sharing is intended; if not, remove the grant from the resource ' +
    'and key policies (GetResourcePolicy), rotate the secret and add the account to allowAccounts if legitimate.',
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const learningMs = parseDuration(config.learningPeriod);
    const allowed = new Set(config.allowAccounts);
    return {
      evaluate(event: SecretAccessEvent, ctx): Finding[] {
        if (!isSecretRead(event) || !event.resource || event.outcome === 'error') return [];
        const from = event.principal.account;
        const owner = event.resource.account ?? event.account;
        // Only AWS account ids compare meaningfully (an Entra tenant is not a subscription).
        if (!from || !owner || !isAccountId(from) || !isAccountId(owner) || from === owner) return [];
        if (event.principal.type === 'service' || allowed.has(from)) return [];
        const key = `${from}>${owner}`;
        const t = ctx.time;
        const learnedAt = ctx.state.get<number>(NS, key);
        if (config.learn && t < ctx.firstEventTime + learningMs) {
          if (event.outcome === 'success' && learnedAt === undefined) ctx.state.set(NS, key, t);
          return [];
        }
        if (learnedAt !== undefined) return [];
        return [
          {
            severity: event.outcome === 'success' ? 'high' : 'medium',
            title: `${event.principal.name} of account ${from} read ${event.resource.name} in ${owner}`,
            principal: event.principal,
            resource: event.resource,
            event,
            evidence: {
              summary: `${event.principal.name} (account ${from}) ${event.outcome === 'success' ? 'read' : 'tried to read'} ${event.resource.name} owned by ${owner}; ${from} is not allowlisted${config.learn ? ' and did not read here during the learning period' : ''}`,
              observed: {
                principalAccount: from,
                secretAccount: owner,
                outcome: event.outcome,
                ip: event.source.ip,
              },
              baseline: { allowlisted: allowed.size, knownPair: false },
              threshold: { allowAccounts: config.allowAccounts.join(',') || 'none' },
            },
          },
        ];
      },
    };
  },
});
