import { describe, expect, it } from 'vitest';
import { memo, SequenceMemo } from '../../core/memo.js';

describe('memo', () => {
  it('remembers per argument list, telling null, undefined and empty text apart', () => {
    let calls = 0;
    const f = memo(100, (a, b, c, d) => {
      calls++;
      return { a, b, c, d };
    });
    const first = f('id', 'us-east-1', null, '');
    expect(f('id', 'us-east-1', null, '')).toBe(first);
    expect(calls).toBe(1);
    expect(f('id', 'us-east-1', '', '')).toEqual({ a: 'id', b: 'us-east-1', c: '', d: '' });
    expect(f('id', 'us-east-1', undefined, '')).toEqual({ a: 'id', b: 'us-east-1', c: undefined, d: '' });
    expect(f('id', 'us-east-1', 'null', '')).toEqual({ a: 'id', b: 'us-east-1', c: 'null', d: '' });
    expect(calls).toBe(4);
    // Every argument list sharing the first argument stays remembered.
    for (const c of [null, '', undefined, 'null']) f('id', 'us-east-1', c, '');
    expect(f('id', 'eu-west-1', null, '')).toEqual({ a: 'id', b: 'eu-west-1', c: null, d: '' });
    expect(calls).toBe(5);
  });

  it('stays bounded: when full it starts over, and still answers right', () => {
    let calls = 0;
    const f = memo(3, (a) => {
      calls++;
      return { a };
    });
    for (const k of ['a', 'b', 'c', 'd', 'a']) expect(f(k)).toEqual({ a: k });
    expect(calls).toBe(5);
  });

  it('SequenceMemo: a sequence and its prefix are different keys', () => {
    const m = new SequenceMemo<string>(100);
    const get = (...keys: unknown[]) => {
      m.start();
      for (const k of keys) m.next(k);
      return m.value(() => keys.join('|'));
    };
    expect(get('a', 'b')).toBe('a|b');
    expect(get('a')).toBe('a');
    expect(get('a', 'b', 'c')).toBe('a|b|c');
    expect(get(null, 'b')).toBe('|b');
    expect(get('a', 'b')).toBe('a|b');
  });
});
