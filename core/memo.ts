/** Memos for pure functions of a few strings: the identity and resource rules of the sources, state keys. */

export type Arg = string | null | undefined;

interface Entry<V> {
  readonly b: Arg;
  readonly c: Arg;
  readonly d: Arg;
  readonly v: V;
  readonly next: Entry<V> | undefined;
}

/**
 * A small memo for pure identity rules: the same few principals and secrets recur on every line of a
 * log. Bounded; cleared when full. Callers share the value: events are not changed after normalizing.
 * One map lookup by the first argument, then the other arguments compared along a short list: the
 * first argument nearly decides the value. No key text is built per call; a map per argument cost
 * four hash lookups of freshly parsed strings.
 */
export function memo<V>(max: number, compute: (a: string, b: Arg, c: Arg, d: Arg) => V) {
  let root = new Map<string, Entry<V>>();
  let size = 0;
  return (a: string, b?: Arg, c?: Arg, d?: Arg): V => {
    const head = root.get(a);
    for (let e = head; e !== undefined; e = e.next) if (e.b === b && e.c === c && e.d === d) return e.v;
    const v = compute(a, b, c, d);
    if (size >= max) {
      root = new Map();
      size = 0;
    } else {
      root.set(a, { b, c, d, v, next: head });
      size++;
    }
    return v;
  };
}

const END = {};

/**
 * A memo keyed by a sequence of values of any length (the text values of a token's claims), as nested
 * maps: the value for the sequence so far is under END. Bounded; cleared when full.
 */
export class SequenceMemo<V> {
  private root = new Map<unknown, unknown>();
  private size = 0;
  private node = this.root;

  constructor(private readonly max: number) {}

  /** Starts a lookup. */
  start(): this {
    this.node = this.root;
    return this;
  }

  /** The next value of the sequence. */
  next(key: unknown): this {
    let n = this.node.get(key) as Map<unknown, unknown> | undefined;
    if (n === undefined) this.node.set(key, (n = new Map()));
    this.node = n;
    return this;
  }

  /** The value remembered for the sequence, or `compute()`'s, remembered. */
  value(compute: () => V): V {
    let v = this.node.get(END) as V | undefined;
    if (v === undefined) {
      v = compute();
      if (this.size >= this.max) {
        this.root = new Map();
        this.size = 0;
      } else {
        this.node.set(END, v);
        this.size++;
      }
    }
    return v;
  }
}
