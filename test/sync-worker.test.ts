// A province's snapshot is read, checked and hashed in a worker thread; what it loads, and what it
// refuses, must be exactly what reading it in the agent's own thread would.
import t from 'tap'
import { certno, syntheticCertno } from './helper.ts'
import { publishTo, faultServer, syncSetup, categoryOf, type RegistryRecord } from './registry-fixture.ts'
import { runSync } from '../agent/intake/registry-sync.ts'

const A = certno('45020619580312001')
const rec = (who: string, category: string): RegistryRecord => ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '张三丰', identities: [{ category, begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] })

t.test('a snapshot read in a worker thread loads every person, and a bad or repeated record refuses it', async (t) => {
  const s = await syncSetup(t, faultServer, { attempts: 1 })
  const opts = { ...s.opts, workerMinRecords: 1 }
  const people = [rec(A, 'extreme_poverty'), ...Array.from({ length: 3000 }, (_, i) => rec(syntheticCertno(i), 'out_of_poverty'))]
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: people })
  const first = await runSync(opts, 'cli')
  t.equal(first.result, 'updated', first.message)
  t.equal(s.store.list.state().person_count, 3001)
  t.equal(categoryOf(s.store, A), 'extreme_poverty')
  t.equal(s.store.list.lookup(s.store.list.keyOf('01', A)).person?.name_masked, '张*丰')

  publishTo(s.dir, s.key.privateKey, { seq: 2, full: [...people.slice(0, 2000), { op: 'upsert', certno: syntheticCertno(5000), identities: [{ category: 'minimum_living', begntime: 'yesterday' }] }] })
  const bad = await runSync(opts, 'cli')
  t.equal(bad.result, 'failed')
  t.match(bad.message, /1 records fail validation.*第2001行/)

  publishTo(s.dir, s.key.privateKey, { seq: 3, full: [...people.slice(0, 2000), rec(syntheticCertno(7), 'orphan')] })
  const twice = await runSync(opts, 'cli')
  t.equal(twice.result, 'failed')
  t.match(twice.message, /fail validation.*第2001行.*与第9行重复/)
  t.equal(s.store.list.state().seq, 1, 'the first list still serves')
  t.equal(categoryOf(s.store, syntheticCertno(7)), 'out_of_poverty')
})
