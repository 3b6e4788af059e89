import { z } from 'zod';
import type { Alert } from '../core/alert.js';
import type { Severity } from '../core/event.js';
import { redact } from '../core/secret.js';
import { Duration, GroupField } from './config.js';
import { classifyStatus, isAnswer, post } from './http.js';
import type { Notification } from './notification.js';
import { SecretResolver, secretRef } from './secrets.js';
import { permanent, retryable, type SinkType } from './sink.js';

// Slack: incoming webhooks allow about 1 message per second, short bursts tolerated.
// https://docs.slack.dev/apis/web-api/rate-limits (Incoming webhooks)
const RATE_PER_SECOND = 1;
// Slack: up to 50 blocks in one message. https://docs.slack.dev/reference/block-kit/blocks
export const MAX_BLOCKS = 50;
// Slack: section block `text` is at most 3,000 characters. https://docs.slack.dev/reference/block-kit/blocks/section-block
export const MAX_SECTION_TEXT = 3000;
// Slack: each section `fields` item at most 2,000 characters, at most 10 items. Same page.
const MAX_FIELD_TEXT = 2000;
const MAX_FIELDS = 10;
// Slack: header block text is plain_text of at most 150 characters. https://docs.slack.dev/reference/block-kit/blocks/header-block
const MAX_HEADER_TEXT = 150;
// Slack: context block holds at most 10 elements. https://docs.slack.dev/reference/block-kit/blocks/context-block
const MAX_CONTEXT_ELEMENTS = 10;
// Slack: all blocks together are rejected with msg_blocks_too_long well below the 40,000-char message
// limit (reported near 13,000 chars, slackapi/bolt-js#2509); we keep the total under this.
export const MAX_TOTAL_BLOCK_TEXT = 12_000;
// Slack: the top-level `text` is the notification and fallback; messages over 40,000 chars are truncated.
// https://docs.slack.dev/reference/methods/chat.postMessage (text field); ours stays short.
const MAX_FALLBACK_TEXT = 3000;
/** Alerts listed one per line in a grouped message before "and N more". */
const MAX_LISTED = 20;
/** Characters per listed alert line. */
const MAX_LINE = 300;

const TRUNCATED = '… (truncated by vigil)';

const Config = z.strictObject({
  /** The incoming-webhook URL: a reference (env:NAME, file:PATH, Secrets Manager ARN), never the URL. */
  webhookUrl: secretRef(),
  rateLimit: z.strictObject({ count: z.number().int().positive(), per: Duration }).optional(),
  groupBy: z.array(GroupField).default(['detector', 'principal']),
  repeatInterval: Duration.default(60 * 60_000),
  timeout: Duration.default(10_000),
});
type Config = z.infer<typeof Config>;

export interface SlackBlock {
  readonly type: string;
  readonly [k: string]: unknown;
}
export interface SlackPayload {
  readonly text: string;
  readonly blocks: SlackBlock[];
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. https://docs.slack.dev/messaging/formatting-message-text */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts `s` to at most `max` characters, saying so, without splitting an escape or a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, Math.max(0, max - TRUNCATED.length));
  cut = cut.replace(/&[a-z]{0,4}$/, '');
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut + TRUNCATED;
}

const ICON: Record<Severity, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_blue_circle:',
};

const mrkdwn = (text: string, max = MAX_SECTION_TEXT) => ({ type: 'mrkdwn', text: truncate(text, max) });
const section = (text: string): SlackBlock => ({ type: 'section', text: mrkdwn(text) });
const code = (s: string) => `\`\`\`${s.replace(/```/g, "'''")}\`\`\``;

function when(n: Notification): string {
  return n.firstTime === n.lastTime ? n.firstTime : `${n.firstTime} → ${n.lastTime}`;
}

function headline(n: Notification): string {
  const a = n.alerts[0]!;
  if (n.kind === 'digest') return `Digest: ${n.alerts.length} alerts (${n.severity} and below)`;
  if (n.alerts.length === 1) return a.title;
  return `${a.title} (+${n.alerts.length - 1} more alerts)`;
}

function blockText(b: SlackBlock): number {
  let n = 0;
  const walk = (v: unknown) => {
    if (typeof v === 'string') n += v.length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(b);
  return n;
}

/** Block Kit for a person on call: what, who, which secret, when, why, what to do, how to look. Pure. */
export function renderSlack(n: Notification): SlackPayload {
  const a: Alert = n.alerts[0]!;
  const sev = n.severity.toUpperCase();
  const count = n.alerts.length;
  const summary = `[${sev}] ${headline(n)}${count > 1 ? ` — ${count} alerts, ${n.events} events` : ''}`;
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${ICON[n.severity]} ${sev} · ${headline(n)}`, MAX_HEADER_TEXT),
        emoji: true,
      },
    },
  ];
  const fields = [
    `*Severity*\n${sev}`,
    `*Detector*\n${escapeMrkdwn(a.detector)}`,
    `*Principal*\n${escapeMrkdwn(`${a.principal.name} (${a.principal.type})`)}\n\`${escapeMrkdwn(a.principal.id)}\``,
    `*Secret*\n${a.resource ? `${escapeMrkdwn(a.resource.name)}\n\`${escapeMrkdwn(a.resource.id)}\`` : '—'}${
      a.resources.length > 1 ? `\n+${a.resources.length - 1} more` : ''
    }`,
    `*When (UTC)*\n${when(n)}`,
    `*Count*\n${count} alert${count === 1 ? '' : 's'}, ${n.events} event${n.events === 1 ? '' : 's'}`,
  ].slice(0, MAX_FIELDS);
  blocks.push({ type: 'section', fields: fields.map((f) => mrkdwn(f, MAX_FIELD_TEXT)) });
  blocks.push(section(`*Evidence*\n${escapeMrkdwn(a.evidence.summary)}`));
  if (count > 1) {
    // List what fits, each line cut short, and always say how many are left out.
    const lines: string[] = [];
    let used = 0;
    for (const x of n.alerts) {
      const line = truncate(
        `• ${x.time} · ${x.severity} · ${escapeMrkdwn(x.title)} (${x.count} event${x.count === 1 ? '' : 's'})`,
        MAX_LINE,
      );
      if (lines.length === MAX_LISTED || used + line.length + 1 > MAX_SECTION_TEXT - 300) break;
      lines.push(line);
      used += line.length + 1;
    }
    if (count > lines.length)
      lines.push(
        `… and ${count - lines.length} more: \`vigil alerts --detector ${escapeMrkdwn(a.detector)}\``,
      );
    blocks.push(section(`*Alerts in this ${n.kind === 'digest' ? 'digest' : 'group'}*\n${lines.join('\n')}`));
  }
  blocks.push(section(`*Runbook*\n${escapeMrkdwn(a.runbook)}`));
  blocks.push(section(`*Investigate*\n${code(escapeMrkdwn(a.query))}`));
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`vigil · ${n.kind} \`${n.id}\` · alert \`${escapeMrkdwn(a.id)}\``)].slice(
      0,
      MAX_CONTEXT_ELEMENTS,
    ),
  });
  return { text: truncate(summary, MAX_FALLBACK_TEXT), blocks: fitBlocks(blocks) };
}

/** Keeps the message within Slack's block count and total text, dropping from the end and saying so. */
function fitBlocks(blocks: SlackBlock[]): SlackBlock[] {
  let out = blocks.length > MAX_BLOCKS ? blocks.slice(0, MAX_BLOCKS - 1) : blocks;
  let dropped = blocks.length - out.length;
  const total = () => out.reduce((s, b) => s + blockText(b), 0);
  while (out.length > 2 && total() > MAX_TOTAL_BLOCK_TEXT) {
    out = out.slice(0, -1);
    dropped++;
  }
  if (dropped > 0)
    out = [
      ...out,
      { type: 'context', elements: [mrkdwn(`${dropped} block(s) left out to fit Slack's message limits`)] },
    ];
  return out;
}

/** Slack incoming webhook: Block Kit for the person on call, plain-text fallback, ~1 message/s. */
export const slackSink: SinkType<Config> = {
  type: 'slack',
  description: 'Slack incoming webhook: Block Kit message per alert group, rate-limited',
  config: Config,
  create(name, config, deps) {
    const secrets = deps.secrets ?? new SecretResolver({ env: deps.env, clock: deps.clock });
    return {
      name,
      type: 'slack',
      grouping: { groupBy: config.groupBy, repeatIntervalMs: config.repeatInterval },
      rateLimit: config.rateLimit
        ? { count: config.rateLimit.count, perMs: config.rateLimit.per }
        : { count: RATE_PER_SECOND, perMs: 1000 },
      timeoutMs: config.timeout,
      render: renderSlack,
      async deliver(payload: SlackPayload, signal) {
        const url = await secrets.resolve(config.webhookUrl, signal);
        if (!url.ok)
          return url.retryable
            ? retryable(`webhookUrl: ${url.reason}`)
            : permanent(`webhookUrl: ${url.reason}`);
        const answer = await post(
          url.value,
          JSON.stringify(payload),
          { 'content-type': 'application/json' },
          signal,
          deps.clock.now(),
        );
        if (!isAnswer(answer)) return answer;
        const result = classifyStatus(answer, 'Slack');
        // A revoked or re-pointed webhook may have been rotated: read the reference again next time.
        if (!result.ok && !result.retryable) secrets.invalidate();
        return result.ok ? result : { ...result, reason: redact(result.reason, [url.value]) };
      },
    };
  },
};
