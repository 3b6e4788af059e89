import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Severity } from '../../core/event.js';
import { DETECTORS } from '../../detectors/registry.js';

const root = fileURLToPath(new URL('../../detectors/', import.meta.url));

describe('detector registry', () => {
  it('has the ten detectors of issue 4 with unique ids', () => {
    const ids = DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(
      [
        'canary-access',
        'cross-account',
        'denied-burst',
        'mass-retrieval',
        'new-access',
        'new-principal',
        'sensitive-operation',
        'unusual-source',
        'unusual-time',
        'volume-spike',
      ].sort(),
    );
  });

  it.each(DETECTORS.map((d) => [d.id, d] as const))('%s: metadata, file name, {} parses', (id, d) => {
    expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(existsSync(`${root}${id}.ts`)).toBe(true);
    expect(d.title.length).toBeGreaterThan(10);
    expect(d.runbook.length).toBeGreaterThan(60);
    expect(Severity.safeParse(d.severity).success).toBe(true);
    expect(d.groupWindowMs).toBeGreaterThan(0);
    const parsed = d.config.safeParse({});
    expect(parsed.success).toBe(true);
    expect(() => d.create(parsed.data)).not.toThrow();
    // People write config: a typo is an error, not ignored.
    expect(d.config.safeParse({ noSuchOption: 1 }).success).toBe(false);
  });
});
