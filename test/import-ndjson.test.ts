import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { checkCharacter } from '../identity/certno.ts'
import { loadProfile } from '../profile/profile.ts'
import { readListFile, ListFileError } from '../lists/read-list.ts'
import { REGISTRY_RECORD_SCHEMA_FILE } from '../lists/read-ndjson.ts'

// The shipped Liuzhou profile: the category names and codes its counties' lists use.
const profile = loadProfile('guangxi-liuzhou')

const id18 = (first17: string): string => first17 + checkCharacter(first17)
const A = id18('45020619580312001')
const B = id18('45020619720101018')
const C = id18('45020619850615007')

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fangpin-ndjson-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const GOOD = [
  { op: 'upsert', certno: A, psn_name: '张三', identities: [{ category: 'extreme_poverty', begntime: '2026-03-01 00:00:00', endtime: null, source: '民政局' }], ytd_oop: 123456 },
  { op: 'upsert', certno: B.slice(0, 17) + 'x', psn_cert_type: '01', identities: [{ category: '低保', begntime: '2026-03-01', endtime: '2026-12-31' }, { category: '7131', begntime: '2026-02-28T16:00:00Z' }] },
  { op: 'delete', certno: C }
]
const lines = (objs: unknown[]): string => objs.map((o) => JSON.stringify(o)).join('\n') + '\n'

const EXPECTED = [
  { op: 'upsert', certno: A, psn_cert_type: '01', psn_name: '张三', identities: [{ category: 'extreme_poverty', begntime: '2026-03-01 00:00:00', endtime: null, source: '民政局' }], ytd_oop: 123456 },
  {
    op: 'upsert',
    certno: B,
    psn_cert_type: '01',
    psn_name: null,
    identities: [
      { category: 'minimum_living', begntime: '2026-03-01 00:00:00', endtime: '2026-12-31 23:59:59', source: null },
      { category: 'extreme_poverty', begntime: '2026-03-01 00:00:00', endtime: null, source: null }
    ]
  },
  { op: 'delete', certno: C, psn_cert_type: '01', psn_name: null, identities: [] }
]

t.test('a registry snapshot reads into records with categories resolved and times made local', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'snapshot.ndjson')
  writeFileSync(file, lines(GOOD))
  const res = await readListFile(file, { profile })
  t.equal(res.format, 'ndjson')
  t.same(res.problems, [])
  t.strictSame(res.records, EXPECTED)
  t.equal(res.rows, 3)
  t.equal(res.goodRows, 3)
})

t.test('a gzipped snapshot reads the same as the plain one', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'snapshot.ndjson.gz')
  writeFileSync(file, gzipSync(lines(GOOD)))
  const res = await readListFile(file, { profile })
  t.equal(res.format, 'ndjson')
  t.strictSame(res.records, EXPECTED)
})

t.test('a truncated gzip file is an error, not a shorter list', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'cut.ndjson.gz')
  const big = lines(Array.from({ length: 2000 }, () => GOOD[0]))
  const gz = gzipSync(big)
  writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)))
  const err = await readListFile(file, { profile }).catch((e: unknown) => e)
  t.ok(err instanceof ListFileError)
  t.match(err, { message: /压缩文件可能不完整/ })
})

t.test('lines failing the schema are reported with their line number and field', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'bad.ndjson')
  const text = [
    JSON.stringify(GOOD[0]), // 1
    '', // 2 blank: skipped
    '{"op":"upsert","certno":', // 3 not JSON
    JSON.stringify({ op: 'upsert', certno: B }), // 4 no identities
    JSON.stringify({ op: 'replace', certno: C, identities: [] }), // 5 unknown op
    JSON.stringify({ op: 'upsert', certno: C, identities: [{ category: '低保', begntime: '2026/03/01' }], extra: 1 }), // 6 bad time, extra field
    JSON.stringify({ op: 'upsert', certno: C, identities: [{ category: '优抚对象', begntime: '2026-03-01' }], ytd_oop: -5 }), // 7 negative
    JSON.stringify({ op: 'upsert', certno: C, identities: [{ category: '优抚对象', begntime: '2026-02-30' }] }), // 8 unknown category, no such day
    JSON.stringify({ op: 'upsert', certno: A.slice(0, 17) + (A[17] === '1' ? '2' : '1'), identities: [{ category: '低保', begntime: '2026-03-01' }] }) // 9 check digit
  ].join('\n')
  writeFileSync(file, text)
  const res = await readListFile(file, { profile })
  const at = (row: number): Array<{ column: string, reason: string }> => res.problems.filter((p) => p.row === row).map(({ column, reason }) => ({ column, reason }))
  t.equal(res.rows, 8)
  t.equal(res.goodRows, 1)
  t.equal(res.badRows, 7)
  t.same(at(2), [])
  t.match(at(3), [{ column: '整行', reason: /^不是有效的JSON/ }])
  t.same(at(4), [{ column: 'identities', reason: '缺少字段identities：upsert记录至少需要一个身份' }])
  t.match(at(5), [{ column: 'op', reason: '取值应为：upsert、delete' }])
  t.same(at(6).map((p) => p.column).sort(), ['extra', 'identities[0].begntime'])
  t.match(at(6).find((p) => p.column === 'identities[0].begntime'), { reason: /^时间格式错误/ })
  t.same(at(7), [{ column: 'ytd_oop', reason: '不能为负数' }])
  t.match(at(8), [{ column: 'identities[0].category', reason: /「优抚对象」/ }, { column: 'identities[0].begntime', reason: /时间无效/ }])
  t.match(at(9), [{ column: 'certno', reason: `校验位错误：应为${A[17]}` }])
})

t.test('a certno repeated in a snapshot is a problem on the later line and keeps the first record', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'dup.ndjson')
  writeFileSync(file, lines([GOOD[0], GOOD[2], { ...GOOD[0], psn_name: '李四' }]))
  const res = await readListFile(file, { profile })
  t.same(res.problems.map((p) => [p.row, p.column, p.reason]), [[3, 'certno', '证件号码与第1行重复：每人只能有一条记录']])
  t.equal(res.records.length, 2)
  t.equal(res.records[0].psn_name, '张三')
  t.equal(res.badRows, 1)
})

t.test('the registry record schema describes every field it defines', async (t) => {
  const schema = JSON.parse(readFileSync(REGISTRY_RECORD_SCHEMA_FILE, 'utf8'))
  t.equal(schema.$id, 'registry-record')
  t.equal(schema.additionalProperties, false)
  const undescribed: string[] = []
  const walk = (props: Record<string, { description?: string }>, where: string): void => {
    for (const [k, v] of Object.entries(props)) if (typeof v.description !== 'string') undescribed.push(where + k)
  }
  walk(schema.properties, '')
  walk(schema.$defs.identity.properties, 'identity.')
  t.same(undescribed, [])
})
