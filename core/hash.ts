import * as crypto from 'node:crypto';

/**
 * One-shot hashing: `crypto.hash` (Node 20.12 and later) costs about half of createHash().update().digest()
 * for short inputs; older Node 20 releases fall back to the latter.
 */
type OneShot = (algorithm: string, data: string, encoding: 'buffer') => Buffer;
const oneShot = (crypto as { hash?: OneShot }).hash;

export function digest(algorithm: 'sha1' | 'sha256', data: string): Buffer {
  return oneShot ? oneShot(algorithm, data, 'buffer') : crypto.createHash(algorithm).update(data).digest();
}

/** Short stable id from parts: hex of SHA-256, truncated. */
export function stableId(...parts: string[]): string {
  return digest('sha256', parts.join('\u0000')).toString('hex', 0, 12);
}
