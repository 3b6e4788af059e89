import type { StateStore } from './detector.js';

/** Detector state in memory: for tests, the evaluation harness and short-lived runners. */
export class MemoryState implements StateStore {
  private readonly map = new Map<string, unknown>();

  get<T>(ns: string, key: string): T | undefined {
    return this.map.get(`${ns}\u0000${key}`) as T | undefined;
  }
  set<T>(ns: string, key: string, value: T): void {
    this.map.set(`${ns}\u0000${key}`, value);
  }
  delete(ns: string, key: string): void {
    this.map.delete(`${ns}\u0000${key}`);
  }
  /** Entries and their serialized size, to check that state follows entities, not events. */
  stats(): { entries: number; bytes: number; byNamespace: Record<string, number> } {
    let bytes = 0;
    const byNamespace: Record<string, number> = {};
    for (const [k, v] of this.map) {
      const ns = k.slice(0, k.indexOf('\u0000'));
      byNamespace[ns] = (byNamespace[ns] ?? 0) + 1;
      bytes += k.length + JSON.stringify(v).length;
    }
    return { entries: this.map.size, bytes, byNamespace };
  }
}
