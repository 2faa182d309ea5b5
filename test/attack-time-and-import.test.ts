// Attacks on time parsing, ID-number dates and the import report. Tests marked BUG fail against
// the current code on purpose.
import t from 'tap'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseLocalTime } from '../base/local-time.ts'
import { normaliseCertno, checkCharacter } from '../identity/certno.ts'
import { openStore } from '../agent/store/store.ts'
import { fangpin, tempDir, syntheticCertno } from './helper.ts'

t.test('a time with an offset on a day that does not exist is refused, not moved to another day', async (t) => {
  // BUG (rules/local-time.ts parseLocalTime): the offset form goes straight to new Date(), and V8
  // rolls impossible dates over: 2026-02-30T00:00:00+08:00 becomes 2026-03-02 00:00:00,
  // 2026-02-29 (not a leap year) becomes 03-01, 04-31 becomes 05-01. The plain forms are checked
  // with validParts; the offset form must be too (check the Y-M-D h:m:s written in the text).
  for (const text of ['2026-02-30T00:00:00+08:00', '2026-02-29T00:00:00Z', '2026-04-31T12:00+08:00', '2026-11-20T24:00:00+08:00', '2026-13-01T00:00:00Z']) {
    t.equal(parseLocalTime(text, { tz: 'Asia/Shanghai' }), null, text)
  }
  // Real instants with an offset still convert to local wall-clock time.
  t.equal(parseLocalTime('2028-02-29T16:00:00Z', { tz: 'Asia/Shanghai' }), '2028-03-01 00:00:00')
  t.equal(parseLocalTime('2026-03-01T00:00:00+08:00', { tz: 'Asia/Shanghai' }), '2026-03-01 00:00:00')
})

t.test('an ndjson registry file with an impossible identity date is rejected with a row report', async (t) => {
  // BUG: the same rollover through `fangpin import`: the record loads with its window shifted.
  const dir = tempDir(t)
  const file = join(dir, 'list.ndjson')
  writeFileSync(file, JSON.stringify({ op: 'upsert', certno: syntheticCertno(3), psn_name: '张三', identities: [{ category: '特困人员', begntime: '2026-02-30T00:00:00+08:00' }] }) + '\n')
  const run = await fangpin(['import', file], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(run.code, 2, 'the import is refused', { stdout: run.stdout, stderr: run.stderr })
  t.match(run.stderr, /第1行/)
  const store = openStore(join(dir, 'data'))
  t.teardown(() => store.close())
  t.equal(store.list.state().active_gen, null, 'nothing was loaded')
})

t.test('a resident ID born today in the hospital\'s time zone is valid before 08:00 Beijing time', async (t) => {
  // BUG (identity/certno.ts normaliseCertno): "born in the future" compares the birth date with
  // today's date in UTC. From 00:00 to 08:00 Beijing time, an ID number with today's (local) birth
  // date is refused as bad_date. Compare with the date in FANGPIN_TZ.
  const first17 = '45020620261124' + '001'
  const id = first17 + checkCharacter(first17)
  const at0430Beijing = new Date('2026-11-23T20:30:00Z') // 2026-11-24 04:30 in Asia/Shanghai
  const r = normaliseCertno(id, at0430Beijing)
  t.equal(r.ok, true, 'born today (local) is not born in the future', { result: r })
  const tomorrow = '45020620261125' + '001'
  t.equal(normaliseCertno(tomorrow + checkCharacter(tomorrow), at0430Beijing).ok, false, 'born tomorrow is refused')
})

t.test('the import report never carries a full name, even from a line that is not JSON', async (t) => {
  // BUG (lists/read-ndjson.ts): a line that is not JSON is reported with V8's message, and
  // V8 quotes the text around the error: `Unexpected token '张', ..."psn_name":张三丰}" is not
  // valid JSON`. ID numbers in it are masked (scrub), names are not: the full name goes to the
  // terminal and to the CSV report beside the file. Report only the position, not the message.
  const dir = tempDir(t)
  const file = join(dir, 'list.ndjson')
  const good = JSON.stringify({ op: 'upsert', certno: syntheticCertno(4), psn_name: '李四', identities: [{ category: '低保', begntime: '2020-01-01' }] })
  writeFileSync(file, good + '\n' + `{"op":"upsert","certno":"${syntheticCertno(5)}","psn_name":欧阳震华}` + '\n')
  const run = await fangpin(['import', file], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(run.code, 2)
  t.match(run.stderr, /第2行/)
  t.notMatch(run.stdout + run.stderr, '欧阳震华', 'not on the terminal')
  t.notMatch(run.stdout + run.stderr, syntheticCertno(5), 'no plain ID number on the terminal')
  const reports = readdirSync(dir).filter((f) => f.includes('.errors-'))
  t.equal(reports.length, 1)
  const report = readFileSync(join(dir, reports[0]), 'utf8')
  t.notMatch(report, '欧阳震华', 'not in the CSV report')
  t.notMatch(report, syntheticCertno(5), 'no plain ID number in the CSV report')
})

t.test('the CLI never prints a plain ID number or full name for a good import or for status', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'list.csv')
  const a = syntheticCertno(20)
  const bad = syntheticCertno(21).slice(0, 17) + (syntheticCertno(21).endsWith('0') ? '1' : '0')
  writeFileSync(file, `姓名,身份证号,人员类别,认定时间\n王小明,${a},特困人员,2021-01-01\n赵大海,${bad},低保,2020-01-01\n`)
  const env = { FANGPIN_DATA_DIR: join(dir, 'data') }
  const partial = await fangpin(['import', file, '--allow-partial'], env)
  t.equal(partial.code, 0, partial.stderr)
  const status = await fangpin(['status'], env)
  const out = partial.stdout + partial.stderr + status.stdout + status.stderr
  for (const secret of [a, bad, '王小明', '赵大海']) t.notMatch(out, secret)
  const reports = readdirSync(dir).filter((f) => f.includes('.errors-'))
  const report = readFileSync(join(dir, reports[0]), 'utf8')
  for (const secret of [a, bad, '赵大海']) t.notMatch(report, secret)
  const store = openStore(join(dir, 'data'))
  t.teardown(() => store.close())
  const dump = JSON.stringify(store.db.prepare('SELECT * FROM list_identity').all()) + JSON.stringify(store.db.prepare('SELECT * FROM audit').all())
  for (const secret of [a, bad, '王小明', '赵大海']) t.notMatch(dump, secret)
})
