// Reading catalog files as they are exchanged: Excel workbooks and CSV (UTF-8 or GBK) with the
// platform's field names or their Chinese names, the platform's headerless tab-separated
// downloads (layouts.ts), and the registry's NDJSON. The table machinery is the list's
// (lists/read-table.ts: zip checks, streaming, encodings, limits); the row report is the list's too
// (a row number, a column, a reason), so a 医保 clerk fixes a catalog file as they fix a list.
import { createHash } from 'node:crypto'
import { detectFormat } from '../lists/read-list.ts'
import { ListFileError, type RowProblem } from '../lists/list-record.ts'
import { readCatalogNdjson, type CatalogReadResult } from './read-ndjson.ts'
import { cellText, cellTime, tableSheets, type Cell, type TableRow } from '../lists/read-table.ts'
import { FIELD_LABEL, KIND_LABEL, findCatalogHeader, missingCodeReason, type CatalogField, type CatalogKind } from './columns.ts'
import { layoutOf, LAYOUTS, type Layout } from './layouts.ts'
import {
  OPEN_BEGIN, blank, itemTypeOf, parseAdmdvs, parseFen, parseFlag, parseLevel, parseShare, parseValid,
  type CatalogItem, type CatalogMapping, type VbpProduct
} from './record.ts'

export { ListFileError as CatalogFileError }
export { readCatalogNdjson }
export type { CatalogKind, CatalogReadResult }

export interface CatalogReadOptions {
  /** read the file as this kind (--mapping, --vbp); default: from its header */
  kind?: CatalogKind
  /** default Asia/Shanghai */
  tz?: string
  onProgress?: (rowsDone: number, rowsTotal: number | undefined) => void
}

const HEADER_SEARCH_ROWS = 10
const PROGRESS_EVERY = 1000
// Counties and the platform write "no end" in many ways; years past 2099 (9999-12-31) are one.
const NO_END = new Set(['长期', '长期有效', '至今', '无', '永久', '-', '--', '—', '/'])

type Columns = Partial<Record<CatalogField | 'national_lv', { index: number, header: string }>>

class CatalogRows {
  readonly items: CatalogItem[] = []
  readonly mappings: CatalogMapping[] = []
  readonly vbp: VbpProduct[] = []
  readonly problems: RowProblem[] = []
  rows = 0
  goodRows = 0
  badRows = 0
  // A row's key and a digest of its content: a province's catalog is 160,000 rows, and keeping each
  // row's text to compare would hold far more memory than the rows themselves.
  private readonly seen = new Map<string, { row: number, digest: string }>()
  private readonly indexes: number[]

  constructor (readonly kind: CatalogKind, private readonly cols: Columns, private readonly layout: Layout | undefined,
    private readonly tz: string, private readonly date1904: boolean) {
    this.indexes = Object.values(cols).map((c) => c.index)
  }

  private cell (cells: Cell[], f: CatalogField | 'national_lv'): Cell {
    const c = this.cols[f]
    return c === undefined ? null : cells[c.index] ?? null
  }

  private text (cells: Cell[], f: CatalogField): string {
    let t = cellText(this.cell(cells, f))
    // Exports that force text write ="X01…" or a leading apostrophe.
    const wrapped = /^="(.*)"$/.exec(t)
    if (wrapped !== null) t = wrapped[1]
    return t.replace(/^'/, '').trim()
  }

  private problem (list: RowProblem[], row: number, f: CatalogField, reason: string, value?: string): void {
    const column = this.cols[f]?.header ?? FIELD_LABEL[f]
    list.push(value === undefined || value === '' ? { row, column, reason } : { row, column, value, reason })
  }

  private time (cells: Cell[], f: 'begndate' | 'enddate', row: number, list: RowProblem[]): string | null | undefined {
    const c = this.cell(cells, f)
    const t = cellText(c)
    if (t === '' || (f === 'enddate' && NO_END.has(t))) return null
    const year = /^(\d{4})/.exec(t)
    if (f === 'enddate' && year !== null && Number(year[1]) > 2099) return null
    const r = cellTime(c, { end: f === 'enddate', date1904: this.date1904, tz: this.tz })
    if (!r.ok) {
      this.problem(list, row, f, r.reason, t)
      return undefined
    }
    return r.value
  }

  private flag (cells: Cell[], f: CatalogField, row: number, list: RowProblem[], parse: (t: string) => boolean | undefined, def: boolean): boolean {
    if (this.cols[f] === undefined) return def
    const t = this.text(cells, f)
    const v = parse(t)
    if (v === undefined) {
      this.problem(list, row, f, `应为1或0（是/否）`, t)
      return def
    }
    return v
  }

  process (r: TableRow): void {
    const cells = r.cells
    if (this.indexes.every((i) => cellText(cells[i] ?? null) === '')) return
    this.rows++
    const row = r.row
    const list: RowProblem[] = []
    if (this.layout !== undefined && cells.length !== this.layout.columns) {
      list.push({ row, column: '列数', value: String(cells.length), reason: `${this.layout.label}每行应有${this.layout.columns}列` })
      return this.done(list, row, null, null)
    }
    const code = this.text(cells, 'code')
    if (code === '') this.problem(list, row, 'code', '缺少医保目录编码')
    else if (code.length > 64 || /[\s\u0000-\u001f]/.test(code)) this.problem(list, row, 'code', '医保目录编码不能含空格且不超过64个字符', code)

    if (this.kind === 'mapping') {
      const medins = this.text(cells, 'medins_code')
      if (medins === '') this.problem(list, row, 'medins_code', '缺少医药机构目录编码（院内编码）')
      else if (medins.length > 64 || /[\u0000-\u001f]/.test(medins)) this.problem(list, row, 'medins_code', '院内编码不超过64个字符', medins)
      const begin = this.time(cells, 'begndate', row, list)
      const end = this.time(cells, 'enddate', row, list)
      if (begin != null && end != null && end < begin) this.problem(list, row, 'enddate', `结束日期早于开始日期（${begin.slice(0, 10)}）`, end.slice(0, 10))
      const valid = this.flag(cells, 'vali_flag', row, list, parseValid, true)
      const m: CatalogMapping = { medins_list_codg: medins, med_list_codg: code, name: blank(this.text(cells, 'medins_name')) ?? blank(this.text(cells, 'name')), begndate: begin ?? OPEN_BEGIN, enddate: end ?? null, vali_flag: valid }
      return this.done(list, row, `${medins}\u0000${m.begndate}`, () => this.mappings.push(m), JSON.stringify(m))
    }

    if (this.kind === 'vbp') {
      const begin = this.time(cells, 'begndate', row, list)
      const end = this.time(cells, 'enddate', row, list)
      if (begin != null && end != null && end < begin) this.problem(list, row, 'enddate', `结束日期早于开始日期（${begin.slice(0, 10)}）`, end.slice(0, 10))
      const v: VbpProduct = { code, name: blank(this.text(cells, 'name')) ?? blank(this.text(cells, 'genname')), batch: blank(this.text(cells, 'vbp_batch')), begndate: begin ?? null, enddate: end ?? null }
      return this.done(list, row, `${code}\u0000${v.begndate ?? ''}`, () => this.vbp.push(v), JSON.stringify(v))
    }

    let lv: CatalogItem['lv'] = null
    if (this.cols.lv !== undefined) {
      const t = this.text(cells, 'lv')
      const parsed = parseLevel(t)
      if (parsed === undefined) this.problem(list, row, 'lv', '收费项目等级应为01（甲类）、02（乙类）或03（丙类/自费）', t)
      else lv = parsed
    } else if (this.cols.national_lv !== undefined) {
      // 国家医保药品目录甲乙类标识: read where it is a class; anything else leaves the level unknown.
      lv = parseLevel(cellText(this.cell(cells, 'national_lv'))) ?? null
    }
    let admdvs = ''
    if (this.cols.insu_admdvs !== undefined) {
      const t = this.text(cells, 'insu_admdvs')
      const a = parseAdmdvs(t)
      if (a === undefined) this.problem(list, row, 'insu_admdvs', '医保区划应为6位数字（如450000）', t)
      else admdvs = a
    }
    const begin = this.time(cells, 'begndate', row, list)
    const end = this.time(cells, 'enddate', row, list)
    if (begin != null && end != null && end < begin) this.problem(list, row, 'enddate', `结束日期早于开始日期（${begin.slice(0, 10)}）`, end.slice(0, 10))
    let price: number | null = null
    if (this.cols.price_cap !== undefined) {
      const c = this.cell(cells, 'price_cap')
      const p = parseFen(typeof c === 'number' ? c : cellText(c))
      if (p === undefined) this.problem(list, row, 'price_cap', '限价应为金额（元）', cellText(c))
      else price = p
    }
    let share: string | null = null
    if (this.cols.selfpay_prop !== undefined) {
      const t = this.text(cells, 'selfpay_prop')
      const s = parseShare(t)
      if (s === undefined) this.problem(list, row, 'selfpay_prop', '自付比例应为0到1之间的小数或百分数', t)
      else share = s
    }
    const genname = blank(this.text(cells, 'genname'))
    const chrgitmType = blank(this.text(cells, 'chrgitm_type'))
    const dosform = blank(this.text(cells, 'dosform'))
    const dosformName = blank(this.text(cells, 'dosform_name'))
    const item: CatalogItem = {
      code,
      name: blank(this.text(cells, 'name')),
      prodname: blank(this.text(cells, 'prodname')),
      genname_codg: blank(this.text(cells, 'genname_codg')),
      genname,
      dosform: dosform ?? dosformName,
      dosform_name: dosformName ?? dosform,
      spec: blank(this.text(cells, 'spec')),
      item_type: this.layout?.item_type ?? itemTypeOf({ code, list_type: blank(this.text(cells, 'list_type')), chrgitm_type: chrgitmType, genname }),
      chrgitm_type: chrgitmType,
      lv,
      insu_admdvs: admdvs,
      begndate: begin ?? OPEN_BEGIN,
      enddate: end ?? null,
      vali_flag: this.flag(cells, 'vali_flag', row, list, parseValid, true),
      lmt_used: this.flag(cells, 'lmt_used_flag', row, list, parseFlag, false),
      nego: this.flag(cells, 'nego', row, list, parseFlag, false),
      bas: this.flag(cells, 'bas', row, list, parseFlag, false),
      price_cap_fen: price,
      selfpay_prop: share
    }
    item.name ??= item.prodname ?? item.genname
    this.done(list, row, `${code}\u0000${admdvs}\u0000${item.begndate}`, () => this.items.push(item), JSON.stringify(item))
  }

  /** A row is good when it has no problem; the same key twice is a problem unless the rows are identical. */
  private done (list: RowProblem[], row: number, key: string | null, keep: (() => void) | null, json?: string): void {
    if (list.length === 0 && key !== null && json !== undefined) {
      const digest = createHash('sha1').update(json).digest('base64')
      const before = this.seen.get(key)
      if (before !== undefined) {
        if (before.digest === digest) { this.goodRows++; return }
        const f: CatalogField = this.kind === 'mapping' ? 'medins_code' : 'code'
        list.push({ row, column: this.cols[f]?.header ?? FIELD_LABEL[f], value: key.split('\u0000')[0], reason: `与第${before.row}行的编码${this.kind === 'items' ? '、区划' : ''}和开始日期相同但内容不同` })
      } else {
        this.seen.set(key, { row, digest })
      }
    }
    if (list.length > 0 || keep === null) {
      this.badRows++
      for (const p of list) this.problems.push(p)
      return
    }
    this.goodRows++
    keep()
  }
}

function texts (r: TableRow): string[] {
  return r.cells.map(cellText)
}

/** Whether rows split on a delimiter look like a catalog: a header we know, or a download layout. */
function catalogLike (rows: string[][]): boolean {
  return findCatalogHeader(rows) !== undefined || rows.some((r) => layoutOf(r) !== undefined)
}

function layoutColumns (l: Layout): Columns {
  const cols: Columns = {}
  for (const [f, index] of Object.entries(l.fields) as Array<[CatalogField | 'national_lv', number]>) cols[f] = { index, header: `${FIELD_LABEL[f as CatalogField] ?? '国家医保药品目录甲乙类标识'}（第${index + 1}列）` }
  return cols
}

async function readTable (file: string, format: 'xlsx' | 'csv', opts: CatalogReadOptions): Promise<CatalogReadResult> {
  const tz = opts.tz ?? 'Asia/Shanghai'
  let rows: CatalogRows | undefined
  let layout: Layout | undefined
  const problems: RowProblem[] = []
  const others: string[] = []
  for await (const sheet of tableSheets(file, format, catalogLike)) {
    const it = sheet.rows[Symbol.asyncIterator]()
    let finished = false
    try {
      const head: TableRow[] = []
      while (head.length < HEADER_SEARCH_ROWS) {
        const n = await it.next()
        if (n.done === true) { finished = true; break }
        if (n.value.cells.some((c) => cellText(c) !== '')) head.push(n.value)
      }
      const found = findCatalogHeader(head.map(texts))
      if (rows !== undefined) {
        if (found !== undefined) others.push(sheet.name)
        continue
      }
      let start: number
      let kind: CatalogKind
      let cols: Columns
      if (found !== undefined) {
        kind = opts.kind ?? found.kind
        cols = found.map
        start = found.at + 1
        if (kind === 'mapping' && cols.medins_code === undefined) {
          problems.push({ row: head[found.at].row, column: FIELD_LABEL.medins_code, reason: '对照文件须有医药机构目录编码（院内编码）列：medins_list_codg、医药机构目录编码、院内编码' })
          continue
        }
      } else {
        layout = head.length > 0 ? layoutOf(texts(head[0])) : undefined
        if (layout === undefined) continue
        if (opts.kind !== undefined && opts.kind !== 'items') {
          problems.push({ row: 0, column: '文件', reason: `${layout.label}是医保目录，不是${KIND_LABEL[opts.kind]}` })
          continue
        }
        kind = 'items'
        cols = layoutColumns(layout)
        start = 0
      }
      const p = new CatalogRows(kind, cols, layout, tz, sheet.date1904)
      rows = p
      let last = 0
      let tick = PROGRESS_EVERY
      const step = (r: TableRow): void => {
        p.process(r)
        last = r.row
        if (opts.onProgress !== undefined && last >= tick) {
          tick = last + PROGRESS_EVERY
          opts.onProgress(last, sheet.total)
        }
      }
      for (const r of head.slice(start)) step(r)
      if (!finished) {
        for (let n = await it.next(); n.done !== true; n = await it.next()) step(n.value)
        finished = true
      }
      opts.onProgress?.(last, sheet.total ?? last)
    } finally {
      if (!finished) await it.return?.(undefined).catch(() => undefined)
    }
  }
  if (rows === undefined) {
    if (problems.length === 0) {
      const counts = LAYOUTS.map((l) => `${l.label}${l.columns}列`).join('、')
      problems.push({ row: 0, column: FIELD_LABEL.code, reason: `${missingCodeReason()}（无表头的平台下载文件须为制表符分隔，且每行列数为：${counts}）` })
    }
    return { format, kind: opts.kind ?? 'items', layout: null, items: [], mappings: [], vbp: [], problems, rows: 0, goodRows: 0, badRows: 0 }
  }
  for (const name of others) problems.push({ row: 0, column: '工作表', value: name, reason: `工作簿中另有目录工作表「${name}」未读取：每次只读取第一个含表头的工作表，请分开导入` })
  return {
    format,
    kind: rows.kind,
    layout: layout?.id ?? null,
    items: rows.items,
    mappings: rows.mappings,
    vbp: rows.vbp,
    problems: [...rows.problems, ...problems],
    rows: rows.rows,
    goodRows: rows.goodRows,
    badRows: rows.badRows
  }
}

/**
 * Reads one catalog file: items, a mapping or a 集采 list (by `opts.kind`, else by its header).
 * Throws CatalogFileError when the file cannot be read at all; row problems are in the result.
 */
export async function readCatalogFile (file: string, opts: CatalogReadOptions = {}): Promise<CatalogReadResult> {
  const format = await detectFormat(file)
  if (format === 'ndjson') return await readCatalogNdjson(file, opts)
  return await readTable(file, format, opts)
}
