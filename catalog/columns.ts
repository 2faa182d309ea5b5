// Recognising the header of a catalog file. 医保 offices and HIS vendors exchange the catalog with
// the national platform's field names (med_list_codg, hilist_code, chrgitm_lv …, in any case) or
// with their Chinese names (医保目录编码, 收费项目等级 …), often with units or notes in brackets
// (限价(元)). The same clean-up as a county list's header (lists/columns.ts normaliseHeader).
import { normaliseHeader } from '../lists/columns.ts'

export type CatalogField =
  | 'code' | 'name' | 'prodname' | 'genname_codg' | 'genname' | 'dosform' | 'dosform_name' | 'spec'
  | 'lv' | 'chrgitm_type' | 'list_type' | 'insu_admdvs' | 'begndate' | 'enddate' | 'vali_flag'
  | 'lmt_used_flag' | 'nego' | 'bas' | 'price_cap' | 'selfpay_prop'
  | 'medins_code' | 'medins_name' | 'vbp_batch'

/** Accepted header texts per field, national name(s) first; the first Chinese one is named in messages. */
export const CATALOG_HEADERS: Record<CatalogField, readonly string[]> = {
  code: ['med_list_codg', 'hilist_code', 'med_list_code', '医保目录编码', '医疗目录编码', '医保编码', '国家医保编码', '医保项目编码', '医保代码', '国家编码', '目录编码'],
  name: ['med_list_name', 'hilist_name', '医保目录名称', '医疗目录名称', '医保项目名称', '项目名称', '目录名称', '药品名称', '产品名称', '耗材名称', '名称'],
  prodname: ['drug_prodname', '药品商品名', '商品名', '商品名称'],
  genname_codg: ['genname_codg', '通用名编号', '通用名编码', '通用名代码', '药品通用名编码', '医保通用名代码', '医保通用名编码'],
  genname: ['drug_genname', '药品通用名', '通用名', '通用名称', '医保通用名'],
  dosform: ['drug_dosform', '剂型', '药品剂型', '剂型代码'],
  dosform_name: ['drug_dosform_name', 'dosform_name', '剂型名称', '药品剂型名称'],
  spec: ['drug_spec', 'spec', '规格', '药品规格'],
  lv: ['chrgitm_lv', '收费项目等级', '项目等级', '医保等级', '目录等级', '甲乙类', '甲乙类别', '等级'],
  chrgitm_type: ['med_chrgitm_type', '医疗收费项目类别', '收费项目类别', '收费类别'],
  list_type: ['list_type', '目录类别', '项目类别', '目录类型'],
  insu_admdvs: ['insu_admdvs', '参保机构医保区划', '医保区划', '医保区划代码', '统筹区划', '行政区划', '区划代码', '区划'],
  begndate: ['begndate', 'begntime', '开始日期', '开始时间', '生效日期', '生效时间', '执行日期'],
  enddate: ['enddate', 'endtime', '结束日期', '结束时间', '失效日期', '终止日期', '截止日期'],
  vali_flag: ['vali_flag', '有效标志', '是否有效', '有效状态'],
  lmt_used_flag: ['lmt_used_flag', '限制使用标志', '是否限制使用', '限制使用'],
  nego: ['hi_nego_drug_flag', '医保谈判药品标志', '谈判药品标志', '国家谈判药品', '谈判药品', '国家谈判'],
  bas: ['bas_medn_flag', '基本药物标志', '国家基本药物', '基本药物'],
  price_cap: ['hilist_pric_uplmt_amt', 'pric_uplmt_amt', '医保目录定价上限金额', '定价上限金额', '医保限价', '最高限价', '限价', '支付标准'],
  selfpay_prop: ['selfpay_prop', '自付比例', '先行自付比例'],
  medins_code: ['medins_list_codg', 'fixmedins_hilist_id', '医药机构目录编码', '医疗机构目录编码', '定点医药机构目录编号', '院内编码', '院内项目编码', '医院项目编码', '医院编码', '本院编码'],
  medins_name: ['medins_list_name', 'fixmedins_hilist_name', '医药机构目录名称', '医疗机构目录名称', '定点医药机构目录名称', '院内名称', '院内项目名称', '医院项目名称'],
  vbp_batch: ['vbp_batch', '集采批次', '采购批次', '中选批次', '批次']
}

export const FIELD_LABEL: Record<CatalogField, string> = {
  code: '医保目录编码', name: '医保目录名称', prodname: '药品商品名', genname_codg: '通用名编号', genname: '药品通用名',
  dosform: '剂型', dosform_name: '剂型名称', spec: '规格', lv: '收费项目等级', chrgitm_type: '医疗收费项目类别',
  list_type: '目录类别', insu_admdvs: '医保区划', begndate: '开始日期', enddate: '结束日期', vali_flag: '有效标志',
  lmt_used_flag: '限制使用标志', nego: '医保谈判药品标志', bas: '基本药物标志', price_cap: '限价', selfpay_prop: '自付比例',
  medins_code: '医药机构目录编码', medins_name: '医药机构目录名称', vbp_batch: '集采批次'
}

const BY_NAME = new Map<string, CatalogField>()
for (const [field, names] of Object.entries(CATALOG_HEADERS) as Array<[CatalogField, readonly string[]]>) {
  for (const n of names) BY_NAME.set(n.toLowerCase(), field)
}

export function recogniseCatalogHeader (text: string): CatalogField | undefined {
  return BY_NAME.get(normaliseHeader(text).toLowerCase())
}

export type CatalogColumns = Partial<Record<CatalogField, { index: number, header: string }>>

/** What a file holds: catalog items, a hospital's code mapping, or a list of 集采中选 products. */
export type CatalogKind = 'items' | 'mapping' | 'vbp'

export const KIND_LABEL: Record<CatalogKind, string> = { items: '医保目录', mapping: '院内编码对照', vbp: '集采中选产品清单' }

export interface CatalogHeader {
  /** position in the rows given */
  at: number
  map: CatalogColumns
  kind: CatalogKind
}

export function mapCatalogColumns (cells: readonly string[]): CatalogColumns {
  const map: CatalogColumns = {}
  cells.forEach((text, index) => {
    const f = recogniseCatalogHeader(text)
    if (f !== undefined && map[f] === undefined) map[f] = { index, header: text.trim() }
  })
  return map
}

/**
 * The header among the first rows: the first row naming the national code and one more field we
 * read. Its kind: a mapping names the hospital's code too; a 集采 list has a column about the
 * procurement (批次, or a header with 中选 or 集采 in it) and no level; anything else is catalog items.
 */
export function findCatalogHeader (rows: ReadonlyArray<readonly string[]>): CatalogHeader | undefined {
  for (let at = 0; at < rows.length; at++) {
    const map = mapCatalogColumns(rows[at])
    if (map.code === undefined || Object.keys(map).length < 2) continue
    const procurement = map.vbp_batch !== undefined || rows[at].some((c) => /中选|集采/.test(c))
    const kind: CatalogKind = map.medins_code !== undefined ? 'mapping' : procurement && map.lv === undefined ? 'vbp' : 'items'
    return { at, map, kind }
  }
  return undefined
}

export function missingCodeReason (): string {
  return `未找到医保目录编码列；可用的列名：${CATALOG_HEADERS.code.join('、')}`
}
