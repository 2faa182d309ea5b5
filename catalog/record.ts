// The insurance catalog (医保目录) as the agent and the county's publisher keep it, whatever file it
// came in: one row per item, region and validity window, with the level (01 甲类, 02 乙类, 03 丙类)
// it has there and then; the hospital's code mapping (1317-style: medins_list_codg → med_list_codg);
// the list of 集采中选 products. The checks here are the same for an Excel sheet, a CSV, the
// platform's tab-separated downloads and the registry's NDJSON, so the same catalog reads the same.
import { toHalfWidth } from '../lists/list-record.ts'

export type Level = '01' | '02' | '03'
/** drug: 西药/中成药; herb: 中药饮片; service: 医疗服务项目; material: 医用耗材 */
export type ItemType = 'drug' | 'herb' | 'service' | 'material'

export interface CatalogItem {
  /** 医保目录编码 (med_list_codg, hilist_code) */
  code: string
  name: string | null
  /** 药品商品名 */
  prodname: string | null
  genname_codg: string | null
  /** 药品通用名 */
  genname: string | null
  /** 剂型: the code the file gives (drug_dosform), else its name */
  dosform: string | null
  /** 剂型名称, for people */
  dosform_name: string | null
  spec: string | null
  item_type: ItemType | null
  /** med_chrgitm_type (医疗收费项目类别) as given */
  chrgitm_type: string | null
  /** null: the row says nothing about the level (a drug's attributes without its class) */
  lv: Level | null
  /** 6-digit 医保区划; '' for a nationwide row */
  insu_admdvs: string
  /** local 'YYYY-MM-DD HH:mm:ss'; a row without a start counts from 1900-01-01 */
  begndate: string
  /** local, a date-only end is its last second; null: open */
  enddate: string | null
  vali_flag: boolean
  lmt_used: boolean
  /** 国家谈判 (hi_nego_drug_flag) */
  nego: boolean
  /** 基本药物 (bas_medn_flag) */
  bas: boolean
  /** 医保目录定价上限 (hilist_pric_uplmt_amt) in fen, rounded half up (a unit price cap below a fen reads as 0 or 1) */
  price_cap_fen: number | null
  /** 自付比例 as the decimal text of the file (0.1) */
  selfpay_prop: string | null
}

export interface CatalogMapping {
  /** the hospital's own code (医药机构目录编码) */
  medins_list_codg: string
  /** the national code it is matched to */
  med_list_codg: string
  name: string | null
  begndate: string
  enddate: string | null
  vali_flag: boolean
}

/** A 集采中选 product (国家/省级组织药品、耗材集中带量采购中选), by its national code. */
export interface VbpProduct {
  code: string
  name: string | null
  batch: string | null
  begndate: string | null
  enddate: string | null
}

/** The start of a row that gives none: valid for as long as the catalog has been kept. */
export const OPEN_BEGIN = '1900-01-01 00:00:00'

const LEVELS: Record<string, Level> = {
  '01': '01', 1: '01', 甲: '01', 甲类: '01',
  '02': '02', 2: '02', 乙: '02', 乙类: '02',
  '03': '03', 3: '03', 丙: '03', 丙类: '03', 自费: '03', 全自费: '03'
}

/** 01/02/03, 甲类/乙类/丙类 (or 自费): the level; '' is no level; anything else undefined. */
export function parseLevel (text: string): Level | null | undefined {
  const t = toHalfWidth(text).trim().toUpperCase()
  if (t === '') return null
  return LEVELS[t]
}

export const LEVEL_LABEL: Record<Level, string> = { '01': '甲类', '02': '乙类', '03': '丙类' }

const TRUE = new Set(['1', '是', 'Y', 'YES', 'TRUE', '有', '√'])
const FALSE = new Set(['0', '否', 'N', 'NO', 'FALSE', '无', ''])

/** A yes/no column (1/0, 是/否, Y/N); undefined when it is neither. */
export function parseFlag (text: string): boolean | undefined {
  const t = toHalfWidth(text).trim().toUpperCase()
  if (TRUE.has(t)) return true
  if (FALSE.has(t)) return false
  return undefined
}

/** vali_flag: 1/有效, 0/无效; a blank cell is a valid row (exports leave it out when all are valid). */
export function parseValid (text: string): boolean | undefined {
  const t = toHalfWidth(text).trim()
  if (t === '' || t === '有效') return true
  if (t === '无效') return false
  return parseFlag(t)
}

/** 6-digit 医保区划; blank or 000000 is nationwide (''); undefined when it is not a code. */
export function parseAdmdvs (text: string): string | undefined {
  const t = toHalfWidth(text).trim()
  if (t === '' || t === '000000') return ''
  return /^\d{6}$/.test(t) ? t : undefined
}

/**
 * How local a row is: a county (450206) over a city (450200) over a province (450000) over the
 * whole country: the most local row valid for the hospital's region decides.
 */
export function admdvsRank (admdvs: string): number {
  if (admdvs === '') return 0
  if (admdvs.endsWith('0000')) return 1
  if (admdvs.endsWith('00')) return 2
  return 3
}

/** The rows that cover a region, most local first: 450206 → 450206, 450200, 450000, ''. */
export function coveringRegions (admdvs: string): string[] {
  const out = [admdvs, admdvs.slice(0, 4) + '00', admdvs.slice(0, 2) + '0000', '']
  return out.filter((r, i) => out.indexOf(r) === i)
}

/** Yuan as a decimal (number or text) to fen, rounded half up; undefined when it is not money. */
export function parseFen (value: string | number): number | null | undefined {
  const t = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'x') : toHalfWidth(value).trim().replace(/[,，]/g, '').replace(/元$/, '')
  if (t === '') return null
  const m = /^(\d{1,12})(?:\.(\d{1,8}))?$/.exec(t)
  if (m === null) return undefined
  const frac = (m[2] ?? '').padEnd(3, '0')
  const fen = BigInt(m[1]) * 100n + BigInt(frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1n : 0n)
  return Number(fen)
}

/** 自付比例 0–1 (10% reads as 0.1); undefined when it is not a share. */
export function parseShare (text: string): string | null | undefined {
  const t = toHalfWidth(text).trim()
  if (t === '') return null
  const pct = /^(\d{1,3}(?:\.\d+)?)%$/.exec(t)
  const n = pct !== null ? Number(pct[1]) / 100 : /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN
  if (!(n >= 0 && n <= 1)) return undefined
  return String(Math.round(n * 1e6) / 1e6)
}

// National code prefixes (医保药品、医用耗材、中药饮片 分类与代码): X 西药, Z 中成药, T 中药饮片, C 医用耗材.
const TYPE_BY_PREFIX: Record<string, ItemType> = { X: 'drug', Z: 'drug', T: 'herb', C: 'material' }
// med_chrgitm_type (医疗收费项目类别): 08 卫生材料费, 09 西药费, 10 中药饮片费, 11 中成药费.
const TYPE_BY_CHRGITM: Record<string, ItemType> = { '08': 'material', '09': 'drug', 10: 'herb', 11: 'drug' }

/**
 * What kind of item a row is: as the file says in words (药品, 饮片, 耗材, 诊疗/服务), then by its
 * 收费项目类别, then by the national code's first letter; a row with a generic name is a drug.
 * Services have numeric codes and are the rest.
 */
export function itemTypeOf (r: { code: string, list_type?: string | null, chrgitm_type: string | null, genname: string | null }): ItemType | null {
  const words = r.list_type ?? ''
  if (/饮片/.test(words)) return 'herb'
  if (/耗材|材料/.test(words)) return 'material'
  if (/药/.test(words)) return 'drug'
  if (/诊疗|服务|项目/.test(words)) return 'service'
  const byType = r.chrgitm_type === null ? undefined : TYPE_BY_CHRGITM[r.chrgitm_type]
  if (byType !== undefined) return byType
  const byPrefix = TYPE_BY_PREFIX[r.code[0]?.toUpperCase() ?? '']
  if (byPrefix !== undefined) return byPrefix
  if (r.genname !== null) return 'drug'
  if (/^\d/.test(r.code)) return 'service'
  return null
}

/** Generic names and dosage forms compared as people mean them: no blanks, half-width. */
export function matchKey (text: string | null): string | null {
  if (text === null) return null
  const t = toHalfWidth(text).replace(/\s/g, '')
  return t === '' ? null : t
}

export function blank (text: string): string | null {
  const t = text.trim()
  return t === '' ? null : t
}

/**
 * A catalog is often two files: the drug's attributes (1301: names, generic name, dosage form,
 * flags) and its level by region (a provincial level file). Rows of one code that lack an
 * attribute take it from another row of the same code.
 */
export function fillFromSameCode (items: CatalogItem[]): void {
  const FIELDS = ['name', 'prodname', 'genname_codg', 'genname', 'dosform', 'dosform_name', 'spec', 'item_type', 'chrgitm_type'] as const
  const known = new Map<string, Partial<CatalogItem>>()
  for (const it of items) {
    let k = known.get(it.code)
    if (k === undefined) known.set(it.code, k = {})
    for (const f of FIELDS) if (it[f] !== null && k[f] === undefined) (k as Record<string, unknown>)[f] = it[f]
    if (it.nego) k.nego = true
    if (it.bas) k.bas = true
  }
  for (const it of items) {
    const k = known.get(it.code)!
    for (const f of FIELDS) if (it[f] === null && k[f] !== undefined) (it as unknown as Record<string, unknown>)[f] = k[f]
    if (k.nego === true) it.nego = true
    if (k.bas === true) it.bas = true
  }
}
