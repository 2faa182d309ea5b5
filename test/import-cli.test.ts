// `fangpin import` as an operator runs it: all or nothing by default, --allow-partial with a
// report beside the file, the county's real formats (xlsx with title rows, GBK csv).
import t from 'tap'
import { writeFileSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import iconv from 'iconv-lite'
import { certno, tempDir, fangpin } from './helper.ts'
import { openStore } from '../agent/store/store.ts'

const ZHANG = certno('45020619580312001')
const LI = certno('45020619700101004')
const WANG = certno('45020619900808008')
const BAD = ZHANG.slice(0, 17) + (ZHANG[17] === '1' ? '2' : '1')

function categoryOf (dataDir: string, who: string): string[] {
  const store = openStore(dataDir)
  try {
    return store.list.lookup(store.list.keyOf('01', who)).person?.identities.map((i) => i.category) ?? []
  } finally {
    store.close()
  }
}

t.test('an xlsx with title rows above the header loads every person with all their identities', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, '柳江区名单.xlsx')
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('名单')
  ws.addRow(['柳江区2026年11月农村低收入人口名单'])
  ws.mergeCells('A1:F1')
  ws.addRow(['填报单位：民政局'])
  ws.addRow(['序号', '姓名', '证件号码', '救助身份', '认定时间', '退出时间'])
  ws.addRow([1, '张三', ZHANG, '特困人员、脱贫人口', new Date(Date.UTC(2021, 0, 1)), null])
  ws.addRow([2, '李四', LI, '7201', 45292, '2026-12-31'])
  await wb.xlsx.writeFile(file)
  const out = await fangpin(['import', file], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(out.code, 0, out.stderr)
  t.match(out.stdout, /loaded 2 people with 3 identities from 2 rows \(xlsx\)/)
  t.same(categoryOf(join(dir, 'data'), ZHANG).sort(), ['extreme_poverty', 'out_of_poverty'])
  t.same(categoryOf(join(dir, 'data'), LI), ['near_minimum_living'])
})

t.test('a GBK csv from a county system loads like a UTF-8 one', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'county-gbk.csv')
  writeFileSync(file, iconv.encode(`姓名,身份证号,人员类别,开始时间,结束时间,来源\r\n张三,${ZHANG},低保对象,2020-01-01,,民政\r\n王五,${WANG},边缘易致贫户,2023/7/1,,乡村振兴\r\n`, 'gbk'))
  const out = await fangpin(['import', file], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(out.code, 0, out.stderr)
  t.same(categoryOf(join(dir, 'data'), WANG), ['marginal_at_risk'])
  t.same(categoryOf(join(dir, 'data'), ZHANG), ['minimum_living'])
})

t.test('one bad row stops the whole load, prints the row and reason with the number masked, and keeps the old list', async (t) => {
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const good = join(dir, 'good.csv')
  writeFileSync(good, `姓名,身份证号码,人员类别,身份生效时间\n张三,${ZHANG},特困人员,2020-01-01\n`)
  t.equal((await fangpin(['import', good], { FANGPIN_DATA_DIR: dataDir })).code, 0)
  const file = join(dir, 'bad.csv')
  writeFileSync(file, `姓名,身份证号码,人员类别,身份生效时间\n李四,${LI},低保对象,2020-01-01\n王五,${BAD},低保对象,2020-01-01\n赵六,${WANG},火星人,2020-01-01\n`)
  const out = await fangpin(['import', file], { FANGPIN_DATA_DIR: dataDir })
  t.equal(out.code, 2)
  t.match(out.stderr, /第3行/)
  t.match(out.stderr, /校验位/)
  t.match(out.stderr, /第4行/)
  t.match(out.stderr, /火星人/)
  t.match(out.stderr, /nothing was loaded/)
  t.notOk(out.stderr.includes(BAD), 'the bad ID number is masked in the report')
  t.same(categoryOf(dataDir, ZHANG), ['extreme_poverty'], 'the old list still serves')
  t.same(categoryOf(dataDir, LI), [], 'no good row of the rejected file was loaded')
  const report = readdirSync(dir).find((f) => f.startsWith('bad.csv.errors-'))
  t.ok(report, 'a report was written beside the file')
  const csv = readFileSync(join(dir, report!), 'utf8')
  t.match(csv, /^\uFEFF行号,列,值,原因/)
  t.notOk(csv.includes(BAD))
})

t.test('--allow-partial loads the good rows and writes the report of the bad ones beside the file', async (t) => {
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const file = join(dir, 'partial.csv')
  writeFileSync(file, `姓名,身份证号码,人员类别,身份生效时间\n李四,${LI},低保对象,2020-01-01\n王五,${BAD},低保对象,2020-01-01\n张三,${ZHANG},脱贫人口,2016-12-31\n`)
  const out = await fangpin(['import', file, '--allow-partial'], { FANGPIN_DATA_DIR: dataDir })
  t.equal(out.code, 0, out.stderr)
  t.match(out.stdout, /1 bad rows skipped/)
  t.match(out.stdout, /loaded 2 people/)
  t.same(categoryOf(dataDir, LI), ['minimum_living'])
  t.same(categoryOf(dataDir, ZHANG), ['out_of_poverty'])
  const report = readdirSync(dir).find((f) => f.startsWith('partial.csv.errors-'))
  t.ok(report)
  t.match(readFileSync(join(dir, report!), 'utf8'), /3,身份证号码,450206\*{8}\d{3}[0-9X],校验位错误/)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  const audit = store.audit.recent(5, 'list.import')
  t.equal(audit[0].decision, 'partial')
})

t.test('import refuses a missing file and a file with no usable header', async (t) => {
  const dir = tempDir(t)
  const missing = await fangpin(['import', join(dir, 'nope.csv')], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(missing.code, 64)
  t.match(missing.stderr, /no such file/)
  const file = join(dir, 'noheader.csv')
  writeFileSync(file, '甲,乙,丙\n1,2,3\n')
  const out = await fangpin(['import', file], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(out.code, 2)
  t.match(out.stderr, /证件号码/)
})
