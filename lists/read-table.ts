// Reading the lists counties actually exchange: Excel workbooks and CSV files exported from
// 民政 / 乡村振兴 / 医保 systems or typed by hand. Both become rows of cells here, and one row
// processor turns rows into records, so an xlsx and the same list saved as CSV read the same.
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import { parse as parseCsv } from 'csv-parse'
import iconv from 'iconv-lite'
import { parseLocalTime } from '../base/local-time.ts'
import { FIELD_LABELS, findHeader, missingColumnReason, REQUIRED_FIELDS } from './columns.ts'
import type { ColumnMap, HeaderCandidate, ListField } from './columns.ts'
import {
  addIdentities, checkCertno, ListFileError, normaliseName, parseCertType, recordKey,
  resolveCategories, toHalfWidth, unknownCategoryReason, unknownCertTypeReason
} from './list-record.ts'
import type { IdentityRecord, ListRecord, ReadOptions, ReadResult, RowProblem } from './list-record.ts'
import { count, MAX_CELL_CHARS, MAX_COLUMNS, MAX_CSV_RECORD_CHARS, MAX_ROWS } from './limits.ts'
import { openCheckedXlsx, openPart } from './xlsx-zip.ts'
import { readYtd, sameYtd, type ListYtd } from './ytd.ts'
import type { Merge } from './xlsx-zip.ts'

/** A cell as the row processor sees it: exceljs's rich text, formulas and hyperlinks already reduced. */
export type Cell = string | number | Date | null

export interface TableRow {
  /** the row number the user sees: Excel row, or the CSV line the record starts on */
  row: number
  cells: Cell[]
}

interface Sheet {
  name: string
  /** last row number, for progress; undefined when the reader cannot know it in advance */
  total?: number
  /** workbook uses the 1904 date system (old Mac Excel): plain-number dates count from 1904 */
  date1904: boolean
  rows: AsyncIterable<TableRow>
}

const PROGRESS_EVERY = 1000
const HEADER_SEARCH_ROWS = 10

// ---------------------------------------------------------------------------------------------
// Cells

/** Reduces an exceljs value to a Cell: formulas to their cached result, rich text to its text. */
export function toCell (v: unknown): Cell {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number') return v
  if (v instanceof Date) return v
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    if (Array.isArray(o.richText)) return (o.richText as Array<{ text?: string }>).map((p) => p.text ?? '').join('')
    // A formula cell carries the result Excel computed when it last saved the file; a workbook
    // written by a program without a calculation engine may have none.
    if ('formula' in o || 'sharedFormula' in o) return toCell(o.result)
    if ('hyperlink' in o) return toCell(o.text)
    if (typeof o.error === 'string') return o.error
    if ('text' in o) return toCell(o.text)
  }
  return String(v)
}

function pad (n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function utcText (d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** The text of a cell for names, categories, sources and messages. */
export function cellText (c: Cell): string {
  if (c === null) return ''
  // trim() also removes the full-width space U+3000 and a stray BOM.
  if (typeof c === 'string') return c.trim()
  if (typeof c === 'number') return Number.isInteger(c) && Math.abs(c) < 1e21 ? c.toFixed(0) : String(c)
  if (Number.isNaN(c.getTime())) return ''
  const t = utcText(c)
  return t.endsWith(' 00:00:00') ? t.slice(0, 10) : t
}

function isBlank (c: Cell): boolean {
  if (c === null) return true
  if (typeof c === 'string') return c === '' || c.trim() === ''
  return cellText(c) === ''
}

const DAY_MS = 86_400_000

/**
 * An Excel serial date (days since 1900-01-00, with Lotus's phantom 1900-02-29 as serial 60)
 * as local text. Serial 60 names a day that never existed and is refused.
 */
export function serialToLocal (serial: number, date1904 = false): { text: string, hasTime: boolean } | null {
  if (!Number.isFinite(serial) || serial < (date1904 ? 0 : 1) || serial >= 2958466) return null
  let days = Math.floor(serial)
  let secs = Math.round((serial - days) * 86400)
  if (secs >= 86400) { days += 1; secs -= 86400 }
  let ms: number
  if (date1904) ms = Date.UTC(1904, 0, 1) + days * DAY_MS
  else if (days === 60) return null
  else ms = Date.UTC(1899, 11, days < 60 ? 31 : 30) + days * DAY_MS
  return { text: utcText(new Date(ms + secs * 1000)), hasTime: secs !== 0 }
}

export type TimeCell = { ok: true, value: string | null } | { ok: false, reason: string }

const BAD_TIME = '无法识别的时间，可写作2026-03-01、2026/3/1、2026年3月1日或20260301'
// An identity that started before 1950 is a typo or a number that was never a date (a year
// typed alone, 2026, is serial 2026 = 1905-07-18); catching it here beats a silent wrong window.
const EARLIEST_YEAR = 1950
const LATEST_YEAR = 2099

function plausible (local: string): TimeCell {
  const y = Number(local.slice(0, 4))
  if (y < EARLIEST_YEAR || y > LATEST_YEAR) return { ok: false, reason: `时间不合理（${local.slice(0, 10)}），请检查是否填错` }
  return { ok: true, value: local }
}

function endOfDay (local: string, hasTime: boolean, end: boolean): string {
  return end && !hasTime ? local.slice(0, 10) + ' 23:59:59' : local
}

/**
 * A time cell as local 'YYYY-MM-DD HH:mm:ss'. A date without a time of day is the start of the
 * day, or its last second for an end (`end`), as parseLocalTime does for text.
 * exceljs gives date-formatted cells as Dates at UTC midnight of the calendar date Excel shows;
 * they are read in UTC, since shifting them into the local zone would move every date by a day
 * west of Greenwich and hide nothing east of it.
 */
export function cellTime (c: Cell, opts: { end: boolean, date1904?: boolean, tz?: string }): TimeCell {
  if (c === null) return { ok: true, value: null }
  if (c instanceof Date) {
    if (Number.isNaN(c.getTime())) return { ok: false, reason: BAD_TIME }
    const d = new Date(Math.round(c.getTime() / 1000) * 1000)
    const text = utcText(d)
    return plausible(endOfDay(text, !text.endsWith(' 00:00:00'), opts.end))
  }
  if (typeof c === 'number') {
    // 20260301 typed into a General-format cell is a number too, and far beyond any serial in use.
    if (Number.isInteger(c) && c >= 19000101 && c <= 29991231) return fromText(String(c), opts)
    const s = serialToLocal(c, opts.date1904)
    if (s === null) return { ok: false, reason: BAD_TIME }
    return plausible(endOfDay(s.text, s.hasTime, opts.end))
  }
  const t = toHalfWidth(c).trim()
  if (t === '') return { ok: true, value: null }
  // CSV saved from a sheet whose date column was General shows the serial as text.
  if (/^\d{1,5}(\.\d+)?$/.test(t)) {
    const s = serialToLocal(Number(t), opts.date1904)
    if (s === null) return { ok: false, reason: BAD_TIME }
    return plausible(endOfDay(s.text, s.hasTime, opts.end))
  }
  return fromText(t, opts)
}

function fromText (t: string, opts: { end: boolean, tz?: string }): TimeCell {
  const local = parseLocalTime(t, { endOfDay: opts.end, tz: opts.tz })
  if (local === null) return { ok: false, reason: BAD_TIME }
  return plausible(local)
}

// Words counties put in the end column of an identity that has not ended.
const NO_END = new Set(['长期', '长期有效', '至今', '无', '永久', '-', '--', '—', '——', '/', '／', '\\'])

const LOST_PRECISION = '证件号码被Excel存成数字，已丢失精度，请将该列设为文本'

/**
 * The ID number text of a cell. Excel stores a number typed into a General cell as a double,
 * which keeps 15 significant digits: an 18-digit ID comes back with its last digits zeroed
 * (450203199001011234 → 450203199001011200), and a CSV saved from such a sheet says 4.50203E+17.
 * Neither can be repaired, so both are refused outright rather than failing the check digit
 * by luck. Exports that force text write ="450203…" or a leading apostrophe; those are unwrapped.
 */
function certnoText (c: Cell): { text: string } | { lost: true } {
  if (typeof c === 'number') {
    if (Math.abs(c) >= 1e15) return { lost: true }
    return { text: cellText(c) }
  }
  let t = cellText(c)
  const wrapped = /^="(.*)"$/.exec(t)
  if (wrapped !== null) t = wrapped[1]
  t = t.replace(/^['\t]+/, '')
  if (/^\d(\.\d+)?E\+?\d+$/i.test(t.trim())) return { lost: true }
  return { text: t }
}

// ---------------------------------------------------------------------------------------------
// Rows to records

function sameCertText (a: Cell, b: Cell): boolean {
  return cellText(a).replace(/\s/g, '').toUpperCase() === cellText(b).replace(/\s/g, '').toUpperCase()
}

class RowProcessor {
  readonly records = new Map<string, ListRecord>()
  private readonly firstRow = new Map<string, number>()
  readonly problems: RowProblem[] = []
  rows = 0
  goodRows = 0
  badRows = 0
  private prev: { name: Cell, certno: Cell, type: Cell } | null = null
  private readonly indexes: number[]
  private readonly idx: Record<ListField, number>
  // A list repeats a handful of category texts and dates over thousands of rows; resolving
  // each distinct text once keeps a 200,000-row file within a few seconds.
  private readonly categoryCache = new Map<string, ReturnType<typeof resolveCategories>>()
  private readonly timeCache = new Map<string, TimeCell>()
  private readonly today = new Date()

  constructor (private readonly map: ColumnMap, private readonly opts: ReadOptions, private readonly date1904: boolean) {
    this.indexes = Object.values(map).map((ref) => ref.index)
    const at = (f: ListField): number => map[f]?.index ?? -1
    this.idx = {
      psn_name: at('psn_name'), certno: at('certno'), psn_cert_type: at('psn_cert_type'), category: at('category'),
      begntime: at('begntime'), endtime: at('endtime'), source: at('source'),
      ytd_psn_part_amt: at('ytd_psn_part_amt'), ytd_medfee_sumamt: at('ytd_medfee_sumamt'), ytd_fulamt_ownpay_amt: at('ytd_fulamt_ownpay_amt'), ytd_as_of: at('ytd_as_of')
    }
  }

  private col (field: ListField): string {
    return this.map[field]?.header ?? field
  }

  private addProblem (list: RowProblem[], row: number, field: ListField, reason: string, value?: Cell | string): void {
    const v = value === undefined || value === null ? '' : typeof value === 'string' ? value : cellText(value)
    list.push(v === '' ? { row, column: this.col(field), reason } : { row, column: this.col(field), value: v, reason })
  }

  private time (c: Cell, end: boolean): TimeCell {
    if (typeof c !== 'string') return cellTime(c, { end, date1904: this.date1904, tz: this.opts.tz })
    const key = end ? 'E' + c : 'B' + c
    let t = this.timeCache.get(key)
    if (t === undefined) {
      t = cellTime(c, { end, date1904: this.date1904, tz: this.opts.tz })
      if (this.timeCache.size >= 10_000) this.timeCache.clear()
      this.timeCache.set(key, t)
    }
    return t
  }

  process (r: TableRow): void {
    const cells = r.cells
    const idx = this.idx
    const get = (i: number): Cell => i < 0 ? null : cells[i] ?? null
    // A row whose recognised columns are all empty is a spacer, or a footer such as 合计 in the
    // 序号 column: skipped without a word, and it ends any "same as above" run.
    if (this.indexes.every((i) => isBlank(cells[i] ?? null))) {
      this.prev = null
      return
    }
    this.rows++

    let name = get(idx.psn_name)
    let certCell = get(idx.certno)
    let typeCell = get(idx.psn_cert_type)
    const categoryCell = get(idx.category)
    // "Same as above": a person with several identities is written on several rows with the
    // name and ID number merged vertically. exceljs's normal reader copies the merged value to
    // every row, but the streaming reader and any CSV saved from the sheet leave the lower rows
    // blank. A blank name or ID number therefore continues the row above — only when the row
    // has a category (it is an identity line, not a stray note) and whatever it does give
    // agrees with the row above, so a different person with a missing ID number is reported
    // as missing instead of being folded into the previous person.
    const prev = this.prev
    const nameBlank = isBlank(name)
    const certBlank = isBlank(certCell)
    if (prev !== null && (nameBlank || certBlank) && !isBlank(categoryCell)) {
      if (certBlank && (nameBlank || normaliseName(cellText(name)) === normaliseName(cellText(prev.name)))) {
        certCell = prev.certno
        if (isBlank(typeCell)) typeCell = prev.type
      }
      if (nameBlank && (certBlank || sameCertText(certCell, prev.certno))) name = prev.name
    }
    this.prev = { name, certno: certCell, type: typeCell }

    const problems: RowProblem[] = []
    const row = r.row

    // A type outside the platform's list would key the person where no lookup can find them.
    const type = parseCertType(cellText(typeCell))
    if (!type.ok) this.addProblem(problems, row, 'psn_cert_type', unknownCertTypeReason(type), typeCell)
    const certType = type.ok ? type.code : ''
    let certno: string | undefined
    const ct = certnoText(certCell)
    if ('lost' in ct) {
      this.addProblem(problems, row, 'certno', LOST_PRECISION, certCell)
    } else if (type.ok) {
      const checked = checkCertno(certType, ct.text, this.today)
      if (checked.ok) certno = checked.certno
      else this.addProblem(problems, row, 'certno', checked.reason, ct.text)
    }

    const psnName = normaliseName(cellText(name))

    const profile = this.opts.profile
    const categoryText = cellText(categoryCell)
    let resolved = this.categoryCache.get(categoryText)
    if (resolved === undefined) {
      resolved = resolveCategories(profile, categoryText)
      if (this.categoryCache.size < 10_000) this.categoryCache.set(categoryText, resolved)
    }
    const { found, unknown } = resolved
    if (categoryText === '') this.addProblem(problems, row, 'category', '缺少人员类别')
    for (const u of unknown) this.addProblem(problems, row, 'category', unknownCategoryReason(profile, u), categoryText)

    const beginCell = get(idx.begntime)
    const begin = this.time(beginCell, false)
    if (!begin.ok) this.addProblem(problems, row, 'begntime', begin.reason, beginCell)
    else if (begin.value === null) this.addProblem(problems, row, 'begntime', '缺少身份生效时间')

    const endCell = get(idx.endtime)
    const end: TimeCell = typeof endCell === 'string' && NO_END.has(endCell.trim())
      ? { ok: true, value: null }
      : this.time(endCell, true)
    if (!end.ok) this.addProblem(problems, row, 'endtime', end.reason, endCell)
    else if (begin.ok && begin.value !== null && end.value !== null && end.value < begin.value) {
      this.addProblem(problems, row, 'endtime', `身份终止时间早于生效时间（${begin.value.slice(0, 10)}）`, endCell)
    }

    const key = certno === undefined ? undefined : recordKey(certType, certno)
    const existing = key === undefined ? undefined : this.records.get(key)
    // The year's figures are the person's, repeated on each of their rows: they must agree.
    let ytd: ListYtd | undefined
    if (idx.ytd_psn_part_amt >= 0 || idx.ytd_medfee_sumamt >= 0 || idx.ytd_fulamt_ownpay_amt >= 0) {
      const asOfCell = get(idx.ytd_as_of)
      const asOf = asOfCell instanceof Date || typeof asOfCell === 'number' ? this.time(asOfCell, true) : null
      const read = readYtd({
        ytd_psn_part_amt: cellText(get(idx.ytd_psn_part_amt)),
        ytd_medfee_sumamt: cellText(get(idx.ytd_medfee_sumamt)),
        ytd_fulamt_ownpay_amt: cellText(get(idx.ytd_fulamt_ownpay_amt)),
        ytd_as_of: asOf !== null && asOf.ok && asOf.value !== null ? asOf.value : cellText(asOfCell)
      }, this.opts.tz)
      for (const p of read.problems) this.addProblem(problems, row, p.field, p.reason, p.value)
      ytd = read.ytd
      if (ytd !== undefined && existing?.ytd !== undefined && !sameYtd(ytd, existing.ytd)) {
        this.addProblem(problems, row, 'ytd_psn_part_amt', `同一人的年度累计数据与第${this.firstRow.get(key!) ?? '?'}行不同`)
      }
    }
    if (existing !== undefined && key !== undefined && existing.psn_name !== null && psnName !== null && existing.psn_name !== psnName) {
      this.addProblem(problems, row, idx.psn_name < 0 ? 'certno' : 'psn_name', `证件号码与第${this.firstRow.get(key) ?? '?'}行相同但姓名不同`, psnName)
    }

    if (problems.length > 0 || certno === undefined || key === undefined || !begin.ok || begin.value === null || !end.ok) {
      this.badRows++
      for (const p of problems) this.problems.push(p)
      return
    }
    this.goodRows++
    const sourceText = cellText(get(idx.source))
    const source = sourceText === '' ? null : sourceText
    const identities: IdentityRecord[] = found.map((c) => ({ category: c.id, begntime: begin.value as string, endtime: end.value, source }))
    if (existing === undefined) {
      const rec: ListRecord = { op: 'upsert', certno, psn_cert_type: certType, psn_name: psnName, identities: [] }
      if (ytd !== undefined) rec.ytd = ytd
      addIdentities(rec, identities)
      this.records.set(key, rec)
      this.firstRow.set(key, row)
    } else {
      if (existing.psn_name === null) existing.psn_name = psnName
      if (existing.ytd === undefined && ytd !== undefined) existing.ytd = ytd
      addIdentities(existing, identities)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sheets

function rowTexts (r: TableRow): string[] {
  return r.cells.map(cellText)
}

function emptyRow (r: TableRow): boolean {
  return r.cells.every(isBlank)
}

/** "A" for 1, "AB" for 28: the column as Excel labels it, for messages. */
export function columnLetters (n: number): string {
  let s = ''
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s
  return s
}

/**
 * Refuses a row past the limits (limits.ts), naming the limit, the sheet and the row. The zip
 * check has already bounded what a single cell can cost in memory; this is the rule a person
 * can act on.
 */
function checkLimits (format: 'xlsx' | 'csv', sheet: string, r: TableRow): void {
  const zh = format === 'xlsx' ? `工作表「${sheet}」第${count(r.row)}行` : `第${count(r.row)}行`
  const en = format === 'xlsx' ? `row ${count(r.row)} of sheet "${sheet}"` : `line ${count(r.row)}`
  if (r.row > MAX_ROWS) {
    throw new ListFileError(`${zh}超过了${count(MAX_ROWS)}行的上限，已拒绝读取 — ${en} is beyond the limit of ${count(MAX_ROWS)} rows; the file is refused`)
  }
  const cells = r.cells
  let last = cells.length - 1
  while (last >= 0 && isBlank(cells[last])) last--
  if (last >= MAX_COLUMNS) {
    const col = format === 'xlsx' ? `第${count(last + 1)}列（${columnLetters(last + 1)}）` : `第${count(last + 1)}列`
    throw new ListFileError(`${zh}在${col}还有内容，超过了${count(MAX_COLUMNS)}列的上限，已拒绝读取：请删除名单右侧多余的内容后重试 — ${en} has a value in column ${count(last + 1)}, beyond the limit of ${count(MAX_COLUMNS)} columns; delete what stands right of the list and retry`)
  }
  for (let c = 0; c <= last; c++) {
    const v = cells[c]
    if (typeof v === 'string' && v.length > MAX_CELL_CHARS) {
      const col = format === 'xlsx' ? `${columnLetters(c + 1)}列` : `第${count(c + 1)}列`
      throw new ListFileError(`${zh}${col}的单元格有${count(v.length)}个字符，超过了Excel单元格的上限${count(MAX_CELL_CHARS)}个字符，已拒绝读取 — the cell in column ${count(c + 1)} of ${en} has ${count(v.length)} characters, more than Excel's limit of ${count(MAX_CELL_CHARS)} a cell; the file is refused`)
    }
  }
}

/**
 * Reads the rows of the sheets in order and turns the first sheet with a recognisable header
 * into records. Of the other sheets only the first rows are read, and one that also looks like
 * a list is reported, because importing half of a workbook split by township without a word
 * would leave people out.
 */
async function readSheets (format: 'xlsx' | 'csv', sheets: AsyncIterable<Sheet>, opts: ReadOptions): Promise<ReadResult> {
  const problems: RowProblem[] = []
  let processor: RowProcessor | undefined
  let headerFailed = false
  let firstGuess: { guess?: HeaderCandidate, rows: TableRow[] } | undefined
  const otherLists: string[] = []

  for await (const sheet of sheets) {
    const it = sheet.rows[Symbol.asyncIterator]()
    let done = false
    const next = async (): Promise<TableRow | undefined> => {
      const n = await it.next()
      if (n.done === true) {
        done = true
        return undefined
      }
      checkLimits(format, sheet.name, n.value)
      return n.value
    }
    try {
      const head: TableRow[] = []
      let lastRow = 0
      while (head.length < HEADER_SEARCH_ROWS) {
        const r = await next()
        if (r === undefined) break
        lastRow = r.row
        if (!emptyRow(r)) head.push(r)
      }
      if (processor !== undefined || headerFailed) {
        if (findHeader(head.map(rowTexts)).header !== undefined) otherLists.push(sheet.name)
        continue
      }
      const found = findHeader(head.map(rowTexts))
      if (found.header === undefined) {
        firstGuess ??= { guess: found.bestGuess, rows: head }
        continue
      }
      const headerRow = head[found.header.at].row
      const missing = REQUIRED_FIELDS.filter((f) => found.header?.map[f] === undefined)
      if (missing.length > 0) {
        for (const f of missing) problems.push({ row: headerRow, column: FIELD_LABELS[f], reason: missingColumnReason(f) })
        headerFailed = true
        continue
      }
      const p = new RowProcessor(found.header.map, opts, sheet.date1904)
      processor = p
      let nextTick = PROGRESS_EVERY
      const progress = (row: number): void => {
        if (opts.onProgress !== undefined && row >= nextTick) {
          nextTick = row + PROGRESS_EVERY
          opts.onProgress(row, sheet.total)
        }
      }
      for (const r of head.slice(found.header.at + found.header.span)) p.process(r)
      progress(lastRow)
      for (let r = await next(); r !== undefined; r = await next()) {
        lastRow = r.row
        p.process(r)
        progress(lastRow)
      }
      opts.onProgress?.(lastRow, sheet.total ?? lastRow)
    } finally {
      // A sheet not wanted past its first rows, or abandoned on an error, is closed rather than
      // read to its end.
      if (!done) {
        try {
          await it.return?.()
        } catch {
          // already failing or finished with; nothing more to read from it
        }
      }
    }
  }

  if (processor === undefined) {
    if (!headerFailed) {
      const guess = firstGuess?.guess
      const row = guess === undefined || firstGuess === undefined ? 0 : firstGuess.rows[guess.at].row
      for (const f of REQUIRED_FIELDS) {
        if (guess?.map[f] === undefined) problems.push({ row, column: FIELD_LABELS[f], reason: missingColumnReason(f) })
      }
    }
    return { format, records: [], problems, rows: 0, goodRows: 0, badRows: 0 }
  }
  for (const name of otherLists) {
    problems.push({ row: 0, column: '工作表', value: name, reason: `工作簿中另有名单工作表「${name}」未读取：每次只读取第一个含表头的工作表，请合并后再导入或分开导入` })
  }
  return {
    format,
    records: [...processor.records.values()],
    problems: [...processor.problems, ...problems],
    rows: processor.rows,
    goodRows: processor.goodRows,
    badRows: processor.badRows
  }
}

// ---------------------------------------------------------------------------------------------
// xlsx

/** What this reader uses of exceljs's WorkbookReader besides its public iterator. */
interface WorkbookParts {
  _parseRels: (stream: Readable) => Promise<void>
  _parseWorkbook: (stream: Readable) => Promise<void>
  _parseStyles: (stream: Readable) => Promise<void>
  _parseSharedStrings: (stream: Readable) => AsyncIterable<unknown>
  _parseWorksheet: (stream: Readable, sheetNo: string) => Iterator<{ eventType: string, value: AsyncIterable<ExcelJS.Row> }>
  properties?: { model?: { date1904?: boolean } }
}

interface ActiveMerge {
  merge: Merge
  value: Cell
}

/**
 * The rows of one sheet as cells, with merged ranges filled from their first cell the way
 * Excel shows them: a name merged down over a person's identity rows reaches each row.
 */
async function * sheetRows (ws: AsyncIterable<ExcelJS.Row>, merges: readonly Merge[]): AsyncGenerator<TableRow> {
  let next = 0
  let active: ActiveMerge[] = []
  for await (const row of ws) {
    const r = row.number
    const values = row.values as unknown[]
    const cells: Cell[] = []
    for (let c = 1; c < values.length; c++) cells.push(toCell(values[c]))
    if (next < merges.length || active.length > 0) {
      while (next < merges.length && merges[next].top <= r) active.push({ merge: merges[next++], value: null })
      if (active.some((a) => a.merge.bottom < r)) active = active.filter((a) => a.merge.bottom >= r)
      for (const a of active) {
        const m = a.merge
        if (m.top === r) a.value = cells[m.left - 1] ?? null
        const right = Math.min(m.right, MAX_COLUMNS)
        for (let c = m.left; c <= right; c++) {
          if (r !== m.top || c !== m.left) cells[c - 1] = a.value
        }
      }
      for (let c = 0; c < cells.length; c++) cells[c] ??= null
    }
    yield { row: r, cells }
  }
}

function excelError (err: unknown): ListFileError {
  if (err instanceof ListFileError) return err
  return new ListFileError(`无法读取Excel文件：${(err as Error).message}`)
}

async function * guarded (rows: AsyncIterable<TableRow>): AsyncGenerator<TableRow> {
  try {
    yield * rows
  } catch (err) {
    throw excelError(err)
  }
}

/**
 * The sheets of a workbook, streamed. The zip is checked first (xlsx-zip.ts); exceljs's
 * streaming reader then parses the same parts, fed from that zip rather than from its own
 * unzipper: in tab order and without copying sheets to temporary files, and decoded as UTF-8
 * across chunk boundaries — exceljs decodes each chunk on its own and turns a Chinese character
 * split between two chunks into U+FFFD (a name in a few thousand came out garbled).
 *
 * exceljs's in-memory reader is not used at any size: it turns every merged range, data
 * validation range and defined name into one object per cell (exceljs issues #1842, #1283,
 * #2929), so a file of a few kilobytes with a drop-down list on A1:XFD1048576 never finishes, and
 * 20,000 merged names took 98 s. The merges it was kept for are applied in sheetRows instead.
 */
async function * xlsxSheets (file: string): AsyncGenerator<Sheet> {
  const x = await openCheckedXlsx(file)
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
      worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', entries: 'ignore',
      // styles are needed to tell a date cell from a number
      styles: 'cache'
    }) as unknown as WorkbookParts
    const part = async (name: string): Promise<Readable | undefined> => {
      const entry = x.entries.get(name)
      if (entry === undefined) return undefined
      const stream = await openPart(x.zip, entry)
      // exceljs's XML reader passes strings through untouched; the stream's decoder keeps a
      // character split between chunks whole.
      stream.setEncoding('utf8')
      return stream
    }
    let date1904: boolean
    try {
      const rels = await part('xl/_rels/workbook.xml.rels')
      if (rels !== undefined) await reader._parseRels(rels)
      const wb = await part('xl/workbook.xml')
      if (wb !== undefined) await reader._parseWorkbook(wb)
      const styles = await part('xl/styles.xml')
      if (styles !== undefined) await reader._parseStyles(styles)
      const strings = await part('xl/sharedStrings.xml')
      if (strings !== undefined) for await (const _ of reader._parseSharedStrings(strings)) { /* cached by the reader */ }
      date1904 = reader.properties?.model?.date1904 === true
    } catch (err) {
      throw excelError(err)
    }
    for (const sheet of x.sheets) {
      let ws: AsyncIterable<ExcelJS.Row>
      try {
        const stream = await part(sheet.path)
        if (stream === undefined) continue
        ws = reader._parseWorksheet(stream, sheet.sheetNo).next().value.value
      } catch (err) {
        throw excelError(err)
      }
      yield { name: sheet.name, total: sheet.lastRow > 0 ? sheet.lastRow : undefined, date1904, rows: guarded(sheetRows(ws, sheet.merges)) }
    }
  } finally {
    x.close()
  }
}

export async function readXlsx (file: string, opts: ReadOptions): Promise<ReadResult> {
  return await readSheets('xlsx', xlsxSheets(file), opts)
}

// ---------------------------------------------------------------------------------------------
// csv

const SAMPLE_BYTES = 64 * 1024

interface CsvScan {
  encoding: 'utf8' | 'gb18030' | 'utf16le' | 'utf16be'
  /** line count for progress; an estimate for UTF-16, where a newline byte also occurs inside characters */
  lines: number
  sample: Buffer
}

/**
 * Counts, in one pass, the well-formed UTF-8 sequences of three bytes (Chinese characters and
 * punctuation) and the bytes that cannot be UTF-8, and where the first of those stands.
 */
class Utf8Tally {
  threeByte = 0
  invalid = 0
  /** 0-based byte offset and 1-based line of the first byte that is not UTF-8; -1 while there is none */
  firstOffset = -1
  firstLine = -1
  private need = 0
  private length = 0
  private lo = 0x80
  private hi = 0xbf
  private start = 0
  /** absolute offset of the current chunk, and lines that ended before it */
  private at = 0
  private linesBefore = 0

  private bad (offset: number, buf: Buffer): void {
    this.invalid++
    if (this.firstOffset >= 0) return
    this.firstOffset = offset
    let line = this.linesBefore + 1
    // A sequence begun in the previous chunk has no line break after its start (its bytes are all
    // above 0x7F), so only breaks in this chunk before the offset count.
    for (let i = buf.indexOf(10); i >= 0 && this.at + i < offset; i = buf.indexOf(10, i + 1)) line++
    this.firstLine = line
  }

  push (buf: Buffer, linesInChunk: number): void {
    // Locals in the loop: it runs once a byte.
    let { need, length, lo, hi, start } = this
    for (let k = 0; k < buf.length; k++) {
      const b = buf[k]
      if (need > 0) {
        if (b >= lo && b <= hi) {
          lo = 0x80
          hi = 0xbf
          if (--need === 0 && length === 3) this.threeByte++
          continue
        }
        // The sequence broke off: its bytes so far are not UTF-8; b starts afresh.
        this.bad(start, buf)
        need = 0
        lo = 0x80
        hi = 0xbf
      }
      if (b < 0x80) continue
      // Lead bytes and the ranges of their second byte, as RFC 3629 allows them (no overlong
      // forms, no surrogates, nothing above U+10FFFF).
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1
        length = 2
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2
        length = 3
        if (b === 0xe0) lo = 0xa0
        if (b === 0xed) hi = 0x9f
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3
        length = 4
        if (b === 0xf0) lo = 0x90
        if (b === 0xf4) hi = 0x8f
      } else {
        this.bad(this.at + k, buf)
        continue
      }
      start = this.at + k
    }
    Object.assign(this, { need, length, lo, hi, start })
    this.at += buf.length
    this.linesBefore += linesInChunk
  }

  end (): void {
    if (this.need > 0) this.bad(this.start, Buffer.alloc(0))
    this.need = 0
  }
}

// GBK text is full of bytes that cannot be UTF-8 and only now and then holds a run that
// happens to be a valid three-byte sequence (measured on GBK-encoded names, categories and
// addresses: one per 30 to 1,400 invalid bytes). A file with at least one Chinese UTF-8
// character per four invalid bytes, and a few of them, is UTF-8 with foreign bytes in it.
const MIXED_MIN_CHINESE = 8
const MIXED_INVALID_PER_CHINESE = 4

/**
 * One pass over the bytes: which encoding, and how many lines. Excel on Chinese Windows saves
 * "CSV" in GBK (GB18030 is its superset), WPS and web systems in UTF-8 with or without a BOM;
 * a GBK file is never valid UTF-8 once it has a Chinese character in it, so the whole file is
 * checked. Checking only the first kilobytes would misread a file whose first Chinese character
 * comes late. A UTF-8 file with a few bytes from elsewhere (a Latin-1 name pasted in, a line
 * appended by another program) is neither: read as GBK it would garble every Chinese character
 * and end in "no ID number column", so it is refused, saying where the first foreign byte is.
 */
async function scanCsv (file: string): Promise<CsvScan> {
  const tally = new Utf8Tally()
  let lines = 0
  let last = -1
  const sampleParts: Buffer[] = []
  let sampled = 0
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer
    if (sampled < SAMPLE_BYTES) {
      sampleParts.push(buf.subarray(0, SAMPLE_BYTES - sampled))
      sampled += Math.min(buf.length, SAMPLE_BYTES - sampled)
    }
    let n = 0
    let i = buf.indexOf(10)
    while (i >= 0) { n++; i = buf.indexOf(10, i + 1) }
    tally.push(buf, n)
    lines += n
    if (buf.length > 0) last = buf[buf.length - 1]
  }
  tally.end()
  if (last !== -1 && last !== 10) lines++
  const sample = Buffer.concat(sampleParts)
  // Excel's "Unicode text" save is UTF-16 little-endian with a BOM (and tabs between columns).
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf16le', lines, sample }
  if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf16be', lines, sample }
  if (tally.invalid === 0) return { encoding: 'utf8', lines, sample }
  const bom = sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf
  if (bom || (tally.threeByte >= MIXED_MIN_CHINESE && tally.threeByte * MIXED_INVALID_PER_CHINESE >= tally.invalid)) {
    const line = count(tally.firstLine)
    const byte = count(tally.firstOffset + 1)
    throw new ListFileError(`文件编码混杂：第${line}行含有不是UTF-8的字节（第${byte}字节处），请用记事本或Excel另存为UTF-8（或统一为GBK）后重试 — mixed encoding: line ${line} has bytes that are not UTF-8 (byte ${byte}); save the file as UTF-8 (or all of it as GBK) and try again`)
  }
  return { encoding: 'gb18030', lines, sample }
}

/** Splits a line on a delimiter, honouring double quotes; only for guessing the delimiter. */
function splitLine (line: string, delimiter: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') { cur += '"'; i++ } else quoted = !quoted
    } else if (ch === delimiter && !quoted) {
      out.push(cur); cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}

/**
 * Comma, unless the header found by splitting on commas is not there and splitting on tabs
 * (a "CSV" pasted out of Excel, or a .txt export) or semicolons (European-locale Excel)
 * finds it.
 */
export function guessDelimiter (sampleText: string): ',' | '\t' | ';' {
  const lines = sampleText.split(/\r\n|\n|\r/).filter((l) => l.trim() !== '').slice(0, HEADER_SEARCH_ROWS)
  for (const d of [',', '\t', ';'] as const) {
    if (findHeader(lines.map((l) => splitLine(l, d))).header !== undefined) return d
  }
  return ','
}

function lineBreaks (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    if (ch === 10) n++
    else if (ch === 13 && s.charCodeAt(i + 1) !== 10) n++
  }
  return n
}

async function * csvRows (file: string, encoding: CsvScan['encoding'], delimiter: string): AsyncGenerator<TableRow> {
  const source = createReadStream(file)
  const parser = source
    .pipe(iconv.decodeStream(encoding))
    .pipe(parseCsv({
      delimiter,
      // A file edited on Windows and appended to on a server mixes CRLF and LF.
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      // Hand-typed names contain stray quotes (张"三) that strict RFC 4180 would refuse.
      relax_quotes: true,
      skip_empty_lines: false,
      bom: true,
      max_record_size: MAX_CSV_RECORD_CHARS
    }))
  // csv-parse's own line counter drifts on quoted line breaks and mixed line endings, so
  // line numbers are counted here: a record starts on the line after the previous one ended
  // and spans one more line per line break inside its (quoted) fields.
  let line = 1
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      let breaks = 0
      for (const f of record) if (f.includes('\n') || f.includes('\r')) breaks += lineBreaks(f)
      yield { row: line, cells: record }
      line += 1 + breaks
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'CSV_MAX_RECORD_SIZE') {
      throw new ListFileError(`CSV文件从第${count(line)}行起的一条记录超过${count(MAX_CSV_RECORD_CHARS)}个字符，已拒绝读取（常见原因：引号未闭合，后面的行都并入了这一格） — the record starting on line ${count(line)} is longer than ${count(MAX_CSV_RECORD_CHARS)} characters (usually an unclosed quote that swallowed the lines after it); the file is refused`)
    }
    throw new ListFileError(`CSV文件第${line}行附近格式错误（常见原因：引号未闭合）：${(err as Error).message}`)
  } finally {
    // Stopped early (a file without a header) or failed: let go of the file.
    source.destroy()
  }
}

export async function readCsv (file: string, opts: ReadOptions): Promise<ReadResult> {
  const scan = await scanCsv(file)
  const delimiter = guessDelimiter(iconv.decode(scan.sample, scan.encoding))
  const sheet: Sheet = { name: file, total: scan.lines, date1904: false, rows: csvRows(file, scan.encoding, delimiter) }
  return await readSheets('csv', (async function * () { yield sheet })(), opts)
}

// ---------------------------------------------------------------------------------------------
// Tables for other readers of the same kind of file

/** A sheet of rows for another reader (catalog/): every row already within the limits. */
export interface TableSheet {
  name: string
  total?: number
  date1904: boolean
  rows: AsyncIterable<TableRow>
}

async function * withinLimits (format: 'xlsx' | 'csv', sheet: string, rows: AsyncIterable<TableRow>): AsyncGenerator<TableRow> {
  for await (const r of rows) {
    checkLimits(format, sheet, r)
    yield r
  }
}

/**
 * The sheets of an xlsx or csv file as rows of cells, read the way a list is read — the zip
 * checked first, sheets streamed with merged cells filled, CSV encoding found from the bytes,
 * every row within limits.ts — for readers of other tables the same offices exchange (the
 * insurance catalog). `isHeader` says whether rows split on a delimiter look like the reader's
 * header (or its headerless layout): it picks the CSV delimiter, comma first.
 */
export async function * tableSheets (file: string, format: 'xlsx' | 'csv', isHeader: (rows: string[][]) => boolean): AsyncGenerator<TableSheet> {
  if (format === 'xlsx') {
    for await (const s of xlsxSheets(file)) yield { ...s, rows: withinLimits('xlsx', s.name, s.rows) }
    return
  }
  const scan = await scanCsv(file)
  const lines = iconv.decode(scan.sample, scan.encoding).split(/\r\n|\n|\r/).filter((l) => l.trim() !== '').slice(0, HEADER_SEARCH_ROWS)
  const delimiter = ([',', '\t', ';'] as const).find((d) => isHeader(lines.map((l) => splitLine(l, d)))) ?? ','
  yield { name: file, total: scan.lines, date1904: false, rows: withinLimits('csv', file, csvRows(file, scan.encoding, delimiter)) }
}
