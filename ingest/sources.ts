import { cloudtrail } from './cloudtrail.js';
import { keyvault } from './keyvault.js';
import type { Source } from './source.js';

/** Every source, in the order records are offered to them. Add a source here with one line. */
export const SOURCES: readonly Source[] = [cloudtrail, keyvault];

export function sourceById(id: string): Source | undefined {
  return SOURCES.find((s) => s.id === id);
}
