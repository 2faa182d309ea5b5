// Looking inside an .xlsx before exceljs does. An .xlsx is a zip of XML parts, and what a zip
// declares about itself (sizes, counts) can lie: a 2 MB file can inflate to gigabytes, a sheet
// can hold one cell of hundreds of megabytes, a merged range or a row number can name a
// billion cells. Every part is therefore inflated once here, as a stream whose output is counted
// and thrown away, and refused by the limits in limits.ts before any of it is parsed; the reader
// then reads the same parts from the same central directory (openCheckedXlsx keeps the zip open).
//
// yauzl rather than a hand-made central-directory parser on node:zlib: it follows the spec
// (central directory, not a scan for local headers, which is how exceljs's own unzipper can be
// shown one set of parts while a checker sees another), handles ZIP64 and data descriptors,
// refuses an entry that inflates past its declared size (validateEntrySizes), and is maintained.
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import yauzl from 'yauzl'
import type { Entry, ZipFile } from 'yauzl'
import { ListFileError } from './list-record.ts'
import {
  count, MAX_CELL_CHARS, MAX_COLUMNS, MAX_COMPRESSION_RATIO, MAX_HELD_PART_BYTES, MAX_INFLATED_BYTES, MAX_MERGED_CELLS,
  MAX_MERGED_RANGES, MAX_ROWS, MAX_SHARED_STRINGS_BYTES, MAX_XML_RUN_BYTES, MAX_ZIP_ENTRIES, size,
  RATIO_CHECKED_ABOVE_BYTES
} from './limits.ts'

/** A merged range, 1-based and inclusive, as Excel's A1:B2. */
export interface Merge {
  top: number
  left: number
  bottom: number
  right: number
}

export interface SheetPart {
  /** the name on the sheet's tab */
  name: string
  /** the part in the zip: xl/worksheets/sheet1.xml */
  path: string
  /** the number in the part's name, which exceljs uses to match the part to the workbook */
  sheetNo: string
  /** the highest row number in the sheet, 0 for an empty sheet */
  lastRow: number
  /** merged ranges, by top row */
  merges: Merge[]
}

export interface CheckedXlsx {
  zip: ZipFile
  /** the parts by name; where a name is listed twice the later one, as every zip reader does */
  entries: Map<string, Entry>
  /** worksheets in the workbook's tab order */
  sheets: SheetPart[]
  close: () => void
}

const SHEET_PART = /^xl\/worksheets\/sheet(\d+)\.xml$/
const SHARED_STRINGS = 'xl/sharedStrings.xml'
const WORKBOOK = 'xl/workbook.xml'
const WORKBOOK_RELS = 'xl/_rels/workbook.xml.rels'
// Parts the streaming reader parses into a model it keeps whole.
const HELD_PARTS = new Set([WORKBOOK, WORKBOOK_RELS, 'xl/styles.xml'])

function refuse (zh: string, en: string): ListFileError {
  return new ListFileError(`${zh} — ${en}`)
}

const RESAVE_HINT = '请用Excel打开后“另存为”一个新的.xlsx再导入'
const RESAVE_HINT_EN = 'open it in Excel, save it as a new .xlsx and import that'

// ---------------------------------------------------------------------------------------------
// Where a problem is, for messages

interface Place {
  zh: (row: number) => string
  en: (row: number) => string
}

function placeOf (path: string, sheet: SheetPart | undefined): Place {
  if (sheet !== undefined) {
    return {
      zh: (row) => row > 0 ? `工作表「${sheet.name}」第${count(row)}行附近` : `工作表「${sheet.name}」`,
      en: (row) => row > 0 ? `sheet "${sheet.name}" near row ${count(row)}` : `sheet "${sheet.name}"`
    }
  }
  if (path === SHARED_STRINGS) return { zh: () => `共享字符串表（${path}）`, en: () => `the shared-string table (${path})` }
  return { zh: () => `部件${path}`, en: () => `part ${path}` }
}

// ---------------------------------------------------------------------------------------------
// Scanning XML without building it

const LT = 0x3c
const GT = 0x3e
// Bytes after '<' kept together so a tag's name and first attributes can be read whole.
const HEAD = 256
const R_ATTR = /\sr\s*=\s*["'](\d{1,15})["']/
const REF_ATTR = /\sref\s*=\s*["']([^"']*)["']/

function startsWith (buf: Buffer, at: number, text: string): boolean {
  if (at + text.length > buf.length) return false
  for (let i = 0; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false
  return true
}

function isNameEnd (b: number | undefined): boolean {
  return b === undefined || b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === GT || b === 0x2f
}

/** "AB12" → { col: 28, row: 12 }; undefined when it is not a cell reference. */
function decodeCellRef (ref: string): { col: number, row: number } | undefined {
  const m = /^\$?([A-Z]{1,3})\$?(\d{1,10})$/.exec(ref)
  if (m === null) return undefined
  let col = 0
  for (const ch of m[1]) col = col * 26 + ch.charCodeAt(0) - 64
  const row = Number(m[2])
  if (row < 1) return undefined
  return { col, row }
}

/**
 * Follows an XML part byte by byte (by '<' and the terminators of CDATA, comments and
 * processing instructions) to bound every stretch the XML parser would turn into one string.
 * In a worksheet it also notes row numbers (for messages and progress) and the merged ranges,
 * which Excel writes after all the rows, where a streaming reader would see them too late.
 */
class XmlScanner {
  private pending: Buffer | null = null
  /** absolute offset of the next buffer's first byte */
  private base = 0
  /** absolute offset where the current stretch of text began (just after a '<' or a terminator) */
  private runStart = 0
  private terminator: string | null = null
  private specialStart = 0
  row = 0
  lastRow = 0
  readonly merges: Merge[] = []
  private mergedCells = 0

  constructor (private readonly place: Place, private readonly sheet: boolean) {}

  push (chunk: Buffer): void {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = null
    this.scan(buf, false)
  }

  end (): void {
    const buf = this.pending
    this.pending = null
    if (buf !== null) this.scan(buf, true)
  }

  private hold (buf: Buffer, from: number, base: number): void {
    // A copy: a slice would keep the whole inflated chunk alive.
    this.pending = Buffer.from(buf.subarray(from))
    this.base = base + from
  }

  private tooLong (what: 'run' | 'special', length: number): ListFileError {
    const zh = what === 'run'
      ? `${this.place.zh(this.row)}有一段超过${size(MAX_XML_RUN_BYTES)}的连续内容（一个单元格或标签），远超Excel单元格上限${count(MAX_CELL_CHARS)}个字符，已拒绝读取`
      : `${this.place.zh(this.row)}有一段超过${size(MAX_XML_RUN_BYTES)}的CDATA、注释或处理指令，已拒绝读取`
    const en = what === 'run'
      ? `${this.place.en(this.row)} has a stretch of more than ${size(MAX_XML_RUN_BYTES)} in one cell or tag (at least ${count(length)} bytes), far beyond Excel's ${count(MAX_CELL_CHARS)} characters a cell; the file is refused`
      : `${this.place.en(this.row)} has a CDATA section, comment or processing instruction over ${size(MAX_XML_RUN_BYTES)}; the file is refused`
    return refuse(zh, en)
  }

  private scan (buf: Buffer, final: boolean): void {
    const base = this.base
    let i = 0
    while (i < buf.length) {
      if (this.terminator !== null) {
        const k = buf.indexOf(this.terminator, i)
        if (k < 0) {
          const length = base + buf.length - this.specialStart
          if (length > MAX_XML_RUN_BYTES) throw this.tooLong('special', length)
          if (!final) this.hold(buf, Math.max(i, buf.length - (this.terminator.length - 1)), base)
          return
        }
        const length = base + k - this.specialStart
        if (length > MAX_XML_RUN_BYTES) throw this.tooLong('special', length)
        i = k + this.terminator.length
        this.runStart = base + i
        this.terminator = null
        continue
      }
      const j = buf.indexOf(LT, i)
      if (j < 0) {
        const length = base + buf.length - this.runStart
        if (length > MAX_XML_RUN_BYTES) throw this.tooLong('run', length)
        break
      }
      const length = base + j - this.runStart
      if (length > MAX_XML_RUN_BYTES) throw this.tooLong('run', length)
      if (!final && buf.length - j < HEAD) {
        this.hold(buf, j, base)
        return
      }
      this.runStart = base + j + 1
      const c = buf[j + 1]
      if (c === 0x21) { // <!
        if (startsWith(buf, j + 2, '[CDATA[')) {
          this.terminator = ']]>'
          this.specialStart = base + j
          i = j + 9
          continue
        }
        if (startsWith(buf, j + 2, '--')) {
          this.terminator = '-->'
          this.specialStart = base + j
          i = j + 4
          continue
        }
        // OOXML parts may not carry a DTD (ECMA-376 Part 2, Open Packaging Conventions), and a DTD
        // is where entity-expansion bombs live.
        throw refuse(`${this.place.zh(this.row)}含有DTD等Excel不会写出的XML声明（<!…>），已拒绝读取`,
          `${this.place.en(this.row)} contains a DTD or another declaration (<!…>) no spreadsheet program writes; the file is refused`)
      }
      if (c === 0x3f) { // <?
        this.terminator = '?>'
        this.specialStart = base + j
        i = j + 2
        continue
      }
      if (this.sheet) this.tag(buf, j + 1)
      i = j + 1
    }
    if (!final) this.base = base + buf.length
  }

  private attr (buf: Buffer, at: number, pattern: RegExp): string | undefined {
    let end = buf.indexOf(GT, at)
    if (end < 0 || end > at + HEAD) end = Math.min(buf.length, at + HEAD)
    return pattern.exec(buf.toString('latin1', at, end))?.[1]
  }

  private tag (buf: Buffer, at: number): void {
    if (startsWith(buf, at, 'row') && isNameEnd(buf[at + 3])) {
      const r = this.attr(buf, at + 3, R_ATTR)
      if (r !== undefined) {
        this.row = Number(r)
        if (this.row > this.lastRow) this.lastRow = this.row
      }
      return
    }
    if (startsWith(buf, at, 'mergeCell') && isNameEnd(buf[at + 9])) {
      const ref = this.attr(buf, at + 9, REF_ATTR)
      if (ref !== undefined) this.merge(ref)
    }
  }

  private merge (ref: string): void {
    const [a, b = a] = ref.split(':')
    const p = decodeCellRef(a)
    const q = decodeCellRef(b)
    if (p === undefined || q === undefined) return
    const m: Merge = { top: Math.min(p.row, q.row), left: Math.min(p.col, q.col), bottom: Math.max(p.row, q.row), right: Math.max(p.col, q.col) }
    if ((m.top === m.bottom && m.left === m.right) || m.left > MAX_COLUMNS || m.top > MAX_ROWS) return
    if (this.merges.length >= MAX_MERGED_RANGES) {
      throw refuse(`${this.place.zh(0)}有超过${count(MAX_MERGED_RANGES)}个合并单元格，已拒绝读取：请取消合并后再导入`,
        `${this.place.en(0)} has more than ${count(MAX_MERGED_RANGES)} merged ranges; unmerge them and import again`)
    }
    this.mergedCells += (Math.min(m.bottom, MAX_ROWS) - m.top + 1) * (Math.min(m.right, MAX_COLUMNS) - m.left + 1)
    if (this.mergedCells > MAX_MERGED_CELLS) {
      throw refuse(`${this.place.zh(0)}的合并单元格（${ref}等）共覆盖超过${count(MAX_MERGED_CELLS)}个单元格，已拒绝读取：请取消合并后再导入`,
        `the merged ranges of ${this.place.en(0)} (${ref} and others) cover more than ${count(MAX_MERGED_CELLS)} cells; unmerge them and import again`)
    }
    this.merges.push(m)
  }
}

// ---------------------------------------------------------------------------------------------
// Sheet names, from the workbook part and its relationships

function xmlText (s: string): string {
  return s.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));/gi, (all, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
    if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16))
    if (dec !== undefined) return String.fromCodePoint(Number(dec))
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[(named ?? '').toLowerCase()] ?? all
  })
}

function attributes (tag: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out.set(m[1], xmlText(m[2] ?? m[3] ?? ''))
  return out
}

/** The worksheets in tab order, named as on their tabs; parts the workbook does not list come last. */
function sheetParts (entries: Map<string, Entry>, workbook: string, rels: string): SheetPart[] {
  const targets = new Map<string, string>()
  for (const m of rels.matchAll(/<(?:\w+:)?Relationship\b[^>]*>/g)) {
    const a = attributes(m[0])
    const id = a.get('Id')
    const target = a.get('Target')
    if (id === undefined || target === undefined) continue
    targets.set(id, target.startsWith('/') ? target.slice(1) : 'xl/' + target.replace(/^\.\//, ''))
  }
  const parts: SheetPart[] = []
  const seen = new Set<string>()
  for (const m of workbook.matchAll(/<(?:\w+:)?sheet\b[^>]*>/g)) {
    const a = attributes(m[0])
    const rid = [...a].find(([k]) => /^[\w.-]+:id$/.test(k))?.[1]
    const path = rid === undefined ? undefined : targets.get(rid)
    const no = path === undefined ? null : SHEET_PART.exec(path)
    if (path === undefined || no === null || !entries.has(path) || seen.has(path)) continue
    seen.add(path)
    parts.push({ name: a.get('name') ?? path, path, sheetNo: no[1], lastRow: 0, merges: [] })
  }
  for (const path of entries.keys()) {
    const no = SHEET_PART.exec(path)
    if (no !== null && !seen.has(path)) parts.push({ name: path, path, sheetNo: no[1], lastRow: 0, merges: [] })
  }
  return parts
}

// ---------------------------------------------------------------------------------------------
// Inflating and counting

class Budget {
  total = 0
  constructor (private readonly fileSize: number) {}

  add (n: number): void {
    this.total += n
    if (this.total > MAX_INFLATED_BYTES) {
      throw refuse(`Excel文件解压后超过${size(MAX_INFLATED_BYTES)}，已拒绝读取（真实名单远小于此）`,
        `the workbook inflates to more than ${size(MAX_INFLATED_BYTES)}, far more than any real list; the file is refused`)
    }
    if (this.total > RATIO_CHECKED_ABOVE_BYTES && this.total > MAX_COMPRESSION_RATIO * this.fileSize) {
      throw refuse(`Excel文件解压后是原文件的${MAX_COMPRESSION_RATIO}倍以上（${size(this.fileSize)}解压出超过${size(this.total)}），疑为压缩炸弹，已拒绝读取；如确为名单，${RESAVE_HINT}`,
        `the workbook inflates to more than ${MAX_COMPRESSION_RATIO} times its size (over ${size(this.total)} from ${size(this.fileSize)}), as a zip bomb does; the file is refused — if it is a real list, ${RESAVE_HINT_EN}`)
    }
  }
}

function partLimit (path: string): number {
  if (path === SHARED_STRINGS) return MAX_SHARED_STRINGS_BYTES
  if (HELD_PARTS.has(path)) return MAX_HELD_PART_BYTES
  return Infinity
}

function isXml (path: string): boolean {
  return /\.(xml|rels|vml)$/i.test(path) || path === '[Content_Types].xml'
}

export async function openPart (zip: ZipFile, entry: Entry): Promise<Readable> {
  if (entry.isEncrypted()) {
    throw refuse('Excel文件中的部件设有密码，无法读取：请取消密码后另存为.xlsx', 'a part of the workbook is encrypted; remove the password and save as .xlsx')
  }
  return await zip.openReadStreamPromise(entry)
}

async function inspect (zip: ZipFile, entry: Entry, budget: Budget, sheet: SheetPart | undefined, keep: boolean): Promise<string> {
  const path = entry.fileName
  if (path.endsWith('/')) return ''
  const place = placeOf(path, sheet)
  const limit = partLimit(path)
  const scanner = isXml(path) ? new XmlScanner(place, sheet !== undefined) : undefined
  const kept: Buffer[] = []
  let inflated = 0
  const stream = await openPart(zip, entry)
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    inflated += chunk.length
    budget.add(chunk.length)
    if (inflated > limit) {
      throw refuse(`${place.zh(0)}解压后超过${size(limit)}，已拒绝读取（读取时须整个放入内存；真实名单远小于此）`,
        `${place.en(0)} inflates to more than ${size(limit)}; it has to be held in memory whole, and real lists are far smaller; the file is refused`)
    }
    if (inflated > RATIO_CHECKED_ABOVE_BYTES && inflated > MAX_COMPRESSION_RATIO * entry.compressedSize) {
      throw refuse(`${place.zh(scanner?.row ?? 0)}解压后是压缩大小的${MAX_COMPRESSION_RATIO}倍以上（${size(entry.compressedSize)}解压出超过${size(inflated)}），疑为压缩炸弹，已拒绝读取；如确为名单，${RESAVE_HINT}`,
        `${place.en(scanner?.row ?? 0)} inflates to more than ${MAX_COMPRESSION_RATIO} times its compressed size (over ${size(inflated)} from ${size(entry.compressedSize)}), as a zip bomb does; the file is refused — if it is a real list, ${RESAVE_HINT_EN}`)
    }
    scanner?.push(chunk)
    if (keep) kept.push(chunk)
  }
  if (scanner !== undefined) {
    scanner.end()
    if (sheet !== undefined) {
      sheet.lastRow = scanner.lastRow
      sheet.merges = scanner.merges.sort((a, b) => a.top - b.top)
    }
  }
  return keep ? Buffer.concat(kept).toString('utf8') : ''
}

function unreadable (err: unknown): ListFileError {
  if (err instanceof ListFileError) return err
  return new ListFileError(`无法读取Excel文件（文件已损坏，或不是Excel工作簿）：${(err as Error).message}`)
}

/**
 * Opens an .xlsx and checks every part against the limits; refuses the file (ListFileError)
 * at the first one passed. The caller reads the parts from the returned zip and must close it.
 */
export async function openCheckedXlsx (file: string): Promise<CheckedXlsx> {
  const fileSize = (await stat(file)).size
  let zip: ZipFile
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true, strictFileNames: false })
  } catch (err) {
    throw unreadable(err)
  }
  try {
    if (zip.entryCount > MAX_ZIP_ENTRIES) {
      throw refuse(`Excel文件含有${count(zip.entryCount)}个部件，超过${count(MAX_ZIP_ENTRIES)}个的上限，已拒绝读取`,
        `the workbook has ${count(zip.entryCount)} parts, more than the limit of ${count(MAX_ZIP_ENTRIES)}; the file is refused`)
    }
    const all: Entry[] = []
    const entries = new Map<string, Entry>()
    for await (const e of zip.eachEntry()) {
      all.push(e)
      entries.set(e.fileName, e)
    }
    const wbEntry = entries.get(WORKBOOK)
    if (wbEntry === undefined) {
      throw new ListFileError('文件是压缩包，但不是Excel工作簿（缺少xl/workbook.xml）：请用Excel打开后“另存为”Excel工作簿（.xlsx）')
    }
    const budget = new Budget(fileSize)
    const done = new Set<Entry>([wbEntry])
    const workbook = await inspect(zip, wbEntry, budget, undefined, true)
    const relsEntry = entries.get(WORKBOOK_RELS)
    let rels = ''
    if (relsEntry !== undefined) {
      done.add(relsEntry)
      rels = await inspect(zip, relsEntry, budget, undefined, true)
    }
    const sheets = sheetParts(entries, workbook, rels)
    const byPath = new Map(sheets.map((s) => [s.path, s]))
    for (const e of all) {
      if (done.has(e)) continue
      // A name listed twice: the earlier entry is checked too, though no reader uses it.
      const sheet = entries.get(e.fileName) === e ? byPath.get(e.fileName) : undefined
      await inspect(zip, e, budget, sheet, false)
    }
    return { zip, entries, sheets, close: () => zip.close() }
  } catch (err) {
    zip.close()
    throw unreadable(err)
  }
}
