import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { checkCharacter } from '../identity/certno.ts'
import { loadProfile } from '../profile/profile.ts'
import { findHeader, normaliseHeader, recogniseHeader } from '../lists/columns.ts'
import { normaliseCertType, normaliseName, resolveCategories } from '../lists/list-record.ts'
import { readListFile } from '../lists/read-list.ts'
import { cellTime, serialToLocal, toCell } from '../lists/read-table.ts'

const profile = loadProfile('guangxi-liuzhou')
const id18 = (first17: string): string => first17 + checkCharacter(first17)

t.test('Excel serial dates follow the 1900 system including its phantom 29 February', async (t) => {
  t.same(serialToLocal(1), { text: '1900-01-01 00:00:00', hasTime: false })
  t.same(serialToLocal(59), { text: '1900-02-28 00:00:00', hasTime: false })
  t.equal(serialToLocal(60), null, 'serial 60 is 1900-02-29, a day that never existed')
  t.same(serialToLocal(61), { text: '1900-03-01 00:00:00', hasTime: false })
  t.same(serialToLocal(45658), { text: '2025-01-01 00:00:00', hasTime: false })
  t.same(serialToLocal(46082.75), { text: '2026-03-01 18:00:00', hasTime: true })
  t.same(serialToLocal(0, true), { text: '1904-01-01 00:00:00', hasTime: false }, '1904 system counts from 1904-01-01')
  t.equal(serialToLocal(0), null)
})

t.test('time cells are read from serials, Dates, compact numbers and text, whole days ending at 23:59:59', async (t) => {
  const start = { end: false }
  const end = { end: true }
  t.same(cellTime(46082, start), { ok: true, value: '2026-03-01 00:00:00' })
  t.same(cellTime(46082, end), { ok: true, value: '2026-03-01 23:59:59' })
  t.same(cellTime('46082', end), { ok: true, value: '2026-03-01 23:59:59' }, 'a serial saved as text')
  t.same(cellTime(20260301, start), { ok: true, value: '2026-03-01 00:00:00' }, '20260301 typed into a General cell')
  t.same(cellTime(new Date(Date.UTC(2026, 2, 1)), end), { ok: true, value: '2026-03-01 23:59:59' }, 'exceljs date cells are UTC midnight of the shown date')
  t.same(cellTime(new Date(Date.UTC(2026, 2, 1, 8, 30)), end), { ok: true, value: '2026-03-01 08:30:00' })
  for (const text of ['2026-03-01', '2026/3/1', '2026.03.01', '20260301', '2026年3月1日', '２０２６－０３－０１']) {
    t.same(cellTime(text, start), { ok: true, value: '2026-03-01 00:00:00' }, text)
  }
  t.same(cellTime('2026-03-01 08:00', start), { ok: true, value: '2026-03-01 08:00:00' })
  t.same(cellTime(null, start), { ok: true, value: null })
  t.match(cellTime('2026', start), { ok: false, reason: /时间不合理/ }, 'a year alone is serial 2026, in 1905')
  t.match(cellTime('2026-02-30', start), { ok: false, reason: /无法识别的时间/ })
  t.match(cellTime(60, start), { ok: false })
})

t.test('exceljs values reduce to text: rich text, formula results, hyperlinks, errors', async (t) => {
  t.equal(toCell({ richText: [{ text: '张' }, { text: '三' }] }), '张三')
  t.equal(toCell({ formula: 'A1', result: '低保' }), '低保')
  t.equal(toCell({ sharedFormula: 'A1', result: 46082 }), 46082)
  t.equal(toCell({ formula: 'A1' }), null, 'a formula never calculated has no value')
  t.equal(toCell({ text: '民政局', hyperlink: 'http://mz.example' }), '民政局')
  t.equal(toCell({ error: '#N/A' }), '#N/A')
})

t.test('headers are recognised through blanks, required-markers and bracketed notes, and only exactly', async (t) => {
  t.equal(normaliseHeader(' 身份证号码（必填） '), '身份证号码')
  t.equal(recogniseHeader('*姓　名'), 'psn_name')
  t.equal(recogniseHeader('认定时间(年月日)'), 'begntime')
  t.equal(recogniseHeader('证件号码\n【18位】'), 'certno')
  t.equal(recogniseHeader('户主姓名'), undefined, "the household head's name is not the person's")
  t.equal(recogniseHeader('户主身份证号'), undefined)
})

t.test('a two-level header takes the field names from the second row', async (t) => {
  const found = findHeader([
    ['花名册'],
    ['序号', '姓名', '身份证号', '身份信息', '', ''],
    ['', '', '', '人员类别', '认定时间', '退出时间']
  ])
  t.match(found.header, { at: 1, span: 2 })
  t.same(Object.fromEntries(Object.entries(found.header?.map ?? {}).map(([f, r]) => [f, r.index])), { psn_name: 1, certno: 2, category: 3, begntime: 4, endtime: 5 })
})

t.test('certificate types, names and category cells are normalised the way counties write them', async (t) => {
  t.equal(normaliseCertType('居民身份证'), '01')
  t.equal(normaliseCertType('1'), '01', 'Excel dropped the leading zero')
  t.equal(normaliseCertType(''), '01')
  t.equal(normaliseCertType('001'), '01', 'extra leading zeros')
  t.equal(normaliseCertType('外国人护照'), '08', 'the official name of another type')
  t.equal(normaliseCertType('护照'), '护照', 'not a code (08 or 16?): left for the reader to report')
  t.equal(normaliseName('张　三 '), '张三')
  t.equal(normaliseName(' John  Smith '), 'John Smith')
  t.equal(normaliseName('  '), null)
  t.same(resolveCategories(profile, '低保；脱贫人口 / 特困').found.map((c) => c.id), ['minimum_living', 'out_of_poverty', 'extreme_poverty'])
  t.same(resolveCategories(profile, '低保、低保户').found.map((c) => c.id), ['minimum_living'], 'two names of one category give one identity')
  t.same(resolveCategories(profile, '防止返贫监测对象-脱贫不稳定户').found.map((c) => c.id), ['unstable_out_of_poverty'])
})

t.test('a workbook with rich text, formulas, a two-level merged header and a passport row reads correctly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fangpin-cells-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'cells.xlsx')
  const A = id18('45020619580312001')
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('名单')
  ws.addRow(['序号', '姓名', '证件类型', '证件号码', '身份信息', null, null])
  ws.addRow([null, null, null, null, '人员类别', '认定时间', '退出时间'])
  for (const c of ['A', 'B', 'C', 'D']) ws.mergeCells(`${c}1:${c}2`)
  ws.mergeCells('E1:G1')
  ws.addRow([1, { richText: [{ text: '张' }, { font: { bold: true }, text: '三' }] }, '居民身份证', A, { formula: '"特困"&"人员"', result: '特困人员' }, { formula: 'DATE(2026,3,1)', result: 46082 }, '至今'])
  ws.addRow([2, 'JOHN SMITH', '外国人护照', ' e1234567 ', '低保', '2026-03-01', null])
  await wb.xlsx.writeFile(file)
  const res = await readListFile(file, { profile })
  t.same(res.problems, [])
  t.strictSame(res.records, [
    { op: 'upsert', certno: A, psn_cert_type: '01', psn_name: '张三', identities: [{ category: 'extreme_poverty', begntime: '2026-03-01 00:00:00', endtime: null, source: null }] },
    { op: 'upsert', certno: 'E1234567', psn_cert_type: '08', psn_name: 'JOHN SMITH', identities: [{ category: 'minimum_living', begntime: '2026-03-01 00:00:00', endtime: null, source: null }] }
  ])
})
