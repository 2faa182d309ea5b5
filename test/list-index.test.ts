// A serving agent answers lookups from the list held in memory (store/list-index.ts). Every answer
// must be what the database says for the list serving at that moment: across a flip in this
// process, a delta here or by another connection, and an import by another process.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { certno, fangpin, person, syntheticCertno, tempDir } from './helper.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const A = certno('45020619580312001')

function people (n: number, category = 'out_of_poverty'): LoadRecord[] {
  return Array.from({ length: n }, (_, i) => person(syntheticCertno(i), `某某${i % 7}`, [
    [category, `20${10 + (i % 9)}-0${1 + (i % 9)}-01 00:00:00`, i % 4 === 0 ? '2029-12-31 23:59:59' : null],
    ...(i % 5 === 0 ? [['orphan', '2021-05-01 08:30:00', null] as [string, string, null]] : [])
  ]))
}

async function inMemory (store: Store, persons: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (store.list.inMemory() === persons) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`the list was not held in memory (${store.list.inMemory()} of ${persons})`)
}

function categories (store: Store, who: string): string[] {
  return store.list.lookup(store.list.keyOf('01', who)).person?.identities.map((i) => i.category) ?? []
}

t.test('answers from memory are the database\'s, for people on the list and not on it', async (t) => {
  const dir = tempDir(t)
  const serving = openStore(dir)
  t.teardown(() => serving.close())
  await serving.list.replace(people(3000), { source: 'import', label: 'l', version: 'v1' })
  serving.list.enableIndex()
  await inMemory(serving, 3000)
  const plain = openStore(dir)
  t.teardown(() => plain.close())
  let differ = 0
  for (let i = 0; i < 3100; i++) {
    const pk = serving.list.keyOf('01', syntheticCertno(i))
    const a = serving.list.lookup(pk)
    const b = plain.list.lookup(pk)
    if (JSON.stringify({ s: a.state, i: a.person?.identities, n: a.person?.name_masked }) !== JSON.stringify({ s: b.state, i: b.person?.identities, n: b.person?.name_masked })) differ++
  }
  t.equal(differ, 0, 'the same answer for 3,000 people on the list and 100 who are not')
  t.equal(serving.list.lookup(serving.list.keyOf('01', syntheticCertno(10))).person?.name_masked, '某*3', 'the masked name is still there when asked for')
})

t.test('a flip and a delta in this process are answered at once, and the list is held in memory again after', async (t) => {
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  await store.list.replace([...people(1000), person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'registry', label: 'f1', version: 'registry-1', seq: 1, region: '450206' })
  store.list.enableIndex()
  await inMemory(store, 1001)
  await store.list.replace([...people(1000, 'marginal_at_risk'), person(A, '张三', [['extreme_poverty', '2020-01-01 00:00:00', null]])], { source: 'registry', label: 'f2', version: 'registry-2', seq: 2, region: '450206' })
  t.same(categories(store, A), ['extreme_poverty'], 'the new list answers right after the flip')
  t.equal(store.list.lookup(store.list.keyOf('01', A)).state.version, 'registry-2')
  await inMemory(store, 1001)
  t.same(categories(store, syntheticCertno(3)), ['marginal_at_risk'])
  await store.list.applyDelta([
    person(A, '张三', [['orphan', '2020-01-01 00:00:00', null]]),
    { op: 'delete', certno: syntheticCertno(3), psn_cert_type: '01', psn_name: null, identities: [] }
  ], { source: 'registry', label: 'd', version: 'registry-3', seq: 3, base_seq: 2, region: '450206' })
  t.same(categories(store, A), ['orphan'], 'the delta answers right after it became visible')
  t.same(categories(store, syntheticCertno(3)), [], 'a person the delta removed is gone')
  await inMemory(store, 1000)
  t.same(categories(store, A), ['orphan'])
  t.same(categories(store, syntheticCertno(3)), [])
  t.equal(store.list.lookup(store.list.keyOf('01', A)).state.seq, 3)
})

t.test('a delta by another connection and an import by another process are seen by the next lookup', async (t) => {
  const dir = tempDir(t)
  const serving = openStore(dir)
  t.teardown(() => serving.close())
  await serving.list.replace([...people(500), person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'registry', label: 'f1', version: 'registry-1', seq: 1, region: '450206' })
  serving.list.enableIndex()
  await inMemory(serving, 501)
  t.same(categories(serving, A), ['minimum_living'])

  const other = openStore(dir)
  await other.list.applyDelta([person(A, '张三', [['extreme_poverty', '2020-01-01 00:00:00', null]])], { source: 'registry', label: 'd', version: 'registry-2', seq: 2, base_seq: 1, region: '450206' })
  other.close()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(categories(serving, A), ['extreme_poverty'], 'the other connection\'s delta is answered')
  t.equal(serving.list.lookup(serving.list.keyOf('01', A)).state.version, 'registry-2')
  await inMemory(serving, 501)

  const file = join(tempDir(t), 'county.csv')
  writeFileSync(file, '姓名,身份证号码,人员类别,身份生效时间\n张三,' + A + ',孤儿,2022-01-01\n李四,' + syntheticCertno(9) + ',低保对象,2020-01-01\n')
  const out = await fangpin(['import', file], { FANGPIN_DATA_DIR: dir })
  t.equal(out.code, 0, out.stderr)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(categories(serving, A), ['orphan'], 'the import by another process is answered')
  t.same(categories(serving, syntheticCertno(100)), [], 'and the old list is gone')
  t.equal(serving.list.lookup(serving.list.keyOf('01', A)).state.source, 'import')
  await inMemory(serving, 2)
  t.same(categories(serving, syntheticCertno(9)), ['minimum_living'])
})
