import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Outbox, PendingDelivery } from '../alerts/outbox.js';
import type { Alert } from '../core/alert.js';
import { StoreError } from '../core/errors.js';
import {
  isSecretRead,
  type Outcome,
  type Principal,
  type Resource,
  type SecretAccessEvent,
} from '../core/event.js';
import type { StateStore } from '../detectors/detector.js';
import type { QuarantineEntry } from '../ingest/pipeline.js';
import {
  batchBody,
  bodyId,
  type ContextTuple,
  decode,
  EVENT_COLUMNS,
  type EventRow,
  encodeRows,
  OUTCOME_CODE,
  type RowBatch,
  rowKey,
} from './rows.js';
import { MIGRATIONS } from './schema.js';

type DB = Database.Database;

/** Page size of new stores, in bytes (see Store.open). */
export const PAGE_SIZE = 16_384;
/** Paths SQLite opens as an in-memory database. */
const IN_MEMORY = new Set([':memory:', '']);

/** Events per INSERT statement (see insertRows). Measured: 20 to 100 about the same, 200 a little slower. */
const INSERT_ROWS = 50;

/** A cache of dictionary rows by id over `load`, cleared at `max`; a missing row means a damaged store. */
function byId<T>(what: string, load: (id: number) => T | undefined, max = 100_000): (id: number) => T {
  const cache = new Map<number, T>();
  return (id) => {
    let v = cache.get(id);
    if (v === undefined) {
      v = load(id);
      if (v === undefined) throw new StoreError(`store is damaged: ${what} ${id} is missing`);
      if (cache.size >= max) cache.clear();
      cache.set(id, v);
    }
    return v;
  };
}

/**
 * The id of a dictionary row by its key: from `cache`, else the table (`find`), else a new row
 * (`insert`). `max` bounds the cache (cleared when full).
 */
function dictionaryId(
  cache: Map<string, number>,
  key: string,
  find: () => unknown,
  insert: () => Database.RunResult,
  max = Number.POSITIVE_INFINITY,
): number {
  let id = cache.get(key);
  if (id !== undefined) return id;
  id = (find() as number | undefined) ?? Number(insert().lastInsertRowid);
  if (cache.size >= max) cache.clear();
  cache.set(key, id);
  return id;
}

/** Events stored before migration 4 kept their fields (but principal and resource) as a JSON object. */
function hydrateV1(row: EventRow, who: Principal, what: Resource | null): SecretAccessEvent {
  const body = JSON.parse(row.body) as Omit<SecretAccessEvent, 'principal' | 'resource'> & {
    principal: Pick<Principal, 'via' | 'session'>;
  };
  return { ...body, principal: { ...who, ...body.principal }, resource: what && { ...what } };
}

export interface EventQuery {
  /** Secret, parameter, key or vault: canonical id, ARN, name, or a glob with `*`. */
  readonly resource?: string | undefined;
  /** Principal: id, ARN, name, or a glob with `*`. */
  readonly principal?: string | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly outcome?: Outcome | undefined;
  /** Only reads of secret material (action `read`, not made by a service). */
  readonly readsOnly?: boolean | undefined;
  readonly limit?: number | undefined;
}

export interface OpenOptions {
  readonly readonly?: boolean;
}

/** What `insertRows` stored. */
export interface InsertedRows {
  /** Which events of the batch were new (their index in it), in batch order. */
  readonly index: number[];
  /** The row each new event got. */
  readonly seqs: number[];
  /** The store's ids of the batch's principals, resources and contexts. */
  readonly ids: { principals: number[]; resources: number[]; contexts: number[] };
}

/** The local audit store: one SQLite file, WAL, mode 0600. */
export class Store {
  readonly db: DB;
  readonly path: string;
  private readonly principalIds = new Map<string, number>();
  /** Row of each event this store inserted, for the detection queue (no second copy of the body). */
  private readonly seqs = new WeakMap<SecretAccessEvent, number>();
  private readonly resourceIds = new Map<string, number>();
  private readonly stmts;
  readonly state: CachedState;

  private constructor(path: string, db: DB) {
    this.path = path;
    this.db = db;
    this.stmts = {
      insertEvent: db.prepare(
        'INSERT OR IGNORE INTO events (idh, time, principal, resource, outcome, ctx, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertEvents: db.prepare(
        `INSERT OR IGNORE INTO events (idh, time, principal, resource, outcome, ctx, body) VALUES ${Array(INSERT_ROWS).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ),
      eventAt: db.prepare(
        `SELECT seq, CASE WHEN ctx IS NULL THEN json_extract(body, '$.id') ELSE json_extract(body, '$[0]') END AS id FROM events WHERE idh = ?`,
      ),
      lastSeq: db.prepare('SELECT max(seq) FROM events').pluck(),
      insertContext: db.prepare('INSERT INTO contexts (key) VALUES (?)'),
      findContext: db.prepare('SELECT id FROM contexts WHERE key = ?').pluck(),
      contextById: db.prepare('SELECT key FROM contexts WHERE id = ?').pluck(),
      principalById: db.prepare('SELECT key AS id, type, name, account FROM principals WHERE id = ?'),
      resourceById: db.prepare('SELECT key AS id, type, name, account, region FROM resources WHERE id = ?'),
      insertPrincipal: db.prepare('INSERT INTO principals (key, type, name, account) VALUES (?, ?, ?, ?)'),
      findPrincipal: db.prepare('SELECT id FROM principals WHERE key = ?').pluck(),
      insertResource: db.prepare(
        'INSERT INTO resources (key, type, name, account, region) VALUES (?, ?, ?, ?, ?)',
      ),
      findResource: db.prepare('SELECT id FROM resources WHERE key = ?').pluck(),
      insertQuarantine: db.prepare(
        'INSERT OR IGNORE INTO quarantine (ingested_at, file, position, reason) VALUES (?, ?, ?, ?)',
      ),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      getAlert: db.prepare('SELECT body FROM alerts WHERE id = ?').pluck(),
      upsertAlert: db.prepare(
        `INSERT INTO alerts (id, time, detector, severity, group_key, created_at, updated_at, suppressed, body)
         VALUES (@id, @time, @detector, @severity, @groupKey, @now, @now, @suppressed, @body)
         ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, updated_at = excluded.updated_at, body = excluded.body`,
      ),
    };
    this.state = new CachedState(db);
  }

  /** Opens (creating with mode 0600, in pages of PAGE_SIZE) and migrates the store at `path`. */
  static open(path: string, options: OpenOptions = {}): Store {
    let db: DB;
    try {
      if (options.readonly) {
        if (!existsSync(path)) throw new StoreError(`no store at ${path} (run \`vigil ingest\` first)`);
        db = new Database(path, { readonly: true, fileMustExist: true });
      } else {
        // SQLite opens ':memory:' (and '') in memory: no file to make or protect.
        if (!IN_MEMORY.has(path)) {
          mkdirSync(dirname(path), { recursive: true });
          if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
          chmodSync(path, 0o600);
        }
        db = new Database(path);
        // A new store gets 16 KB pages (SQLite's default is 4 KB; it is fixed once WAL is on): storing
        // 270k CloudTrail events cost about 0.8x the CPU time, the indexes splitting pages less often.
        if (db.pragma('page_count', { simple: true }) === 0) db.pragma(`page_size = ${PAGE_SIZE}`);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('busy_timeout = 5000');
      db.defaultSafeIntegers(false);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot open store ${path}: ${(err as Error).message}`, { cause: err });
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StoreError(
        `store ${path} has schema ${version}, newer than this vigil (${MIGRATIONS.length})`,
      );
    }
    if (version < MIGRATIONS.length) {
      if (options.readonly)
        throw new StoreError(`store ${path} needs a migration: open it once with \`vigil ingest\``);
      db.transaction(() => {
        for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${MIGRATIONS.length}`);
      })();
    }
    return new Store(path, db);
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    return this.stmts.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value);
  }

  private principalId(p: Principal): number {
    const { findPrincipal, insertPrincipal } = this.stmts;
    return dictionaryId(
      this.principalIds,
      p.id,
      () => findPrincipal.get(p.id),
      () => insertPrincipal.run(p.id, p.type, p.name, p.account),
    );
  }

  private resourceId(r: Resource): number {
    const { findResource, insertResource } = this.stmts;
    return dictionaryId(
      this.resourceIds,
      r.id,
      () => findResource.get(r.id),
      () => insertResource.run(r.id, r.type, r.name, r.account, r.region),
    );
  }

  private readonly contextIds = new Map<string, number>();

  private contextId(key: string): number {
    const { findContext, insertContext } = this.stmts;
    // Bounded: contexts follow workloads and clients, but a pathological log could make many.
    return dictionaryId(
      this.contextIds,
      key,
      () => findContext.get(key),
      () => insertContext.run(key),
      50_000,
    );
  }

  /** Dictionary rows by id, read once each (bounded). */
  private readonly principalById = byId(
    'principal',
    (id) => this.stmts.principalById.get(id) as Principal | undefined,
  );
  private readonly resourceById = byId(
    'resource',
    (id) => this.stmts.resourceById.get(id) as Resource | undefined,
  );
  private readonly contextById = byId(
    'event context',
    (id) => {
      const key = this.stmts.contextById.get(id) as string | undefined;
      return key === undefined ? undefined : (JSON.parse(key) as ContextTuple);
    },
    50_000,
  );

  /** The event an events row holds (see EVENT_COLUMNS). */
  hydrate(row: EventRow): SecretAccessEvent {
    const who = this.principalById(row.principal);
    const what = row.resource === null ? null : this.resourceById(row.resource);
    if (row.ctx === null) return hydrateV1(row, who, what);
    return decode(row, this.contextById(row.ctx), who, what);
  }

  /**
   * Stores events; returns the ones that were new. Re-ingesting an event is a no-op, which is what makes
   * ingest idempotent and keeps detectors from seeing an event twice. Call inside `transaction`.
   */
  insertEvents(events: readonly SecretAccessEvent[]): SecretAccessEvent[] {
    const { index, seqs } = this.insertRows(encodeRows(events));
    const fresh: SecretAccessEvent[] = [];
    for (let i = 0; i < index.length; i++) {
      const e = events[index[i]!]!;
      fresh.push(e);
      this.seqs.set(e, seqs[i]!);
    }
    return fresh;
  }

  /**
   * Stores encoded events (see rows.ts); returns which were new (their index in the batch) and the row
   * each got. Call inside `transaction`.
   *
   * Rows go in INSERT_ROWS at a time, one statement each (measured: about a third less CPU per event
   * than a statement per row). A statement that inserted all its rows gave them consecutive rows ending
   * at its last one (SQLite gives a new row the largest rowid plus one); one that skipped some is sorted
   * out row by row (see `settleRows`).
   */
  insertRows(b: RowBatch): InsertedRows {
    const principals = b.principals.map((p) => this.principalId(p));
    const resources = b.resources.map((r) => this.resourceId(r));
    const contexts = b.contexts.map((c) => this.contextId(c));
    const index: number[] = [];
    const seqs: number[] = [];
    const args: unknown[] = new Array(INSERT_ROWS * 7);
    const put = (i: number, at: number) => {
      const r = b.resource[i]!;
      args[at] = b.keys[i]!;
      args[at + 1] = b.times[i]!;
      args[at + 2] = principals[b.principal[i]!]!;
      args[at + 3] = r < 0 ? null : resources[r]!;
      args[at + 4] = b.outcomes[i]!;
      args[at + 5] = contexts[b.context[i]!]!;
      args[at + 6] = batchBody(b, i);
    };
    /** Inserts row `i` alone, under `key` (a probed one) if given. */
    const insertOne = (i: number, key?: bigint) => {
      put(i, 0);
      if (key !== undefined) args[0] = key;
      return this.stmts.insertEvent.run(...args.slice(0, 7));
    };
    // The last row before each statement: where a clean statement's rows start.
    let last = this.lastSeq();
    let i = 0;
    for (; i + INSERT_ROWS <= b.count; i += INSERT_ROWS) {
      for (let k = 0; k < INSERT_ROWS; k++) put(i + k, 7 * k);
      const res = this.stmts.insertEvents.run(...args);
      if (res.changes === INSERT_ROWS) {
        for (let k = 1; k <= INSERT_ROWS; k++) {
          index.push(i + k - 1);
          seqs.push(last + k);
        }
        last = Number(res.lastInsertRowid);
      } else {
        this.settleRows(b, i, i + INSERT_ROWS, last, index, seqs, insertOne);
        last = this.lastSeq();
      }
    }
    for (; i < b.count; i++) {
      const res = insertOne(i);
      if (res.changes === 1) {
        index.push(i);
        seqs.push(Number(res.lastInsertRowid));
        last = Number(res.lastInsertRowid);
      } else {
        this.settleRows(b, i, i + 1, last, index, seqs, insertOne);
        last = this.lastSeq();
      }
    }
    return { index, seqs, ids: { principals, resources, contexts } };
  }

  /**
   * After a statement inserted rows `from` to `to` of `b` but skipped some: finds which were stored (a
   * row after `before` holds their id, and no earlier row of the batch claimed it), which were already
   * there (the same event again), and which lost their key to another event (vanishingly rare): those
   * probe on to the next key, inserted by `insertOne`.
   */
  private settleRows(
    b: RowBatch,
    from: number,
    to: number,
    before: number,
    index: number[],
    seqs: number[],
    insertOne: (i: number, key: bigint) => Database.RunResult,
  ) {
    const claimed = new Set<number>();
    for (let i = from; i < to; i++) {
      const id = bodyId(batchBody(b, i));
      const time = b.times[i]!;
      for (let probe = 0; ; probe++) {
        const key = probe === 0 ? b.keys[i]! : rowKey(id, time, probe);
        const at = this.stmts.eventAt.get(key) as { seq: number; id: string } | undefined;
        if (at === undefined) {
          // Free: only a probed key can be (the statement took or found every first key).
          const seq = Number(insertOne(i, key).lastInsertRowid);
          claimed.add(seq);
          index.push(i);
          seqs.push(seq);
          break;
        }
        if (at.id !== id) continue;
        if (at.seq > before && !claimed.has(at.seq)) {
          claimed.add(at.seq);
          index.push(i);
          seqs.push(at.seq);
        }
        break;
      }
    }
  }

  /** The last row of `events` (0 when empty): rows inserted after it are new. */
  lastSeq(): number {
    return (this.stmts.lastSeq.get() as number | null) ?? 0;
  }

  /** The row an event got from `insertEvents` in this process, if it did. */
  seqOf(e: SecretAccessEvent): number | undefined {
    return this.seqs.get(e);
  }

  insertQuarantine(entries: readonly QuarantineEntry[], now: number): void {
    for (const q of entries) this.stmts.insertQuarantine.run(now, q.file, q.position, q.reason);
  }

  countEvents(): number {
    return this.db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  }

  /** Ids of dictionary rows matching a user's term: exact id, exact name, or a `*` glob on either. */
  private matchDictionary(
    table: 'principals' | 'resources',
    term: string,
    canonical: string[] = [],
  ): number[] {
    const keys = [term, ...canonical];
    if (term.includes('*')) {
      return this.db
        .prepare(`SELECT id FROM ${table} WHERE key GLOB ? OR name GLOB ?`)
        .pluck()
        .all(term, term) as number[];
    }
    const placeholders = keys.map(() => '?').join(',');
    return this.db
      .prepare(`SELECT id FROM ${table} WHERE key IN (${placeholders}) OR name = ? OR name = ?`)
      .pluck()
      .all(...keys, term, term.replace(/^\//, '')) as number[];
  }

  private whereClause(q: EventQuery, canonicalResource: string[]): { sql: string; params: unknown[] } | null {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.resource) {
      const ids = this.matchDictionary('resources', q.resource, canonicalResource);
      if (ids.length === 0) return null;
      where.push(`resource IN (${ids.join(',')})`);
    }
    if (q.principal) {
      const ids = this.matchDictionary('principals', q.principal);
      if (ids.length === 0) return null;
      where.push(`principal IN (${ids.join(',')})`);
    }
    if (q.since !== undefined) {
      where.push('time >= ?');
      params.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('time < ?');
      params.push(q.until);
    }
    if (q.outcome)
      where.push(
        q.outcome === 'success' ? 'outcome = 0' : `outcome = ${OUTCOME_CODE[q.outcome]} AND outcome <> 0`,
      );
    return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  }

  /** Matching events in time order, streamed from the store. */
  *queryEvents(q: EventQuery, canonicalResource: string[] = []): Generator<SecretAccessEvent> {
    const w = this.whereClause(q, canonicalResource);
    if (!w) return;
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
    const stmt = this.db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events e ${w.sql} ORDER BY e.time, e.seq${limit}`,
    );
    for (const row of stmt.iterate(...w.params)) {
      const e = this.hydrate(row as EventRow);
      if (q.readsOnly && !isSecretRead(e)) continue;
      yield e;
    }
  }

  countMatching(q: EventQuery, canonicalResource: string[] = []): number {
    if (q.readsOnly) {
      let n = 0;
      for (const _ of this.queryEvents(q, canonicalResource)) n++;
      return n;
    }
    const w = this.whereClause(q, canonicalResource);
    if (!w) return 0;
    return this.db
      .prepare(`SELECT count(*) FROM events ${w.sql}`)
      .pluck()
      .get(...w.params) as number;
  }

  *quarantineEntries(limit?: number): Generator<QuarantineEntry & { ingestedAt: number }> {
    const sql = `SELECT ingested_at AS ingestedAt, file, position, reason FROM quarantine ORDER BY id${
      limit !== undefined ? ` LIMIT ${Math.floor(limit)}` : ''
    }`;
    yield* this.db.prepare(sql).iterate() as Iterable<QuarantineEntry & { ingestedAt: number }>;
  }

  getAlert(id: string): Alert | undefined {
    const body = this.stmts.getAlert.get(id) as string | undefined;
    return body ? (JSON.parse(body) as Alert) : undefined;
  }

  /** Inserts or updates an alert (grouping adds events to an open one). */
  saveAlert(alert: Alert, now: number, suppressed: string | null = null): void {
    this.stmts.upsertAlert.run({
      id: alert.id,
      time: Date.parse(alert.time),
      detector: alert.detector,
      severity: alert.severity,
      groupKey: alert.groupKey,
      now,
      suppressed,
      body: JSON.stringify(alert),
    });
  }

  /** The delivery outbox kept in this store. */
  outbox(): Outbox {
    const db = this.db;
    const enqueue = db.prepare(
      `INSERT OR IGNORE INTO deliveries (alert_id, sink, state, attempts, next_attempt_at, updated_at)
       VALUES (?, ?, 'pending', 0, ?, ?)`,
    );
    const due = db.prepare(
      `SELECT alert_id AS alertId, sink, attempts FROM deliveries
       WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, alert_id LIMIT ?`,
    );
    const done = db.prepare(
      `UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL, updated_at = ?
       WHERE alert_id = ? AND sink = ?`,
    );
    const failed = db.prepare(
      `UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
       WHERE alert_id = ? AND sink = ?`,
    );
    return {
      enqueue: (alertId, sinks, now) => {
        for (const sink of sinks) enqueue.run(alertId, sink, now, now);
      },
      due: (now, limit) => due.all(now, limit) as PendingDelivery[],
      markDelivered: (alertId, sink, now) => {
        done.run(now, alertId, sink);
      },
      markFailed: (alertId, sink, f, now) => {
        failed.run(f.dead ? 'dead' : 'pending', f.reason, f.nextAttemptAt, now, alertId, sink);
      },
      alert: (id) => this.getAlert(id),
    };
  }

  deliveryCounts(): Record<string, Record<string, number>> {
    const rows = this.db
      .prepare('SELECT sink, state, count(*) AS n FROM deliveries GROUP BY sink, state')
      .all() as {
      sink: string;
      state: string;
      n: number;
    }[];
    const out: Record<string, Record<string, number>> = {};
    for (const r of rows) (out[r.sink] ??= {})[r.state] = r.n;
    return out;
  }

  *listAlerts(filter: { since?: number; detector?: string } = {}): Generator<Alert> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.since !== undefined) {
      where.push('time >= ?');
      params.push(filter.since);
    }
    if (filter.detector) {
      where.push('detector = ?');
      params.push(filter.detector);
    }
    const sql = `SELECT body FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time, id`;
    for (const body of this.db
      .prepare(sql)
      .pluck()
      .iterate(...params))
      yield JSON.parse(body as string) as Alert;
  }
}

/**
 * Detector state with a write-back cache: reads hit memory after the first load, writes are flushed
 * in the caller's transaction. The cache holds one entry per entity touched, never per event.
 */
export class CachedState implements StateStore {
  /** Namespace → key → slot; a slot holding `undefined` marks a key known to be absent (or deleted). */
  private readonly cache = new Map<string, Map<string, StateSlot>>();
  /** Slots changed since the last flush, each once (its `dirty` flag says it is listed). */
  private dirty: StateSlot[] = [];
  private readonly getStmt;
  private readonly putStmt;
  private readonly delStmt;
  /**
   * Whether the table may hold entries the cache has not read. Not while it was empty when opened and
   * every change since went through this cache: a key the cache does not know is then absent, and
   * reading it costs no query (a new store's first run looks up every new entity once).
   */
  private stored: boolean;

  constructor(db: DB) {
    this.stored = db.prepare('SELECT 1 FROM state LIMIT 1').pluck().get() !== undefined;
    this.getStmt = db.prepare('SELECT value FROM state WHERE ns = ? AND key = ?').pluck();
    this.putStmt = db.prepare(
      'INSERT INTO state (ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value',
    );
    this.delStmt = db.prepare('DELETE FROM state WHERE ns = ? AND key = ?');
  }

  private space(ns: string): Map<string, StateSlot> {
    let m = this.cache.get(ns);
    if (m === undefined) {
      m = new Map();
      this.cache.set(ns, m);
    }
    return m;
  }

  get<T>(ns: string, key: string): T | undefined {
    const m = this.space(ns);
    const slot = m.get(key);
    if (slot !== undefined) return slot.value as T | undefined;
    const raw = this.stored ? (this.getStmt.get(ns, key) as string | undefined) : undefined;
    const value = raw === undefined ? undefined : (JSON.parse(raw) as T);
    m.set(key, { ns, key, value, dirty: false });
    return value;
  }

  set<T>(ns: string, key: string, value: T): void {
    const m = this.space(ns);
    let slot = m.get(key);
    if (slot === undefined) m.set(key, (slot = { ns, key, value, dirty: false }));
    else slot.value = value;
    if (!slot.dirty) {
      slot.dirty = true;
      this.dirty.push(slot);
    }
  }

  delete(ns: string, key: string): void {
    this.set(ns, key, undefined);
  }

  /** Writes changed entries; call inside the transaction that stores the events they came from. */
  flush(): void {
    for (const slot of this.dirty) {
      slot.dirty = false;
      if (slot.value === undefined) this.delStmt.run(slot.ns, slot.key);
      else this.putStmt.run(slot.ns, slot.key, JSON.stringify(slot.value));
    }
    this.dirty = [];
  }

  /** Forgets unflushed changes (after a rolled-back transaction). */
  discard(): void {
    // A dropped slot may hide an entry flushed before: read such keys from the table again.
    if (this.dirty.length > 0) this.stored = true;
    for (const slot of this.dirty) {
      slot.dirty = false;
      this.cache.get(slot.ns)?.delete(slot.key);
    }
    this.dirty = [];
  }
}

/** A cached state entry: its value as detectors see it, and whether it changed since the last flush. */
interface StateSlot {
  readonly ns: string;
  readonly key: string;
  value: unknown;
  dirty: boolean;
}
