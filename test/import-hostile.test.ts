// Hostile and damaged list files: zip bombs in the shape of a small .xlsx, cells and rows no
// spreadsheet program writes, and CSV files whose encoding is mixed. Each bomb is read in a
// child process with a capped heap (test/read-list-probe.ts), which reports the outcome and how
// far its memory rose: a reader that builds the bomb in memory dies there, and the test fails,
// instead of taking the machine with it.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import zlib from 'node:zlib'
import ExcelJS from 'exceljs'
import iconv from 'iconv-lite'
import { loadProfile } from '../profile/profile.ts'
import { readListFile, ListFileError } from '../lists/read-list.ts'
import { ROOT, syntheticCertno, tempDir } from './helper.ts'

const profile = loadProfile('guangxi-liuzhou')

// ---------------------------------------------------------------------------------------------
// A hand-made .xlsx: the few parts exceljs needs, with a worksheet given as XML

interface ZipPart { name: string, deflated: Buffer, size: number, crc: number }

function part (name: string, content: string | Buffer): ZipPart {
  const data = typeof content === 'string' ? Buffer.from(content) : content
  return { name, deflated: zlib.deflateRawSync(data), size: data.length, crc: zlib.crc32(data) }
}

/**
 * A part whose content is head + unit × times + tail, built without ever holding it: the unit
 * is deflated once, ending on a full flush so that no later block refers back into it, and
 * the same compressed bytes are repeated. A megabyte of 'A' repeated 300 times is a 300 MB part
 * in about 300 KB.
 */
function repeatedPart (name: string, head: string, unit: string, times: number, tail: string): ZipPart {
  const flushed = (s: string): Buffer => zlib.deflateRawSync(Buffer.from(s), { finishFlush: zlib.constants.Z_FULL_FLUSH })
  const u = Buffer.from(unit)
  const block = flushed(unit)
  let crc = zlib.crc32(head)
  for (let i = 0; i < times; i++) crc = zlib.crc32(u, crc)
  crc = zlib.crc32(tail, crc)
  const deflated = Buffer.concat([flushed(head), ...new Array<Buffer>(times).fill(block), zlib.deflateRawSync(Buffer.from(tail))])
  return { name, deflated, size: Buffer.byteLength(head) + u.length * times + Buffer.byteLength(tail), crc }
}

/** A zip (PKWARE APPNOTE 4.3): local headers and data, then the central directory. */
function zipFile (parts: ZipPart[]): Buffer {
  const locals: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const p of parts) {
    const name = Buffer.from(p.name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // names in UTF-8
    local.writeUInt16LE(8, 8) // deflate
    local.writeUInt32LE(p.crc >>> 0, 14)
    local.writeUInt32LE(p.deflated.length, 18)
    local.writeUInt32LE(p.size, 22)
    local.writeUInt16LE(name.length, 26)
    const cd = Buffer.alloc(46)
    cd.writeUInt32LE(0x02014b50, 0)
    cd.writeUInt16LE(20, 4)
    cd.writeUInt16LE(20, 6)
    cd.writeUInt16LE(0x0800, 8)
    cd.writeUInt16LE(8, 10)
    cd.writeUInt32LE(p.crc >>> 0, 16)
    cd.writeUInt32LE(p.deflated.length, 20)
    cd.writeUInt32LE(p.size, 24)
    cd.writeUInt16LE(name.length, 28)
    cd.writeUInt32LE(offset, 42)
    locals.push(local, name, p.deflated)
    central.push(cd, name)
    offset += 30 + name.length + p.deflated.length
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(parts.length, 8)
  end.writeUInt16LE(parts.length, 10)
  end.writeUInt32LE(cdSize, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, ...central, end])
}

const MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'

/** The parts around one worksheet named 名单; `definedNames` goes into the workbook part. */
function workbookParts (sheet: ZipPart, definedNames = ''): ZipPart[] {
  return [
    part('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    part('_rels/.rels', `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`),
    part('xl/workbook.xml', `<?xml version="1.0" encoding="UTF-8"?><workbook ${MAIN} xmlns:r="${REL}"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets>${definedNames}</workbook>`),
    part('xl/_rels/workbook.xml.rels', `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`),
    sheet
  ]
}

function inline (ref: string, text: string): string {
  return `<c r="${ref}" t="inlineStr"><is><t>${text}</t></is></c>`
}

const PERSON = syntheticCertno(1)
/** The sheet's start: a header and one good person; the test's own rows follow from row 3. */
const SHEET_HEAD = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet ${MAIN}><sheetData>` +
  `<row r="1">${inline('A1', '姓名')}${inline('B1', '身份证号')}${inline('C1', '人员类别')}${inline('D1', '认定时间')}</row>` +
  `<row r="2">${inline('A2', '张三')}${inline('B2', PERSON)}${inline('C2', '特困人员')}${inline('D2', '2026-03-01')}</row>`
const SHEET_TAIL = '</sheetData></worksheet>'

function writeXlsx (dir: string, name: string, sheet: ZipPart, definedNames = ''): string {
  const file = join(dir, name)
  writeFileSync(file, zipFile(workbookParts(sheet, definedNames)))
  return file
}

interface Probe {
  ok?: boolean
  name?: string
  message?: string
  records?: number
  problems?: string[]
  rssGrowthMB?: number
  exit?: { code: number | null, signal: string | null, stderr: string }
}

/**
 * Reads files in one child process with a 384 MB heap, killed after two minutes; resolves with
 * what it reported for each file. A file it did not report on (it died on an earlier one)
 * gets the child's exit instead.
 */
function probe (files: string[]): Promise<Map<string, Probe>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=384', '--expose-gc', '--import', 'tsx', join(ROOT, 'test', 'read-list-probe.ts'), ...files], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const out = new Map<string, Probe>()
      for (const line of stdout.split('\n')) {
        if (line.startsWith('{')) {
          const p = JSON.parse(line) as Probe & { file: string }
          out.set(p.file, p)
        }
      }
      for (const f of files) if (!out.has(f)) out.set(f, { exit: { code, signal, stderr: stderr.slice(-2000) } })
      resolve(out)
    })
  })
}

// What reading any of these files may add to the resident memory of the process. The reader
// itself, exceljs and a small list take a few tens of megabytes; a bomb built in memory, gigabytes.
const MEMORY_BOUND_MB = 200

function refused (t: Test, out: Probe, message: RegExp[]): void {
  t.notOk(out.exit, 'the reader finished instead of running out of memory or time', { exit: out.exit })
  t.equal(out.ok, false, 'the file is refused', { out })
  t.equal(out.name, 'ListFileError')
  for (const m of message) t.match(out.message, m)
  t.ok((out.rssGrowthMB ?? Infinity) < MEMORY_BOUND_MB, `memory rose by ${out.rssGrowthMB ?? '?'} MB`)
}

// ---------------------------------------------------------------------------------------------
// Bombs, built once and read by one child process

const bombDir = tempDir(t)

// One row of ever more cells: the in-memory reader keeps a model of every one.
const CELL = inline('A3', 'x')
const RATIO_SHEET = repeatedPart('xl/worksheets/sheet1.xml', SHEET_HEAD + '<row r="3">', CELL.repeat(Math.ceil(1048576 / CELL.length)), 400, '</row>' + SHEET_TAIL)
const BOMBS = {
  ratio: writeXlsx(bombDir, 'ratio.xlsx', RATIO_SHEET),
  cell: writeXlsx(bombDir, 'cell.xlsx', repeatedPart('xl/worksheets/sheet1.xml', SHEET_HEAD + '<row r="3"><c r="B3" t="inlineStr"><is><t>', 'A'.repeat(1048576), 300, '</t></is></c></row>' + SHEET_TAIL)),
  cdata: writeXlsx(bombDir, 'cdata.xlsx', repeatedPart('xl/worksheets/sheet1.xml', SHEET_HEAD + '<row r="3"><c r="B3" t="inlineStr"><is><t><![CDATA[', '<x>'.repeat(349526), 300, ']]></t></is></c></row>' + SHEET_TAIL)),
  merge: writeXlsx(bombDir, 'merge.xlsx', part('xl/worksheets/sheet1.xml', SHEET_HEAD + '</sheetData><mergeCells count="1"><mergeCell ref="A3:XFD1048576"/></mergeCells></worksheet>')),
  // exceljs's in-memory reader makes one entry per cell of a validation range (exceljs #1842)
  // and of a defined name such as a print area: 17 billion here, around a list of one person.
  validation: writeXlsx(bombDir, 'validation.xlsx',
    part('xl/worksheets/sheet1.xml', SHEET_HEAD + '</sheetData><dataValidations count="1"><dataValidation type="list" allowBlank="1" sqref="A1:XFD1048576"><formula1>"特困人员,低保"</formula1></dataValidation></dataValidations></worksheet>'),
    '<definedNames><definedName name="_xlnm.Print_Area" localSheetId="0">名单!$A$1:$XFD$1048576</definedName></definedNames>'),
  rows: writeXlsx(bombDir, 'rows.xlsx', part('xl/worksheets/sheet1.xml', SHEET_HEAD + `<row r="4000000000">${inline('A4000000000', '李四')}</row>` + SHEET_TAIL))
}
let probed: Promise<Map<string, Probe>> | undefined
async function probed1 (file: string): Promise<Probe> {
  probed ??= probe(Object.values(BOMBS))
  return (await probed).get(file) ?? {}
}

t.test('a 1 MB workbook whose sheet inflates to 400 MB is refused as a zip bomb before memory runs out', async (t) => {
  t.ok(RATIO_SHEET.size > 400 * 1048576, 'the sheet inflates to over 400 MB')
  t.ok(RATIO_SHEET.deflated.length < 2 * 1048576, `in ${RATIO_SHEET.deflated.length} bytes`)
  refused(t, await probed1(BOMBS.ratio), [/压缩炸弹/, /zip bomb/, /工作表「名单」/, /100倍/])
})

t.test('a workbook with one 300 MB cell is refused naming the sheet, the row and the cell limit', async (t) => {
  refused(t, await probed1(BOMBS.cell), [/工作表「名单」第3行附近/, /1 MB/, /32,767/, /sheet "名单" near row 3/])
})

t.test('a huge CDATA section full of "<" cannot slip past the cell check', async (t) => {
  refused(t, await probed1(BOMBS.cdata), [/CDATA/, /工作表「名单」第3行附近/])
})

t.test('a merged range over the whole sheet, in a file of a few kilobytes, is refused', async (t) => {
  refused(t, await probed1(BOMBS.merge), [/合并单元格/, /A3:XFD1048576/, /20,000,000/])
})

t.test('a drop-down list and a print area over every cell of the sheet do not stop a small list from reading', async (t) => {
  const out = await probed1(BOMBS.validation)
  t.notOk(out.exit, 'the reader finished', { exit: out.exit })
  t.equal(out.ok, true, 'the list is read', { out })
  t.equal(out.records, 1)
  t.same(out.problems, [])
  t.ok((out.rssGrowthMB ?? Infinity) < MEMORY_BOUND_MB, `memory rose by ${out.rssGrowthMB ?? '?'} MB`)
})

t.test('a row numbered beyond five million is refused naming the limit, the sheet and the row', async (t) => {
  refused(t, await probed1(BOMBS.rows), [/工作表「名单」第4,000,000,000行/, /5,000,000行/, /row 4,000,000,000 of sheet "名单"/])
})

// ---------------------------------------------------------------------------------------------
// Rows and cells past Excel's own limits

async function refusedInProcess (t: Test, file: string, message: RegExp[]): Promise<void> {
  const err = await readListFile(file, { profile }).catch((e: unknown) => e)
  t.ok(err instanceof ListFileError, 'refused with a ListFileError', { err })
  for (const m of message) t.match((err as Error).message, m)
}

t.test('a cell longer than Excel allows is refused naming the limit, the sheet, the row and the column', async (t) => {
  const dir = tempDir(t)
  const sheet = part('xl/worksheets/sheet1.xml', SHEET_HEAD + `<row r="3">${inline('A3', '李四')}${inline('B3', '4'.repeat(40_000))}</row>` + SHEET_TAIL)
  await refusedInProcess(t, writeXlsx(dir, 'long.xlsx', sheet), [/工作表「名单」第3行B列的单元格有40,000个字符/, /32,767/, /column 2 of row 3 of sheet "名单"/])
})

t.test('a row with a value beyond column 1,000 is refused naming the limit, the sheet and the row', async (t) => {
  const dir = tempDir(t)
  const far = 'ATD' // column 1,200
  const sheet = part('xl/worksheets/sheet1.xml', SHEET_HEAD + `<row r="3">${inline('A3', '李四')}${inline(`${far}3`, '备注')}</row>` + SHEET_TAIL)
  await refusedInProcess(t, writeXlsx(dir, 'wide.xlsx', sheet), [/工作表「名单」第3行在第1,200列（ATD）还有内容/, /1,000列的上限/, /beyond the limit of 1,000 columns/])
})

t.test('a CSV whose unclosed quote swallows the rest of the file is refused at the record, not read into memory', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'quote.csv')
  const rows = [`姓名,身份证号,人员类别,认定时间\n张三,${PERSON},特困人员,2026-03-01\n"李四,${syntheticCertno(2)},低保,2026-03-01\n`]
  for (let i = 3; i < 60_000; i++) rows.push(`王${i},${syntheticCertno(i)},低保,2026-03-01\n`)
  writeFileSync(file, rows.join(''))
  await refusedInProcess(t, file, [/从第3行起的一条记录超过1,048,576个字符/, /引号未闭合/])
})

// ---------------------------------------------------------------------------------------------
// Real workbooks the stricter reader must still read

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'

/** A name of two or three characters from all of CJK Unified Ideographs, so that every byte position occurs. */
function nameOf (i: number): string {
  const given = String.fromCharCode(0x4e00 + ((i * 7919) % 20902))
  return SURNAMES[i % SURNAMES.length] + given + (i % 3 === 0 ? '' : String.fromCharCode(0x4e00 + ((i * 104729) % 20902)))
}

/** 128 hexadecimal digits that deflate cannot shrink much below half. */
function noise (i: number): string {
  let x = i + 1
  let out = ''
  for (let k = 0; k < 16; k++) {
    x = zlib.crc32(String(x))
    out += x.toString(16).padStart(8, '0')
  }
  return out
}

t.test('every name of a large workbook comes out whole, including those split between two read chunks', async (t) => {
  // exceljs's streaming reader decodes each inflated chunk on its own: a character split
  // between two chunks became U+FFFD, in about one name of two thousand.
  const dir = tempDir(t)
  const file = join(dir, 'large.xlsx')
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true })
  const ws = wb.addWorksheet('名单')
  ws.addRow(['姓名', '身份证号', '人员类别', '认定时间', '备注']).commit()
  const n = 50_000
  for (let i = 0; i < n; i++) {
    // The note column is incompressible, so the file passes the 5 MB at which the old reader streamed.
    ws.addRow([nameOf(i), syntheticCertno(i), i % 2 === 0 ? '特困人员' : '低保', '2026-03-01', noise(i)]).commit()
  }
  ws.commit()
  await wb.commit()
  t.ok(statSync(file).size > 5 * 1048576, 'over 5 MB')
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.equal(res.records.length, n)
  const wrong = res.records.filter((r, i) => r.psn_name !== nameOf(i))
  t.same(wrong.map((r) => r.psn_name).slice(0, 5), [], `${wrong.length} names garbled`)
})

t.test('a category merged down over several people reaches each of them', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'merged.xlsx')
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('名单')
  ws.addRow(['姓名', '身份证号', '人员类别', '认定时间'])
  for (let i = 0; i < 4; i++) ws.addRow([nameOf(i), syntheticCertno(i), i === 0 ? '特困人员' : null, '2026-03-01'])
  ws.addRow([nameOf(4), syntheticCertno(4), '低保', '2026-03-01'])
  ws.mergeCells('C2:C5')
  await wb.xlsx.writeFile(file)
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.same(res.records.map((r) => r.identities.map((i) => i.category)), [['extreme_poverty'], ['extreme_poverty'], ['extreme_poverty'], ['extreme_poverty'], ['minimum_living']])
})

t.test('a workbook in the 1904 date system reads plain-number and date cells on the right day', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'mac.xlsx')
  const wb = new ExcelJS.Workbook()
  wb.properties.date1904 = true
  const ws = wb.addWorksheet('名单')
  ws.addRow(['姓名', '身份证号', '人员类别', '认定时间'])
  ws.addRow([nameOf(1), syntheticCertno(1), '特困人员', 44620]) // 1904 serial of 2026-03-01
  ws.addRow([nameOf(2), syntheticCertno(2), '低保', new Date(Date.UTC(2025, 0, 1))])
  await wb.xlsx.writeFile(file)
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.same(res.records.map((r) => r.identities[0].begntime), ['2026-03-01 00:00:00', '2025-01-01 00:00:00'])
})

t.test('a zip that is not a workbook is refused as such', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'list.xlsx')
  writeFileSync(file, zipFile([part('list.csv', '姓名,身份证号\n')]))
  await refusedInProcess(t, file, [/不是Excel工作簿/, /另存为/])
})

// ---------------------------------------------------------------------------------------------
// CSV encodings

const CSV_LINES = ['姓名,身份证号,人员类别,认定时间,家庭住址']
for (let i = 0; i < 2000; i++) CSV_LINES.push(`${nameOf(i)},${syntheticCertno(i)},${['特困人员', '低保、脱贫人口', '边缘易致贫户'][i % 3]},2026-03-01,柳江区拉堡镇${nameOf(i + 7)}村${i % 30}屯`)
const CSV_TEXT = CSV_LINES.join('\r\n') + '\r\n'

t.test('a UTF-8 CSV with one stray Latin-1 byte is refused as mixed, naming the line and the byte', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'mixed.csv')
  const lines = CSV_LINES.slice(0, 20).map((l) => Buffer.from(l + '\n'))
  // Line 12 was pasted from a Western system: é in Latin-1 (0xE9), not UTF-8.
  lines[11] = Buffer.concat([Buffer.from('Ren'), Buffer.from([0xe9]), Buffer.from(`e,${syntheticCertno(11)},特困人员,2026-03-01,\n`)])
  const bytes = Buffer.concat(lines)
  writeFileSync(file, bytes)
  // 0xE9 also leads many Chinese characters in UTF-8: count from the start of line 12.
  const offset = Buffer.concat(lines.slice(0, 11)).length + 4
  const err = await readListFile(file, { profile }).catch((e: unknown) => e)
  t.ok(err instanceof ListFileError, 'refused', { err })
  t.match((err as Error).message, `文件编码混杂：第12行含有不是UTF-8的字节（第${offset.toLocaleString('en-US')}字节处），请用记事本或Excel另存为UTF-8（或统一为GBK）后重试`)
  t.match((err as Error).message, /mixed encoding: line 12/)
})

t.test('a UTF-8 CSV with a BOM and a stray byte is mixed however few Chinese characters it has', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'bom-mixed.csv')
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`姓名,身份证号,人员类别,认定时间\nJos`), Buffer.from([0xe9]), Buffer.from(`,${PERSON},特困人员,2026-03-01\n`)]))
  await refusedInProcess(t, file, [/文件编码混杂：第2行/])
})

t.test('a GBK CSV of real Chinese text is read as GBK, though some of its bytes happen to be valid UTF-8', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'gbk.csv')
  const bytes = iconv.encode(CSV_TEXT, 'gbk')
  // The case the rule must survive: runs that decode as three-byte UTF-8 inside GBK text.
  const accidental = bytes.toString('latin1').match(/[\xe1-\xec\xee\xef][\x80-\xbf]{2}/g)?.length ?? 0
  t.ok(accidental > 20, `${accidental} accidental UTF-8 sequences`)
  writeFileSync(file, bytes)
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.equal(res.records.length, 2000)
  t.same(res.records.slice(0, 3).map((r) => r.psn_name), [nameOf(0), nameOf(1), nameOf(2)])
})

t.test('a UTF-8 CSV reads as UTF-8 with a BOM and without', async (t) => {
  const dir = tempDir(t)
  for (const bom of [true, false]) {
    const file = join(dir, `utf8-${String(bom)}.csv`)
    writeFileSync(file, Buffer.concat([Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(CSV_TEXT)]))
    const res = await readListFile(file, { profile })
    t.same(res.problems, [], `BOM: ${String(bom)}`)
    t.equal(res.records.length, 2000)
    t.same(res.records.slice(0, 3).map((r) => r.psn_name), [nameOf(0), nameOf(1), nameOf(2)])
  }
})
