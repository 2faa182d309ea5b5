// A registry delta of any size is applied without freezing the agent: its rows are written in
// short chunks that readers cannot see, and one small transaction makes the whole delta visible.
// Lookups keep being answered in between, each from the list before the delta or after it.
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { certno, person, syntheticCertno, tempDir, fangpin, ROOT } from './helper.ts'
import { keys, publishTo, faultServer, type RegistryRecord } from './registry-fixture.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import { publicKeyBase64 } from '../registry/manifest.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const A = certno('45020619580312001')
const GONE = syntheticCertno(3)

function base (n: number): LoadRecord[] {
  const out = [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])]
  for (let i = 0; i < n; i++) out.push(person(syntheticCertno(i), '某某', [['out_of_poverty', '2016-01-01 00:00:00', null]]))
  return out
}

function categories (store: Store, who: string): string[] {
  return store.list.lookup(store.list.keyOf('01', who)).person?.identities.map((i) => i.category) ?? []
}

t.test('lookups are answered while a large delta is written, and see the list before it until all of it is visible', async (t) => {
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  await store.list.replace(base(30_000), { source: 'registry', label: 'full-1', version: 'registry-1', seq: 1, region: '450206' })
  // 20,000 changes, 5,000 removals, 5,000 new people, and A changes category.
  const delta: LoadRecord[] = [person(A, '张三', [['extreme_poverty', '2021-01-01 00:00:00', null]])]
  for (let i = 0; i < 20_000; i++) delta.push(person(syntheticCertno(i), '某某', [['marginal_at_risk', '2024-01-01 00:00:00', null]]))
  for (let i = 20_000; i < 25_000; i++) delta.push({ op: 'delete', certno: syntheticCertno(i), psn_cert_type: '01', psn_name: null, identities: [] })
  for (let i = 30_000; i < 35_000; i++) delta.push(person(syntheticCertno(i), '新人', [['orphan', '2025-01-01 00:00:00', null]]))

  let applying = true
  const seen = { before: 0, after: 0, mixed: 0 }
  const watch = async (): Promise<void> => {
    while (applying) {
      await new Promise((resolve) => setImmediate(resolve))
      const { state, person: p } = store.list.lookup(store.list.keyOf('01', A))
      const category = p?.identities[0]?.category
      const removed = store.list.lookup(store.list.keyOf('01', syntheticCertno(20_001))).person
      if (state.seq === 1 && category === 'minimum_living' && removed !== null) seen.before++
      else if (state.seq === 2 && category === 'extreme_poverty' && removed === null) seen.after++
      else seen.mixed++
    }
  }
  const watching = watch()
  const result = await store.list.applyDelta(delta, { source: 'registry', label: 'delta-1-2', version: 'registry-2', seq: 2, base_seq: 1, region: '450206' })
  applying = false
  await watching
  t.ok(seen.before > 5, `lookups were answered while the delta was written (${seen.before})`)
  t.equal(seen.mixed, 0, 'no lookup saw part of the delta')
  t.equal(result.persons, 30_001 - 5_000 + 5_000)
  const state = store.list.state()
  t.equal(state.seq, 2)
  t.equal(state.person_count, 30_001)
  t.same(categories(store, A), ['extreme_poverty'])
  t.same(categories(store, syntheticCertno(7)), ['marginal_at_risk'], 'a changed person has only the new identity')
  t.same(categories(store, syntheticCertno(22_000)), [], 'a removed person is gone')
  t.same(categories(store, syntheticCertno(31_000)), ['orphan'])
  t.same(categories(store, syntheticCertno(28_000)), ['out_of_poverty'], 'an untouched person is unchanged')
  t.equal(store.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get(), state.identity_count, 'the replaced rows were removed')
  t.equal(store.db.prepare('SELECT COUNT(*) FROM list_delta_key').pluck().get(), 0)
})

t.test('a delta that fails half way leaves the list before it, with none of its rows', async (t) => {
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  await store.list.replace(base(100), { source: 'registry', label: 'full-1', version: 'registry-1', seq: 1, region: '450206' })
  const rows = store.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get()
  const removeAll: LoadRecord[] = base(100).map((r) => ({ ...r, op: 'delete' as const, identities: [] }))
  await t.rejects(store.list.applyDelta(removeAll, { source: 'registry', label: 'd', seq: 2, base_seq: 1 }), /empty/)
  t.equal(store.list.state().seq, 1)
  t.same(categories(store, A), ['minimum_living'])
  t.equal(store.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get(), rows, 'nothing of the delta is left')
  t.equal(store.db.prepare('SELECT delta_seq FROM list_state').pluck().get(), null)
  await t.rejects(store.list.applyDelta([], { source: 'registry', label: 'd', seq: 3, base_seq: 2 }), /applies on list 2, but list 1/)
})

t.test('kill -9 while a delta is written: after restart the list is the one before it, and the next sync applies it', async (t) => {
  const dir = join(tempDir(t), 'registry')
  mkdirSync(dir)
  const server = await faultServer(dir)
  t.teardown(() => server.close())
  const key = keys()
  const env = { FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) }
  const rec = (who: string, category: string): RegistryRecord => ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '某某', identities: [{ category, begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] })
  const full: RegistryRecord[] = [rec(A, 'minimum_living')]
  for (let i = 0; i < 60_000; i++) full.push(rec(syntheticCertno(i), 'out_of_poverty'))
  publishTo(dir, key.privateKey, { seq: 1, full })
  const dataDir = tempDir(t)
  const first = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...env })
  t.equal(first.code, 0, first.stderr)

  const changed: RegistryRecord[] = [rec(A, 'extreme_poverty'), { op: 'delete', certno: GONE, psn_cert_type: '01' }]
  for (let i = 10; i < 60_000; i++) changed.push(rec(syntheticCertno(i), 'marginal_at_risk'))
  const next = [rec(A, 'extreme_poverty'), ...full.slice(1).filter((r) => r.certno !== GONE).map((r, i) => i >= 9 ? rec(r.certno, 'marginal_at_risk') : r)]
  publishTo(dir, key.privateKey, { seq: 2, full: next, delta: { base_seq: 1, records: changed } })

  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'sync'], { cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dataDir, ...env }, stdio: 'ignore' })
  const probe = openStore(dataDir)
  let written = 0
  for (let i = 0; i < 3000 && written < 8_000; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    written = probe.db.prepare('SELECT COUNT(*) FROM list_delta_key').pluck().get() as number
  }
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  probe.close()
  t.ok(written >= 8_000, `killed with ${written} people of the delta written`)

  const store = openStore(dataDir)
  t.equal(store.db.pragma('integrity_check', { simple: true }), 'ok')
  t.equal(store.list.state().seq, 1, 'the list before the delta serves')
  t.same(categories(store, A), ['minimum_living'])
  t.same(categories(store, GONE), ['out_of_poverty'])
  t.equal(store.list.state().person_count, 60_001)
  store.close()

  const again = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...env })
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /loaded list 2 \(delta/)
  const after = openStore(dataDir)
  t.teardown(() => after.close())
  t.equal(after.list.state().seq, 2)
  t.same(categories(after, A), ['extreme_poverty'])
  t.same(categories(after, GONE), [])
  t.same(categories(after, syntheticCertno(100)), ['marginal_at_risk'])
  t.same(categories(after, syntheticCertno(5)), ['out_of_poverty'])
  t.equal(after.list.state().person_count, 60_000)
  t.equal(after.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get(), 60_000, 'no row of the cut-off attempt or of the old list is left')
})
