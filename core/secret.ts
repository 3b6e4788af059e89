import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value (webhook URL, token). Prints as [redacted] everywhere: toString, JSON, util.inspect.
 * Only `reveal()` gives the value, and only the code that sends a request should call it.
 */
export class SecretValue {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Replaces any URL in a message with its scheme and host only, and known secret values with [redacted]. */
export function redact(message: string, secrets: readonly SecretValue[] = []): string {
  let out = message;
  for (const s of secrets) {
    const v = s.reveal();
    if (v.length >= 4) out = out.split(v).join(REDACTED);
  }
  return out.replace(/\b(https?):\/\/([^/\s"'?#]+)[^\s"']*/gi, (_m, scheme: string, host: string) => {
    const bareHost = host.includes('@') ? host.slice(host.lastIndexOf('@') + 1) : host;
    return `${scheme}://${bareHost}/${REDACTED}`;
  });
}
