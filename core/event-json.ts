import type { SecretAccessEvent } from './event.js';

/**
 * `JSON.stringify(event)`, the same text (keys in the event's own order, `undefined` left out), about
 * twice as fast: the fields are strings, nulls or flat objects, written here without the generic
 * stringifier's per-value dispatch, and the principal and resource objects, which a normalizer shares
 * among all the events of one actor and one secret, are written once each. Those objects must not
 * change after they have been written: make one writer per run (normalizers never change them).
 */
export function eventWriter(): (e: SecretAccessEvent) => string {
  const shared = new WeakMap<object, string>();
  const once = (o: object): string => {
    let text = shared.get(o);
    if (text === undefined) {
      text = flat(o as Record<string, unknown>);
      shared.set(o, text);
    }
    return text;
  };
  return (e) => {
    let s = '{';
    let first = true;
    for (const k in e) {
      const v = (e as unknown as Record<string, unknown>)[k];
      if (v === undefined) continue;
      const text =
        typeof v === 'string'
          ? str(v)
          : v === null
            ? 'null'
            : !plain(v)
              ? (JSON.stringify(v) as string | undefined)
              : k === 'principal' || k === 'resource'
                ? once(v)
                : flat(v as Record<string, unknown>);
      if (text === undefined) continue;
      s += `${first ? '' : ','}${key(k)}:${text}`;
      first = false;
    }
    return `${s}}`;
  };
}

/** Characters a JSON string cannot hold as they are (lone surrogates are escaped by JSON.stringify too). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

const str = (v: string): string => (ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`);
const key = str;

/** A plain object (not an array, not one with its own toJSON): what `flat` may write by hand. */
const plain = (v: unknown): v is object =>
  typeof v === 'object' && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';

/**
 * An object's fields written by hand when they are strings or nulls; anything else goes to
 * JSON.stringify, which also says when a field is left out (undefined, a function).
 */
function flat(o: Record<string, unknown>): string {
  let s = '{';
  let first = true;
  for (const k in o) {
    const v = o[k];
    const text =
      typeof v === 'string' ? str(v) : v === null ? 'null' : (JSON.stringify(v) as string | undefined);
    if (text === undefined) continue;
    s += `${first ? '' : ','}${key(k)}:${text}`;
    first = false;
  }
  return `${s}}`;
}
