// The insurance catalog repository: the rows a charge line is classified by, the hospital's code
// mapping, the 集采中选 list, search, the alternatives of a generic, and loads that write a new
// generation of a part beside the serving one and flip to it in one small transaction.
import type Database from 'better-sqlite3'
import type { DB } from './db.ts'
import { processAlive } from '../../base/process-alive.ts'
import { admdvsRank, matchKey, type CatalogItem, type CatalogMapping, type VbpProduct } from '../../catalog/record.ts'

export type CatalogPart = 'items' | 'mapping' | 'vbp'

export interface CatalogState {
  item_gen: number | null
  map_gen: number | null
  vbp_gen: number | null
  version: string | null
  source: string | null
  seq: number | null
  region: string | null
  item_count: number
  code_count: number
  map_count: number
  vbp_count: number
  loaded_at: string | null
  data_as_of: string | null
  sync_at: string | null
  sync_result: string | null
  sync_message: string | null
}

/** The generations one classification reads, taken once per batch. */
export interface Serving {
  item_gen: number
  map_gen: number | null
  vbp_gen: number | null
  version: string | null
}

export interface CatalogRow {
  code: string
  name: string | null
  prodname: string | null
  genname_codg: string | null
  genname: string | null
  genname_key: string | null
  dosform: string | null
  dosform_name: string | null
  dosform_key: string | null
  spec: string | null
  item_type: string | null
  chrgitm_type: string | null
  lv: string | null
  insu_admdvs: string
  admdvs_rank: number
  begndate: string
  enddate: string | null
  vali_flag: number
  lmt_used: number
  nego: number
  bas: number
  price_cap_fen: number | null
  selfpay_prop: string | null
}

/** What deciding a line's level reads (from the index alone); the whole row by its id when needed. */
export interface LevelRow {
  id: number
  lv: string
  insu_admdvs: string
  admdvs_rank: number
  begndate: string
  enddate: string | null
}

export interface MappingRow { med_list_codg: string, begndate: string, enddate: string | null }
export interface VbpRow { begndate: string | null, enddate: string | null }

export interface DriftRow {
  code: string
  name: string | null
  his_lv: string
  catalog_lv: string
  first_seen: string
  last_seen: string
  lines: number
  mdtrt_id: string | null
  feedetl_sn: string | null
  catalog_version: string | null
}

export interface CatalogLoadMeta {
  source: 'import' | 'registry'
  label: string
  version?: string
  seq?: number | null
  region?: string | null
  data_as_of?: string | null
}

export interface CatalogLoadParts {
  items?: CatalogItem[]
  mappings?: CatalogMapping[]
  vbp?: VbpProduct[]
}

export interface CatalogLoadResult {
  version: string | null
  items: number
  codes: number
  mappings: number
  vbp: number
  parts: CatalogPart[]
}

export class CatalogLoadError extends Error {
  override name = 'CatalogLoadError'
}

const COLUMNS = `code, name, prodname, genname_codg, genname, genname_key, dosform, dosform_name, dosform_key, spec, item_type,
  chrgitm_type, lv, insu_admdvs, admdvs_rank, begndate, enddate, vali_flag, lmt_used, nego, bas, price_cap_fen, selfpay_prop`

// Rows per write transaction: a charge batch waits a few milliseconds at most behind a load.
const CHUNK = 2000

// A generation never changes once it serves (a load writes a new one), so what a code's rows are
// in a generation can be kept: a hospital bills the same few thousand items all day, and a batch
// then costs no statement at all for them. Bounded; the oldest entries go first.
const CACHE_ENTRIES = 50_000

class GenerationCache<T> {
  private readonly map = new Map<string, T>()
  get (key: string, load: () => T): T {
    let v = this.map.get(key)
    if (v === undefined) {
      v = load()
      if (this.map.size >= CACHE_ENTRIES) this.map.delete(this.map.keys().next().value as string)
      this.map.set(key, v)
    }
    return v
  }
}

function yieldToOthers (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Four regions, most local first, for the statements' fixed `IN (?, ?, ?, ?)`. */
function four (regions: readonly string[]): string[] {
  const r = regions.slice(0, 4)
  while (r.length < 4) r.push(r[r.length - 1] ?? '')
  return r
}

export class CatalogRepository {
  private readonly stateStmt
  private readonly levelRowsStmt
  private readonly rowByIdStmt
  private readonly mappingStmt
  private readonly vbpStmt
  private readonly anyRowStmt
  private readonly codeRowsStmt
  private readonly byGennameCodgStmt
  private readonly byGennameStmt
  private readonly driftInsertStmt
  private readonly driftUpdateStmt
  private readonly loadingHere = new Set<number>()
  private readonly levelCache = new GenerationCache<LevelRow[]>()
  private readonly mappingCache = new GenerationCache<MappingRow[]>()
  private readonly vbpCache = new GenerationCache<VbpRow[]>()

  constructor (private readonly db: DB) {
    this.stateStmt = db.prepare('SELECT * FROM catalog_state WHERE id = 1')
    // The per-line lookup (EXPLAIN QUERY PLAN is checked by a test): every row of a code that has
    // a level, is valid and covers the region, most local and latest first, straight from the index.
    this.levelRowsStmt = db.prepare(`SELECT id, lv, insu_admdvs, admdvs_rank, begndate, enddate FROM catalog_item WHERE gen = ? AND code = ?
      AND insu_admdvs IN (?, ?, ?, ?) AND vali_flag = 1 AND lv IS NOT NULL ORDER BY admdvs_rank DESC, begndate DESC`)
    this.rowByIdStmt = db.prepare(`SELECT ${COLUMNS} FROM catalog_item WHERE id = ?`)
    this.mappingStmt = db.prepare(`SELECT med_list_codg, begndate, enddate FROM catalog_mapping WHERE gen = ? AND medins_list_codg = ? AND vali_flag = 1
      ORDER BY begndate DESC`)
    this.vbpStmt = db.prepare('SELECT begndate, enddate FROM catalog_vbp WHERE gen = ? AND code = ?')
    this.anyRowStmt = db.prepare(`SELECT ${COLUMNS} FROM catalog_item WHERE gen = ? AND code = ? ORDER BY admdvs_rank DESC, begndate DESC LIMIT 1`)
    this.codeRowsStmt = db.prepare(`SELECT ${COLUMNS} FROM catalog_item WHERE gen = ? AND code = ? ORDER BY admdvs_rank DESC, begndate DESC LIMIT ?`)
    const alternatives = (by: string): string => `SELECT ${COLUMNS} FROM catalog_item WHERE gen = ? AND ${by} = ? AND dosform_key = ?
      AND insu_admdvs IN (?, ?, ?, ?) AND vali_flag = 1 AND lv IS NOT NULL AND begndate <= ? AND (enddate IS NULL OR enddate >= ?)
      ORDER BY code, admdvs_rank DESC, begndate DESC LIMIT 2000`
    this.byGennameCodgStmt = db.prepare(alternatives('genname_codg'))
    this.byGennameStmt = db.prepare(alternatives('genname_key'))
    this.driftInsertStmt = db.prepare(`INSERT INTO catalog_drift (code, name, his_lv, catalog_lv, first_seen, last_seen, lines, mdtrt_id, feedetl_sn, catalog_version)
      VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (code) DO NOTHING`)
    this.driftUpdateStmt = db.prepare(`UPDATE catalog_drift SET last_seen = ?, lines = lines + 1, his_lv = ?, catalog_lv = ?, name = COALESCE(?, name),
      catalog_version = ? WHERE code = ?`)
  }

  state (): CatalogState {
    return this.stateStmt.get() as CatalogState
  }

  /** The generations in service, or null when no catalog items are loaded. */
  serving (): Serving | null {
    const s = this.state()
    if (s.item_gen === null || s.item_count === 0) return null
    return { item_gen: s.item_gen, map_gen: s.map_gen, vbp_gen: s.vbp_gen, version: s.version }
  }

  /** Rows with a level of `code` that are valid and cover `regions`, most local and latest first. */
  levelRows (gen: number, code: string, regions: readonly string[]): readonly LevelRow[] {
    // The most local region decides the others (its city, its province, the country).
    return this.levelCache.get(`${gen}|${regions[0] ?? ''}|${code}`, () => this.levelRowsStmt.all(gen, code, ...four(regions)) as LevelRow[])
  }

  /** A whole row by its id (from levelRows). */
  rowById (id: number): CatalogRow | undefined {
    return this.rowByIdStmt.get(id) as CatalogRow | undefined
  }

  mappingRows (gen: number, medinsCode: string): readonly MappingRow[] {
    return this.mappingCache.get(`${gen}|${medinsCode}`, () => this.mappingStmt.all(gen, medinsCode) as MappingRow[])
  }

  vbpRows (gen: number, code: string): readonly VbpRow[] {
    return this.vbpCache.get(`${gen}|${code}`, () => this.vbpStmt.all(gen, code) as VbpRow[])
  }

  /** A row of the code whatever its validity: what the item is (names, generic, dosage form). */
  anyRow (gen: number, code: string): CatalogRow | undefined {
    return this.anyRowStmt.get(gen, code) as CatalogRow | undefined
  }

  codeRows (gen: number, code: string, limit = 50): CatalogRow[] {
    return this.codeRowsStmt.all(gen, code, limit) as CatalogRow[]
  }

  /** In-catalog rows valid at `at` for `regions` with the same generic and dosage form, by code. */
  sameGeneric (gen: number, by: { genname_codg: string | null, genname_key: string | null, dosform_key: string }, at: string, regions: readonly string[]): CatalogRow[] {
    const r = four(regions)
    if (by.genname_codg !== null) return this.byGennameCodgStmt.all(gen, by.genname_codg, by.dosform_key, ...r, at, at) as CatalogRow[]
    if (by.genname_key !== null) return this.byGennameStmt.all(gen, by.genname_key, by.dosform_key, ...r, at, at) as CatalogRow[]
    return []
  }

  /**
   * Items whose code, name or generic name contains `q` (a code by prefix), one row per code,
   * at most `limit` codes. Three characters or more go through the trigram index; shorter text
   * is matched at the start of the name or the generic name (both indexed).
   */
  search (gen: number, q: string, limit: number): CatalogRow[] {
    const codes: string[] = []
    const add = (rows: Array<{ code: string }>): void => {
      for (const r of rows) if (codes.length < limit && !codes.includes(r.code)) codes.push(r.code)
    }
    const upper = q.toUpperCase()
    add(this.db.prepare('SELECT DISTINCT code FROM catalog_item WHERE gen = ? AND code >= ? AND code < ? ORDER BY code LIMIT ?').all(gen, upper, upper + '\uffff', limit) as Array<{ code: string }>)
    if (codes.length < limit) {
      if ([...q].length >= 3) {
        const phrase = '"' + q.replace(/"/g, '""') + '"'
        add(this.db.prepare(`SELECT DISTINCT i.code FROM catalog_text t JOIN catalog_item i ON i.id = t.rowid
          WHERE catalog_text MATCH ? AND i.gen = ? ORDER BY length(i.name), i.code LIMIT ?`).all(phrase, gen, limit * 4) as Array<{ code: string }>)
      } else {
        add(this.db.prepare(`SELECT DISTINCT code FROM catalog_item WHERE gen = ? AND name >= ? AND name < ? ORDER BY name LIMIT ?`).all(gen, q, q + '\uffff', limit) as Array<{ code: string }>)
        add(this.db.prepare(`SELECT DISTINCT code FROM catalog_item WHERE gen = ? AND genname_key >= ? AND genname_key < ? ORDER BY genname_key LIMIT ?`).all(gen, q, q + '\uffff', limit) as Array<{ code: string }>)
      }
    }
    return codes.map((c) => this.anyRow(gen, c)).filter((r): r is CatalogRow => r !== undefined)
  }

  /** Records an item whose HIS level disagrees with the catalog; true the first time the item is seen. */
  recordDrift (d: { code: string, name: string | null, his_lv: string, catalog_lv: string, mdtrt_id: string, feedetl_sn: string, catalog_version: string | null }): boolean {
    const now = new Date().toISOString()
    if (this.driftInsertStmt.run(d.code, d.name, d.his_lv, d.catalog_lv, now, now, d.mdtrt_id, d.feedetl_sn, d.catalog_version).changes === 1) return true
    this.driftUpdateStmt.run(now, d.his_lv, d.catalog_lv, d.name, d.catalog_version, d.code)
    return false
  }

  drift (limit = 200): { count: number, items: DriftRow[] } {
    const count = this.db.prepare('SELECT COUNT(*) FROM catalog_drift').pluck().get() as number
    return { count, items: this.db.prepare('SELECT * FROM catalog_drift ORDER BY last_seen DESC LIMIT ?').all(limit) as DriftRow[] }
  }

  /** What the last catalog sync came to, for the status answers. */
  recordSync (result: string, message: string, at: string = new Date().toISOString()): void {
    this.db.prepare('UPDATE catalog_state SET sync_at = ?, sync_result = ?, sync_message = ? WHERE id = 1').run(at, result, message)
  }

  confirm (dataAsOf: string): void {
    this.db.prepare('UPDATE catalog_state SET data_as_of = ? WHERE id = 1').run(dataAsOf)
  }

  /**
   * Replaces the parts given (items, mapping, 集采 list). Each is written into a new generation in
   * chunks, each its own short transaction with the event loop free in between; one last
   * transaction makes all of them serve at once. Any failure, or a crash, leaves the catalog
   * serving as it was. An empty items part is refused: an empty export is a broken export.
   */
  async replace (parts: CatalogLoadParts, meta: CatalogLoadMeta, opts: { onProgress?: (done: number, total: number) => void, signal?: AbortSignal, atFlip?: (r: CatalogLoadResult) => void } = {}): Promise<CatalogLoadResult> {
    const given = (['items', 'mapping', 'vbp'] as const).filter((p) => (p === 'items' ? parts.items : p === 'mapping' ? parts.mappings : parts.vbp) !== undefined)
    if (given.length === 0) throw new CatalogLoadError('nothing to load')
    if (parts.items !== undefined && parts.items.length === 0) throw new CatalogLoadError('the catalog has no items in it; the current catalog stays in service')
    if (parts.mappings !== undefined && parts.mappings.length === 0) throw new CatalogLoadError('the mapping has no rows in it; the current mapping stays in service')
    const now = new Date().toISOString()
    const gens = this.db.transaction((): Record<string, number> => {
      const running = (this.db.prepare("SELECT gen, pid FROM catalog_generation WHERE state = 'loading'").all() as Array<{ gen: number, pid: number | null }>)
        .find((g) => this.loadingHere.has(g.gen) || (g.pid !== null && g.pid !== process.pid && processAlive(g.pid)))
      if (running !== undefined) throw new CatalogLoadError(`another catalog load is running (process ${running.pid ?? '?'}); try again when it has finished`)
      const out: Record<string, number> = {}
      for (const part of given) {
        const gen = (this.db.prepare('SELECT COALESCE(MAX(gen), 0) + 1 AS gen FROM catalog_generation').get() as { gen: number }).gen
        this.db.prepare("INSERT INTO catalog_generation (gen, part, state, source, label, started_at, pid) VALUES (?, ?, 'loading', ?, ?, ?, ?)").run(gen, part, meta.source, meta.label, now, process.pid)
        out[part] = gen
      }
      return out
    }).immediate()
    for (const g of Object.values(gens)) this.loadingHere.add(g)
    const total = (parts.items?.length ?? 0) + (parts.mappings?.length ?? 0) + (parts.vbp?.length ?? 0)
    let done = 0
    const chunked = async <T>(rows: T[], write: Database.Transaction<(batch: T[]) => void>): Promise<void> => {
      for (let i = 0; i < rows.length; i += CHUNK) {
        opts.signal?.throwIfAborted()
        write.immediate(rows.slice(i, i + CHUNK))
        done += Math.min(CHUNK, rows.length - i)
        opts.onProgress?.(done, total)
        await yieldToOthers()
      }
    }
    try {
      let codes = 0
      if (parts.items !== undefined) {
        const gen = gens.items
        const insert = this.db.prepare(`INSERT INTO catalog_item (gen, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        const text = this.db.prepare('INSERT INTO catalog_text (rowid, text) VALUES (?, ?)')
        // In code order: rows of one code sit together in the index and the pages fill in order.
        const items = [...parts.items].sort((a, b) => a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
        for (let i = 0; i < items.length; i++) if (i === 0 || items[i].code !== items[i - 1].code) codes++
        await chunked(items, this.db.transaction((batch: CatalogItem[]) => {
          for (const it of batch) {
            const id = insert.run(gen, it.code, it.name, it.prodname, it.genname_codg, it.genname, matchKey(it.genname), it.dosform, it.dosform_name,
              matchKey(it.dosform), it.spec, it.item_type, it.chrgitm_type, it.lv, it.insu_admdvs, admdvsRank(it.insu_admdvs), it.begndate, it.enddate,
              it.vali_flag ? 1 : 0, it.lmt_used ? 1 : 0, it.nego ? 1 : 0, it.bas ? 1 : 0, it.price_cap_fen, it.selfpay_prop).lastInsertRowid
            const words = [it.name, it.genname, it.prodname].filter((w, k, all) => w !== null && all.indexOf(w) === k).join(' ')
            if (words !== '') text.run(id, words)
          }
        }))
      }
      if (parts.mappings !== undefined) {
        const gen = gens.mapping
        const insert = this.db.prepare('INSERT INTO catalog_mapping (gen, medins_list_codg, med_list_codg, name, begndate, enddate, vali_flag) VALUES (?, ?, ?, ?, ?, ?, ?)')
        await chunked(parts.mappings, this.db.transaction((batch: CatalogMapping[]) => {
          for (const m of batch) insert.run(gen, m.medins_list_codg, m.med_list_codg, m.name, m.begndate, m.enddate, m.vali_flag ? 1 : 0)
        }))
      }
      if (parts.vbp !== undefined) {
        const gen = gens.vbp
        const insert = this.db.prepare('INSERT INTO catalog_vbp (gen, code, name, batch, begndate, enddate) VALUES (?, ?, ?, ?, ?, ?)')
        await chunked(parts.vbp, this.db.transaction((batch: VbpProduct[]) => {
          for (const v of batch) insert.run(gen, v.code, v.name, v.batch, v.begndate, v.enddate)
        }))
      }
      opts.signal?.throwIfAborted()
      let result: CatalogLoadResult | undefined
      this.db.transaction(() => {
        const before = this.state()
        const set: string[] = []
        const values: unknown[] = []
        const retire: Array<number | null> = []
        if (parts.items !== undefined) {
          const version = meta.version ?? `${meta.source}-${gens.items}`
          set.push('item_gen = ?', 'version = ?', 'source = ?', 'seq = ?', 'region = ?', 'item_count = ?', 'code_count = ?', 'loaded_at = ?', 'data_as_of = ?')
          values.push(gens.items, version, meta.source, meta.seq ?? null, meta.region ?? null, parts.items.length, codes, new Date().toISOString(), meta.data_as_of ?? null)
          retire.push(before.item_gen)
        }
        if (parts.mappings !== undefined) {
          set.push('map_gen = ?', 'map_count = ?')
          values.push(gens.mapping, parts.mappings.length)
          retire.push(before.map_gen)
        }
        if (parts.vbp !== undefined) {
          set.push('vbp_gen = ?', 'vbp_count = ?')
          values.push(gens.vbp, parts.vbp.length)
          retire.push(before.vbp_gen)
        }
        this.db.prepare(`UPDATE catalog_state SET ${set.join(', ')} WHERE id = 1`).run(...values)
        for (const [part, gen] of Object.entries(gens)) {
          const rows = part === 'items' ? parts.items!.length : part === 'mapping' ? parts.mappings!.length : parts.vbp!.length
          this.db.prepare("UPDATE catalog_generation SET state = 'active', rows = ? WHERE gen = ?").run(rows, gen)
        }
        for (const g of retire) if (g !== null) this.db.prepare("UPDATE catalog_generation SET state = 'retired' WHERE gen = ?").run(g)
        const after = this.state()
        result = { version: after.version, items: after.item_count, codes: after.code_count, mappings: after.map_count, vbp: after.vbp_count, parts: given }
        opts.atFlip?.(result)
      }).immediate()
      return result!
    } catch (err) {
      for (const g of Object.values(gens)) this.db.prepare("UPDATE catalog_generation SET state = 'retired' WHERE gen = ? AND state = 'loading'").run(g)
      throw err
    } finally {
      for (const g of Object.values(gens)) this.loadingHere.delete(g)
      await this.purgeRetired().catch(() => 0)
    }
  }

  /**
   * Deletes the rows of every generation not in service (retired, or abandoned by a crash), in
   * chunks; a load still running here or in another live process is left alone.
   */
  async purgeRetired (): Promise<number> {
    let removed = 0
    const candidates = this.db.prepare('SELECT gen, part FROM catalog_generation').all() as Array<{ gen: number, part: CatalogPart }>
    const current = this.db.prepare(`SELECT g.state, g.pid, s.item_gen, s.map_gen, s.vbp_gen FROM catalog_generation g, catalog_state s WHERE g.gen = ? AND s.id = 1`)
    const ids = this.db.prepare('SELECT id FROM catalog_item WHERE gen = ? LIMIT ?').pluck()
    const dropText = this.db.prepare('DELETE FROM catalog_text WHERE rowid = ?')
    const dropItem = this.db.prepare('DELETE FROM catalog_item WHERE id = ?')
    const dropMap = this.db.prepare('DELETE FROM catalog_mapping WHERE rowid IN (SELECT rowid FROM catalog_mapping WHERE gen = ? LIMIT ?)')
    const dropVbp = this.db.prepare('DELETE FROM catalog_vbp WHERE rowid IN (SELECT rowid FROM catalog_vbp WHERE gen = ? LIMIT ?)')
    const forget = this.db.prepare('DELETE FROM catalog_generation WHERE gen = ?')
    const chunk = this.db.transaction((gen: number, part: CatalogPart): number => {
      const g = current.get(gen) as { state: string, pid: number | null, item_gen: number | null, map_gen: number | null, vbp_gen: number | null } | undefined
      if (g === undefined || g.item_gen === gen || g.map_gen === gen || g.vbp_gen === gen) return -1
      if (g.state === 'loading' && (this.loadingHere.has(gen) || (g.pid !== null && g.pid !== process.pid && processAlive(g.pid)))) return -1
      let n: number
      if (part === 'items') {
        const batch = ids.all(gen, CHUNK) as number[]
        for (const id of batch) { dropText.run(id); dropItem.run(id) }
        n = batch.length
      } else {
        n = (part === 'mapping' ? dropMap : dropVbp).run(gen, CHUNK * 5).changes
      }
      if (n === 0) forget.run(gen)
      return n
    })
    for (const { gen, part } of candidates) {
      for (;;) {
        const n = chunk.immediate(gen, part)
        if (n <= 0) break
        removed += n
        await yieldToOthers()
      }
    }
    return removed
  }
}
