// A small insurance catalog for the catalog tests: items written as the store keeps them, loaded
// through the repository, and files written as offices exchange them (csv, GBK csv, xlsx).
import { writeFileSync } from 'node:fs'
import ExcelJS from 'exceljs'
import iconv from 'iconv-lite'
import type { Store } from '../agent/store/store.ts'
import { OPEN_BEGIN, type CatalogItem, type CatalogMapping, type VbpProduct } from '../catalog/record.ts'

export function item (code: string, over: Partial<CatalogItem> = {}): CatalogItem {
  return {
    code,
    name: `项目${code}`,
    prodname: null,
    genname_codg: null,
    genname: null,
    dosform: null,
    dosform_name: null,
    spec: null,
    item_type: 'service',
    chrgitm_type: null,
    lv: '01',
    insu_admdvs: '',
    begndate: OPEN_BEGIN,
    enddate: null,
    vali_flag: true,
    lmt_used: false,
    nego: false,
    bas: false,
    price_cap_fen: null,
    selfpay_prop: null,
    ...over
  }
}

/** A drug of the ceftriaxone injections generic (XCEF…), in catalog at `lv` unless told. */
export function ceftriaxone (code: string, over: Partial<CatalogItem> = {}): CatalogItem {
  return item(code, { name: `注射用头孢曲松钠${code}`, genname_codg: 'GCEF01', genname: '头孢曲松钠', dosform: '注射剂', dosform_name: '注射剂', spec: '1g', item_type: 'drug', ...over })
}

export function mapping (medins: string, code: string, over: Partial<CatalogMapping> = {}): CatalogMapping {
  return { medins_list_codg: medins, med_list_codg: code, name: null, begndate: OPEN_BEGIN, enddate: null, vali_flag: true, ...over }
}

export function vbp (code: string, over: Partial<VbpProduct> = {}): VbpProduct {
  return { code, name: null, batch: '第五批', begndate: null, enddate: null, ...over }
}

export async function loadCatalog (store: Store, parts: { items?: CatalogItem[], mappings?: CatalogMapping[], vbp?: VbpProduct[] }): Promise<void> {
  await store.catalog.replace(parts, { source: 'import', label: 'test' })
}

/** A CSV file: rows joined with commas (no quoting needed by the tests), UTF-8 or GBK. */
export function writeCsv (file: string, rows: string[][], encoding: 'utf8' | 'gbk' = 'utf8'): void {
  const text = rows.map((r) => r.join(',')).join('\r\n') + '\r\n'
  writeFileSync(file, encoding === 'utf8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gbk'))
}

export async function writeXlsx (file: string, rows: Array<Array<string | number | Date | null>>, title?: string): Promise<void> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('目录')
  if (title !== undefined) ws.addRow([title])
  for (const r of rows) ws.addRow(r)
  await wb.xlsx.writeFile(file)
}

/** A headerless tab-separated line of a platform download: `columns` fields, `set` at their positions. */
export function downloadLine (columns: number, set: Record<number, string>): string {
  const cells = Array.from({ length: columns }, (_, i) => set[i] ?? '')
  return cells.join('\t')
}
