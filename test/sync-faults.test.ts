// Registry sync against a registry that misbehaves. Whatever goes wrong, the old list keeps serving
// and an alert says why; nothing unverifiable is ever loaded.
import t from 'tap'
import { join } from 'node:path'
import { certno } from './helper.ts'
import { keys, publishTo, faultServer, syncSetup, categoryOf, type RegistryRecord, type SyncSetup } from './registry-fixture.ts'
import { runSync } from '../agent/intake/registry-sync.ts'

const A = certno('45020619580312001')
const B = certno('45020619700101004')
const C = certno('45020619900808008')

const rec = (who: string, category: string, name = '张三'): RegistryRecord =>
  ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: name, identities: [{ category, begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] })

type Setup = SyncSetup<Awaited<ReturnType<typeof faultServer>>>

async function setup (t: { teardown: (fn: () => unknown) => void }): Promise<Setup> {
  return await syncSetup(t, faultServer, { attempts: 3, backoffMs: 20, maxBackoffMs: 200, headersTimeoutMs: 400, bodyTimeoutMs: 400 })
}

t.test('a first sync loads the full snapshot; a later one takes the delta; an unchanged registry changes nothing', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty'), rec(B, 'minimum_living')] })
  const first = await runSync(s.opts, 'cli')
  t.equal(first.result, 'updated', first.message)
  t.equal(first.kind, 'full')
  t.equal(s.store.list.state().seq, 1)
  t.equal(categoryOf(s.store, A), 'extreme_poverty')

  publishTo(s.dir, s.key.privateKey, {
    seq: 2,
    full: [rec(A, 'minimum_living'), rec(C, 'orphan')],
    delta: { base_seq: 1, records: [rec(A, 'minimum_living'), { op: 'delete', certno: B, psn_cert_type: '01' }, rec(C, 'orphan')] }
  })
  const second = await runSync(s.opts, 'cron')
  t.equal(second.result, 'updated', second.message)
  t.equal(second.kind, 'delta')
  t.equal(s.store.list.state().seq, 2)
  t.equal(s.store.list.state().person_count, 2)
  t.equal(categoryOf(s.store, A), 'minimum_living')
  t.equal(categoryOf(s.store, B), null, 'deleted by the delta')
  t.equal(categoryOf(s.store, C), 'orphan')
  t.ok(s.server.requests.some((r) => r.file === 'delta-1-2.ndjson.gz'))
  t.notOk(s.server.requests.some((r) => r.file === 'full-2.ndjson.gz'), 'the full snapshot was not needed')

  const third = await runSync(s.opts, 'cron')
  t.equal(third.result, 'unchanged')
  const runs = s.store.db.prepare('SELECT result FROM sync_run ORDER BY id').pluck().all()
  t.same(runs, ['updated', 'updated', 'unchanged'])
})

t.test('a delta that does not start at the loaded list is skipped for the full snapshot', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  await runSync(s.opts, 'cli')
  publishTo(s.dir, s.key.privateKey, { seq: 3, full: [rec(A, 'orphan'), rec(B, 'minimum_living')], delta: { base_seq: 2, records: [rec(B, 'minimum_living')] } })
  const r = await runSync(s.opts, 'cli')
  t.equal(r.result, 'updated')
  t.equal(r.kind, 'full')
  t.equal(categoryOf(s.store, A), 'orphan')
  t.equal(s.store.list.state().seq, 3)
})

t.test('HTTP 500 and 503 with Retry-After are retried; the sync then succeeds', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  s.server.fail('manifest.json', { status: 500 }, { status: 503, retryAfter: '0' })
  s.server.fail('full-1.ndjson.gz', { status: 503, retryAfter: '0' })
  const retries: number[] = []
  const r = await runSync({ ...s.opts, client: { ...s.opts.client, onRetry: (i) => retries.push(i.waitMs) } }, 'cli')
  t.equal(r.result, 'updated', r.message)
  t.same(s.server.requests.map((x) => `${x.file}:${x.status}`).slice(0, 5), ['manifest.json:500', 'manifest.json:503', 'manifest.json:200', 'full-1.ndjson.gz:503', 'full-1.ndjson.gz:200'])
  t.same(retries, [20, 0, 0], 'backoff for the 500, Retry-After: 0 honoured for the 503s')
})

t.test('a registry that keeps failing leaves the old list serving and raises an alert', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  await runSync(s.opts, 'cli')
  publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')] })
  s.server.fail('manifest.json', { status: 503 }, { status: 503 }, { status: 503 })
  const r = await runSync(s.opts, 'cron')
  t.equal(r.result, 'failed')
  t.match(r.message, /503/)
  t.equal(categoryOf(s.store, A), 'extreme_poverty')
  const alert = s.store.alerts.open().find((a) => a.kind === 'sync_failed')
  t.ok(alert)
  t.match(alert?.message, /同步失败/)
  const ok = await runSync(s.opts, 'cron')
  t.equal(ok.result, 'updated')
  t.equal(s.store.alerts.open().filter((a) => a.kind === 'sync_failed').length, 0, 'the alert is resolved once a sync works')
})

t.test('a hanging registry times out instead of blocking the sync', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  s.server.fail('manifest.json', { hang: true }, { hang: true }, { hang: true })
  const started = Date.now()
  const r = await runSync(s.opts, 'cli')
  t.equal(r.result, 'failed')
  t.match(r.message, /did not answer in time/)
  t.ok(Date.now() - started < 30_000, 'gave up after the timeouts instead of waiting for ever')
  t.equal(s.store.list.state().active_gen, null)
})

t.test('a download cut in the middle resumes with a Range request', async (t) => {
  const s = await setup(t)
  const many = Array.from({ length: 3000 }, (_, i) => rec(certno(`4502061980${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(Math.floor(i / 336)).padStart(3, '0')}`), 'out_of_poverty'))
  const m = publishTo(s.dir, s.key.privateKey, { seq: 1, full: [...new Map(many.map((r) => [r.certno, r])).values()] })
  s.server.fail(m.full.file, { cutAfter: Math.floor(m.full.size / 3) })
  const r = await runSync(s.opts, 'cli')
  t.equal(r.result, 'updated', r.message)
  const gets = s.server.requests.filter((x) => x.file === m.full.file)
  t.equal(gets.length, 2)
  t.equal(gets[1].status, 206)
  t.equal(gets[1].range, `bytes=${Math.floor(m.full.size / 3)}-`)
})

t.test('untrusted manifests and bad files are refused and the old list stays', async (t) => {
  const { writeFileSync } = await import('node:fs')
  const { gzipSync } = await import('node:zlib')
  const cases: Array<[string, (s: Setup) => void, RegExp]> = [
    ['a wrong sha256', (s) => {
      publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')] })
      // the file on the server is not the one the manifest describes
      writeFileSync(join(s.dir, 'full-2.ndjson.gz'), gzipSync(JSON.stringify(rec(A, 'sudden_hardship')) + '\n'))
    }, /sha256|bytes/],
    ['a bad signature', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')], tamper: (m) => { m.record_count = 7 } }) }, /signature/],
    ['a manifest signed by another key', (s) => { publishTo(s.dir, keys().privateKey, { seq: 2, full: [rec(A, 'orphan')] }) }, /signature/],
    ['an expired manifest', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')], createdAt: new Date(Date.now() - 50 * 86_400_000), expiresAt: new Date(Date.now() - 1000) }) }, /expired/],
    ['another region', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')], region: '140000' }) }, /region/],
    ['a signed manifest whose full snapshot is of another sequence', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')], before: (m) => { m.full.seq = 1 } }) }, /inconsistent/],
    ['an unknown schema version', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan')], schemaVersion: 2 }) }, /schema version/],
    ['a record that fails the schema', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan'), { op: 'upsert', certno: B, identities: [{ category: 'minimum_living', begntime: 'yesterday' }] }] }) }, /fail validation/],
    ['a duplicate certno in one snapshot', (s) => { publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan'), rec(A, 'minimum_living')] }) }, /fail validation/],
    ['a file that is not gzip NDJSON', (s) => {
      const m = publishTo(s.dir, s.key.privateKey, { seq: 2, full: 'this is not json\n' })
      t.equal(m.full.record_count, 1)
    }, /fail validation/]
  ]
  for (const [name, arrange, reason] of cases) {
    const s = await setup(t)
    publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
    t.equal((await runSync(s.opts, 'cli')).result, 'updated', name)
    arrange(s)
    const r = await runSync(s.opts, 'cli')
    t.equal(r.result, 'failed', name)
    t.match(r.message, reason, `${name}: ${r.message}`)
    t.equal(categoryOf(s.store, A), 'extreme_poverty', `${name}: the old list still serves`)
    t.equal(s.store.list.state().seq, 1)
    t.ok(s.store.alerts.open().some((a) => a.kind === 'sync_failed'), `${name}: an alert`)
  }
})

t.test('a rollback to an older sequence is refused', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 5, full: [rec(A, 'marginal_at_risk')] })
  t.equal((await runSync(s.opts, 'cli')).result, 'updated')
  publishTo(s.dir, s.key.privateKey, { seq: 4, full: [rec(A, 'orphan')] })
  const back = await runSync(s.opts, 'cli')
  t.equal(back.result, 'failed')
  t.match(back.message, /rollback/)
  t.equal(categoryOf(s.store, A), 'marginal_at_risk')
  t.equal(s.store.list.state().seq, 5)
})

t.test('a sync never overlaps another', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  s.server.fail('manifest.json', { status: 503, retryAfter: '0' })
  const first = runSync(s.opts, 'cli')
  await t.rejects(runSync(s.opts, 'api'), { name: 'SyncBusy' })
  t.equal((await first).result, 'updated')
})
