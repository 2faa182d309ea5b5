// The identity list repository: lookups by person key against the serving generation, and
// whole-list replacement by writing a new generation and flipping to it.
import type Database from 'better-sqlite3'
import type { ListYtd } from '../../lists/ytd.ts'
import type { DB } from './db.ts'
import { personKey } from '../../identity/subject-key.ts'
import { maskName } from '../../identity/name.ts'
import { processAlive } from '../../base/process-alive.ts'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ListSpool, SpooledDuplicate, type EncodedBatch, type SpooledIdentity, type SpooledPerson } from './list-spool.ts'
import { ListIndex, MISS, UNKNOWN } from './list-index.ts'
import type { DataVersion } from './data-version.ts'

export type StoredIdentity = SpooledIdentity

export interface ListPerson {
  name_masked: string | null
  identities: StoredIdentity[]
}

export interface ListState {
  active_gen: number | null
  version: string | null
  source: string | null
  demo: boolean
  region: string | null
  seq: number | null
  person_count: number
  identity_count: number
  loaded_at: string | null
  data_as_of: string | null
}

/** What a list load consumes: the registry record shape, already normalised (see lists/list-record.ts). */
export interface LoadRecord {
  op?: 'upsert' | 'delete'
  certno: string
  psn_cert_type: string
  psn_name: string | null
  identities: StoredIdentity[]
  /** the registry's year-to-date figures (person_ytd), when the list gives them */
  ytd?: ListYtd
}

export interface LoadMeta {
  source: 'demo' | 'import' | 'registry'
  label: string
  version?: string
  demo?: boolean
  region?: string | null
  seq?: number | null
  data_as_of?: string | null
}

export interface LoadOptions {
  onProgress?: (persons: number) => void
  /** stops the load between two chunks (a shutdown, a deadline): the serving list stays as it was */
  signal?: AbortSignal
  /**
   * Runs inside the transaction that makes the new list the serving one, with what it becomes: what
   * must be true the moment real people are served (the audit row of the load, the end of demo
   * access) is committed with the flip or not at all.
   */
  atFlip?: (result: LoadResult) => void
  /**
   * Runs once every record has been taken in and before the first row is written: a caller that
   * reads its records as a stream refuses the load here (a bad record further down the file)
   * with nothing written.
   */
  beforeWrite?: () => void
  /**
   * 'background': the load resolves once the new list serves, and the rows it made dead (the
   * replaced list, the identities a delta replaced) are removed after, in the background, in
   * chunks (a serving process: the HIS is told the list is in service without waiting for the
   * housekeeping). Default 'wait': removed before the load resolves (the command line, whose
   * process ends after it). Either way a crash leaves them for the next load or start.
   */
  cleanup?: 'wait' | 'background'
}

/** A record of the load and where it stood in its file (0: unknown). */
export interface LineRecord {
  line: number
  record: LoadRecord
}

export interface LoadResult {
  gen: number
  version: string
  persons: number
  identities: number
}

export class ListLoadError extends Error {
  override name = 'ListLoadError'
}

/** The same person twice in a full list; `line` and `firstLine` are where they stand when known (else 0). */
export class DuplicatePerson extends ListLoadError {
  override name = 'DuplicatePerson'
  constructor (message: string, readonly line: number, readonly firstLine: number) {
    super(message)
  }
}

// Rows per write transaction in a process that serves: small enough that a lookup waits at most a
// few milliseconds. A process that serves nobody (the command line) sets a bigger one.
const CHUNK = 2000
const SPOOL_DIR = /^load-(\d+)$/
/** Records of a delta per transaction: each is four statements (remember, supersede, insert …). */
const DELTA_CHUNK = 500
/**
 * Lists up to this size are held in memory for lookups (list-index.ts: about 16 MB and a few MB of
 * identities per million people). A province's list is answered from SQLite: its index would not
 * fit the agent's 200 MB with the rest of the process.
 */
export const INDEX_MAX_PERSONS = 2_000_000
/** Rows the index build reads per step; the event loop serves requests between steps. */
const INDEX_CHUNK = 5000

interface StateRow extends Omit<ListState, 'demo'> { demo: number }

export class ListRepository {
  private readonly stateStmt
  private readonly lookupStmt
  private readonly loadingHere = new Set<number>()
  /** the clean-ups of loads handed to the background (LoadOptions.cleanup), one after the other */
  private housekeeping: Promise<void> = Promise.resolve()
  /** the sequence of the delta this process is applying, if any */
  private deltaHere: number | null = null
  /**
   * Rows a load writes per transaction. A server keeps them short so lookups and admissions are
   * never kept waiting; `fangpin import` and `fangpin sync` serve nobody and write bigger ones.
   */
  loadChunk = CHUNK
  /** bytes of a load's people held in memory before they are spooled to disk (list-spool.ts); tests lower it */
  spoolMemory: number | undefined = undefined

  // The serving list in memory (list-index.ts), for a process that serves lookups.
  private indexEnabled = false
  private index: ListIndex | null = null
  private building = false
  private rebuild = false
  /**
   * The list's state as last read, and what it was checked against: SQLite's data_version (another
   * process committed) and this connection's total_changes (a commit here). Checked once per
   * event-loop turn; every flip in this process drops it at once.
   */
  private served: { state: ListState, version: number, changes: number } | null = null
  private checkedThisTurn = false
  private readonly endTurn = (): void => { this.checkedThisTurn = false }
  private readonly changesStmt
  private readonly nameStmt

  constructor (private readonly db: DB, private readonly key: Buffer, private readonly dataDir: string | null = null, private readonly dataVersion: DataVersion | null = null) {
    this.stateStmt = db.prepare('SELECT active_gen, version, source, demo, region, seq, person_count, identity_count, loaded_at, data_as_of FROM list_state WHERE id = 1')
    // One statement reads the state and the person together, so it sees one snapshot: a flip by
    // another process cannot pair the old list's person with the new list's version.
    this.lookupStmt = db.prepare(`SELECT s.active_gen, s.version, s.source, s.demo, s.region, s.seq, s.person_count, s.identity_count,
        s.loaded_at, s.data_as_of, i.name_masked, i.category, i.begntime, i.endtime, i.source AS id_source
      FROM list_state s LEFT JOIN list_identity i ON i.gen = s.active_gen AND i.person_key = ?
        AND i.from_seq <= COALESCE(s.seq, 0) AND (i.to_seq IS NULL OR i.to_seq > COALESCE(s.seq, 0))
      WHERE s.id = 1 ORDER BY i.n`)
    this.changesStmt = db.prepare('SELECT total_changes()').pluck()
    this.nameStmt = db.prepare(`SELECT name_masked FROM list_identity WHERE gen = ? AND person_key = ? AND from_seq <= ?
      AND (to_seq IS NULL OR to_seq > ?) ORDER BY n LIMIT 1`).pluck()
  }

  /**
   * Answers lookups from memory from now on (the server; a command line process reads SQLite). The
   * index is built in the background; until it is ready, and whenever the list changes, lookups
   * are answered from SQLite as before.
   */
  enableIndex (): void {
    this.indexEnabled = true
    this.scheduleIndex()
  }

  /** People answered from memory now (0: lookups read SQLite — no index, or it is being built). */
  inMemory (): number {
    const index = this.index
    if (index === null) return 0
    const state = this.served?.state
    return state !== undefined && (index.gen !== state.active_gen || index.seq !== state.seq) ? 0 : index.persons
  }

  /** The list changed under this process's own connection: forget what is cached. */
  private changed (): void {
    this.served = null
    this.checkedThisTurn = false
    if (this.index !== null) this.index = null
    this.scheduleIndex()
  }

  /**
   * A delta just became visible: the list in memory takes it in by a merge, right here, before any
   * lookup can read the new state, instead of being read again from SQLite (seconds, during which
   * lookups read the database). Anything else (no index, one being built, another sequence) makes
   * the index go and be built again, as after any change.
   */
  private followDelta (gen: number, baseSeq: number, seq: number, persons: number, changes: Array<{ key: Buffer, identities: StoredIdentity[], existed: boolean }> | null): void {
    const index = this.index
    if (changes === null || index === null || this.building || index.gen !== gen || index.seq !== baseSeq || persons > INDEX_MAX_PERSONS) {
      this.changed()
      return
    }
    this.served = null
    this.checkedThisTurn = false
    try {
      this.index = index.patched(seq, changes)
    } catch {
      // The delta is committed and serving: whatever went wrong here, the index is built again.
      this.changed()
    }
  }

  /** The state as served now, from the cache when nothing was committed since it was read. */
  private currentState (): ListState {
    if (this.checkedThisTurn && this.served !== null) return this.served.state
    const version = this.dataVersion?.current() ?? -1
    const changes = this.changesStmt.get() as number
    if (this.served === null || this.served.version !== version || this.served.changes !== changes) {
      const state = Object.freeze(toState(this.stateStmt.get() as StateRow))
      this.served = { state, version, changes }
      if (this.index !== null && (this.index.gen !== state.active_gen || this.index.seq !== state.seq)) {
        this.index = null
        this.scheduleIndex()
      }
    }
    this.checkedThisTurn = true
    setImmediate(this.endTurn)
    return this.served.state
  }

  private scheduleIndex (): void {
    if (!this.indexEnabled) return
    if (this.building) {
      this.rebuild = true
      return
    }
    this.building = true
    setImmediate(() => {
      this.buildIndex().catch(() => undefined).finally(() => {
        this.building = false
        if (this.rebuild) {
          this.rebuild = false
          this.scheduleIndex()
        }
      })
    })
  }

  /** Reads the serving list in key order, a step at a time, and makes it the index if it still serves. */
  private async buildIndex (): Promise<void> {
    if (!this.db.open) return
    const start = toState(this.stateStmt.get() as StateRow)
    if (start.active_gen === null || start.person_count > INDEX_MAX_PERSONS) return
    const gen = start.active_gen
    const seq = start.seq ?? 0
    const rows = this.db.prepare(`SELECT person_key, category, begntime, endtime, source FROM list_identity
      WHERE gen = ? AND person_key > ? AND from_seq <= ? AND (to_seq IS NULL OR to_seq > ?) ORDER BY person_key, from_seq, n LIMIT ?`).raw()
    const builder = ListIndex.builder(gen, start.seq)
    let after: Buffer = Buffer.alloc(0)
    for (;;) {
      await yieldToLookups()
      if (!this.db.open || this.rebuild) return
      const chunk = rows.all(gen, after, seq, seq, INDEX_CHUNK) as Array<[Buffer, string, string, string | null, string | null]>
      if (chunk.length === 0) break
      // The last person of a full step may go on in the next one: that step starts with them.
      let end = chunk.length
      if (chunk.length === INDEX_CHUNK) {
        const last = chunk[end - 1][0]
        while (end > 0 && chunk[end - 1][0].equals(last)) end--
        if (end === 0) end = chunk.length
      }
      for (let i = 0; i < end;) {
        const key = chunk[i][0]
        const ids: SpooledIdentity[] = []
        for (; i < end && chunk[i][0].equals(key); i++) ids.push({ category: chunk[i][1], begntime: chunk[i][2], endtime: chunk[i][3], source: chunk[i][4] })
        builder.add(key, ids)
      }
      after = chunk[end - 1][0]
      if (chunk.length < INDEX_CHUNK) break
    }
    if (!this.db.open || this.rebuild) return
    // The rows of one generation at one sequence never change while it serves: if the same list
    // still serves, what was read is it.
    const now = toState(this.stateStmt.get() as StateRow)
    if (now.active_gen !== gen || now.seq !== start.seq) {
      this.rebuild = true
      return
    }
    this.index = builder.build()
  }

  keyOf (certType: string, certno: string): Buffer {
    return personKey(this.key, certType, certno)
  }

  state (): ListState {
    return toState(this.stateStmt.get() as StateRow)
  }

  /** The person under the serving list, with the state of that same list. */
  lookup (pk: Buffer): { state: ListState, person: ListPerson | null } {
    if (this.indexEnabled) {
      const state = this.currentState()
      const index = this.index
      if (index !== null && index.gen === state.active_gen && index.seq === state.seq) {
        const found = index.find(pk)
        if (found === MISS) return { state, person: null }
        if (found !== UNKNOWN) {
          // The name is read only by the admission of a patient the HIS sent without one.
          const nameStmt = this.nameStmt
          const seq = state.seq ?? 0
          let name: string | null | undefined
          return {
            state,
            person: {
              get name_masked (): string | null {
                name ??= (nameStmt.get(index.gen, pk, seq, seq) as string | null | undefined) ?? null
                return name
              },
              identities: found
            }
          }
        }
      }
    }
    return this.lookupStored(pk)
  }

  private lookupStored (pk: Buffer): { state: ListState, person: ListPerson | null } {
    const rows = this.lookupStmt.all(pk) as Array<StateRow & { name_masked: string | null, category: string | null, begntime: string, endtime: string | null, id_source: string | null }>
    const r0 = rows[0]
    const state: ListState = {
      active_gen: r0.active_gen,
      version: r0.version,
      source: r0.source,
      demo: r0.demo === 1,
      region: r0.region,
      seq: r0.seq,
      person_count: r0.person_count,
      identity_count: r0.identity_count,
      loaded_at: r0.loaded_at,
      data_as_of: r0.data_as_of
    }
    if (r0.category === null) return { state, person: null }
    return {
      state,
      person: {
        name_masked: r0.name_masked,
        identities: rows.map((r) => ({ category: r.category as string, begntime: r.begntime, endtime: r.endtime, source: r.id_source }))
      }
    }
  }

  /** The registry's figures for a person, written by a load (load_gen: the generation whose load wrote them). */
  private putYtdStmt (): Database.Statement {
    return this.db.prepare(`INSERT INTO person_ytd (person_key, psn_part_fen, medfee_fen, fulamt_fen, as_of, load_gen) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (person_key) DO UPDATE SET psn_part_fen = excluded.psn_part_fen, medfee_fen = excluded.medfee_fen,
      fulamt_fen = excluded.fulamt_fen, as_of = excluded.as_of, load_gen = excluded.load_gen`)
  }

  /**
   * Replaces the whole list. Rows go into a new generation in chunks (each its own short
   * transaction, yielding between chunks so lookups keep being served); one last transaction
   * makes the new generation the serving one. Any failure, or a crash, leaves the old list serving.
   * A delete record in a full load is ignored: the new list is exactly its upserts.
   */
  async replace (records: Iterable<LoadRecord | LineRecord> | AsyncIterable<LoadRecord | LineRecord>, meta: LoadMeta, opts: LoadOptions = {}): Promise<LoadResult> {
    return await this.load(async (spool) => {
      let identities = 0
      let slice = performance.now()
      for await (const item of records) {
        const r = 'record' in item ? item.record : item
        if (r.op === 'delete' || r.identities.length === 0) continue
        spool.add({ key: this.keyOf(r.psn_cert_type, r.certno), line: 'record' in item ? item.line : 0, name: maskName(r.psn_name), identities: r.identities, ytd: r.ytd ?? null })
        identities += r.identities.length
        // Hashing is the costly part here: a turn for the event loop every few milliseconds.
        if ((spool.count & 63) === 0 && performance.now() - slice > 4) {
          opts.signal?.throwIfAborted()
          await yieldToLookups()
          slice = performance.now()
        }
      }
      return identities
    }, meta, opts)
  }

  /**
   * replace() for people already read, checked, hashed and encoded elsewhere (a worker thread: the
   * event loop of a serving agent only files the batches away and writes the rows).
   */
  async replaceEncoded (batches: AsyncIterable<EncodedBatch>, meta: LoadMeta, opts: LoadOptions = {}): Promise<LoadResult> {
    return await this.load(async (spool) => {
      let identities = 0
      for await (const b of batches) {
        spool.addEncoded(b.buf)
        identities += b.identities
        opts.signal?.throwIfAborted()
      }
      return identities
    }, meta, opts)
  }

  private async load (fill: (spool: ListSpool) => Promise<number>, meta: LoadMeta, opts: LoadOptions): Promise<LoadResult> {
    const now = new Date().toISOString()
    const gen = this.db.transaction(() => {
      // Two loads at once would race to flip; the later one must wait for the operator to retry.
      const running = (this.db.prepare("SELECT gen, pid FROM list_generation WHERE state = 'loading'").all() as Array<{ gen: number, pid: number | null }>)
        .find((g) => this.loadingHere.has(g.gen) || (g.pid !== null && g.pid !== process.pid && processAlive(g.pid)))
      if (running !== undefined) throw new ListLoadError(`another list load is running (process ${running.pid ?? '?'}); try again when it has finished`)
      const row = this.db.prepare('SELECT COALESCE(MAX(gen), 0) + 1 AS gen FROM list_generation').get() as { gen: number }
      this.db.prepare("INSERT INTO list_generation (gen, state, source, label, started_at, pid) VALUES (?, 'loading', ?, ?, ?, ?)").run(row.gen, meta.source, meta.label, now, process.pid)
      return row.gen
    }).immediate()
    this.loadingHere.add(gen)
    const insert = this.insertStmt()
    const chunk = Math.max(1, this.loadChunk)
    let persons = 0
    let identities = 0
    // Keys are HMACs, random by design: inserted in key order they fill the b-tree page by page
    // instead of splitting pages all over it — several times faster for a county's million. The
    // sort is the spool's, in bounded memory (list-spool.ts).
    const spool = new ListSpool(this.dataDir === null ? '' : join(this.dataDir, `load-${gen}`), this.spoolMemory)
    try {
      if (this.dataDir === null) throw new Error('the list store was opened without its data directory')
      identities = await fill(spool)
      persons = spool.count
      opts.beforeWrite?.()
      if (persons === 0) {
        // An empty export is a broken export far more often than a county with nobody in need.
        throw new ListLoadError('the new list has no people in it; the current list stays in service')
      }
      // Chunks are committed without their own fsync (synchronous=NORMAL): a crash or a power cut
      // can only lose rows of a generation nobody reads, and the flip's own commit (FULL) makes the
      // whole log durable before the new list serves. Admissions written between two chunks keep FULL.
      // The year's figures are not versioned with the list: each row carries its own 统计截至, so a
      // row written before the flip (or by a load that failed) is still true of its person. The
      // flip drops the rows no load of this list wrote.
      const putYtd = this.putYtdStmt()
      const writeChunk = this.db.transaction((batch: SpooledPerson[]) => {
        for (const p of batch) {
          const ids = p.identities
          for (let n = 0; n < ids.length; n++) {
            const id = ids[n]
            insert.run(gen, p.key, 0, n, p.name, id.category, id.begntime, id.endtime, id.source)
          }
          const y = p.ytd
          if (y != null) putYtd.run(p.key, y.psn_part_fen, y.medfee_fen, y.fulamt_fen, y.as_of, gen)
        }
      })
      let batch: SpooledPerson[] = []
      let rows = 0
      let written = 0
      const flush = async (): Promise<void> => {
        opts.signal?.throwIfAborted()
        this.withoutFsync(() => writeChunk.immediate(batch))
        written += batch.length
        batch = []
        rows = 0
        opts.onProgress?.(written)
        // Between chunks the event loop serves lookups from the old list.
        await yieldToLookups()
      }
      try {
        for (const p of spool.sorted()) {
          batch.push(p)
          rows += p.identities.length
          if (rows >= chunk) await flush()
        }
      } catch (err) {
        if (err instanceof SpooledDuplicate) {
          throw new DuplicatePerson('the list names the same person twice (duplicate ID number); nothing was loaded', err.line, err.firstLine)
        }
        throw err
      }
      if (batch.length > 0) await flush()
      const version = meta.version ?? `${meta.source}-${gen}`
      const result = { gen, version, persons, identities }
      this.db.transaction(() => {
        const previous = (this.stateStmt.get() as StateRow).active_gen
        this.db.prepare(`UPDATE list_state SET active_gen = ?, version = ?, source = ?, demo = ?, region = ?, seq = ?,
          person_count = ?, identity_count = ?, loaded_at = ?, data_as_of = ? WHERE id = 1`)
          .run(gen, version, meta.source, meta.demo === true ? 1 : 0, meta.region ?? null, meta.seq ?? null,
            persons, identities, new Date().toISOString(), meta.data_as_of ?? null)
        this.db.prepare("UPDATE list_generation SET state = 'active', rows = ? WHERE gen = ?").run(identities, gen)
        // A full list says everything the registry knows of each person's year: what it no longer says goes.
        this.db.prepare('DELETE FROM person_ytd WHERE load_gen IS NULL OR load_gen <> ?').run(gen)
        if (previous !== null) this.db.prepare("UPDATE list_generation SET state = 'retired' WHERE gen = ?").run(previous)
        opts.atFlip?.(result)
      }).immediate()
      this.changed()
      return result
    } catch (err) {
      this.db.prepare("UPDATE list_generation SET state = 'retired' WHERE gen = ? AND state = 'loading'").run(gen)
      throw err
    } finally {
      spool.dispose()
      this.loadingHere.delete(gen)
      // Cleaning up the replaced list is housekeeping: its failure must not turn a load that is
      // already serving into a reported failure. The next load or start tries again.
      await this.houseKeep(opts, () => this.purgeRetired())
    }
  }

  /**
   * Applies a registry delta to the serving list. An upsert replaces all of a person's identities;
   * a delete removes the person. The rows are written in short chunks, invisible to readers (they
   * carry the delta's sequence, which is not yet the list's), and one small transaction makes them
   * visible by advancing the loaded sequence: readers see the list before the delta or after it,
   * the event loop keeps answering in between, and a crash leaves the list before it (the next
   * start undoes the invisible rows).
   */
  async applyDelta (records: LoadRecord[], meta: LoadMeta & { base_seq: number, seq: number }, opts: LoadOptions = {}): Promise<LoadResult> {
    await this.recoverDelta()
    // In key order: the people a delta touches are scattered over the whole list, but their keys in
    // list_delta_key then go in as appends, a few pages per chunk instead of one per person, and
    // each page a commit writes to the log costs two system calls. Hashed in steps, lookups answered
    // between. (A person given twice is not a delta this handles, in any order: the readers refuse
    // such a file before it gets here.)
    const keyed: Array<{ r: LoadRecord, pk: Buffer }> = []
    for (const r of records) {
      keyed.push({ r, pk: this.keyOf(r.psn_cert_type, r.certno) })
      if (keyed.length % CHUNK === 0) await yieldToLookups()
    }
    keyed.sort((a, b) => Buffer.compare(a.pk, b.pk))
    const seq = meta.seq
    const claim = this.db.transaction((): StateRow => {
      const state = this.stateStmt.get() as StateRow
      if (state.active_gen === null || state.seq !== meta.base_seq) {
        throw new ListLoadError(`the delta applies on list ${meta.base_seq}, but list ${state.seq ?? 'none'} is loaded`)
      }
      if (!(seq > meta.base_seq)) throw new ListLoadError(`the delta's sequence ${seq} does not follow ${meta.base_seq}`)
      const other = this.db.prepare('SELECT delta_seq, delta_pid FROM list_state WHERE id = 1').get() as { delta_seq: number | null, delta_pid: number | null }
      if (other.delta_seq !== null) throw new ListLoadError(`another delta (list ${other.delta_seq}, process ${other.delta_pid ?? '?'}) is being applied; try again when it has finished`)
      this.db.prepare('UPDATE list_state SET delta_seq = ?, delta_gen = ?, delta_pid = ? WHERE id = 1').run(seq, state.active_gen, process.pid)
      return state
    })
    const state = claim.immediate()
    const gen = state.active_gen!
    this.deltaHere = seq
    const insert = this.insertStmt()
    const remember = this.db.prepare('INSERT OR IGNORE INTO list_delta_key (person_key) VALUES (?)')
    // Every identity the person has in the list as served now is marked as replaced at `seq`.
    const supersede = this.db.prepare(`UPDATE list_identity SET to_seq = ? WHERE gen = ? AND person_key = ? AND to_seq IS NULL AND from_seq <= ?`)
    let persons = state.person_count
    let identities = state.identity_count
    // A delta's year figures change with the delta, in its flip: a person upserted without them has none.
    const ytdChanges: Array<[Buffer, ListYtd | undefined]> = []
    // What the list held in memory needs to follow the delta (only while there is one to follow).
    const indexChanges: Array<{ key: Buffer, identities: StoredIdentity[], existed: boolean }> | null = this.index !== null ? [] : null
    const writeChunk = this.db.transaction((batch: Array<{ r: LoadRecord, pk: Buffer }>) => {
      const now = this.db.prepare('SELECT active_gen, seq, delta_seq FROM list_state WHERE id = 1').get() as { active_gen: number | null, seq: number | null, delta_seq: number | null }
      if (now.active_gen !== gen || now.seq !== meta.base_seq || now.delta_seq !== seq) {
        throw new ListLoadError('the serving list changed while the delta was applied (another load); the delta was not applied')
      }
      for (const { r, pk } of batch) {
        remember.run(pk)
        const removed = supersede.run(seq, gen, pk, meta.base_seq).changes
        identities -= removed
        if (removed > 0) persons--
        ytdChanges.push([pk, r.op === 'delete' || r.identities.length === 0 ? undefined : r.ytd])
        indexChanges?.push({ key: pk, identities: r.op === 'delete' ? [] : r.identities, existed: removed > 0 })
        if (r.op === 'delete' || r.identities.length === 0) continue
        const name = maskName(r.psn_name)
        r.identities.forEach((id, n) => { insert.run(gen, pk, seq, n, name, id.category, id.begntime, id.endtime, id.source) })
        identities += r.identities.length
        persons++
      }
    })
    try {
      // Deltas keep the short chunk in every process: a delta is small, and a crash test must be
      // able to catch one half written.
      const chunk = DELTA_CHUNK
      for (let i = 0; i < keyed.length; i += chunk) {
        opts.signal?.throwIfAborted()
        // Invisible rows, as in replace(): the flip's commit (FULL) makes them durable.
        this.withoutFsync(() => writeChunk.immediate(keyed.slice(i, i + chunk)))
        opts.onProgress?.(Math.min(i + chunk, keyed.length))
        await yieldToLookups()
      }
      if (persons === 0) throw new ListLoadError('the delta would leave the list empty; the current list stays in service')
      const version = meta.version ?? `${meta.source}-${seq}`
      const result = { gen, version, persons, identities }
      this.db.transaction(() => {
        const now = this.db.prepare('SELECT active_gen, seq, delta_seq FROM list_state WHERE id = 1').get() as { active_gen: number | null, seq: number | null, delta_seq: number | null }
        if (now.active_gen !== gen || now.seq !== meta.base_seq || now.delta_seq !== seq) {
          throw new ListLoadError('the serving list changed while the delta was applied (another load); the delta was not applied')
        }
        this.db.prepare(`UPDATE list_state SET version = ?, source = ?, demo = ?, region = ?, seq = ?, person_count = ?,
          identity_count = ?, loaded_at = ?, data_as_of = ?, delta_seq = NULL, delta_gen = NULL, delta_pid = NULL WHERE id = 1`)
          .run(version, meta.source, meta.demo === true ? 1 : 0, meta.region ?? state.region, seq, persons, identities,
            new Date().toISOString(), meta.data_as_of ?? null)
        const put = this.putYtdStmt()
        const drop = this.db.prepare('DELETE FROM person_ytd WHERE person_key = ?')
        for (const [pk, y] of ytdChanges) {
          if (y === undefined) drop.run(pk)
          else put.run(pk, y.psn_part_fen, y.medfee_fen, y.fulamt_fen, y.as_of, gen)
        }
        opts.atFlip?.(result)
      }).immediate()
      this.followDelta(gen, meta.base_seq, seq, persons, indexChanges)
      return result
    } catch (err) {
      // The rows written so far are invisible; take them out again so the next attempt starts clean.
      await this.undoDelta(gen, seq).catch(() => undefined)
      throw err
    } finally {
      this.deltaHere = null
      await this.houseKeep(opts, () => this.dropReplaced())
    }
  }

  /** Runs a load's clean-up now, or after the ones before it in the background (LoadOptions.cleanup). */
  private async houseKeep (opts: LoadOptions, task: () => Promise<number>): Promise<void> {
    const run = (): Promise<void> => task().then(() => undefined, () => undefined)
    if (opts.cleanup !== 'background') {
      await run()
      return
    }
    this.housekeeping = this.housekeeping.then(run)
  }

  /** Resolves when the clean-up of every load so far has ended (the background ones included). */
  async cleanedUp (): Promise<void> {
    await this.housekeeping
  }

  /** Marks the serving list as confirmed current (a sync found nothing newer) without changing it. */
  confirm (dataAsOf: string): void {
    this.db.prepare('UPDATE list_state SET data_as_of = ? WHERE id = 1').run(dataAsOf)
    this.served = null
    this.checkedThisTurn = false
  }

  /**
   * Runs a commit whose rows nobody relies on yet (a load's or a delta's invisible rows, rows no
   * reader sees any more) without an fsync of its own: a killed process keeps it, and a power cut
   * costs only work that is redone. The next durable commit's fsync covers it.
   */
  private withoutFsync<T> (commit: () => T): T {
    this.db.pragma('synchronous = NORMAL')
    try {
      return commit()
    } finally {
      this.db.pragma('synchronous = FULL')
    }
  }

  private insertStmt (): Database.Statement {
    return this.db.prepare('INSERT INTO list_identity (gen, person_key, from_seq, n, name_masked, category, begntime, endtime, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  }

  /** Takes out the invisible rows of delta `seq` on generation `gen`, in chunks, and ends the claim. */
  private async undoDelta (gen: number, seq: number): Promise<void> {
    const keys = this.db.prepare('SELECT person_key FROM list_delta_key LIMIT ?').pluck()
    const drop = this.db.prepare('DELETE FROM list_identity WHERE gen = ? AND person_key = ? AND from_seq = ?')
    const restore = this.db.prepare('UPDATE list_identity SET to_seq = NULL WHERE gen = ? AND person_key = ? AND to_seq = ?')
    const forget = this.db.prepare('DELETE FROM list_delta_key WHERE person_key = ?')
    const chunk = this.db.transaction((): number => {
      const batch = keys.all(CHUNK) as Buffer[]
      for (const pk of batch) {
        drop.run(gen, pk, seq)
        restore.run(gen, pk, seq)
        forget.run(pk)
      }
      if (batch.length === 0) {
        this.db.prepare('UPDATE list_state SET delta_seq = NULL, delta_gen = NULL, delta_pid = NULL WHERE id = 1 AND delta_seq = ?').run(seq)
      }
      return batch.length
    })
    // Taking invisible rows out needs no fsync: after a crash the keys are still there to finish with.
    while (this.withoutFsync(() => chunk.immediate()) > 0) await yieldToLookups()
  }

  /**
   * After a delta became visible, the rows it replaced are never read again: removed in chunks,
   * by the people the delta touched. Also finishes the job after a crash cut it short.
   */
  private async dropReplaced (): Promise<number> {
    const pending = this.db.prepare('SELECT delta_seq FROM list_state WHERE id = 1').pluck()
    const keys = this.db.prepare('SELECT person_key FROM list_delta_key LIMIT ?').pluck()
    const drop = this.db.prepare(`DELETE FROM list_identity WHERE person_key = ? AND to_seq IS NOT NULL
      AND gen = (SELECT active_gen FROM list_state WHERE id = 1) AND to_seq <= (SELECT COALESCE(seq, 0) FROM list_state WHERE id = 1)`)
    const forget = this.db.prepare('DELETE FROM list_delta_key WHERE person_key = ?')
    const chunk = this.db.transaction((): number => {
      // A delta being applied owns the keys: they are its undo list until it is visible.
      if (pending.get() !== null) return -1
      const batch = keys.all(CHUNK) as Buffer[]
      let n = 0
      for (const pk of batch) {
        n += drop.run(pk).changes
        forget.run(pk)
      }
      return batch.length === 0 ? -1 : n
    })
    let removed = 0
    for (;;) {
      // Rows nobody reads any more: no fsync of their own (after a crash their keys are still there).
      const n = this.withoutFsync(() => chunk.immediate())
      if (n < 0) break
      removed += n
      await yieldToLookups()
    }
    return removed
  }

  /** A delta left half-applied by a process that is gone (kill -9, power cut) is undone. */
  private async recoverDelta (): Promise<void> {
    const d = this.db.prepare('SELECT delta_seq, delta_gen, delta_pid FROM list_state WHERE id = 1').get() as { delta_seq: number | null, delta_gen: number | null, delta_pid: number | null }
    if (d.delta_seq === null || d.delta_gen === null) return
    if (this.deltaHere === d.delta_seq) return
    if (d.delta_pid !== null && d.delta_pid !== process.pid && processAlive(d.delta_pid)) return
    await this.undoDelta(d.delta_gen, d.delta_seq)
  }

  /**
   * Deletes the rows of every generation that is not serving: retired lists and loads a crash
   * abandoned. Chunked, so a start or a load never blocks lookups for long. A load still running
   * (in this process or in a `fangpin import` beside the server) is left alone. Also undoes a delta
   * a crash cut off and drops the rows a committed delta replaced.
   */
  async purgeRetired (): Promise<number> {
    this.removeAbandonedSpools()
    await this.recoverDelta()
    let removed = await this.dropReplaced()
    const candidates = this.db.prepare('SELECT gen FROM list_generation').all() as Array<{ gen: number }>
    // Each chunk re-reads, inside its own transaction, whether the generation may still go: between
    // two chunks an import in another process may have finished and made it the serving list.
    const current = this.db.prepare(`SELECT g.state, g.pid, (SELECT active_gen FROM list_state WHERE id = 1) AS active
      FROM list_generation g WHERE g.gen = ?`)
    const del = this.db.prepare('DELETE FROM list_identity WHERE gen = ? AND person_key IN (SELECT person_key FROM list_identity WHERE gen = ? LIMIT ?)')
    const forget = this.db.prepare('DELETE FROM list_generation WHERE gen = ?')
    const chunk = this.db.transaction((gen: number): number => {
      const g = current.get(gen) as { state: string, pid: number | null, active: number | null } | undefined
      if (g === undefined || g.active === gen) return -1
      if (g.state === 'loading' && (this.loadingHere.has(gen) || (g.pid !== null && g.pid !== process.pid && processAlive(g.pid)))) return -1
      const n = del.run(gen, gen, CHUNK).changes
      if (n === 0) forget.run(gen)
      return n
    })
    for (const { gen } of candidates) {
      for (;;) {
        // Rows of a list nobody reads: no fsync of their own (after a crash the generation is still there to purge).
        const n = this.withoutFsync(() => chunk.immediate(gen))
        if (n <= 0) break
        removed += n
        await yieldToLookups()
      }
    }
    return removed
  }

  /** Spool directories (list-spool.ts) of loads that are not running any more: a crash left them. */
  private removeAbandonedSpools (): void {
    if (this.dataDir === null || !existsSync(this.dataDir)) return
    const loading = this.db.prepare("SELECT pid FROM list_generation WHERE gen = ? AND state = 'loading'").pluck()
    for (const name of readdirSync(this.dataDir)) {
      const m = SPOOL_DIR.exec(name)
      if (m === null) continue
      const gen = Number(m[1])
      if (this.loadingHere.has(gen)) continue
      const pid = loading.get(gen) as number | null | undefined
      if (pid !== undefined && pid !== null && pid !== process.pid && processAlive(pid)) continue
      rmSync(join(this.dataDir, name), { recursive: true, force: true })
    }
  }
}

function yieldToLookups (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function toState (row: StateRow): ListState {
  return { ...row, demo: row.demo === 1 }
}
