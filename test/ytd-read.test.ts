// The registry's year-to-date figures on the list (年度累计个人负担 / 年度累计医疗费用 / 年度累计自费 /
// 统计截至; ytd_* in registry records): read exactly, refused without their 统计截至, the same for every
// row of a person, and published on by the county's publisher unchanged.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadProfile } from '../profile/profile.ts'
import { readListFile } from '../lists/read-list.ts'
import { checkRegistryRecord } from '../lists/read-ndjson.ts'
import { certno, tempDir } from './helper.ts'

const profile = loadProfile('guangxi-liuzhou')
const A = certno('45020619580312001')
const B = certno('45020619720101018')

t.test('a list\'s year columns become the person\'s figures, in fen, as of the end of the 统计截至 day', async (t) => {
  const file = join(tempDir(t), 'list.csv')
  writeFileSync(file, [
    '姓名,身份证号,人员类别,认定时间,年度累计个人负担,年度累计医疗费用,年度累计自费,统计截至',
    `张三,${A},脱贫人口,2021-01-01,"3,000.50",12000,1200.5,2026-10-31`,
    `张三,${A},低保对象,2022-01-01,"3,000.50",12000,1200.5,2026-10-31`,
    `李四,${B},脱贫人口,2021-01-01,,,,`
  ].join('\n'))
  const r = await readListFile(file, { profile })
  t.same(r.problems, [])
  const a = r.records.find((x) => x.certno === A)!
  t.same(a.ytd, { psn_part_fen: 300_050, medfee_fen: 1_200_000, fulamt_fen: 120_050, as_of: '2026-10-31 23:59:59' })
  t.equal(r.records.find((x) => x.certno === B)!.ytd, undefined, 'blank columns: no figure, not zero')
})

t.test('a figure without its 统计截至, a bad amount, or two rows of one person that disagree are refused with the row', async (t) => {
  const file = join(tempDir(t), 'list.csv')
  writeFileSync(file, [
    '姓名,身份证号,人员类别,认定时间,年度累计个人负担,统计截至',
    `张三,${A},脱贫人口,2021-01-01,3000,`,
    `李四,${B},脱贫人口,2021-01-01,3000.123,2026-10-31`,
    `李四,${B},低保对象,2022-01-01,2000,2026-10-31`
  ].join('\n'))
  const r = await readListFile(file, { profile })
  const reasons = r.problems.map((p) => `${p.row}:${p.reason}`)
  t.ok(reasons.some((x) => x.startsWith('2:有年度累计金额但缺少统计截至日期')), reasons.join('\n'))
  t.ok(reasons.some((x) => x.startsWith('3:金额应为不小于0的数字')))
  t.same(r.problems.map((p) => p.row), [2, 3], 'the good row of the same person stands on its own')
})

t.test('two rows of one person with different figures are a problem on the second', async (t) => {
  const file = join(tempDir(t), 'list.csv')
  writeFileSync(file, [
    '姓名,身份证号,人员类别,认定时间,年度累计个人负担,统计截至',
    `张三,${A},脱贫人口,2021-01-01,3000,2026-10-31`,
    `张三,${A},低保对象,2022-01-01,2000,2026-10-31`
  ].join('\n'))
  const r = await readListFile(file, { profile })
  t.same(r.problems.map((p) => [p.row, p.reason]), [[3, '同一人的年度累计数据与第2行不同']])
})

t.test('a registry record carries ytd_* in yuan; one without ytd_as_of is refused', async (t) => {
  const base = { op: 'upsert', certno: A, psn_cert_type: '01', psn_name: '张三', identities: [{ category: '脱贫人口', begntime: '2021-01-01 00:00:00' }] }
  const ok = checkRegistryRecord({ ...base, ytd_psn_part_amt: '3000.50', ytd_medfee_sumamt: 12000, ytd_as_of: '2026-10-31' }, 1, { profile })
  t.same(ok.problems, [])
  t.same(ok.record?.ytd, { psn_part_fen: 300_050, medfee_fen: 1_200_000, fulamt_fen: null, as_of: '2026-10-31 23:59:59' })
  const bad = checkRegistryRecord({ ...base, ytd_psn_part_amt: '3000.50' }, 7, { profile })
  t.equal(bad.record, undefined)
  t.same(bad.problems.map((p) => [p.row, p.column]), [[7, 'ytd_as_of']])
})
