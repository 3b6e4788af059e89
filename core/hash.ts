import * as crypto from 'node:crypto';

/**
 * One-shot hashing: `crypto.hash` (Node 20.12 and later) costs about half of createHash().update().digest()
 * for short inputs; older Node 20 releases fall back to the latter. Text output ('hex', 'latin1') costs
 * less than half of 'buffer' output, which allocates a Buffer per call.
 */
type OneShot = (algorithm: string, data: string, encoding: 'buffer' | 'hex' | 'latin1') => Buffer | string;
const oneShot = (crypto as { hash?: OneShot }).hash;

export function digest(algorithm: 'sha1' | 'sha256', data: string): Buffer {
  return oneShot
    ? (oneShot(algorithm, data, 'buffer') as Buffer)
    : crypto.createHash(algorithm).update(data).digest();
}

/** The first 32 bits of the SHA-1 of `data`, big-endian, as an unsigned number. */
export function sha1Uint32(data: string): number {
  if (!oneShot) return crypto.createHash('sha1').update(data).digest().readUInt32BE(0);
  const h = oneShot('sha1', data, 'latin1') as string;
  return ((h.charCodeAt(0) << 24) | (h.charCodeAt(1) << 16) | (h.charCodeAt(2) << 8) | h.charCodeAt(3)) >>> 0;
}

/** Short stable id from parts: hex of SHA-256, truncated. */
export function stableId(...parts: string[]): string {
  const data = parts.join('\u0000');
  return oneShot
    ? (oneShot('sha256', data, 'hex') as string).slice(0, 24)
    : crypto.createHash('sha256').update(data).digest('hex').slice(0, 24);
}
