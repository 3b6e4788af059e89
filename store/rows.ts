import {
  eventTime,
  type Outcome,
  type Principal,
  type Resource,
  type SecretAccessEvent,
  timeText,
} from '../core/event.js';
import { sha1Uint32 } from '../core/hash.js';
import { SequenceMemo } from '../core/memo.js';

/**
 * How an event becomes an events row and back (migration 4). Pure: no database here, so the normalize
 * worker can encode rows on the second core and the main thread only inserts them.
 */

export const OUTCOME_CODE: Record<Outcome, number> = { success: 0, denied: 1, error: 2 };

// Seconds since 2000-01-01 UTC: 31 bits last until 2068.
const KEY_EPOCH_S = 946_684_800;

/**
 * 63-bit unique key of an event: its second of event time, then 32 bits of a hash of its id. Keys grow
 * with time, so inserts land near the index's right edge instead of on random pages (measured: twice
 * the insert rate of a pure hash key). Two ids that share a key are told apart by `probe`.
 */
export function rowKey(eventId: string, timeMs: number, probe = 0): bigint {
  const h = sha1Uint32(probe ? `${eventId}#${probe}` : eventId);
  return (BigInt(keySeconds(timeMs)) << 32n) | BigInt(h);
}

const keySeconds = (timeMs: number): number =>
  Math.min(2 ** 31 - 1, Math.max(0, Math.floor(timeMs / 1000) - KEY_EPOCH_S));

/** Where the high and low 32 bits of a BigInt64Array element sit in a Uint32Array over its bytes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** An events row as `hydrate` reads it: the principal and resource are dictionary ids. */
export interface EventRow {
  body: string;
  time: number;
  outcome: number;
  ctx: number | null;
  principal: number;
  resource: number | null;
}

/** The columns of EventRow, for an events table aliased `e`. */
export const EVENT_COLUMNS = 'e.body, e.time, e.outcome, e.ctx, e.principal, e.resource';

const OUTCOMES: readonly Outcome[] = ['success', 'denied', 'error'];

/** Absent optional fields travel as 0 in the compact arrays (no field of the event is ever a number). */
const ABSENT = 0;
const opt = <T>(v: T | undefined): T | 0 => (v === undefined ? ABSENT : v);
const unopt = <T>(v: T | 0): T | undefined => (v === ABSENT ? undefined : v);

/**
 * What many events share (one row of `contexts`, migration 4): the call and where it came from, except
 * the address. Events of one workload repeat it, so each event row stores a number instead.
 */
export type ContextTuple = [
  provider: SecretAccessEvent['provider'],
  service: string,
  operation: string,
  action: SecretAccessEvent['action'],
  errorCode: string | null,
  userAgent: string | null,
  viaService: string | null,
  vpcEndpointId: string | null | 0,
  region: string | null,
  account: string | null,
  via: string | null | 0,
];

export function contextOf(e: SecretAccessEvent): string {
  const c: ContextTuple = [
    e.provider,
    e.service,
    e.operation,
    e.action,
    e.errorCode,
    e.source.userAgent,
    e.source.viaService,
    opt(e.source.vpcEndpointId),
    e.region,
    e.account,
    opt(e.principal.via),
  ];
  return JSON.stringify(c);
}

/** What is the event's own (`body`, as a JSON array): ids, session, address, related resource, flags. */
type BodyTuple = [
  id: string,
  /** 1 when it is the id without its `provider:` prefix (CloudTrail's eventID). */
  providerEventId: string | null | 1,
  session: string | null | 0,
  ip: string | null,
  relatedResource: string | null | 0,
  details: SecretAccessEvent['details'] | 0,
];

/** `id === \`${provider}:${pe}\`` without building the string. */
function isPrefixed(id: string, provider: string, pe: string): boolean {
  const n = provider.length;
  return (
    id.length === n + 1 + pe.length && id.charCodeAt(n) === 58 && id.startsWith(provider) && id.endsWith(pe)
  );
}

// What JSON.stringify escapes in a string: quotes, backslashes, control characters, lone surrogates
// (any surrogate here: a string with one takes the slow path).
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** One element of a tuple as JSON.stringify writes it inside an array. */
function json(v: unknown): string {
  if (typeof v === 'string') return ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`;
  return v === null ? 'null' : JSON.stringify([v]).slice(1, -1);
}

/** JSON.stringify of the BodyTuple, written by hand: a call per element costs less than one per tuple. */
export function bodyOf(e: SecretAccessEvent): string {
  const pe = e.providerEventId;
  const session = e.principal.session;
  const related = e.relatedResource;
  const details = e.details;
  return `[${json(e.id)},${pe !== null && isPrefixed(e.id, e.provider, pe) ? '1' : json(pe)},${
    session === undefined ? '0' : json(session)
  },${json(e.source.ip)},${related === undefined ? '0' : json(related)},${details === undefined ? '0' : json(details)}]`;
}

/** An event back from its row: the body and context tuples, the dictionaries and the columns. */
export function decode(
  row: EventRow,
  ctx: ContextTuple,
  who: Principal,
  what: Resource | null,
): SecretAccessEvent {
  const [id, pe, session, ip, related, details] = JSON.parse(row.body) as BodyTuple;
  const [provider, service, operation, action, errorCode, userAgent, viaService, vpce, region, account, via] =
    ctx;
  const principal: Principal = { id: who.id, type: who.type, name: who.name, account: who.account };
  if (via !== ABSENT) principal.via = via;
  if (session !== ABSENT) principal.session = session;
  const source: SecretAccessEvent['source'] = { ip, userAgent, viaService };
  if (vpce !== ABSENT) source.vpcEndpointId = vpce;
  const e: SecretAccessEvent = {
    id,
    time: timeText(row.time),
    provider,
    service,
    operation,
    action,
    outcome: OUTCOMES[row.outcome]!,
    errorCode,
    principal,
    resource: what && { ...what },
    source,
    region,
    account,
    providerEventId: pe === 1 ? id.slice(provider.length + 1) : pe,
  };
  if (related !== ABSENT) e.relatedResource = unopt(related);
  if (details !== ABSENT) e.details = details;
  return e;
}

/**
 * Events encoded as rows, column by column: what the normalize worker sends the thread that stores
 * (typed arrays and strings clone far cheaper than event objects). Principals, resources and contexts
 * are listed once per batch and referred to by index.
 */
export interface RowBatch {
  readonly count: number;
  /** rowKey(id, time) of each event (probe 0). */
  readonly keys: BigInt64Array;
  readonly times: Float64Array;
  readonly outcomes: Uint8Array;
  /** Index into `principals`. */
  readonly principal: Int32Array;
  /** Index into `resources`, -1 for none. */
  readonly resource: Int32Array;
  /** Index into `contexts`. */
  readonly context: Int32Array;
  /**
   * The bodies (bodyOf) as UTF-8, one after the other: body i ends at `bodyEnds[i]` and starts where
   * body i - 1 ends. Bytes rather than strings: they cross threads as one transferred buffer, and the
   * strings made from them when they are stored or detected die young.
   */
  readonly bodies: Uint8Array;
  readonly bodyEnds: Uint32Array;
  readonly principals: Principal[];
  readonly resources: Resource[];
  readonly contexts: string[];
}

/**
 * The context text of an event, remembered per combination of its fields (events of one workload repeat
 * it): no tuple and no JSON per event. Keyed by the fields as contextOf reads them, so the text is the same.
 */
const contextTexts = new SequenceMemo<string>(4096);

function contextText(e: SecretAccessEvent): string {
  const s = e.source;
  return contextTexts
    .start()
    .next(e.provider)
    .next(e.service)
    .next(e.operation)
    .next(e.action)
    .next(e.errorCode)
    .next(s.userAgent)
    .next(s.viaService)
    .next(s.vpcEndpointId)
    .next(e.region)
    .next(e.account)
    .next(e.principal.via)
    .value(() => contextOf(e));
}

export function encodeRows(events: readonly SecretAccessEvent[]): RowBatch {
  const rows = new RowsBuilder(events.length);
  for (const e of events) rows.add(e);
  return rows.build();
}

/**
 * Encodes events one at a time into a RowBatch. Each event can be dropped as soon as it is added, so a
 * batch being gathered holds compact rows rather than event objects (which would outlive the young
 * generation and cost old-generation collections).
 */
export class RowsBuilder {
  private n = 0;
  private keys: BigInt64Array;
  /** The keys' two halves written as numbers: no BigInt per event. */
  private keyWords: Uint32Array;
  private times: Float64Array;
  private outcomes: Uint8Array;
  private principal: Int32Array;
  private resource: Int32Array;
  private context: Int32Array;
  private bodies: Buffer;
  private bodyEnds: Uint32Array;
  private bodyBytes = 0;
  private readonly principals: Principal[] = [];
  private readonly resources: Resource[] = [];
  private readonly contexts: string[] = [];
  private readonly principalIndex = new Map<string, number>();
  private readonly resourceIndex = new Map<string, number>();
  private readonly contextIndex = new Map<string, number>();
  // Events often share the principal or resource object itself: an identity lookup spares hashing the id.
  private readonly principalObjects = new Map<Principal, number>();
  private readonly resourceObjects = new Map<Resource, number>();

  constructor(capacity = 1024) {
    const c = Math.max(1, capacity);
    this.keys = new BigInt64Array(c);
    this.keyWords = new Uint32Array(this.keys.buffer);
    this.times = new Float64Array(c);
    this.outcomes = new Uint8Array(c);
    this.principal = new Int32Array(c);
    this.resource = new Int32Array(c);
    this.context = new Int32Array(c);
    this.bodyEnds = new Uint32Array(c);
    // Not Buffer.allocUnsafe: a small one is a slice of a shared pool, which cannot be transferred.
    this.bodies = Buffer.from(new ArrayBuffer(c * 256));
  }

  get count(): number {
    return this.n;
  }

  add(e: SecretAccessEvent): void {
    if (this.n === this.times.length) this.grow();
    const i = this.n++;
    const time = eventTime(e.time);
    this.keyWords[2 * i + HI] = keySeconds(time);
    this.keyWords[2 * i + LO] = sha1Uint32(e.id);
    this.times[i] = time;
    this.outcomes[i] = OUTCOME_CODE[e.outcome];
    const p = e.principal;
    let pi = this.principalObjects.get(p);
    if (pi === undefined) {
      pi = this.principalIndex.get(p.id);
      if (pi === undefined) {
        pi = this.principals.push({ id: p.id, type: p.type, name: p.name, account: p.account }) - 1;
        this.principalIndex.set(p.id, pi);
      }
      this.principalObjects.set(p, pi);
    }
    this.principal[i] = pi;
    const r = e.resource;
    if (r) {
      let ri = this.resourceObjects.get(r);
      if (ri === undefined) {
        ri = this.resourceIndex.get(r.id);
        if (ri === undefined) {
          ri = this.resources.push(r) - 1;
          this.resourceIndex.set(r.id, ri);
        }
        this.resourceObjects.set(r, ri);
      }
      this.resource[i] = ri;
    } else this.resource[i] = -1;
    const c = contextText(e);
    let ci = this.contextIndex.get(c);
    if (ci === undefined) {
      ci = this.contexts.push(c) - 1;
      this.contextIndex.set(c, ci);
    }
    this.context[i] = ci;
    const body = bodyOf(e);
    // At most 3 bytes per UTF-16 unit (a surrogate pair is 2 units for 4 bytes).
    if (this.bodyBytes + body.length * 3 > this.bodies.length) this.growBodies(body.length * 3);
    this.bodyBytes += this.bodies.write(body, this.bodyBytes);
    this.bodyEnds[i] = this.bodyBytes;
  }

  private growBodies(need: number): void {
    const bodies = Buffer.from(new ArrayBuffer(Math.max(this.bodies.length * 2, this.bodyBytes + need)));
    this.bodies.copy(bodies, 0, 0, this.bodyBytes);
    this.bodies = bodies;
  }

  private grow(): void {
    const c = this.times.length * 2;
    const keys = new BigInt64Array(c);
    keys.set(this.keys);
    this.keys = keys;
    this.keyWords = new Uint32Array(keys.buffer);
    this.times = grown(this.times, new Float64Array(c));
    this.outcomes = grown(this.outcomes, new Uint8Array(c));
    this.principal = grown(this.principal, new Int32Array(c));
    this.resource = grown(this.resource, new Int32Array(c));
    this.context = grown(this.context, new Int32Array(c));
    this.bodyEnds = grown(this.bodyEnds, new Uint32Array(c));
  }

  /** The batch of the events added; the builder is not to be used after. */
  build(): RowBatch {
    const n = this.n;
    const trimmed = <T extends { length: number; slice(a: number, b: number): T }>(a: T) =>
      a.length === n ? a : a.slice(0, n);
    return {
      count: n,
      keys: trimmed(this.keys),
      times: trimmed(this.times),
      outcomes: trimmed(this.outcomes),
      principal: trimmed(this.principal),
      resource: trimmed(this.resource),
      context: trimmed(this.context),
      bodies: new Uint8Array(this.bodies.buffer, 0, this.bodyBytes),
      bodyEnds: trimmed(this.bodyEnds),
      principals: this.principals,
      resources: this.resources,
      contexts: this.contexts,
    };
  }
}

function grown<T extends { set(a: T): void }>(old: T, fresh: T): T {
  fresh.set(old);
  return fresh;
}

/** The buffers of a batch's columns, to transfer rather than copy them to another thread. */
export function rowBuffers(b: RowBatch): ArrayBuffer[] {
  return [b.keys, b.times, b.outcomes, b.principal, b.resource, b.context, b.bodies, b.bodyEnds].map(
    (a) => a.buffer as ArrayBuffer,
  );
}

/** Body `i` of a batch, as text. */
export function batchBody(b: RowBatch, i: number): string {
  return utf8(b.bodies, bodyStart(b, i), b.bodyEnds[i]!);
}

/** Where body `i` of a batch starts in its bytes: where body i - 1 ends. */
function bodyStart(b: RowBatch, i: number): number {
  return i === 0 ? 0 : b.bodyEnds[i - 1]!;
}

/** The UTF-8 text of `bytes[start, end)`. */
function utf8(bytes: Uint8Array, start: number, end: number): string {
  return asBuffer(bytes).toString('utf8', start, end);
}

/** The last bytes viewed as a Buffer, and the view: rows are read batch by batch. */
let lastBytes: Uint8Array | undefined;
let lastBuffer: Buffer | undefined;

/** Bytes as a Buffer (bytes from another thread arrive as a plain Uint8Array): a view, not a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes !== lastBytes) {
    lastBytes = bytes;
    lastBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastBuffer!;
}

/**
 * The id of an encoded event (to tell a re-ingested event from a key collision, to order events of one
 * millisecond). The body starts with the id as a JSON string: without escapes, its text is the id.
 */
export function bodyId(body: string): string {
  if (body.charCodeAt(0) === 91 && body.charCodeAt(1) === 34) {
    const end = body.indexOf('"', 2);
    if (end > 0 && body.lastIndexOf('\\', end) < 2) return body.slice(2, end);
  }
  return (JSON.parse(body) as BodyTuple)[0];
}

/**
 * Stored events rows, column by column (EventRow's columns, with the store's dictionary ids): how the
 * thread that stored them hands new events to the thread that detects, without it reading them back.
 */
export interface StoredRows {
  readonly count: number;
  readonly times: Float64Array;
  readonly outcomes: Uint8Array;
  readonly principal: Int32Array;
  /** -1 for none. */
  readonly resource: Int32Array;
  readonly ctx: Int32Array;
  /** UTF-8 bytes holding the bodies (those of the batch they came from): row k's at `[bodyStarts[k], bodyEnds[k])`. */
  readonly bodies: Uint8Array;
  readonly bodyStarts: Uint32Array;
  readonly bodyEnds: Uint32Array;
}

/** The rows `index` of a batch as stored: `ids` are the store's ids of the batch's dictionaries. */
export function storedRows(
  b: RowBatch,
  index: readonly number[],
  ids: { principals: readonly number[]; resources: readonly number[]; contexts: readonly number[] },
): StoredRows {
  const n = index.length;
  const rows: StoredRows = {
    count: n,
    times: new Float64Array(n),
    outcomes: new Uint8Array(n),
    principal: new Int32Array(n),
    resource: new Int32Array(n),
    ctx: new Int32Array(n),
    bodies: asBuffer(b.bodies),
    bodyStarts: new Uint32Array(n),
    bodyEnds: new Uint32Array(n),
  };
  for (let k = 0; k < n; k++) {
    const i = index[k]!;
    const r = b.resource[i]!;
    rows.times[k] = b.times[i]!;
    rows.outcomes[k] = b.outcomes[i]!;
    rows.principal[k] = ids.principals[b.principal[i]!]!;
    rows.resource[k] = r < 0 ? -1 : ids.resources[r]!;
    rows.ctx[k] = ids.contexts[b.context[i]!]!;
    rows.bodyStarts[k] = bodyStart(b, i);
    rows.bodyEnds[k] = b.bodyEnds[i]!;
  }
  return rows;
}

/** Row `k` of stored rows, as the store reads it. */
export function storedRow(rows: StoredRows, k: number): EventRow {
  const r = rows.resource[k]!;
  return {
    body: storedBody(rows, k),
    time: rows.times[k]!,
    outcome: rows.outcomes[k]!,
    ctx: rows.ctx[k]!,
    principal: rows.principal[k]!,
    resource: r < 0 ? null : r,
  };
}

/** Row `k`'s body, as text. */
export function storedBody(rows: StoredRows, k: number): string {
  return utf8(rows.bodies, rows.bodyStarts[k]!, rows.bodyEnds[k]!);
}

/**
 * The buffers of stored rows' columns, to transfer rather than copy them to another thread (the bodies'
 * buffer is the batch's: the batch is not to be used after).
 */
export function storedBuffers(rows: StoredRows): ArrayBuffer[] {
  return [
    rows.times,
    rows.outcomes,
    rows.principal,
    rows.resource,
    rows.ctx,
    rows.bodies,
    rows.bodyStarts,
    rows.bodyEnds,
  ].map((a) => a.buffer as ArrayBuffer);
}
