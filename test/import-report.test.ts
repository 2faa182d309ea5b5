import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { checkCharacter } from '../identity/certno.ts'
import { loadProfile } from '../profile/profile.ts'
import { readListFile } from '../lists/read-list.ts'
import { formatProblems, maskCertno, problemsToCsv } from '../lists/row-report.ts'
import type { RowProblem } from '../lists/list-record.ts'

const GOOD = '45020619580312001' + checkCharacter('45020619580312001')
const BAD_CHECK = GOOD.slice(0, 17) + (GOOD[17] === '9' ? '8' : '9')

const problems: RowProblem[] = [
  { row: 12, column: '身份证号码（必填）', value: BAD_CHECK, reason: `校验位错误：应为${GOOD[17]}` },
  { row: 13, column: '姓名', value: '欧阳小三', reason: '证件号码与第12行相同但姓名不同' },
  { row: 14, column: '人员类别', value: '优抚对象', reason: '无法识别的人员类别「优抚对象」' },
  { row: 3, column: '整行', value: `{"certno":"${GOOD}",`, reason: '不是有效的JSON' },
  { row: 0, column: '人员类别', reason: '未找到人员类别列' }
]

t.test('an ID number is masked to its first six and last four characters', async (t) => {
  t.equal(maskCertno(GOOD), GOOD.slice(0, 6) + '********' + GOOD.slice(-4))
})

t.test('the text report names row, column and reason and never shows a whole ID number or name', async (t) => {
  const lines = formatProblems(problems, 10)
  t.equal(lines[0], `第12行 身份证号码（必填）: 校验位错误：应为${GOOD[17]}（值：450206********${BAD_CHECK.slice(-4)}）`)
  t.equal(lines[1], '第13行 姓名: 证件号码与第12行相同但姓名不同（值：欧**三）')
  t.equal(lines[2], '第14行 人员类别: 无法识别的人员类别「优抚对象」（值：优抚对象）')
  t.equal(lines[3], `第3行 整行: 不是有效的JSON（值：{"certno":"450206********${GOOD.slice(-4)}",）`, 'an ID number inside any value is masked too')
  t.equal(lines[4], '文件 人员类别: 未找到人员类别列')
  const all = lines.join('\n')
  t.notOk(all.includes(GOOD) || all.includes(BAD_CHECK), 'no full ID number anywhere')
})

t.test('the text report stops at the limit and says how many problems were left out', async (t) => {
  const lines = formatProblems(problems, 2)
  t.equal(lines.length, 3)
  t.equal(lines[2], '……另有3个问题未列出，完整清单请导出CSV')
})

t.test('the CSV report opens in Excel: BOM, header row, masked values, quoted fields', async (t) => {
  const csv = problemsToCsv([...problems, { row: 20, column: '备注', value: '=HYPERLINK("http://x")', reason: '含逗号,和"引号"' }])
  t.ok(csv.startsWith('\uFEFF行号,列,值,原因\r\n'))
  t.notOk(csv.includes(GOOD) || csv.includes(BAD_CHECK))
  const rows = parse(csv.slice(1), { relax_column_count: false }) as string[][]
  t.same(rows[0], ['行号', '列', '值', '原因'])
  t.same(rows[1], ['12', '身份证号码（必填）', `450206********${BAD_CHECK.slice(-4)}`, `校验位错误：应为${GOOD[17]}`])
  t.same(rows[5], ['0', '人员类别', '', '未找到人员类别列'])
  t.same(rows[6], ['20', '备注', '\'=HYPERLINK("http://x")', '含逗号,和"引号"'], 'a formula from a county file is defused')
})

t.test('the report of a real read masks the ID numbers of bad rows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fangpin-report-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'list.csv')
  writeFileSync(file, `姓名,身份证号,人员类别,认定时间\n张三,${BAD_CHECK},特困人员,2026-03-01\n`)
  const res = await readListFile(file, { profile: loadProfile('guangxi-liuzhou') })
  t.equal(res.problems[0].value, BAD_CHECK, 'the problem itself keeps the value for the caller')
  t.same(formatProblems(res.problems, 5), [`第2行 身份证号: 校验位错误：应为${GOOD[17]}（值：450206********${BAD_CHECK.slice(-4)}）`])
})
