// A load keeps its people compact and sorts them in bounded memory: past the budget they go to
// bucket files in the data directory, and come back in key order. The result must be the same
// list, a person twice must still be found, and nothing may be left on disk.
import t from 'tap'
import { readdirSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { person, syntheticCertno, tempDir } from './helper.ts'
import { openStore } from '../agent/store/store.ts'
import type { LoadRecord } from '../agent/store/list.ts'

function people (n: number): LoadRecord[] {
  return Array.from({ length: n }, (_, i) => person(syntheticCertno(i), '某某人', [['minimum_living', '2020-01-01 00:00:00', null], ...(i % 3 === 0 ? [['orphan', '2021-05-01 00:00:00', '2030-12-31 23:59:59'] as [string, string, string]] : [])]))
}

t.test('a list spooled to disk loads every person with every identity, in key order, and leaves no spool behind', async (t) => {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  store.list.spoolMemory = 20_000
  store.list.loadChunk = 700
  const list = people(6000)
  const result = await store.list.replace(list, { source: 'import', label: 'spooled' })
  t.equal(result.persons, 6000)
  t.equal(result.identities, 8000)
  for (const i of [0, 1, 2999, 5999]) {
    const p = store.list.lookup(store.list.keyOf('01', syntheticCertno(i))).person
    t.same(p?.identities.map((x) => [x.category, x.endtime]), i % 3 === 0 ? [['minimum_living', null], ['orphan', '2030-12-31 23:59:59']] : [['minimum_living', null]])
    t.equal(p?.name_masked, '某*人')
  }
  const keys = store.db.prepare('SELECT person_key FROM list_identity WHERE n = 0').pluck().all() as Buffer[]
  t.equal(keys.length, 6000)
  t.ok(keys.every((k, i) => i === 0 || Buffer.compare(keys[i - 1], k) < 0), 'rows are keyed once each')
  t.same(readdirSync(dataDir).filter((f) => f.startsWith('load-')), [], 'the spool directory is removed')
})

t.test('a person twice is found even when the two records were spooled far apart; nothing is loaded', async (t) => {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  await store.list.replace(people(3), { source: 'import', label: 'old', version: 'old' })
  store.list.spoolMemory = 5_000
  const list = people(3000).map((record, i) => ({ line: i + 1, record }))
  list.push({ line: 3001, record: person(syntheticCertno(1234), '某某人', [['orphan', '2020-01-01 00:00:00', null]]) })
  await t.rejects(store.list.replace(list, { source: 'import', label: 'dup' }), { name: 'DuplicatePerson', line: 3001, firstLine: 1235 })
  t.equal(store.list.state().version, 'old')
  t.equal(store.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get(), 4)
  t.same(readdirSync(dataDir).filter((f) => f.startsWith('load-')), [])
})

t.test('a spool left by a load that was killed is removed by the next clean-up', async (t) => {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  mkdirSync(join(dataDir, 'load-77'))
  await store.list.purgeRetired()
  t.same(readdirSync(dataDir).filter((f) => f.startsWith('load-')), [])
})
