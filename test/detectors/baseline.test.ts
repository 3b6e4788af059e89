import { describe, expect, it } from 'vitest';
import {
  BREADTH_WINDOW,
  breadthAt,
  learn,
  loadProfiles,
  NS,
  type SecretProfile,
} from '../../detectors/baseline.js';
import { NetworkClassifier } from '../../detectors/network.js';
import { MemoryState } from '../../detectors/state.js';
import { ev, HOUR, role, secret, T0 } from './events.js';

const network = new NetworkClassifier();

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('baseline learn', () => {
  it('keeps the latest read per secret in the breadth window, in order, also when times go back', () => {
    const rnd = random(7);
    const p = role('reader');
    const state = new MemoryState();
    let model: [string, number][] = [];
    let t = T0;
    for (let i = 0; i < 3000; i++) {
      // Mostly forward in time, sometimes a step back (late events), sometimes a long pause.
      const step =
        rnd() < 0.1 ? -Math.floor(rnd() * 60_000) : rnd() < 0.02 ? BREADTH_WINDOW : Math.floor(rnd() * 5000);
      t += step;
      const s = secret(`app/${Math.floor(rnd() * 40)}`);
      const e = ev({ time: t, principal: p, resource: s });
      learn(state, e, network.classify(e), loadProfiles(state, e));
      model = model.filter(([id, at]) => t - at < BREADTH_WINDOW && id !== s.id);
      model.push([s.id, t]);
      const profile = loadProfiles(state, e).principal!;
      expect(profile.recent).toEqual(model);
      expect(breadthAt(profile, t)).toBe(model.filter(([, at]) => at <= t).length);
    }
  });

  it('counts at most 16 readers of a secret per hour, and every read of those', () => {
    const s = secret('prod/shared');
    const state = new MemoryState();
    const model = new Map<string, number>();
    const rnd = random(3);
    for (let i = 0; i < 400; i++) {
      const p = role(`app-${Math.floor(rnd() * 30)}`);
      const e = ev({ time: T0 + i * 1000, principal: p, resource: s });
      learn(state, e, network.classify(e), loadProfiles(state, e));
      if (model.has(p.id) || model.size < 16) model.set(p.id, (model.get(p.id) ?? 0) + 1);
    }
    const profile = state.get<SecretProfile>(NS.secret, s.id)!;
    expect(profile.hr?.h).toBe(Math.floor(T0 / HOUR));
    expect(Object.entries(profile.hr?.by ?? {})).toEqual([...model]);
  });
});
