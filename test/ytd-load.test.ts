// The registry's year-to-date figures through every way a list arrives — a file import, a snapshot
// read in the worker thread, a delta — into person_ytd, and on into a settlement's year; a full list
// that no longer gives a person's figures takes them away, a delta upsert without them too.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { certno, fangpin, syntheticCertno, tempDir } from './helper.ts'
import { publishTo, faultServer, syncSetup, type RegistryRecord } from './registry-fixture.ts'
import { runSync } from '../agent/intake/registry-sync.ts'
import { openStore } from '../agent/store/store.ts'

const A = certno('45020619580312001')
const B = certno('45020619720101018')
const rec = (who: string, ytd: Partial<RegistryRecord> = {}): RegistryRecord => ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '张三丰', identities: [{ category: 'out_of_poverty', begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }], ...ytd })

t.test('fangpin import writes each person\'s figures; the next import without them takes them away', async (t) => {
  const dir = tempDir(t)
  const env = { FANGPIN_DATA_DIR: join(dir, 'data') }
  const file = join(dir, 'list.csv')
  writeFileSync(file, `姓名,身份证号,人员类别,认定时间,年度累计个人负担,年度累计医疗费用,年度累计自费,统计截至\n张三,${A},脱贫人口,2021-01-01,3000,10000,1000,2026-06-30\n李四,${B},脱贫人口,2021-01-01,,,,\n`)
  t.equal((await fangpin(['import', file], env)).code, 0)
  let store = openStore(env.FANGPIN_DATA_DIR)
  t.same(store.burden.ytd(store.list.keyOf('01', A)), { psn_part_fen: 300_000, medfee_fen: 1_000_000, fulamt_fen: 100_000, as_of: '2026-06-30 23:59:59' })
  t.equal(store.burden.ytd(store.list.keyOf('01', B)), undefined)
  store.close()
  writeFileSync(file, `姓名,身份证号,人员类别,认定时间\n张三,${A},脱贫人口,2021-01-01\n`)
  t.equal((await fangpin(['import', file], env)).code, 0)
  store = openStore(env.FANGPIN_DATA_DIR)
  t.teardown(() => store.close())
  t.equal(store.burden.ytd(store.list.keyOf('01', A)), undefined, 'the new list says nothing of the year: nothing is kept')
})

t.test('a snapshot read in the worker thread and a delta carry the figures; a delta upsert without them removes them', async (t) => {
  const s = await syncSetup(t, faultServer, { attempts: 1 })
  const opts = { ...s.opts, workerMinRecords: 1 }
  const people = [rec(A, { ytd_psn_part_amt: '4999.99', ytd_medfee_sumamt: '20000.00', ytd_fulamt_ownpay_amt: '2500.00', ytd_as_of: '2026-10-31' }), ...Array.from({ length: 300 }, (_, i) => rec(syntheticCertno(i)))]
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: people })
  t.equal((await runSync(opts, 'cli')).result, 'updated')
  const ka = s.store.list.keyOf('01', A)
  t.same(s.store.burden.ytd(ka), { psn_part_fen: 499_999, medfee_fen: 2_000_000, fulamt_fen: 250_000, as_of: '2026-10-31 23:59:59' })

  publishTo(s.dir, s.key.privateKey, { seq: 2, full: people, delta: { base_seq: 1, records: [rec(A, { ytd_psn_part_amt: '5200.00', ytd_as_of: '2026-11-15' }), rec(B, { ytd_psn_part_amt: '10.00', ytd_as_of: '2026-11-15' })] } })
  t.equal((await runSync(opts, 'cli')).result, 'updated')
  t.same(s.store.burden.ytd(ka), { psn_part_fen: 520_000, medfee_fen: null, fulamt_fen: null, as_of: '2026-11-15 23:59:59' })
  t.equal(s.store.burden.ytd(s.store.list.keyOf('01', B))?.psn_part_fen, 1000)

  publishTo(s.dir, s.key.privateKey, { seq: 3, full: people, delta: { base_seq: 2, records: [rec(A)] } })
  t.equal((await runSync(opts, 'cli')).result, 'updated')
  t.equal(s.store.burden.ytd(ka), undefined, 'the registry no longer gives A\'s year')
})
