// What hospital IT sees: probes, metrics, the OpenAPI page, configuration errors, the CLI, and
// `npm start` on an empty data directory answering the README's curl with the demo list.
import t from 'tap'
import { statSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, certno, person, tempDir, fangpin, startAgent } from './helper.ts'
import { loadConfig, ConfigError } from '../agent/config.ts'
import { DEMO_TOKEN, demoCertno } from '../agent/demo/demo-list.ts'

const A = certno('45020619580312001')

t.test('healthz answers ok; readyz is ready with a current real list', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  const h = await b.get('/healthz', { authorization: '' })
  t.equal(h.status, 200)
  t.same(h.json, { status: 'ok' })
  const r = await b.get('/readyz', { authorization: '' })
  t.equal(r.status, 200)
  t.equal(r.json.status, 'ready')
  t.equal(r.json.list.persons, 1)
  t.equal(r.json.list.demo, false)
  t.same(r.json.warnings, [])
})

t.test('readyz is not_ready (503) with no list, and degraded with a stale or demo list', async (t) => {
  const empty = await build(t)
  const r = await empty.get('/readyz')
  t.equal(r.status, 503)
  t.equal(r.json.status, 'not_ready')
  const lookup = await empty.post('/v1/eligibility', { certno: A })
  t.equal(lookup.status, 503)
  t.equal(lookup.json.error.code, 'FANGPIN_LIST_NOT_LOADED')

  const demo = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])], demo: true })
  const d = await demo.get('/readyz')
  t.equal(d.json.status, 'degraded')
  t.equal(d.json.list.demo, true)
  t.match(d.json.warnings.join(' '), /DEMO DATA/)

  const stale = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  stale.store.db.prepare("UPDATE list_state SET loaded_at = '2020-01-01T00:00:00.000Z'").run()
  const s = await stale.get('/readyz')
  t.equal(s.json.status, 'degraded')
  t.equal(s.json.list.stale, true)
  const answer = await stale.post('/v1/eligibility', { certno: A })
  t.equal(answer.status, 200, 'a stale list still answers')
  t.equal(answer.json.list.stale, true)
})

t.test('metrics expose requests, latency, decisions and the list in Prometheus text', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  await b.post('/v1/eligibility', { certno: A })
  await b.post('/v1/admissions', { mdtrt_id: 'M1', certno: A })
  const m = await b.get('/metrics')
  t.equal(m.status, 200)
  t.match(m.headers.get('content-type'), /text\/plain/)
  t.match(m.text, /fangpin_http_requests_total\{method="POST",route="\/v1\/eligibility",status="200"\} 1/)
  t.match(m.text, /fangpin_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/admissions",le="\+Inf"\} 1/)
  t.match(m.text, /fangpin_lookups_total\{kind="admission",granted="true"\} 1/)
  t.match(m.text, /fangpin_list_persons 1/)
  t.match(m.text, /fangpin_admissions_open 1/)
})

t.test('the OpenAPI document is rendered from the request and response schemas', async (t) => {
  const b = await build(t, { records: [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  const page = await b.get('/docs')
  t.equal(page.status, 200)
  t.match(page.text, /swagger/i)
  const doc = await b.get('/docs/json')
  t.equal(doc.status, 200)
  t.ok(doc.json.paths['/v1/admissions'].post, 'admissions documented')
  t.ok(doc.json.paths['/v1/eligibility'].post, 'eligibility documented')
  t.ok(doc.json.components.schemas['admission-request'], 'request schema by its id')
  t.ok(doc.json.components.schemas.decision.properties.treat_first_pay_later)
  for (const [path, method] of [['/v1/admissions/{mdtrt_id}/charges', 'post'], ['/v1/admissions/{mdtrt_id}/charges/{feedetl_sn}', 'delete'],
    ['/v1/admissions/{mdtrt_id}/precheck', 'post'], ['/v1/admissions/{mdtrt_id}', 'get'], ['/v1/inpatients', 'get'],
    ['/v1/admissions/{mdtrt_id}/exemptions', 'post'], ['/v1/admissions/{mdtrt_id}/discharge-check', 'post'],
    ['/v1/admissions/{mdtrt_id}/discharge', 'post'], ['/v1/alerts', 'get'], ['/v1/alerts/{id}/ack', 'post']]) {
    t.ok(doc.json.paths[path]?.[method], `${method.toUpperCase()} ${path} documented`)
  }
  t.ok(doc.json.components.schemas['fee-detail'].properties.det_item_fee_sumamt)
  t.notOk(Object.keys(doc.json.paths).some((p) => p.startsWith('/staff')), 'the staff page API is not part of the HIS contract')
})

t.test('each bad configuration value is refused with a message naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ FANGPIN_PORT: 'eighty' }, /FANGPIN_PORT="eighty"/],
    [{ FANGPIN_PORT: '70000' }, /FANGPIN_PORT/],
    [{ FANGPIN_HOST: 'a b' }, /FANGPIN_HOST/],
    [{ FANGPIN_TZ: 'Mars/Olympus' }, /FANGPIN_TZ/],
    [{ FANGPIN_STALE_HOURS: '0' }, /FANGPIN_STALE_HOURS/],
    [{ FANGPIN_LOG_LEVEL: 'loud' }, /FANGPIN_LOG_LEVEL/],
    [{ FANGPIN_DATA_DIR: '' }, /FANGPIN_DATA_DIR/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), message)
    t.throws(() => loadConfig(env), ConfigError)
  }
  const both = (() => { try { loadConfig({ FANGPIN_PORT: 'x', FANGPIN_TZ: 'y' }); return '' } catch (e) { return (e as Error).message } })()
  t.match(both, /FANGPIN_PORT[\s\S]*FANGPIN_TZ/, 'all problems at once')
  const d = loadConfig({})
  t.equal(d.port, 8080)
  t.equal(d.host, '127.0.0.1')
  t.equal(d.profile, 'guangxi-liuzhou')
})

t.test('fangpin serve refuses to start on a bad value and on an unknown profile', async (t) => {
  const dir = tempDir(t)
  const port = await fangpin(['serve'], { FANGPIN_DATA_DIR: dir, FANGPIN_PORT: 'x' })
  t.equal(port.code, 78)
  t.match(port.stderr, /FANGPIN_PORT="x"/)
  const profile = await fangpin(['serve'], { FANGPIN_DATA_DIR: dir, FANGPIN_PROFILE: 'atlantis' })
  t.equal(profile.code, 78)
  t.match(profile.stderr, /FANGPIN_PROFILE="atlantis"/)
})

t.test('npm start on an empty data directory serves the demo list, announces it, and the README curl works', async (t) => {
  const dir = tempDir(t)
  const agent = await startAgent(t, { FANGPIN_DATA_DIR: dir })
  // stdout (the log) and stderr (the banner) arrive on two pipes: give both a moment.
  for (let i = 0; i < 50 && !agent.output().includes('DEMO MODE'); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(agent.output(), /DEMO DATA/)
  t.match(agent.output(), new RegExp(DEMO_TOKEN))
  t.match(agent.output(), /sign in as demo \/ demo-only-password/)
  const signIn = await fetch(agent.url + '/staff/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'demo', password: 'demo-only-password' }) })
  t.equal(signIn.status, 200, 'the demo staff sign-in opens the page')
  t.equal((await fetch(agent.url + '/')).status, 200)
  const ready = await (await fetch(agent.url + '/readyz')).json() as any
  t.equal(ready.status, 'degraded')
  t.equal(ready.list.demo, true)
  const res = await fetch(agent.url + '/v1/admissions', {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mdtrt_id: 'ZY0001', certno: demoCertno('extreme_poverty'), psn_name: '韦某', begntime: '2026-11-23 08:30:00', med_type: '21' })
  })
  t.equal(res.status, 201)
  const body = await res.json() as any
  t.equal(body.treat_first_pay_later, true)
  t.equal(body.primary_identity.label, '特困人员')
  t.equal(body.list.demo, true)
  t.equal(body.cards[0].indicator, 'critical')
  const key = statSync(join(dir, 'subject.key'))
  t.equal(key.mode & 0o777, 0o600, 'the subject key is readable by its owner only')
  agent.child.kill('SIGTERM')
  await new Promise((r) => agent.child.once('exit', r))
})

t.test('token create prints the token once; status reports the list; an import revokes the demo token', async (t) => {
  const dir = tempDir(t)
  const env = { FANGPIN_DATA_DIR: dir }
  const created = await fangpin(['token', 'create', '--name', 'his-vendor'], env)
  t.equal(created.code, 0, created.stderr)
  const token = created.stdout.trim()
  t.match(token, /^fp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
  t.match(created.stderr, /shown only this once/)
  const listed = await fangpin(['token', 'list'], env)
  t.match(listed.stdout, /his-vendor/)
  t.notOk(listed.stdout.includes(token.split('_')[2]), 'the secret is never listed')
  const noName = await fangpin(['token', 'create'], env)
  t.equal(noName.code, 64)
  const status = await fangpin(['status'], env)
  t.equal(status.code, 1, 'no list loaded yet')
  t.match(status.stdout, /NONE LOADED/)

  // a demo start, then a real import: the demo token stops working
  const agent = await startAgent(t, env)
  const csv = join(dir, 'county.csv')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(csv, `姓名,身份证号码,人员类别,身份生效时间\n张三,${A},低保对象,2020-01-01\n`)
  const imported = await fangpin(['import', csv], env)
  t.equal(imported.code, 0, imported.stderr)
  const demoCall = await fetch(agent.url + '/v1/eligibility', { method: 'POST', headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ certno: A }) })
  t.equal(demoCall.status, 401, 'demo token revoked once real data is loaded')
  const demoSignIn = await fetch(agent.url + '/staff/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'demo', password: 'demo-only-password' }) })
  t.equal(demoSignIn.status, 401, 'and the demo staff sign-in is disabled')
  const real = await fetch(agent.url + '/v1/eligibility', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ certno: A }) })
  const json = await real.json() as any
  t.equal(json.treat_first_pay_later, true)
  t.equal(json.list.demo, false)
  const after = await fangpin(['status'], env)
  t.equal(after.code, 0)
  t.match(after.stdout, /1 people, 1 identities/)
  t.match(after.stdout, /monitored stays  0 \(超标 0, 预警 0, 正常 0, 无比例上限 0, 豁免 0\)/)
  t.match(after.stdout, /staff accounts   0 active/, 'the demo sign-in is disabled')
  t.notOk(readFileSync(join(dir, 'fangpin.db')).toString('latin1').includes(A))
  agent.child.kill('SIGTERM')
})

/** An empty data directory with its store open, for the demo start-up tests. */
async function demoDataDir (t: { teardown: (fn: () => unknown) => void }) {
  const { openStore } = await import('../agent/store/store.ts')
  const { ensureDemo } = await import('../agent/server.ts')
  const { loadProfile } = await import('../profile/profile.ts')
  const dir = tempDir(t)
  const config = loadConfig({ FANGPIN_DATA_DIR: dir })
  const profile = loadProfile('guangxi-liuzhou')
  const store = openStore(dir)
  t.teardown(() => store.close())
  return { dir, config, profile, store, ensureDemo }
}

t.test('the demo token is made with the demo list only: once revoked it stays revoked across restarts', async (t) => {
  const { config, profile, store, ensureDemo } = await demoDataDir(t)
  const first = await ensureDemo(store, profile, config)
  await first.close()
  t.equal(first.notice.loaded, true)
  t.equal(first.notice.token, DEMO_TOKEN)
  t.equal(first.config.registryDemo, true, 'the demo is served as a registry')
  t.equal(store.list.state().source, 'registry', 'loaded through the sync path')
  t.equal(store.list.state().demo, true)
  t.ok(store.tokens.verify(DEMO_TOKEN))
  t.equal(store.tokens.revoke('demo-his'), 1)
  const again = await ensureDemo(store, profile, config)
  await again.close()
  t.equal(again.notice.loaded, true, 'still demo data')
  t.equal(again.notice.token, null, 'but no token comes back')
  t.equal(store.tokens.verify(DEMO_TOKEN), null)
})

t.test('a registry sync that replaces the demo list ends the demo token and the demo sign-in', async (t) => {
  const { runSync } = await import('../agent/intake/registry-sync.ts')
  const { keys, publishTo, faultServer } = await import('./registry-fixture.ts')
  const { mkdirSync } = await import('node:fs')
  const { config, profile, store, ensureDemo } = await demoDataDir(t)
  const demo = await ensureDemo(store, profile, config)
  await demo.close()
  t.same(demo.notice.staff, { name: 'demo', password: 'demo-only-password' })
  t.ok(store.staff.passwordHash('demo'))
  const regDir = join(tempDir(t), 'registry')
  mkdirSync(regDir)
  const server = await faultServer(regDir)
  t.teardown(() => server.close())
  const key = keys()
  publishTo(regDir, key.privateKey, { seq: 1, full: [{ op: 'upsert', certno: A, psn_cert_type: '01', psn_name: '张三', identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] }] })
  const { createContext } = await import('../agent/rules/context.ts')
  const { endDemoAccess } = await import('../agent/demo/demo-access.ts')
  const ctx = createContext({ store, profile, settings: { tz: config.tz, staleHours: config.staleHours, sessionIdleMinutes: config.sessionIdleMinutes } })
  // As the agent and `fangpin sync` wire it: the flip that makes real people serve ends the demo.
  const result = await runSync({ ctx, url: server.url, publicKey: key.publicKey, atRealList: () => endDemoAccess(store, 'sync') }, 'cli')
  t.equal(result.result, 'updated', result.message)
  t.equal(store.list.state().demo, false)
  t.equal(store.tokens.verify(DEMO_TOKEN), null, 'the demo token no longer works')
  t.equal(store.staff.passwordHash('demo'), undefined, 'the demo staff account is disabled')
  t.equal(store.audit.recent(5, 'demo.end').length, 1)
})

t.test('at start, demo access left behind by a crash after real people arrived is ended', async (t) => {
  const { config, profile, store, ensureDemo } = await demoDataDir(t)
  await (await ensureDemo(store, profile, config)).close()
  t.equal(store.staff.byName('demo')?.role, 'billing', 'the demo sign-in cannot administer')
  // The list was replaced but the process died before the demo access was ended.
  await store.list.replace([{ op: 'upsert', certno: A, psn_cert_type: '01', psn_name: '张三', identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] }], { source: 'import', label: 'county.csv' })
  t.ok(store.tokens.verify(DEMO_TOKEN), 'still there before the restart')
  const next = await ensureDemo(store, profile, config)
  await next.close()
  t.equal(next.notice.loaded, false)
  t.equal(store.tokens.verify(DEMO_TOKEN), null)
  t.equal(store.staff.passwordHash('demo'), undefined)
})
