// The registry sync as the hospital sees it: the HTTP routes, `fangpin sync`, the re-check of open
// admissions after a list change, a registry down for days, and a kill -9 in the middle of applying
// a big snapshot.
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { build, certno, tempDir, fangpin, syntheticCertno, killMidLoad, ROOT } from './helper.ts'
import { keys, publishTo, faultServer, type RegistryRecord } from './registry-fixture.ts'
import { openStore } from '../agent/store/store.ts'
import { publicKeyBase64 } from '../registry/manifest.ts'

const A = certno('45020619580312001')
const B = certno('45020619700101004')

const rec = (who: string, category: string, begntime = '2020-01-01 00:00:00', endtime: string | null = null): RegistryRecord =>
  ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '张三', identities: [{ category, begntime, endtime, source: '民政' }] })

async function registry (t: { teardown: (fn: () => unknown) => void }): Promise<{ dir: string, url: string, key: ReturnType<typeof keys>, env: Record<string, string>, server: Awaited<ReturnType<typeof faultServer>> }> {
  const dir = join(tempDir(t), 'registry')
  mkdirSync(dir)
  const server = await faultServer(dir)
  t.teardown(() => server.close())
  const key = keys()
  return { dir, url: server.url, key, server, env: { FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) } }
}

t.test('GET /v1/sync/status and POST /v1/sync/run (admin only) over HTTP', async (t) => {
  const r = await registry(t)
  publishTo(r.dir, r.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  const b = await build(t, { env: r.env })
  const before = await b.get('/v1/sync/status')
  t.equal(before.status, 200)
  t.equal(before.json.configured, true)
  t.equal(before.json.loaded_seq, null)
  t.equal(before.json.next_run, null, 'not scheduled in this app')
  const his = await b.post('/v1/sync/run?wait=true', undefined)
  t.equal(his.status, 403, 'an HIS token may not start a sync')
  const run = await b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })
  t.equal(run.status, 200, run.text)
  t.equal(run.json.result, 'updated')
  t.equal(run.json.seq_after, 1)
  const after = await b.get('/v1/sync/status')
  t.equal(after.json.loaded_seq, 1)
  t.equal(after.json.records, 1)
  t.equal(after.json.region, '450206')
  t.equal(after.json.stale, false)
  t.equal(after.json.last_attempt.result, 'updated')
  const answer = await b.post('/v1/eligibility', { certno: A })
  t.equal(answer.json.treat_first_pay_later, true)
  t.equal(answer.json.list.version, 'registry-1')
  const metrics = await b.get('/metrics')
  t.match(metrics.text, /fangpin_list_seq 1/)
  t.match(metrics.text, /fangpin_sync_last_failed 0/)
  t.match(metrics.text, /fangpin_sync_last_success_timestamp_seconds [1-9]\d{9}/)
  const started = await b.post('/v1/sync/run', undefined, { authorization: `Bearer ${b.adminToken}` })
  t.equal(started.status, 202)
  t.equal(started.json.result, 'started')
})

t.test('with a registry configured, the agent syncs at start and schedules the nightly run', async (t) => {
  const r = await registry(t)
  publishTo(r.dir, r.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  const b = await build(t, { env: { ...r.env, FANGPIN_SYNC_CRON: '30 2 * * *' }, autoSync: true })
  let status = (await b.get('/v1/sync/status')).json
  for (let i = 0; i < 100 && status.loaded_seq !== 1; i++) {
    await new Promise((res) => setTimeout(res, 50))
    status = (await b.get('/v1/sync/status')).json
  }
  t.equal(status.loaded_seq, 1, 'loaded by the start-up sync')
  t.equal(status.last_attempt.trigger, 'start')
  t.type(status.next_run, 'string')
  const next = new Date(status.next_run)
  // 02:30 in Asia/Shanghai is 18:30 UTC
  t.equal(next.getUTCHours(), 18)
  t.equal(next.getUTCMinutes(), 30)
})

t.test('without a registry, sync/run is a 409 and status says not configured', async (t) => {
  const b = await build(t)
  const run = await b.post('/v1/sync/run', undefined, { authorization: `Bearer ${b.adminToken}` })
  t.equal(run.status, 409)
  t.equal(run.json.error.code, 'FANGPIN_CONFLICT')
  t.equal((await b.get('/v1/sync/status')).json.configured, false)
})

t.test('a registry URL without a public key refuses to start with a clear message', async (t) => {
  const out = await fangpin(['serve'], { FANGPIN_DATA_DIR: tempDir(t), FANGPIN_REGISTRY_URL: 'http://127.0.0.1:9/' })
  t.equal(out.code, 78)
  t.match(out.stderr, /FANGPIN_REGISTRY_PUBKEY/)
  const bad = await fangpin(['serve'], { FANGPIN_DATA_DIR: tempDir(t), FANGPIN_REGISTRY_URL: 'http://127.0.0.1:9/', FANGPIN_REGISTRY_PUBKEY: 'bm90IGEga2V5' })
  t.equal(bad.code, 78)
  t.match(bad.stderr, /FANGPIN_REGISTRY_PUBKEY is not usable/)
  const cron = await fangpin(['serve'], { FANGPIN_DATA_DIR: tempDir(t), FANGPIN_SYNC_CRON: 'every night' })
  t.equal(cron.code, 78)
  t.match(cron.stderr, /FANGPIN_SYNC_CRON/)
})

t.test('fangpin sync exits 0 when current and non-zero with the reason when refused', async (t) => {
  const r = await registry(t)
  const dataDir = tempDir(t)
  publishTo(r.dir, r.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  const ok = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...r.env })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /updated: loaded list 1/)
  const again = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...r.env })
  t.equal(again.code, 0)
  t.match(again.stdout, /unchanged/)
  publishTo(r.dir, keys().privateKey, { seq: 2, full: [rec(A, 'orphan')] })
  const forged = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...r.env })
  t.equal(forged.code, 1)
  t.match(forged.stderr, /signature does not verify/)
})

t.test('after a list change, an open admission whose identity now covers the stay gets an alert; an ended one a note', async (t) => {
  const r = await registry(t)
  publishTo(r.dir, r.key.privateKey, { seq: 1, full: [rec(B, 'minimum_living')] })
  const b = await build(t, { env: r.env })
  t.equal((await b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })).json.result, 'updated')
  // A is not on the list at admission: a deposit is asked. B is, and gets the waiver.
  const a = await b.post('/v1/admissions', { mdtrt_id: 'ZY-A', certno: A, psn_name: '张三', begntime: '2026-11-10 09:00:00', adm_dept_name: '内科' })
  t.equal(a.json.treat_first_pay_later, false)
  const bb = await b.post('/v1/admissions', { mdtrt_id: 'ZY-B', certno: B, psn_name: '李四', begntime: '2026-11-10 09:00:00' })
  t.equal(bb.json.treat_first_pay_later, true)
  // 民政 approves A this month, valid from the 1st (当月即可享受); B leaves the list.
  publishTo(r.dir, r.key.privateKey, {
    seq: 2,
    full: [rec(A, 'minimum_living', '2026-11-01 00:00:00'), rec(B, 'minimum_living', '2020-01-01 00:00:00', '2026-11-15 23:59:59')],
    delta: { base_seq: 1, records: [rec(A, 'minimum_living', '2026-11-01 00:00:00'), rec(B, 'minimum_living', '2020-01-01 00:00:00', '2026-11-15 23:59:59')] }
  })
  t.equal((await b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })).json.kind, 'delta')
  const alerts = b.store.alerts.open()
  const started = alerts.find((x) => x.kind === 'identity_started')
  t.equal(started?.mdtrt_id, 'ZY-A')
  t.match(started?.message, /身份已生效，可享受先诊疗后付费，请退还押金/)
  t.notOk(started?.message.includes('张三'), 'the name is masked')
  const ended = alerts.find((x) => x.kind === 'identity_ended')
  t.equal(ended?.mdtrt_id, 'ZY-B')
  // The next sync does not repeat them.
  publishTo(r.dir, r.key.privateKey, { seq: 3, full: [rec(A, 'minimum_living', '2026-11-01 00:00:00'), rec(B, 'minimum_living', '2020-01-01 00:00:00', '2026-11-15 23:59:59')], delta: { base_seq: 2, records: [] } })
  await b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })
  t.equal(b.store.alerts.open().filter((x) => x.kind === 'identity_started').length, 1)
})

t.test('a registry down for days: lookups still answer, marked stale, and readyz says degraded', async (t) => {
  const r = await registry(t)
  publishTo(r.dir, r.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  const b = await build(t, { env: { ...r.env, FANGPIN_STALE_HOURS: '36' } })
  await b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })
  // three days pass with the registry unreachable
  b.store.db.prepare("UPDATE list_state SET data_as_of = ?, loaded_at = ?").run(new Date(Date.now() - 72 * 3_600_000).toISOString(), new Date(Date.now() - 72 * 3_600_000).toISOString())
  await r.server.close()
  const failed = await b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })
  t.equal(failed.json.result, 'failed')
  const answer = await b.post('/v1/eligibility', { certno: A })
  t.equal(answer.status, 200)
  t.equal(answer.json.treat_first_pay_later, true)
  t.equal(answer.json.list.stale, true)
  t.ok(answer.json.cards.some((c: any) => c.indicator === 'warning' && c.summary.includes('未更新')))
  const ready = await b.get('/readyz')
  t.equal(ready.json.status, 'degraded')
  const status = await b.get('/v1/sync/status')
  t.equal(status.json.stale, true)
  t.equal(status.json.last_attempt.result, 'failed')
  t.match((await b.get('/metrics')).text, /fangpin_sync_last_failed 1/)
})

t.test('kill -9 while a 200,000-record snapshot is applied: after restart the old or the new list is complete', async (t) => {
  const r = await registry(t)
  const dataDir = tempDir(t)
  publishTo(r.dir, r.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty'), rec(B, 'orphan')] })
  const first = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...r.env })
  t.equal(first.code, 0, first.stderr)
  const big: RegistryRecord[] = [rec(A, 'minimum_living')]
  for (let i = 0; i < 200_000; i++) big.push(rec(syntheticCertno(i + 10), 'out_of_poverty'))
  publishTo(r.dir, r.key.privateKey, { seq: 2, full: big })
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'sync'], {
    cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dataDir, ...r.env }, stdio: 'ignore'
  })
  const partial = await killMidLoad(child, dataDir, 30_000, 120_000)
  t.ok(partial > 30_000, `killed with ${partial} rows of the new list written`)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  t.equal(store.db.pragma('integrity_check', { simple: true }), 'ok')
  const state = store.list.state()
  t.equal(state.seq, 1, 'the old list still serves')
  t.equal(state.person_count, 2)
  t.equal(store.list.lookup(store.list.keyOf('01', A)).person?.identities[0].category, 'extreme_poverty')
  // and the next sync completes the new one
  store.close()
  const next = await fangpin(['sync'], { FANGPIN_DATA_DIR: dataDir, ...r.env })
  t.equal(next.code, 0, next.stderr)
  const after = openStore(dataDir)
  t.teardown(() => after.close())
  t.equal(after.list.state().seq, 2)
  t.equal(after.list.state().person_count, 200_001)
  t.equal((after.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get() as number), 200_001, 'the abandoned rows were cleaned up')
  const runs = after.db.prepare('SELECT result, message FROM sync_run ORDER BY id').all() as Array<{ result: string, message: string }>
  t.equal(runs[1].result, 'failed', 'the killed run is recorded as interrupted')
  t.match(runs[1].message, /interrupted/)
})
