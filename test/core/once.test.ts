import { describe, expect, it } from 'vitest';
import { once } from '../../core/once.js';

describe('once', () => {
  it('runs the work on the first call only, and says whether it started', async () => {
    let runs = 0;
    const get = once(async () => ++runs);
    expect(get.started).toBe(false);
    expect(runs).toBe(0);
    const [a, b] = await Promise.all([get(), get()]);
    expect([a, b, await get()]).toEqual([1, 1, 1]);
    expect(runs).toBe(1);
    expect(get.started).toBe(true);
  });
});
