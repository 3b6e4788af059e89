import { eventTime, isSecretRead, type SecretAccessEvent } from '../core/event.js';
import type { StateStore } from './detector.js';
import type { SourceInfo } from './network.js';

/**
 * Baselines: what vigil has learned about each principal, each secret and each principal × secret.
 * One state entry per entity, each of bounded size (rings, decayed profiles, capped sets), so memory
 * follows the number of entities and never the number of events. The engine updates them after every
 * detector has looked at an event, so detectors always compare an event with the past only.
 */

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** Days of hourly counts kept per entity (CloudTrail Insights learns over 7 to 28 days). */
export const RING_DAYS = 28;
/** The hour-of-week profile halves its weight every 28 days, so habits that change are relearned. */
const PROFILE_HALF_LIFE = 28 * DAY;
/** Values of a set (networks, countries, clients) unseen for this long are forgotten. */
const SET_TTL = 90 * DAY;
const SET_CAP = 32;
/** The breadth window: distinct secrets per principal in 10 minutes (Elastic: 20 secrets in 6 min). */
export const BREADTH_WINDOW = 10 * 60_000;
const RECENT_CAP = 256;

export const NS = { principal: 'bl:p', secret: 'bl:s', pair: 'bl:ps' } as const;

/** Hourly counts for the last RING_DAYS days: `c[slot * 24 + hour]`, valid while `d[slot]` is that day. */
export interface Series {
  d: number[];
  c: number[];
}

/** value → [first seen, last seen, count]; at most SET_CAP entries, least recently seen evicted. */
export type SeenSet = Record<string, [number, number, number]>;

export interface PrincipalProfile {
  first: number;
  last: number;
  events: number;
  reads: number;
  firstRead: number | null;
  type: string;
  /** Decayed reads per hour of week (0 = Monday 00:00 UTC), decayed to `howAt`. */
  how: number[];
  howAt: number;
  vol: Series;
  classes: SeenSet;
  countries: SeenSet;
  networks: SeenSet;
  clients: SeenSet;
  regions: SeenSet;
  /** Reads in the current breadth window: [secret, time], latest per secret. */
  recent: RecentEntry[];
  /** Daily maximum of distinct secrets in any breadth window, for the last RING_DAYS active days. */
  breadth: { day: number; max: number; days: number[] };
  /** Last list of secrets (ListSecrets, DescribeParameters, SecretList). */
  lastList: number | null;
  secrets: number;
}

export interface SecretProfile {
  first: number;
  last: number;
  reads: number;
  readers: number;
  vol: Series;
  /** Last create, write, rotation or restore of the secret: new readers often follow. */
  changed: number | null;
  /** Roles or permission sets (`principal.via`) its readers acted through, capped: a person's peers. */
  vias?: string[];
  /** Reads per principal in the current hour (capped): who a flood on this secret comes from. */
  hr?: { h: number; by: Record<string, number> };
}

export interface PairProfile {
  first: number;
  last: number;
  reads: number;
}

export interface Profiles {
  readonly principal: PrincipalProfile | undefined;
  readonly secret: SecretProfile | undefined;
  readonly pair: PairProfile | undefined;
}

export function dayOf(t: number): number {
  return Math.floor(t / DAY);
}

/** Hour of week, 0 = Monday 00:00 UTC. */
export function hourOfWeek(t: number): number {
  // 1970-01-01 was a Thursday: day 3 of a week that starts on Monday.
  return ((Math.floor(t / DAY) + 3) % 7) * 24 + hourOfDay(t);
}

/** UTC hour of the day, 0-23. */
export function hourOfDay(t: number): number {
  return Math.floor(t / HOUR) % 24;
}

export function isWeekend(t: number): boolean {
  return (Math.floor(t / DAY) + 3) % 7 >= 5;
}

function newSeries(): Series {
  return { d: Array(RING_DAYS).fill(-1), c: Array(RING_DAYS * 24).fill(0) };
}

function seriesAdd(s: Series, t: number): void {
  const day = dayOf(t);
  const slot = day % RING_DAYS;
  if (s.d[slot] !== day) {
    if (s.d[slot]! > day) return; // older than the ring: too late to count
    s.d[slot] = day;
    s.c.fill(0, slot * 24, slot * 24 + 24);
  }
  const i = slot * 24 + hourOfDay(t);
  s.c[i] = s.c[i]! + 1;
}

/** Count in the hour of `t` so far. */
export function seriesNow(s: Series, t: number): number {
  const day = dayOf(t);
  const slot = day % RING_DAYS;
  return s.d[slot] === day ? s.c[slot * 24 + hourOfDay(t)]! : 0;
}

/**
 * The same hour on previous days of the same kind (weekdays with weekdays, weekends with weekends):
 * hour-of-week seasonality with more samples than one per week. Days since `since` with no reads are 0.
 */
export function seriesSamples(s: Series, t: number, since: number): number[] {
  const day = dayOf(t);
  const hour = hourOfDay(t);
  const weekend = isWeekend(t);
  const first = dayOf(since);
  const out: number[] = [];
  for (let back = 1; back < RING_DAYS; back++) {
    const d = day - back;
    if (d < first) break;
    if (isWeekend(d * DAY) !== weekend) continue;
    const slot = d % RING_DAYS;
    out.push(s.d[slot] === d ? s.c[slot * 24 + hour]! : 0);
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median and scaled median absolute deviation (1.4826 × MAD ≈ σ for normal data). */
export function robust(xs: readonly number[]): { median: number; mad: number } {
  const m = median(xs);
  return { median: m, mad: 1.4826 * median(xs.map((x) => Math.abs(x - m))) };
}

function touch(set: SeenSet, value: string | null, t: number): void {
  if (value === null) return;
  const cur = set[value];
  if (cur) {
    cur[0] = Math.min(cur[0], t);
    cur[1] = Math.max(cur[1], t);
    cur[2] += 1;
    return;
  }
  for (const [k, v] of Object.entries(set)) if (t - v[1] > SET_TTL) delete set[k];
  const keys = Object.keys(set);
  if (keys.length >= SET_CAP) {
    let oldest = keys[0]!;
    for (const k of keys) if (set[k]![1] < set[oldest]![1]) oldest = k;
    delete set[oldest];
  }
  set[value] = [t, t, 1];
}

/** Whether `value` was seen in `set` (within its TTL) before `t`. */
export function seen(set: SeenSet, value: string | null, t: number): boolean {
  if (value === null) return true;
  const v = set[value];
  return v !== undefined && v[0] < t && t - v[1] <= SET_TTL;
}

function decayTo(p: PrincipalProfile, t: number): void {
  if (t <= p.howAt) return;
  const f = 0.5 ** ((t - p.howAt) / PROFILE_HALF_LIFE);
  for (let i = 0; i < p.how.length; i++) p.how[i] = p.how[i]! * f;
  p.howAt = t;
}

/** The hour-of-week profile as of `t` (a decayed copy; the stored one is untouched). */
export function profileAt(p: PrincipalProfile, t: number): number[] {
  const f = t > p.howAt ? 0.5 ** ((t - p.howAt) / PROFILE_HALF_LIFE) : 1;
  return p.how.map((x) => x * f);
}

/** Number of distinct secrets in the breadth window ending at `t`, including `secret` if given. */
export function breadthAt(p: PrincipalProfile | undefined, t: number, secret?: string): number {
  // `recent` holds each secret once (learn keeps the latest read per secret).
  if (!p) return secret ? 1 : 0;
  const ix = recentIndex(p.recent);
  const times = ix.times;
  let n = 0;
  for (let i = 0; i < times.length; i++) {
    const at = times[i]!;
    if (t - at < BREADTH_WINDOW && at <= t) n++;
  }
  if (!secret) return n;
  let found = false;
  if (ix.by) {
    const entry = ix.by.get(secret);
    found = entry !== undefined && t - entry[1] < BREADTH_WINDOW && entry[1] <= t;
  } else {
    for (const [s, at] of p.recent) if (t - at < BREADTH_WINDOW && at <= t && s === secret) found = true;
  }
  return found ? n : n + 1;
}

type RecentEntry = [string, number];

/**
 * A `recent` list as breadth reads it: entries by secret (ids of one principal's secrets are long and
 * alike, so comparing them one by one was the larger part of the breadth) and the times in one array
 * (the entries lie all over the heap). Kept beside the list, whose persisted shape is unchanged, and
 * checked against its length and last entry, so a list changed elsewhere is indexed anew. `by` is null
 * when a secret appears twice: callers then scan the list.
 */
interface RecentIndex {
  by: Map<string, RecentEntry> | null;
  times: number[];
  length: number;
  last: RecentEntry | undefined;
  /** Whether the times never decrease along the list. */
  sorted: boolean;
}
const recentIndexes = new WeakMap<RecentEntry[], RecentIndex>();

function recentIndex(recent: RecentEntry[]): RecentIndex {
  const last = recent[recent.length - 1];
  let ix = recentIndexes.get(recent);
  if (ix === undefined || ix.length !== recent.length || ix.last !== last) {
    let by: Map<string, RecentEntry> | null = new Map();
    const times: number[] = [];
    let sorted = true;
    for (const entry of recent) {
      if (times.length > 0 && times[times.length - 1]! > entry[1]) sorted = false;
      times.push(entry[1]);
      if (by?.has(entry[0])) by = null;
      else by?.set(entry[0], entry);
    }
    ix = { by, times, length: recent.length, last, sorted };
    recentIndexes.set(recent, ix);
  }
  return ix;
}

const usualCache = new WeakMap<number[], { usual: number; days: number }>();

/** The principal's usual breadth: a high quantile of its daily maxima, robust to one odd day. */
export function usualBreadth(p: PrincipalProfile): { usual: number; days: number } {
  // `breadth.days` is replaced (never changed in place) when a day ends: remember the answer per array.
  const known = usualCache.get(p.breadth.days);
  if (known) return known;
  const days = [...p.breadth.days];
  const s = days.sort((a, b) => a - b);
  const out =
    days.length === 0
      ? { usual: 0, days: 0 }
      : { usual: s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]!, days: s.length };
  usualCache.set(p.breadth.days, out);
  return out;
}

export function isListing(e: SecretAccessEvent): boolean {
  return e.action === 'list' && e.source.viaService === null;
}

/** Reads the three profiles an event concerns, as they are before the event. */
export function loadProfiles(state: StateStore, e: SecretAccessEvent): Profiles {
  const principal = state.get<PrincipalProfile>(NS.principal, e.principal.id);
  const secret = e.resource ? state.get<SecretProfile>(NS.secret, e.resource.id) : undefined;
  const pair = e.resource
    ? state.get<PairProfile>(NS.pair, pairKey(e.principal.id, e.resource.id))
    : undefined;
  return { principal, secret, pair };
}

/**
 * The state key of a principal × secret. The same string each time for a pair: a new concatenation
 * per event would be hashed anew at every lookup, and pairs are looked up twice per event.
 */
export function pairKey(principal: string, resource: string): string {
  // Two levels of maps, not the four of core/memo: a pair lookup is a cache miss per level on large estates.
  let byResource = pairKeys.get(principal);
  if (byResource === undefined) {
    if (pairKeyCount >= PAIR_KEYS_MAX) {
      pairKeys.clear();
      pairKeyCount = 0;
    }
    pairKeys.set(principal, (byResource = new Map()));
  }
  let key = byResource.get(resource);
  if (key === undefined) {
    key = `${principal}\u0000${resource}`;
    if (++pairKeyCount <= PAIR_KEYS_MAX) byResource.set(resource, key);
  }
  return key;
}
const pairKeys = new Map<string, Map<string, string>>();
let pairKeyCount = 0;
const PAIR_KEYS_MAX = 200_000;

/** Folds one event into the baselines. Events arrive in event-time order (see detectors/queue.ts). */
export function learn(
  state: StateStore,
  e: SecretAccessEvent,
  src: SourceInfo,
  before: Profiles,
  t = eventTime(e.time),
): void {
  const p: PrincipalProfile = before.principal ?? {
    first: t,
    last: t,
    events: 0,
    reads: 0,
    firstRead: null,
    type: e.principal.type,
    how: Array(168).fill(0),
    howAt: t,
    vol: newSeries(),
    classes: {},
    countries: {},
    networks: {},
    clients: {},
    regions: {},
    recent: [],
    breadth: { day: dayOf(t), max: 0, days: [] },
    lastList: null,
    secrets: 0,
  };
  p.first = Math.min(p.first, t);
  p.last = Math.max(p.last, t);
  p.events += 1;
  if (e.outcome === 'success') {
    touch(p.classes, src.netClass, t);
    touch(p.countries, src.country, t);
    touch(p.networks, src.network, t);
    touch(p.clients, src.uaFamily, t);
    touch(p.regions, e.region, t);
  }
  if (isListing(e) && e.outcome === 'success') p.lastList = Math.max(p.lastList ?? t, t);

  const read = isSecretRead(e) && e.outcome === 'success' && e.resource !== null;
  if (read) {
    const r = e.resource!;
    p.reads += 1;
    p.firstRead = p.firstRead === null ? t : Math.min(p.firstRead, t);
    decayTo(p, t);
    const h = hourOfWeek(t);
    p.how[h] = p.how[h]! + 1;
    seriesAdd(p.vol, t);
    // Breadth: distinct secrets in the window, and the day's maximum.
    const recent = p.recent;
    const ix = recentIndex(recent);
    const { by: index, times } = ix;
    let kept = 0; // in place: keep other secrets read within the window, then this one
    if (index && ix.sorted) {
      // In time order (as learn appends), the expired entries are the first ones: drop them and this
      // secret's old entry with two moves of the arrays instead of copying every entry kept.
      let expired = 0;
      while (expired < recent.length && t - times[expired]! >= BREADTH_WINDOW)
        index.delete(recent[expired++]![0]);
      const old = index.get(r.id);
      const at = old === undefined ? -1 : recent.indexOf(old, expired);
      if (at >= 0) {
        recent.splice(at, 1);
        times.splice(at, 1);
      }
      if (expired > 0) {
        recent.splice(0, expired);
        times.splice(0, expired);
      }
      kept = recent.length;
    } else if (index) {
      const old = index.get(r.id);
      for (let i = 0; i < recent.length; i++) {
        const entry = recent[i]!;
        if (entry === old) continue;
        const at = times[i]!;
        if (t - at < BREADTH_WINDOW) {
          times[kept] = at;
          recent[kept++] = entry;
        } else index.delete(entry[0]);
      }
    } else {
      for (const entry of recent)
        if (t - entry[1] < BREADTH_WINDOW && entry[0] !== r.id) {
          times[kept] = entry[1];
          recent[kept++] = entry;
        }
    }
    const entry: RecentEntry = [r.id, t];
    ix.sorted &&= kept === 0 || times[kept - 1]! <= t;
    recent[kept] = entry;
    times[kept++] = t;
    recent.length = kept;
    times.length = kept;
    index?.set(r.id, entry);
    ix.length = kept;
    ix.last = entry;
    if (recent.length > RECENT_CAP) p.recent = recent.slice(-RECENT_CAP);
    const day = dayOf(t);
    if (day > p.breadth.day) {
      if (p.breadth.max > 0) p.breadth.days = [...p.breadth.days, p.breadth.max].slice(-RING_DAYS);
      p.breadth.day = day;
      p.breadth.max = 0;
    }
    p.breadth.max = Math.max(p.breadth.max, p.recent.length);

    const pk = pairKey(e.principal.id, r.id);
    const pair = before.pair ?? { first: t, last: t, reads: 0 };
    if (!before.pair) p.secrets += 1;
    pair.first = Math.min(pair.first, t);
    pair.last = Math.max(pair.last, t);
    pair.reads += 1;
    state.set(NS.pair, pk, pair);

    const s = before.secret ?? newSecret(t);
    s.first = Math.min(s.first, t);
    s.last = Math.max(s.last, t);
    s.reads += 1;
    if (!before.pair) s.readers += 1;
    const via = e.principal.via;
    if (via && !(s.vias ?? []).includes(via) && (s.vias?.length ?? 0) < 16) s.vias = [...(s.vias ?? []), via];
    seriesAdd(s.vol, t);
    const hourIdx = Math.floor(t / HOUR);
    // A new hour's counts start as a dictionary (no prototype): principals join it in any order, and as
    // an ordinary object each order was a new hidden class, which made every lookup slow.
    if (!s.hr || s.hr.h !== hourIdx) s.hr = { h: hourIdx, by: Object.create(null) };
    const by = s.hr.by;
    const id = e.principal.id;
    const n = by[id];
    if (n !== undefined) by[id] = n + 1;
    else {
      const count = hourReaders.get(by) ?? countKeys(by, 16);
      if (count < 16) {
        by[id] = 1;
        hourReaders.set(by, count + 1);
      }
    }
    state.set(NS.secret, r.id, s);
  }
  if (CHANGES.has(e.action) && e.outcome === 'success' && e.resource) {
    const s = before.secret ?? newSecret(t);
    s.changed = Math.max(s.changed ?? t, t);
    state.set(NS.secret, e.resource.id, s);
  }
  state.set(NS.principal, e.principal.id, p);
}

/** Principals counted in an hour's `by` (for-in over a dictionary object sorts its keys each time). */
const hourReaders = new WeakMap<object, number>();

/** Keys of an object, counting no further than `cap` (no array of keys made). */
function countKeys(o: object, cap: number): number {
  let n = 0;
  for (const _ in o) if (++n >= cap) break;
  return n;
}

const CHANGES = new Set(['create', 'write', 'rotate', 'restore']);

function newSecret(t: number): SecretProfile {
  return { first: t, last: t, reads: 0, readers: 0, vol: newSeries(), changed: null };
}

/** The principal with the most reads of the secret in the hour of `t`, and its count. */
export function topReader(s: SecretProfile, t: number): { id: string; reads: number } | null {
  if (!s.hr || s.hr.h !== Math.floor(t / HOUR)) return null;
  let best: { id: string; reads: number } | null = null;
  for (const [id, n] of Object.entries(s.hr.by)) if (!best || n > best.reads) best = { id, reads: n };
  return best;
}

/** Formats a number for evidence text: integers as is, others with one decimal. */
export function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export function hourOfWeekLabel(h: number): string {
  return `${DAYS[Math.floor(h / 24)]} ${String(h % 24).padStart(2, '0')}:00 UTC`;
}
