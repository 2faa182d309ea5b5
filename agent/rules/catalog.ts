// The insurance catalog in the rules: a charge or precheck line that comes without its level (and
// without the platform's split) is classified from the catalog — by its national code, or by the
// hospital's code through the mapping — at its fee_ocur_time, for the hospital's insurance region
// (the most local valid row wins). A line the catalog cannot place counts out of catalog: the
// patient's safe side, since the hospital would rather be warned than surprised at discharge.
// For an out-of-catalog drug the rules suggest in-catalog products of the same generic name and
// dosage form, ranked as 002 三(二) steers: 集采中选, then 国家谈判, then 基本药物, then 甲类
// before 乙类, then the lower price cap. Nothing is invented: no same-generic product, no suggestion.
import { createHash } from 'node:crypto'
import type { RulesContext } from './context.ts'
import type { ChargeLine } from './charge-line.ts'
import type { CatalogRow, DriftRow, LevelRow, MappingRow, Serving, VbpRow } from '../store/catalog.ts'
import type { UnmappedItem } from '../store/charges.ts'
import { coveringRegions, matchKey } from '../../catalog/record.ts'
import { toLocal } from '../../base/local-time.ts'
import { FangpinNotFound, FangpinValidation, withDetails } from '../errors.ts'
import { yuan } from './money.ts'
import {
  card, itemName, levelLabel, alternativesText, suggestionLabel, suggestionAction, noAlternativeText, noGenericText,
  notADrugText, notInCatalogText, unmappedCard, driftText, type Card
} from './voice.ts'

export type LevelSource = 'his' | 'catalog' | 'unknown'

/** How the agent read one line's level (each line of a charge or precheck answer). */
export interface LineLevel {
  index: number
  feedetl_sn: string | null
  level_source: LevelSource
  /** the level that counts; null: unknown (out of catalog), or a refund taking its original's share */
  chrgitm_lv: string | null
  /** the national code the catalog knows the line by (its own, or through the mapping) */
  med_list_codg: string | null
}

/** What classification found for a line, beyond its answer. */
export interface LineFinding {
  level: LineLevel
  /** the catalog row that decided the level (its id: the whole row is read only when needed) */
  rowId: number | null
  /** the catalog's level when the HIS sent another one */
  drift: { his_lv: string, catalog_lv: string, code: string, name: string | null } | null
}

export function regionOf (ctx: RulesContext): string {
  return ctx.settings.insuAdmdvs ?? ctx.profile.region
}

/**
 * The catalog as one batch sees it: the generations in service read once, and each code's rows
 * read once (one indexed statement per distinct code; the lines of a batch repeat codes).
 */
export class BatchCatalog {
  private readonly levels = new Map<string, readonly LevelRow[]>()
  private readonly rows = new Map<number, CatalogRow | undefined>()
  private readonly maps = new Map<string, readonly MappingRow[]>()
  private readonly vbps = new Map<string, readonly VbpRow[]>()
  readonly regions: string[]

  constructor (private readonly ctx: RulesContext, readonly serving: Serving) {
    this.regions = coveringRegions(regionOf(ctx))
  }

  /** The row that decides a code's level at `at`: the most local valid one, then the latest start. */
  levelAt (code: string, at: string): LevelRow | undefined {
    let rows = this.levels.get(code)
    if (rows === undefined) {
      rows = this.ctx.store.catalog.levelRows(this.serving.item_gen, code, this.regions)
      this.levels.set(code, rows)
    }
    return rows.find((r) => r.begndate <= at && (r.enddate === null || r.enddate >= at))
  }

  /** The national code a hospital code is matched to at `at`. */
  mapAt (medinsCode: string, at: string): string | undefined {
    if (this.serving.map_gen === null) return undefined
    let rows = this.maps.get(medinsCode)
    if (rows === undefined) {
      rows = this.ctx.store.catalog.mappingRows(this.serving.map_gen, medinsCode)
      this.maps.set(medinsCode, rows)
    }
    return rows.find((r) => r.begndate <= at && (r.enddate === null || r.enddate >= at))?.med_list_codg
  }

  isVbp (code: string, at: string): boolean {
    if (this.serving.vbp_gen === null) return false
    let rows = this.vbps.get(code)
    if (rows === undefined) {
      rows = this.ctx.store.catalog.vbpRows(this.serving.vbp_gen, code)
      this.vbps.set(code, rows)
    }
    return rows.some((r) => (r.begndate === null || r.begndate <= at) && (r.enddate === null || r.enddate >= at))
  }

  /** The whole row of a lookup's answer. */
  row (id: number): CatalogRow | undefined {
    if (!this.rows.has(id)) this.rows.set(id, this.ctx.store.catalog.rowById(id))
    return this.rows.get(id)
  }

  anyRow (code: string): CatalogRow | undefined {
    return this.ctx.store.catalog.anyRow(this.serving.item_gen, code)
  }

  sameGeneric (by: { genname_codg: string | null, genname_key: string | null, dosform_key: string }, at: string): CatalogRow[] {
    return this.ctx.store.catalog.sameGeneric(this.serving.item_gen, by, at, this.regions)
  }

  /** The line's national code and its deciding row: by med_list_codg, else through the mapping. */
  place (line: Pick<ChargeLine, 'med_list_codg' | 'medins_list_codg' | 'fee_ocur_time'>): { code: string | null, row: LevelRow | null } {
    const at = line.fee_ocur_time
    if (line.med_list_codg !== null) {
      const row = this.levelAt(line.med_list_codg, at)
      if (row !== undefined) return { code: line.med_list_codg, row }
    }
    if (line.medins_list_codg !== null) {
      const mapped = this.mapAt(line.medins_list_codg, at)
      if (mapped !== undefined) return { code: mapped, row: this.levelAt(mapped, at) ?? null }
    }
    return { code: line.med_list_codg, row: null }
  }
}

/** The catalog for this batch, or null when none is loaded (then lines need their own level, as before). */
export function batchCatalog (ctx: RulesContext): BatchCatalog | null {
  const serving = ctx.store.catalog.serving()
  return serving === null ? null : new BatchCatalog(ctx, serving)
}

/**
 * Classifies the lines: a line with its own level or split keeps it ('his'; a catalog that says
 * otherwise is noted as drift), a line without gets the catalog's ('catalog') or is counted out of
 * catalog ('unknown'). Sets out_fen and catalog_lv of the lines it classifies. A refund without
 * level takes its original's share (charges.ts) and is reported with its original's source there.
 */
export function classifyLines (cat: BatchCatalog | null, lines: ChargeLine[]): LineFinding[] {
  return lines.map((line, index) => {
    const level: LineLevel = { index, feedetl_sn: line.feedetl_sn, level_source: 'his', chrgitm_lv: line.chrgitm_lv, med_list_codg: line.med_list_codg }
    if (cat === null) return { level, rowId: null, drift: null }
    const needsLevel = line.out_fen === null && line.init_feedetl_sn === null
    if (!needsLevel) {
      if (line.chrgitm_lv === null || (line.med_list_codg === null && line.medins_list_codg === null)) return { level, rowId: null, drift: null }
      const { code, row } = cat.place(line)
      const drift = row !== null && code !== null && row.lv !== line.chrgitm_lv
        ? { his_lv: line.chrgitm_lv, catalog_lv: row.lv, code, name: cat.row(row.id)?.name ?? line.med_list_name }
        : null
      return { level: { ...level, med_list_codg: code }, rowId: row?.id ?? null, drift }
    }
    const { code, row } = cat.place(line)
    if (row === null) {
      line.out_fen = line.amount_fen
      return { level: { ...level, level_source: 'unknown', chrgitm_lv: null, med_list_codg: code }, rowId: null, drift: null }
    }
    line.out_fen = row.lv === '03' ? line.amount_fen : 0
    line.catalog_lv = row.lv
    return { level: { ...level, level_source: 'catalog', chrgitm_lv: row.lv, med_list_codg: code }, rowId: row.id, drift: null }
  })
}

/** 未对照项目 of this answer: a card naming them, when the stay is watched. */
export function unmappedCards (lines: ChargeLine[], findings: LineFinding[]): Card[] {
  const seen = new Map<string, { name: string | null, code: string | null }>()
  findings.forEach((f, i) => {
    if (f.level.level_source !== 'unknown') return
    const l = lines[i]
    const key = l.med_list_codg ?? l.medins_list_codg ?? l.med_list_name ?? String(i)
    if (!seen.has(key)) seen.set(key, { name: l.med_list_name, code: l.med_list_codg ?? l.medins_list_codg })
  })
  return seen.size === 0 ? [] : [unmappedCard([...seen.values()], seen.size)]
}

// ---------------------------------------------------------------------------------------------
// Alternatives

export interface AlternativeProduct {
  med_list_codg: string
  name: string | null
  drug_genname: string | null
  dosform: string | null
  spec: string | null
  chrgitm_lv: string | null
  level_label: string
  price_cap_amt: number | null
  vbp: boolean
  nego: boolean
  bas: boolean
  lmt_used: boolean
}

export interface Alternatives {
  /** the first line of the request with this item */
  index: number
  feedetl_sn: string | null
  med_list_codg: string | null
  medins_list_codg: string | null
  med_list_name: string | null
  item_type: string | null
  drug_genname: string | null
  dosform: string | null
  /** found: suggestions follow; none: no same-generic in-catalog product; not_a_drug: a service, material or herb; no_generic: the catalog lacks the generic name or dosage form; not_in_catalog: the item is not in the catalog */
  reason: 'found' | 'none' | 'not_a_drug' | 'no_generic' | 'not_in_catalog'
  message: string
  suggestions: AlternativeProduct[]
}

const MAX_SUGGESTIONS = 5
const MAX_ALTERNATIVE_CARDS = 3

interface Ranked { row: CatalogRow, vbp: boolean }

function rank (a: Ranked, b: Ranked): number {
  const lv = (r: CatalogRow): number => r.lv === '01' ? 0 : 1
  const price = (r: CatalogRow): number => r.price_cap_fen ?? Number.MAX_SAFE_INTEGER
  return Number(b.vbp) - Number(a.vbp) || b.row.nego - a.row.nego || b.row.bas - a.row.bas ||
    lv(a.row) - lv(b.row) || price(a.row) - price(b.row) || (a.row.code < b.row.code ? -1 : a.row.code > b.row.code ? 1 : 0)
}

function product (r: Ranked): AlternativeProduct {
  return {
    med_list_codg: r.row.code,
    name: r.row.name,
    drug_genname: r.row.genname,
    dosform: r.row.dosform_name ?? r.row.dosform,
    spec: r.row.spec,
    chrgitm_lv: r.row.lv,
    level_label: levelLabel(r.row.lv),
    price_cap_amt: r.row.price_cap_fen === null ? null : yuan(r.row.price_cap_fen),
    vbp: r.vbp,
    nego: r.row.nego === 1,
    bas: r.row.bas === 1,
    lmt_used: r.row.lmt_used === 1
  }
}

/** In-catalog products valid at `at` with the generic name and dosage form of `item`, best first. */
export function sameGenericProducts (cat: BatchCatalog, item: CatalogRow, at: string): Ranked[] {
  const dosform = item.dosform_key ?? matchKey(item.dosform)
  if (dosform === null) return []
  const rows = cat.sameGeneric({ genname_codg: item.genname_codg, genname_key: item.genname_key ?? matchKey(item.genname), dosform_key: dosform }, at)
  const byCode: Ranked[] = []
  for (const r of rows) {
    // Rows come by code, most local first: the first row of a code decides its level.
    if (byCode.length > 0 && byCode[byCode.length - 1].row.code === r.code) continue
    byCode.push({ row: r, vbp: false })
  }
  return byCode
    .filter((x) => x.row.code !== item.code && (x.row.lv === '01' || x.row.lv === '02'))
    .map((x) => ({ ...x, vbp: cat.isVbp(x.row.code, at) }))
    .sort(rank)
}

/**
 * Alternatives for the out-of-catalog lines `pick` chooses, one entry per item (by code), in the
 * order the items first appear. `today` is the hospital's local time now.
 */
export function alternativesFor (cat: BatchCatalog, lines: ChargeLine[], findings: LineFinding[], pick: (i: number) => boolean, today: string): Alternatives[] {
  const out: Alternatives[] = []
  const done = new Set<string>()
  lines.forEach((line, i) => {
    if (!pick(i)) return
    const code = findings[i].level.med_list_codg
    const key = code ?? line.medins_list_codg ?? line.med_list_name ?? `#${i}`
    if (done.has(key)) return
    done.add(key)
    const id = findings[i].rowId
    const row = (id !== null ? cat.row(id) : undefined) ?? (code !== null ? cat.anyRow(code) : undefined) ?? null
    const name = itemName(line.med_list_name ?? row?.name ?? null, code ?? line.medins_list_codg)
    const base = {
      index: i, feedetl_sn: line.feedetl_sn, med_list_codg: code, medins_list_codg: line.medins_list_codg,
      med_list_name: line.med_list_name ?? row?.name ?? null, item_type: row?.item_type ?? null,
      drug_genname: row?.genname ?? null, dosform: row?.dosform_name ?? row?.dosform ?? null
    }
    if (row === null) return out.push({ ...base, reason: 'not_in_catalog', message: notInCatalogText(name), suggestions: [] })
    if (row.item_type !== 'drug') return out.push({ ...base, reason: 'not_a_drug', message: notADrugText(name, row.item_type), suggestions: [] })
    if ((row.genname_codg === null && row.genname_key === null) || row.dosform_key === null) {
      return out.push({ ...base, reason: 'no_generic', message: noGenericText(name), suggestions: [] })
    }
    const found = sameGenericProducts(cat, row, today).slice(0, MAX_SUGGESTIONS).map(product)
    if (found.length === 0) return out.push({ ...base, reason: 'none', message: noAlternativeText(name), suggestions: [] })
    out.push({ ...base, reason: 'found', message: alternativesText(name, { ...found[0], price_cap_fen: priceFen(found[0]) }, found.length), suggestions: found })
  })
  return out
}

function priceFen (p: AlternativeProduct): number | null {
  return p.price_cap_amt === null ? null : Math.round(p.price_cap_amt * 100)
}

/** A stable id for a suggestion (CDS Hooks feedback refers to it): the same pair, the same id. */
function suggestionId (from: string, to: string): string {
  const h = createHash('sha256').update(`fangpin-alternative\u0000${from}\u0000${to}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${(8 + (parseInt(h[16], 16) & 3)).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/**
 * Cards for alternatives, CDS Hooks style: the items with suggestions first, at most three cards;
 * each suggestion says what it would change, the first is the recommended one, and the HIS may
 * take at most one (selectionBehavior at-most-one).
 */
export function alternativeCards (alts: Alternatives[]): Card[] {
  const ordered = [...alts.filter((a) => a.reason === 'found'), ...alts.filter((a) => a.reason !== 'found')]
  return ordered.slice(0, MAX_ALTERNATIVE_CARDS).map((a) => {
    if (a.reason !== 'found') return card('info', a.message)
    const original = itemName(a.med_list_name, a.med_list_codg ?? a.medins_list_codg)
    const c = card('info', a.message)
    c.selectionBehavior = 'at-most-one'
    c.suggestions = a.suggestions.map((s, k) => {
      const view = { ...s, price_cap_fen: priceFen(s) }
      return {
        label: suggestionLabel(view),
        uuid: suggestionId(a.med_list_codg ?? original, s.med_list_codg),
        ...(k === 0 ? { isRecommended: true } : {}),
        actions: [{ type: 'update' as const, description: suggestionAction(original, view) }]
      }
    })
    return c
  })
}

export function todayLocal (ctx: RulesContext): string {
  return toLocal(ctx.now(), ctx.settings.tz)
}

// ---------------------------------------------------------------------------------------------
// Looking the catalog up (HIS and staff page)

export interface CatalogStatus {
  loaded: boolean
  version: string | null
  source: string | null
  seq: number | null
  loaded_at: string | null
  items: number
  codes: number
  mappings: number
  vbp: number
  insu_admdvs: string
  last_sync: { at: string, result: string | null, message: string | null } | null
}

export function catalogStatus (ctx: RulesContext): CatalogStatus {
  const s = ctx.store.catalog.state()
  return {
    loaded: s.item_gen !== null && s.item_count > 0,
    version: s.version,
    source: s.source,
    seq: s.seq,
    loaded_at: s.loaded_at,
    items: s.item_count,
    codes: s.code_count,
    mappings: s.map_count,
    vbp: s.vbp_count,
    insu_admdvs: regionOf(ctx),
    last_sync: s.sync_at === null ? null : { at: s.sync_at, result: s.sync_result, message: s.sync_message }
  }
}

export interface CatalogItemView {
  med_list_codg: string
  name: string | null
  drug_prodname: string | null
  genname_codg: string | null
  drug_genname: string | null
  dosform: string | null
  spec: string | null
  item_type: string | null
  chrgitm_lv: string | null
  level_label: string
  /** null: a nationwide row */
  insu_admdvs: string | null
  begndate: string
  enddate: string | null
  valid: boolean
  /** the row that counts for this hospital's region now */
  current: boolean
  lmt_used: boolean
  nego: boolean
  bas: boolean
  vbp: boolean
  price_cap_amt: number | null
  selfpay_prop: string | null
}

function itemView (r: CatalogRow, current: boolean, vbp: boolean): CatalogItemView {
  return {
    med_list_codg: r.code,
    name: r.name,
    drug_prodname: r.prodname,
    genname_codg: r.genname_codg,
    drug_genname: r.genname,
    dosform: r.dosform_name ?? r.dosform,
    spec: r.spec,
    item_type: r.item_type,
    chrgitm_lv: r.lv,
    level_label: levelLabel(r.lv),
    insu_admdvs: r.insu_admdvs === '' ? null : r.insu_admdvs,
    begndate: r.begndate,
    enddate: r.enddate,
    valid: r.vali_flag === 1,
    current,
    lmt_used: r.lmt_used === 1,
    nego: r.nego === 1,
    bas: r.bas === 1,
    vbp,
    price_cap_amt: r.price_cap_fen === null ? null : yuan(r.price_cap_fen),
    selfpay_prop: r.selfpay_prop
  }
}

/** The row that counts today, else the code's most local latest row, as a view. */
function currentView (cat: BatchCatalog, code: string, today: string): CatalogItemView | null {
  const level = cat.levelAt(code, today)
  const now = level === undefined ? undefined : cat.row(level.id)
  const vbp = cat.isVbp(code, today)
  if (now !== undefined) return itemView(now, true, vbp)
  const any = cat.anyRow(code)
  return any === undefined ? null : itemView(any, false, vbp)
}

export interface CatalogItemAnswer {
  catalog: CatalogStatus
  /** the code asked for, and how it was found: a national code, or a hospital code through the mapping */
  query: string
  via: 'med_list_codg' | 'medins_list_codg'
  item: CatalogItemView
  /** every row of the item (regions, periods), most local and latest first */
  rows: CatalogItemView[]
}

function notLoaded (): never {
  throw new FangpinNotFound('no insurance catalog is loaded: import one (fangpin catalog import) or configure the registry\'s catalog channel')
}

export function catalogItem (ctx: RulesContext, codeRaw: string): CatalogItemAnswer {
  const cat = batchCatalog(ctx)
  if (cat === null) notLoaded()
  const query = codeRaw.trim()
  const today = todayLocal(ctx)
  let via: CatalogItemAnswer['via'] = 'med_list_codg'
  let code = query
  if (cat.anyRow(code) === undefined) {
    const mapped = cat.mapAt(query, today)
    if (mapped === undefined) throw new FangpinNotFound(`the insurance catalog has no item ${query} (neither a national code nor a hospital code in the mapping)`)
    via = 'medins_list_codg'
    code = mapped
  }
  const item = currentView(cat, code, today)
  if (item === null) throw new FangpinNotFound(`hospital code ${query} is mapped to ${code}, which the insurance catalog does not have`)
  const vbp = item.vbp
  const rows = ctx.store.catalog.codeRows(cat.serving.item_gen, code).map((r) => {
    const counts = item.current && r.insu_admdvs === (item.insu_admdvs ?? '') && r.begndate === item.begndate && r.lv === item.chrgitm_lv
    return itemView(r, counts, vbp)
  })
  return { catalog: catalogStatus(ctx), query, via, item, rows }
}

export interface CatalogSearchAnswer {
  catalog: CatalogStatus
  q: string
  count: number
  items: CatalogItemView[]
}

export const SEARCH_LIMIT = 50

export function catalogSearch (ctx: RulesContext, qRaw: string, limit = 20): CatalogSearchAnswer {
  const q = qRaw.trim()
  if (q === '') {
    throw withDetails(new FangpinValidation('q must not be blank: give a code, a name or a generic name'), [{ field: 'q', reason: 'minLength', message: 'must not be blank' }])
  }
  const cat = batchCatalog(ctx)
  if (cat === null) return { catalog: catalogStatus(ctx), q, count: 0, items: [] }
  const today = todayLocal(ctx)
  const items = ctx.store.catalog.search(cat.serving.item_gen, q, Math.min(limit, SEARCH_LIMIT))
    .map((r) => currentView(cat, r.code, today)).filter((v): v is CatalogItemView => v !== null)
  return { catalog: catalogStatus(ctx), q, count: items.length, items }
}

export interface DriftView extends DriftRow {
  his_label: string
  catalog_label: string
  message: string
}

export function catalogDrift (ctx: RulesContext, limit = 200): { count: number, items: DriftView[] } {
  const d = ctx.store.catalog.drift(limit)
  return {
    count: d.count,
    items: d.items.map((r) => ({ ...r, his_label: levelLabel(r.his_lv), catalog_label: levelLabel(r.catalog_lv), message: driftText(r.his_lv, r.catalog_lv) }))
  }
}

export interface UnmappedView {
  med_list_codg: string | null
  medins_list_codg: string | null
  med_list_name: string | null
  amount: number
  lines: number
}

export function unmappedView (i: UnmappedItem): UnmappedView {
  return { med_list_codg: i.med_list_codg, medins_list_codg: i.medins_list_codg, med_list_name: i.med_list_name, amount: yuan(i.amount_fen), lines: i.lines }
}
