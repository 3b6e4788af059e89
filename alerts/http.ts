import type { SecretValue } from '../core/secret.js';
import { type DeliveryResult, delivered, permanent, retryable } from './sink.js';

export interface HttpAnswer {
  readonly status: number;
  /** At most 1 KiB of the body: enough for an error code. */
  readonly body: string;
  readonly retryAfterMs: number | undefined;
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * POSTs a body to a secret URL. Network failures and timeouts come back as a retryable result whose
 * reason names neither the URL nor anything of the request.
 */
export async function post(
  url: SecretValue,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  now: number,
): Promise<HttpAnswer | DeliveryResult> {
  let res: Response;
  try {
    res = await fetch(url.reveal(), { method: 'POST', body, headers, signal, redirect: 'error' });
  } catch (err) {
    if (signal.aborted) return retryable('request timed out or was cancelled');
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return retryable(`network error${cause ? ` (${cause})` : ''}`);
  }
  let text = '';
  try {
    text = (await res.text()).slice(0, 1024);
  } catch (err) {
    // The status is what counts; a body cut short only loses the error detail.
    text = `(body unreadable: ${(err as Error).name})`;
  }
  return {
    status: res.status,
    body: text,
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now),
  };
}

export function isAnswer(x: HttpAnswer | DeliveryResult): x is HttpAnswer {
  return 'status' in x;
}

/** The usual HTTP reading: 2xx ok; 408, 425, 429 and 5xx retryable; other statuses permanent. */
export function classifyStatus(a: HttpAnswer, what: string): DeliveryResult {
  if (a.status >= 200 && a.status < 300) return delivered;
  const code = /^[\w.-]{1,64}$/.test(a.body.trim()) ? ` ${a.body.trim()}` : '';
  const reason = `${what} answered HTTP ${a.status}${code}`;
  if (a.status === 408 || a.status === 425 || a.status === 429 || a.status >= 500)
    return retryable(reason, a.retryAfterMs);
  return permanent(reason);
}
