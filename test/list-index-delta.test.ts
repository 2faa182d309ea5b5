// A delta applied by the serving process is taken into the list held in memory by a merge at the
// moment it becomes visible: lookups never fall back to the database for it, and every answer is
// still exactly the database's.
import t from 'tap'
import { certno, person, syntheticCertno, tempDir } from './helper.ts'
import { openStore } from '../agent/store/store.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const A = certno('45020619580312001')

function people (n: number): LoadRecord[] {
  return Array.from({ length: n }, (_, i) => person(syntheticCertno(i), `某某${i % 7}`, [
    ['out_of_poverty', `20${10 + (i % 9)}-0${1 + (i % 9)}-01 00:00:00`, i % 4 === 0 ? '2029-12-31 23:59:59' : null],
    ...(i % 5 === 0 ? [['orphan', '2021-05-01 08:30:00', null] as [string, string, null]] : [])
  ]))
}

t.test('a delta here is held in memory the moment it serves, and answers as the database does', async (t) => {
  const dir = tempDir(t)
  const serving = openStore(dir)
  t.teardown(() => serving.close())
  await serving.list.replace([...people(3000), person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'registry', label: 'f1', version: 'registry-1', seq: 1, region: '450206' })
  serving.list.enableIndex()
  for (let i = 0; i < 2000 && serving.list.inMemory() !== 3001; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(serving.list.inMemory(), 3001)

  const delta: LoadRecord[] = [
    // changed: other identities, two of them, one with a category and source the list never had
    ...Array.from({ length: 400 }, (_, i) => person(syntheticCertno(i * 7), '某某', [['extreme_poverty', '2024-03-01 00:00:00', null], ['new_category_x', '2025-01-01 12:00:00', '2026-06-30 23:59:59']])),
    // removed
    ...Array.from({ length: 100 }, (_, i): LoadRecord => ({ op: 'delete', certno: syntheticCertno(2900 + i), psn_cert_type: '01', psn_name: null, identities: [] })),
    // new people
    ...Array.from({ length: 300 }, (_, i) => person(syntheticCertno(5000 + i), '新人', [['minimum_living', '2026-01-01 00:00:00', null]])),
    person(A, '张三', [['orphan', '2020-01-01 00:00:00', null]])
  ]
  const result = await serving.list.applyDelta(delta, { source: 'registry', label: 'd', version: 'registry-2', seq: 2, base_seq: 1, region: '450206' })
  t.equal(result.persons, 3001 - 100 + 300)
  t.equal(serving.list.inMemory(), 3201, 'held in memory right away, not read again from the database')

  const plain = openStore(dir)
  t.teardown(() => plain.close())
  let differ = 0
  let checked = 0
  for (const who of [A, ...Array.from({ length: 5400 }, (_, i) => syntheticCertno(i))]) {
    const pk = serving.list.keyOf('01', who)
    const a = serving.list.lookup(pk)
    const b = plain.list.lookup(pk)
    checked++
    if (JSON.stringify({ s: a.state, i: a.person?.identities, n: a.person?.name_masked }) !== JSON.stringify({ s: b.state, i: b.person?.identities, n: b.person?.name_masked })) differ++
  }
  t.equal(differ, 0, `the same answer as the database for ${checked} people: changed, removed, new, untouched and never listed`)
  t.same(serving.list.lookup(serving.list.keyOf('01', syntheticCertno(7))).person?.identities.map((i) => i.category), ['extreme_poverty', 'new_category_x'])
  t.equal(serving.list.lookup(serving.list.keyOf('01', syntheticCertno(2950))).person, null)
  t.equal(serving.list.inMemory(), 3201, 'and still from memory')
})
