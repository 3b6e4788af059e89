import { unzipSync } from 'node:zlib';
import type { Unwrapped } from '../containers.js';

/** Helpers shared by containers. */

export function* items(list: unknown, label: string): Iterable<Unwrapped> {
  if (!Array.isArray(list)) {
    yield { error: `${label} is not an array` };
    return;
  }
  for (let i = 0; i < list.length; i++) yield { value: list[i], position: `${label}[${i}]` };
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Base64 text that may hold gzip (1f 8b) or zlib (78 xx) compressed bytes, or plain text.
 * CloudWatch Logs subscriptions send gzip; some account-level policies deliver zlib.
 */
export function decodeBase64Payload(data: string): { text: string } | { error: string } {
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) return { error: 'empty base64 payload' };
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const zlib = bytes[0] === 0x78 && ((bytes[0] << 8) | (bytes[1] ?? 0)) % 31 === 0;
  if (!gzip && !zlib) return { text: bytes.toString('utf8') };
  try {
    return { text: unzipSync(bytes).toString('utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { error: `${gzip ? 'gzip' : 'zlib'} payload does not decompress (${code})` };
  }
}

/**
 * A base64 payload that should hold JSON (a Pub/Sub message's `data`, a CloudEvent's `data_base64`): its
 * text, parsed again by expansion; text that is not JSON is someone else's, skipped as `<what> is not JSON`.
 */
export function base64Json(data: string, position: string, what: string): Unwrapped {
  const decoded = decodeBase64Payload(data);
  if ('error' in decoded) return { error: decoded.error, position };
  const text = decoded.text.trimStart();
  if (text[0] !== '{' && text[0] !== '[') return { skip: `${what} is not JSON`, position };
  return { value: text, position };
}

/**
 * A log message that should hold one JSON record. Text that is not JSON at all (a Lambda START line)
 * is someone else's log: skipped. Text that starts like JSON but does not parse is damage.
 */
export function logMessage(message: unknown, position: string): Unwrapped {
  if (typeof message !== 'string') return { error: 'message is not text', position };
  const t = message.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return { skip: 'log message is not JSON', position };
  try {
    return { value: JSON.parse(t), position };
  } catch {
    // `[ERROR] text` is a plain log line; a `{` that does not parse is a damaged record.
    if (t[0] === '[') return { skip: 'log message is not JSON', position };
    return { error: 'log message is not valid JSON', position };
  }
}
