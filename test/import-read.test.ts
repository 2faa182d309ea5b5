import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import iconv from 'iconv-lite'
import { checkCharacter } from '../identity/certno.ts'
import { loadProfile } from '../profile/profile.ts'
import { readListFile, ListFileError } from '../lists/read-list.ts'
import { readXlsx } from '../lists/read-table.ts'
import type { ListRecord, ReadResult, RowProblem } from '../lists/list-record.ts'

// The shipped Liuzhou profile: the category names and codes its counties' lists use.
const profile = loadProfile('guangxi-liuzhou')

function id18 (first17: string): string {
  return first17 + checkCharacter(first17)
}

// Valid numbers for the fixtures; 柳江区 address code, made-up birth dates and sequences.
const ZHANG = id18('45020619580312001')
const LI = id18('45020619720101018') // chosen so its check character is X
const WANG_15 = '450206580312004' // legacy 15-digit number: born 1958-03-12
const WANG_18 = id18('45020619580312004')
const ZHAO = id18('45020619850615007')

/** The i-th made-up valid ID number, all distinct for i below 13,440,000. */
function synthId (i: number): string {
  return id18('45020619' + String(60 + (i % 40)) + String(1 + (Math.floor(i / 40) % 12)).padStart(2, '0') +
    String(1 + (Math.floor(i / 480) % 28)).padStart(2, '0') + String(Math.floor(i / 13440)).padStart(3, '0'))
}

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fangpin-import-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function byCertno (records: ListRecord[]): Record<string, ListRecord> {
  return Object.fromEntries(records.map((r) => [r.certno, r]))
}

function problemAt (res: ReadResult, row: number): RowProblem[] {
  return res.problems.filter((p) => p.row === row)
}

t.test('the fixture number for 李四 really ends in X, so the lower-case x case is tested', async (t) => {
  t.equal(LI.slice(-1), 'X')
})

/** The county workbook most lists arrive as: two title rows, a noted header, merged names, mixed date styles. */
async function countyWorkbook (file: string, merged = true): Promise<void> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('低收入人口')
  ws.addRow(['柳江区2026年10月农村低收入人口名单']) // 1
  ws.mergeCells('A1:H1')
  ws.addRow(['填报单位：柳江区民政局', null, null, null, null, '填报日期：2026年10月8日']) // 2
  ws.addRow([]) // 3 blank
  ws.addRow(['序号', '姓　名', '身份证号码（必填）', '人员类别', '认定时间', '退出时间', '发证部门', '联系电话']) // 4
  ws.addRow([1, '张三', ZHANG, '特困人员', 46082, null, '民政局', '13800000000']) // 5: serial as a plain number
  ws.addRow([2, null, ZHANG, '低保', new Date(Date.UTC(2025, 0, 1)), new Date(Date.UTC(2026, 11, 31)), '民政局', null]) // 6: Date cells
  if (merged) ws.mergeCells('B5:B6') // 张三's name merged over his two identity rows
  ws.addRow([]) // 7 blank
  ws.addRow([3, '李四', LI.slice(0, 17) + 'x', '低保、脱贫人口', '2026/3/1', '2026年12月31日', '乡村振兴局', null]) // 8: text dates, two categories
  ws.addRow([4, '王五', Number(WANG_15), 7131, '20260301', '长期', null, null]) // 9: legacy number stored as a number, code as a number
  ws.addRow([5, '赵六', ZHAO, '脱贫户', 46082.5, null, null, null]) // 10: serial with a time of day
  ws.getCell('E10').numFmt = 'yyyy-mm-dd hh:mm'
  ws.addRow([6, '王五', WANG_18, '特困人员', '2026-03-01', null, null, null]) // 11: the same person again, same identity
  ws.addRow([]) // 12
  ws.addRow(['合计', null, null, null, null, null, null, '5人']) // 13: footer
  await wb.xlsx.writeFile(file)
}

const EXPECTED: Record<string, ListRecord> = {
  [ZHANG]: {
    op: 'upsert', certno: ZHANG, psn_cert_type: '01', psn_name: '张三',
    identities: [
      { category: 'extreme_poverty', begntime: '2026-03-01 00:00:00', endtime: null, source: '民政局' },
      { category: 'minimum_living', begntime: '2025-01-01 00:00:00', endtime: '2026-12-31 23:59:59', source: '民政局' }
    ]
  },
  [LI]: {
    op: 'upsert', certno: LI, psn_cert_type: '01', psn_name: '李四',
    identities: [
      { category: 'minimum_living', begntime: '2026-03-01 00:00:00', endtime: '2026-12-31 23:59:59', source: '乡村振兴局' },
      { category: 'out_of_poverty', begntime: '2026-03-01 00:00:00', endtime: '2026-12-31 23:59:59', source: '乡村振兴局' }
    ]
  },
  [WANG_18]: {
    op: 'upsert', certno: WANG_18, psn_cert_type: '01', psn_name: '王五',
    identities: [{ category: 'extreme_poverty', begntime: '2026-03-01 00:00:00', endtime: null, source: null }]
  },
  [ZHAO]: {
    op: 'upsert', certno: ZHAO, psn_cert_type: '01', psn_name: '赵六',
    identities: [{ category: 'out_of_poverty', begntime: '2026-03-01 12:00:00', endtime: null, source: null }]
  }
}

t.test('a county workbook with title rows, merged names and every date style reads into one record per person', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, '名单.xlsx')
  await countyWorkbook(file)
  const progress: Array<[number, number | undefined]> = []
  const res = await readListFile(file, { profile, onProgress: (d, n) => progress.push([d, n]) })
  t.equal(res.format, 'xlsx')
  t.same(res.problems, [])
  t.equal(res.rows, 6, 'data rows: blank rows, titles, header and the 合计 footer are not counted')
  t.equal(res.goodRows, 6)
  t.equal(res.badRows, 0)
  t.equal(res.records.length, 4)
  t.strictSame(byCertno(res.records), EXPECTED)
  t.ok(progress.length > 0, 'progress is reported at least at the end')
  t.same(progress.at(-1), [13, 13])
})

t.test('the same workbook with the name left blank below instead of merged gives the same records', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, '名单.xlsx')
  await countyWorkbook(file, false)
  const res = await readXlsx(file, { profile, tz: 'Asia/Shanghai' })
  t.same(res.problems, [])
  t.strictSame(byCertno(res.records), EXPECTED)
})

t.test('an ID number Excel stored as a number is refused as having lost its precision', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'numbers.xlsx')
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('Sheet1')
  ws.addRow(['姓名', '身份证号', '人员类别', '认定时间'])
  ws.addRow(['张三', Number(ZHANG), '特困人员', '2026-03-01'])
  ws.addRow(['王五', Number(WANG_15), '特困人员', '2026-03-01'])
  await wb.xlsx.writeFile(file)
  const res = await readListFile(file, { profile })
  t.equal(res.badRows, 1)
  t.equal(res.problems.length, 1)
  t.match(res.problems[0], { row: 2, column: '身份证号', reason: '证件号码被Excel存成数字，已丢失精度，请将该列设为文本' })
  t.same(res.records.map((r) => r.certno), [WANG_18], 'a 15-digit number fits a double exactly and is still read')
})

t.test('every kind of bad row is reported with its Excel row, its column and the reason', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'bad.xlsx')
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('Sheet1')
  const wrongCheck = ZHANG.slice(0, 17) + (ZHANG[17] === '0' ? '1' : '0')
  ws.addRow(['2026年低保名单']) // 1
  ws.addRow(['姓名', '证件号码', '人员类别', '生效时间', '终止时间']) // 2
  ws.addRow(['甲', null, '特困人员', '2026-03-01', null]) // 3 missing ID (no row above to continue)
  ws.addRow(['乙', '4502061958031200', '特困人员', '2026-03-01', null]) // 4 16 characters
  ws.addRow(['丙', '45020619580312001A', '特困人员', '2026-03-01', null]) // 5 letter inside
  ws.addRow(['丁', wrongCheck, '特困人员', '2026-03-01', null]) // 6 wrong check character
  ws.addRow(['戊', id18('45020619581332001'), '特困人员', '2026-03-01', null]) // 7 month 13
  ws.addRow(['己', ZHAO, '优抚对象', '2026-03-01', null]) // 8 unknown category
  ws.addRow(['庚', LI, '特困人员', null, null]) // 9 no start
  ws.addRow(['辛', WANG_18, '特困人员', '2026-13-01', null]) // 10 no such month
  ws.addRow(['壬', id18('45020619900101001'), '低保', '2026-03-01', '2025-12-31']) // 11 ends before it starts
  ws.addRow(['癸', id18('45020619900101002'), '低保', '2026-03-01', null]) // 12 good
  ws.addRow(['子', id18('45020619900101002'), '特困人员', '2026-03-01', null]) // 13 same number, another name
  ws.addRow(['丑', '123', '优抚对象', '下个月', null]) // 14 three problems at once
  await wb.xlsx.writeFile(file)

  const res = await readListFile(file, { profile })
  t.equal(res.rows, 12)
  t.equal(res.goodRows, 1)
  t.equal(res.badRows, 11)
  t.same(res.records.map((r) => r.psn_name), ['癸'])

  t.match(problemAt(res, 3), [{ column: '证件号码', reason: '缺少证件号码' }])
  t.match(problemAt(res, 4), [{ column: '证件号码', value: '4502061958031200', reason: /^长度错误/ }])
  t.match(problemAt(res, 5), [{ column: '证件号码', reason: /^含非法字符/ }])
  t.match(problemAt(res, 6), [{ column: '证件号码', reason: `校验位错误：应为${ZHANG[17]}` }])
  t.match(problemAt(res, 7), [{ column: '证件号码', reason: '出生日期无效' }])
  t.match(problemAt(res, 8), [{ column: '人员类别', value: '优抚对象', reason: /「优抚对象」.*特困人员/ }])
  t.match(problemAt(res, 9), [{ column: '生效时间', reason: '缺少身份生效时间' }])
  t.match(problemAt(res, 10), [{ column: '生效时间', value: '2026-13-01', reason: /^无法识别的时间/ }])
  t.match(problemAt(res, 11), [{ column: '终止时间', value: '2025-12-31', reason: /^身份终止时间早于生效时间/ }])
  t.same(problemAt(res, 12), [])
  t.match(problemAt(res, 13), [{ column: '姓名', value: '子', reason: '证件号码与第12行相同但姓名不同' }])
  t.same(problemAt(res, 14).map((p) => p.column), ['证件号码', '人员类别', '生效时间'], 'all problems of a row are reported')
  t.equal(res.problems.length, 13)
})

t.test('a list without a category column is one error naming the accepted headers', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'nocat.csv')
  writeFileSync(file, '花名册\n序号,姓名,身份证号,认定时间\n1,张三,' + ZHANG + ',2026-03-01\n')
  const res = await readListFile(file, { profile })
  t.same(res.problems, [{ row: 2, column: '人员类别', reason: '未找到人员类别列；可用的列名：人员类别、身份类别、救助身份、人员身份、身份类型' }])
  t.same(res.records, [])
  t.equal(res.rows, 0)
})

t.test('a file with no recognisable header at all is reported at row 0', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'nothing.csv')
  writeFileSync(file, 'a,b,c\n1,2,3\n')
  const res = await readListFile(file, { profile })
  t.same(res.problems.map((p) => [p.row, p.column]), [[0, '证件号码'], [0, '人员类别'], [0, '身份生效时间']])
})

const CSV_TEXT = [
  '柳江区2026年10月农村低收入人口名单,,,,,,',
  ',,,,,,',
  '序号,姓名,身份证号码,人员类别,认定时间,退出时间,家庭住址',
  `1,张三,${ZHANG},特困人员,46082,,"拉堡镇`, // serial as text; the address spans two lines
  '某村1号"',
  `2,,,低保,2025-01-01,2026-12-31,`, // same as above: Excel merge saved as CSV
  '',
  `3,李四,${LI.slice(0, 17)}x,"低保，脱贫人口",2026.03.01,2026年12月31日,`,
  `4,王五,${WANG_15},7131,20260301,长期,`,
  `5,赵六,="${ZHAO}",脱贫户,2026-03-01 12:00,,` // ID number forced to text the ="…" way
].join('\r\n') + '\r\n'

t.test('the same list as GBK CSV and as UTF-8 CSV with BOM reads into the same records', async (t) => {
  const dir = tempDir(t)
  const gbk = join(dir, 'gbk.csv')
  const utf8 = join(dir, 'utf8.csv')
  writeFileSync(gbk, iconv.encode(CSV_TEXT, 'gbk'))
  writeFileSync(utf8, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV_TEXT, 'utf8')]))
  const a = await readListFile(gbk, { profile })
  const b = await readListFile(utf8, { profile })
  t.equal(a.format, 'csv')
  t.same(a.problems, [])
  t.same(b.problems, [])
  t.strictSame(a.records, b.records)
  const expected = { ...EXPECTED }
  expected[ZHANG] = { ...EXPECTED[ZHANG], identities: EXPECTED[ZHANG].identities.map((i) => ({ ...i, source: null })) }
  expected[LI] = { ...EXPECTED[LI], identities: EXPECTED[LI].identities.map((i) => ({ ...i, source: null })) }
  t.strictSame(byCertno(a.records), expected)
  t.equal(a.rows, 5)
})

t.test('CSV problems carry the file line, counting title rows and lines inside quoted fields', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'lines.csv')
  const text = [
    '名单', // 1
    '姓名,身份证号,人员类别,认定时间,备注', // 2
    `张三,${ZHANG},特困人员,2026-03-01,"第一行`, // 3
    '第二行', // 4
    '第三行"', // 5
    `李四,${LI.slice(0, 16)},特困人员,2026-03-01,`, // 6: 17 characters
    `王五,${WANG_18},特困人员,2026-03-01,\n`, // 7, then a blank line 8
    `赵六,4.50206E+17,特困人员,2026-03-01,` // 9: what Excel writes for a number-formatted ID
  ].join('\n')
  writeFileSync(file, text)
  const res = await readListFile(file, { profile })
  t.same(res.problems.map((p) => [p.row, p.column]), [[6, '身份证号'], [9, '身份证号']])
  t.match(res.problems[1], { reason: '证件号码被Excel存成数字，已丢失精度，请将该列设为文本' })
  t.equal(res.goodRows, 2)
})

t.test('a blank ID number under a different name is missing, not "same as above"', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'above.csv')
  writeFileSync(file, `姓名,身份证号,人员类别,认定时间\n张三,${ZHANG},特困人员,2026-03-01\n李四,,低保,2026-03-01\n`)
  const res = await readListFile(file, { profile })
  t.match(res.problems, [{ row: 3, column: '身份证号', reason: '缺少证件号码' }])
  t.equal(res.records.length, 1)
  t.equal(res.records[0].identities.length, 1)
})

t.test('a tab-separated export is read with the tab as delimiter', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'tabs.csv')
  writeFileSync(file, `姓名\t身份证号\t人员类别\t认定时间\n张三\t${ZHANG}\t特困人员, 低保\t2026-03-01\n`)
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.same(res.records[0].identities.map((i) => i.category), ['extreme_poverty', 'minimum_living'])
})

t.test("Excel's Unicode-text export, UTF-16 with tabs, reads like the CSV", async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'unicode.txt')
  writeFileSync(file, iconv.encode(`姓名\t身份证号\t人员类别\t认定时间\r\n张三\t${ZHANG}\t特困人员\t2026-03-01\r\n上官\t${ZHAO}\t低保\t2026-03-01\r\n`, 'utf16le', { addBOM: true }))
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.same(res.records.map((r) => [r.psn_name, r.certno]), [['张三', ZHANG], ['上官', ZHAO]])
})

t.test('progress is reported about every thousand rows with the line count as total', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'many.csv')
  const lines = ['姓名,身份证号,人员类别,认定时间']
  for (let i = 0; i < 2500; i++) lines.push(`人${i},${synthId(i)},特困人员,2026-03-01`)
  writeFileSync(file, lines.join('\n') + '\n')
  const calls: Array<[number, number | undefined]> = []
  const res = await readListFile(file, { profile, onProgress: (d, n) => calls.push([d, n]) })
  t.equal(res.records.length, 2500)
  t.ok(calls.length >= 3 && calls.length <= 5, `${calls.length} calls`)
  t.ok(calls.every(([, n]) => n === 2501))
  t.same(calls.at(-1), [2501, 2501])
})

// Speed lives in the benchmarks, not here: this checks that a county-sized file reads whole.
t.test('a 200,000-row CSV reads whole, every row counted and merged', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'big.csv')
  const parts = ['序号,姓名,身份证号,人员类别,认定时间,退出时间,家庭住址\n']
  for (let i = 0; i < 200_000; i++) {
    parts.push(`${i + 1},人员${i},${synthId(i)},${i % 3 === 0 ? '低保、脱贫人口' : '特困人员'},2026-03-01,2026-12-31,某村${i}号\n`)
  }
  writeFileSync(file, parts.join(''))
  const res = await readListFile(file, { profile })
  t.equal(res.rows, 200_000)
  t.equal(res.badRows, 0)
  t.equal(res.records.length, 200_000)
  t.equal(res.records[0].identities.length, 2, 'a two-category cell gives two identities')
})

t.test('files that are not lists are refused with a message saying what to do', async (t) => {
  const dir = tempDir(t)
  const xls = join(dir, 'old.xls')
  writeFileSync(xls, Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]))
  const err = await readListFile(xls, { profile }).catch((e: unknown) => e)
  t.ok(err instanceof ListFileError)
  t.match(err, { message: /另存为/ })
  const html = join(dir, 'export.xls')
  writeFileSync(html, '<html><table><tr><td>姓名</td></tr></table></html>')
  await t.rejects(readListFile(html, { profile }), { message: /网页/ })
})
