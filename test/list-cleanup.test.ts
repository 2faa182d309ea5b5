// A registry sync in a serving agent is done when the new list serves: the rows it made dead (the
// identities a delta replaced, the whole list a full snapshot replaced) are removed after, in the
// background, in chunks; nobody reads them, and a crash leaves them for the next load or start.
import t from 'tap'
import { syntheticCertno, person, tempDir } from './helper.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import type { LoadRecord } from '../agent/store/list.ts'

function people (n: number, category: string): LoadRecord[] {
  return Array.from({ length: n }, (_, i) => person(syntheticCertno(i), '某某', [[category, '2016-01-01 00:00:00', null]]))
}

const count = (store: Store, where: string): number => store.db.prepare(`SELECT COUNT(*) FROM list_identity WHERE ${where}`).pluck().get() as number

t.test('a delta cleaned up in the background serves before its replaced rows are gone, and they go after', async (t) => {
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  await store.list.replace(people(20_000, 'out_of_poverty'), { source: 'registry', label: 'full-1', seq: 1 })
  const delta = people(10_000, 'minimum_living')
  const result = await store.list.applyDelta(delta, { source: 'registry', label: 'delta-1-2', seq: 2, base_seq: 1 }, { cleanup: 'background' })
  t.equal(result.persons, 20_000)
  t.equal(store.list.state().seq, 2, 'the delta serves')
  t.equal(store.list.lookup(store.list.keyOf('01', syntheticCertno(5))).person?.identities[0].category, 'minimum_living')
  const dead = count(store, 'to_seq IS NOT NULL')
  t.ok(dead > 0, `the replaced rows were not all removed yet when it resolved (${dead} left)`)
  await store.list.cleanedUp()
  t.equal(count(store, 'to_seq IS NOT NULL'), 0, 'then they are gone')
  t.equal(count(store, '1'), 20_000)
  t.equal(store.db.prepare('SELECT COUNT(*) FROM list_delta_key').pluck().get(), 0)
})

t.test('a full list cleaned up in the background purges the list it replaced afterwards', async (t) => {
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  await store.list.replace(people(12_000, 'out_of_poverty'), { source: 'registry', label: 'full-1', seq: 1 })
  const old = store.list.state().active_gen!
  await store.list.replace(people(12_000, 'minimum_living'), { source: 'registry', label: 'full-2', seq: 2 }, { cleanup: 'background' })
  t.equal(store.list.state().seq, 2)
  t.ok(count(store, `gen = ${old}`) > 0, 'the old list was still there when the new one started serving')
  await store.list.cleanedUp()
  t.equal(count(store, `gen = ${old}`), 0, 'then it is purged')
  t.equal(store.db.prepare('SELECT COUNT(*) FROM list_generation WHERE gen = ?').pluck().get(old), 0)
})

t.test('a clean-up cut off by closing the store is finished by the next start', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  await store.list.replace(people(12_000, 'out_of_poverty'), { source: 'registry', label: 'full-1', seq: 1 })
  await store.list.applyDelta(people(10_000, 'minimum_living'), { source: 'registry', label: 'delta-1-2', seq: 2, base_seq: 1 }, { cleanup: 'background' })
  store.close()
  const again = openStore(dir)
  t.teardown(() => again.close())
  t.ok(count(again, 'to_seq IS NOT NULL') > 0, 'rows were left by the close')
  await again.list.purgeRetired()
  t.equal(count(again, 'to_seq IS NOT NULL'), 0)
  t.equal(again.list.state().seq, 2)
})
