// A list load replaces the list atomically: readers see the old list or the new one, never a mix,
// never an empty one — in this process, from a `fangpin import` beside the server, and across a kill -9.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { build, certno, person, syntheticCertno, tempDir, fangpin, killMidLoad, ROOT } from './helper.ts'
import { openStore } from '../agent/store/store.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const A = certno('45020619580312001')
const B = certno('45020619700101004')

function bigList (n: number, categoryOfA: string): LoadRecord[] {
  const out: LoadRecord[] = [person(A, '张三', [[categoryOfA, '2020-01-01 00:00:00', null]])]
  for (let i = 0; i < n; i++) out.push(person(syntheticCertno(i + 10), '某某', [['out_of_poverty', '2016-01-01 00:00:00', null]]))
  return out
}

t.test('lookups during an in-process load see the old list or the new one, never a mix', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  const oldVersion = b.store.list.state().version
  const next = [...bigList(30_000, 'extreme_poverty'), person(B, '李四', [['orphan', '2020-01-01 00:00:00', null]])]
  let loading = true
  const load = b.store.list.replace(next, { source: 'import', label: 'next', version: 'v-next' }).finally(() => { loading = false })
  const seen = { old: 0, new: 0 }
  let mixed = 0
  while (loading) {
    const [ra, rb] = await Promise.all([
      b.post('/v1/eligibility', { certno: A, at: '2026-11-20 10:00:00' }),
      b.post('/v1/eligibility', { certno: B, at: '2026-11-20 10:00:00' })
    ])
    for (const r of [ra, rb]) t.equal(r.status, 200)
    const aIsOld = ra.json.primary_identity?.category === 'minimum_living' && ra.json.list.version === oldVersion
    const aIsNew = ra.json.primary_identity?.category === 'extreme_poverty' && ra.json.list.version === 'v-next'
    if (aIsOld) seen.old++
    else if (aIsNew) seen.new++
    else mixed++
    // B exists only in the new list; its answer must agree with the version it names
    if (rb.json.list.version === oldVersion && rb.json.treat_first_pay_later) mixed++
    if (rb.json.list.version === 'v-next' && !rb.json.treat_first_pay_later) mixed++
  }
  await load
  t.equal(mixed, 0, 'no answer mixed the two lists')
  t.ok(seen.old > 0, `old list answered during the load (${seen.old})`)
  const after = await b.post('/v1/eligibility', { certno: A, at: '2026-11-20 10:00:00' })
  t.equal(after.json.primary_identity.category, 'extreme_poverty')
  t.equal(b.store.list.state().person_count, 30_002)
  const rows = b.store.db.prepare('SELECT COUNT(*) AS n FROM list_identity').get() as { n: number }
  t.equal(rows.n, 30_002, 'the old generation was removed')
})

t.test('a load that fails midway leaves the old list serving and removes its partial rows', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  function * broken (): Generator<LoadRecord> {
    yield * bigList(12_000, 'extreme_poverty')
    throw new Error('the export stream broke')
  }
  await t.rejects(b.store.list.replace(broken(), { source: 'import', label: 'broken' }), /broke/)
  const res = await b.post('/v1/eligibility', { certno: A, at: '2026-11-20 10:00:00' })
  t.equal(res.json.primary_identity.category, 'minimum_living')
  t.equal((b.store.db.prepare('SELECT COUNT(*) AS n FROM list_identity').get() as { n: number }).n, 1)
})

t.test('an empty list and a list naming one person twice are refused, and the old list stays', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  await t.rejects(b.store.list.replace([], { source: 'import', label: 'empty' }), { name: 'ListLoadError', message: /no people/ })
  await t.rejects(b.store.list.replace([person(B, '李四', [['orphan', '2020-01-01 00:00:00', null]]), person(B, '李四', [['orphan', '2020-01-01 00:00:00', null]])], { source: 'import', label: 'dup' }), /twice/)
  const state = b.store.list.state()
  t.equal(state.person_count, 1)
  t.equal((await b.post('/v1/eligibility', { certno: A })).json.primary_identity.category, 'minimum_living')
})

function writeCsv (file: string, n: number, categoryOfA: string): void {
  const lines = ['姓名,身份证号码,人员类别,身份生效时间,身份终止时间,发证部门', `张三,${A},${categoryOfA},2020-01-01,,民政`]
  for (let i = 0; i < n; i++) lines.push(`某某,${syntheticCertno(i + 10)},脱贫人口,2016-01-01,,乡村振兴`)
  writeFileSync(file, lines.join('\n') + '\n')
}

t.test('a fangpin import in another process while the server answers: old or new, never a mix', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  const oldVersion = b.store.list.state().version
  const file = join(tempDir(t), 'county.csv')
  writeCsv(file, 60_000, '特困人员')
  const importing = fangpin(['import', file], { FANGPIN_DATA_DIR: b.config.dataDir })
  let done = false
  void importing.then(() => { done = true })
  let mixed = 0
  let answered = 0
  while (!done) {
    const r = await b.post('/v1/eligibility', { certno: A, at: '2026-11-20 10:00:00' })
    answered++
    if (r.status !== 200) { mixed++; continue }
    const old = r.json.list.version === oldVersion && r.json.primary_identity.category === 'minimum_living'
    const neu = r.json.list.version !== oldVersion && r.json.primary_identity.category === 'extreme_poverty'
    if (!old && !neu) mixed++
  }
  const out = await importing
  t.equal(out.code, 0, out.stderr)
  t.match(out.stdout, /loaded 60001 people/)
  t.equal(mixed, 0, `every one of ${answered} answers came from one whole list`)
  const r = await b.post('/v1/eligibility', { certno: A, at: '2026-11-20 10:00:00' })
  t.equal(r.json.primary_identity.category, 'extreme_poverty')
  t.equal(r.json.list.demo, false)
})

t.test('kill -9 in the middle of an import leaves the old list complete and the database intact', async (t) => {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  await store.list.replace([person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]]), person(B, '李四', [['orphan', '2020-01-01 00:00:00', null]])], { source: 'import', label: 'old', version: 'old' })
  store.close()
  const file = join(tempDir(t), 'big.csv')
  writeCsv(file, 200_000, '特困人员')
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'import', file], {
    cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dataDir }, stdio: 'ignore'
  })
  const partial = await killMidLoad(child, dataDir, 20_000, 60_000)
  t.ok(partial > 20_000, `killed with ${partial} rows of the new list written`)

  const after = openStore(dataDir)
  t.teardown(() => after.close())
  t.equal(after.db.pragma('integrity_check', { simple: true }), 'ok')
  const state = after.list.state()
  t.equal(state.version, 'old', 'the old list is still the serving one')
  t.equal(state.person_count, 2)
  const a = after.list.lookup(after.list.keyOf('01', A))
  t.equal(a.person?.identities[0].category, 'minimum_living')
  t.ok(after.list.lookup(after.list.keyOf('01', B)).person !== null)
  const removed = await after.list.purgeRetired()
  t.ok(removed >= partial, `the abandoned rows were cleaned up (${removed})`)
  t.equal((after.db.prepare('SELECT COUNT(*) AS n FROM list_identity').get() as { n: number }).n, 2)
})
