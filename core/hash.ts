import { createHash } from 'node:crypto';

/** Short stable id from parts: hex of SHA-256, truncated. */
export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
}
