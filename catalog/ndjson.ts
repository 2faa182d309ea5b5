// The catalog as the county registry publishes it (second signed channel, catalog-<seq>.ndjson.gz):
// one JSON object a line, {"t":"item",…} or {"t":"vbp",…}, in the shape of record.ts. The agent
// checks every record as it checks a list record: one bad record refuses the whole file.
import type { CatalogItem, CatalogMapping, ItemType, Level, VbpProduct } from './record.ts'

export type CatalogLine = ({ t: 'item' } & CatalogItem) | ({ t: 'vbp' } & VbpProduct) | ({ t: 'map' } & CatalogMapping)

/** The line for a record, fields in a fixed order so the same catalog gives the same bytes. */
export function itemLine (i: CatalogItem): string {
  return JSON.stringify({
    t: 'item', code: i.code, name: i.name, prodname: i.prodname, genname_codg: i.genname_codg, genname: i.genname,
    dosform: i.dosform, dosform_name: i.dosform_name, spec: i.spec, item_type: i.item_type, chrgitm_type: i.chrgitm_type,
    lv: i.lv, insu_admdvs: i.insu_admdvs, begndate: i.begndate, enddate: i.enddate, vali_flag: i.vali_flag,
    lmt_used: i.lmt_used, nego: i.nego, bas: i.bas, price_cap_fen: i.price_cap_fen, selfpay_prop: i.selfpay_prop
  })
}

export function vbpLine (v: VbpProduct): string {
  return JSON.stringify({ t: 'vbp', code: v.code, name: v.name, batch: v.batch, begndate: v.begndate, enddate: v.enddate })
}

export function mappingLine (m: CatalogMapping): string {
  return JSON.stringify({ t: 'map', medins_list_codg: m.medins_list_codg, med_list_codg: m.med_list_codg, name: m.name, begndate: m.begndate, enddate: m.enddate, vali_flag: m.vali_flag })
}

const LOCAL = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/
const CODE = /^[^\u0000-\u001f\ud800-\udfff]{1,64}$/
const TYPES = new Set<ItemType>(['drug', 'herb', 'service', 'material'])
const LEVELS = new Set<Level>(['01', '02', '03'])

function text (o: Record<string, unknown>, k: string, max = 500): string | null {
  const v = o[k]
  if (v === null || v === undefined) return null
  if (typeof v !== 'string' || v.length > max) throw new Error(`${k} must be a string of at most ${max} characters or null`)
  return v
}

function code (o: Record<string, unknown>, k: string): string {
  const v = o[k]
  if (typeof v !== 'string' || !CODE.test(v)) throw new Error(`${k} must be a code of 1 to 64 characters`)
  return v
}

function time (o: Record<string, unknown>, k: string, nullable: boolean): string | null {
  const v = o[k]
  if ((v === null || v === undefined) && nullable) return null
  if (typeof v !== 'string' || !LOCAL.test(v)) throw new Error(`${k} must be a local time YYYY-MM-DD HH:mm:ss${nullable ? ' or null' : ''}`)
  return v
}

function bool (o: Record<string, unknown>, k: string): boolean {
  if (typeof o[k] !== 'boolean') throw new Error(`${k} must be true or false`)
  return o[k] as boolean
}

/** One line of a catalog file, checked; throws with what is wrong. */
export function parseCatalogLine (line: string): CatalogLine {
  const o = JSON.parse(line) as Record<string, unknown>
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('a line is not a JSON object')
  if (o.t === 'item') {
    const lv = o.lv
    if (lv !== null && !LEVELS.has(lv as Level)) throw new Error('lv must be 01, 02, 03 or null')
    const type = o.item_type
    if (type !== null && !TYPES.has(type as ItemType)) throw new Error('item_type must be drug, herb, service, material or null')
    const admdvs = o.insu_admdvs
    if (typeof admdvs !== 'string' || !/^(\d{6})?$/.test(admdvs)) throw new Error('insu_admdvs must be 6 digits or empty (nationwide)')
    const price = o.price_cap_fen
    if (price !== null && !(Number.isSafeInteger(price) && (price as number) >= 0)) throw new Error('price_cap_fen must be a whole number of fen or null')
    const share = text(o, 'selfpay_prop', 20)
    if (share !== null && !(/^\d+(\.\d+)?$/.test(share) && Number(share) <= 1)) throw new Error('selfpay_prop must be a share from 0 to 1')
    const item: CatalogItem = {
      code: code(o, 'code'), name: text(o, 'name'), prodname: text(o, 'prodname'), genname_codg: text(o, 'genname_codg', 64),
      genname: text(o, 'genname'), dosform: text(o, 'dosform', 100), dosform_name: text(o, 'dosform_name', 100), spec: text(o, 'spec'),
      item_type: type as ItemType | null, chrgitm_type: text(o, 'chrgitm_type', 10), lv: lv as Level | null, insu_admdvs: admdvs,
      begndate: time(o, 'begndate', false)!, enddate: time(o, 'enddate', true), vali_flag: bool(o, 'vali_flag'),
      lmt_used: bool(o, 'lmt_used'), nego: bool(o, 'nego'), bas: bool(o, 'bas'), price_cap_fen: price as number | null, selfpay_prop: share
    }
    if (item.enddate !== null && item.enddate < item.begndate) throw new Error('enddate is before begndate')
    return { t: 'item', ...item }
  }
  if (o.t === 'vbp') {
    return { t: 'vbp', code: code(o, 'code'), name: text(o, 'name'), batch: text(o, 'batch', 100), begndate: time(o, 'begndate', true), enddate: time(o, 'enddate', true) }
  }
  if (o.t === 'map') {
    return {
      t: 'map', medins_list_codg: code(o, 'medins_list_codg'), med_list_codg: code(o, 'med_list_codg'), name: text(o, 'name'),
      begndate: time(o, 'begndate', false)!, enddate: time(o, 'enddate', true), vali_flag: bool(o, 'vali_flag')
    }
  }
  throw new Error('t must be item, vbp or map')
}
