// The staff page's API without a browser: sign-in, sessions, roles, audit, live alerts, and the
// wall between staff sessions and HIS tokens.
import t from 'tap'
import { build, fangpin, tempDir, type Built, SETUP } from './helper.ts'
import { records, admit, charge, line } from './charge-fixture.ts'
import { openStore } from '../agent/store/store.ts'

async function staffBuild (t: Parameters<typeof build>[0], env: Record<string, string> = {}): Promise<Built> {
  const b = await build(t, { records, env })
  await b.app.rules.addStaff(SETUP, { name: '王会计', role: 'billing', password: 'correct horse 1' })
  await b.app.rules.addStaff(SETUP, { name: 'admin', role: 'admin', password: 'admin password 1' })
  return b
}

async function signIn (b: Built, name: string, password: string): Promise<{ status: number, cookie: string | null, json: any, setCookie: string | null }> {
  const res = await fetch(b.url + '/staff/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) })
  const setCookie = res.headers.get('set-cookie')
  return { status: res.status, json: await res.json(), setCookie, cookie: setCookie === null ? null : setCookie.split(';')[0] }
}

const as = (cookie: string) => ({ cookie, authorization: '' })

t.test('staff sign in with name and password and get an HttpOnly, SameSite=Strict session cookie', async (t) => {
  const b = await staffBuild(t)
  const res = await signIn(b, '王会计', 'correct horse 1')
  t.equal(res.status, 200)
  t.same(res.json, { name: '王会计', role: 'billing' })
  t.match(res.setCookie, /^fangpin_session=[\w-]{30,}; Path=\/; HttpOnly; SameSite=Strict$/)
  const me = await b.get('/staff/api/me', as(res.cookie!))
  t.same(me.json, { name: '王会计', role: 'billing' })
  const stored = b.store.db.prepare('SELECT token_hash FROM staff_session').all() as Array<{ token_hash: Buffer }>
  t.equal(stored.length, 1)
  t.notOk(stored[0].token_hash.toString('latin1').includes(res.cookie!.split('=')[1]), 'only a hash of the cookie is stored')
  const hash = b.store.db.prepare('SELECT password_hash FROM staff_user WHERE name = ?').pluck().get('王会计') as string
  t.match(hash, /^scrypt\$16384\$8\$1\$/)
  t.equal(b.store.audit.recent(10, 'staff.signin')[0].decision, 'ok')
})

t.test('a wrong password or an unknown name is refused the same way and audited', async (t) => {
  const b = await staffBuild(t)
  const wrong = await signIn(b, '王会计', 'wrong password')
  t.equal(wrong.status, 401)
  t.equal(wrong.json.error.code, 'FANGPIN_SIGNIN_FAILED')
  t.equal(wrong.setCookie, null)
  const nobody = await signIn(b, '不存在', 'wrong password')
  t.equal(nobody.status, 401)
  t.equal(nobody.json.error.message, wrong.json.error.message, 'the answer does not reveal which names exist')
  t.equal(b.store.audit.recent(10, 'staff.signin').filter((a) => a.decision === 'refused').length, 2)
})

t.test('sign-in is rate-limited after five failures', async (t) => {
  const b = await staffBuild(t)
  for (let i = 0; i < 5; i++) t.equal((await signIn(b, '王会计', `guess ${i}`)).status, 401)
  const limited = await signIn(b, '王会计', 'correct horse 1')
  t.equal(limited.status, 429, 'even the right password waits once the limit is reached')
  t.equal(limited.json.error.code, 'FANGPIN_TOO_MANY_ATTEMPTS')
})

t.test('an HIS token cannot read staff data and a staff session cannot call HIS endpoints', async (t) => {
  const b = await staffBuild(t)
  const his = await b.get('/staff/api/inpatients')
  t.equal(his.status, 401, 'the HIS bearer token opens nothing under /staff')
  const { cookie } = await signIn(b, 'admin', 'admin password 1')
  const staff = await b.get('/v1/inpatients', as(cookie!))
  t.equal(staff.status, 401, 'the staff cookie opens nothing under /v1')
  t.equal((await b.get('/v1/admissions/ZY1', as(cookie!))).status, 401)
})

t.test('billing staff see inpatients, stay details and alerts, record exemptions, and cannot administer', async (t) => {
  const b = await staffBuild(t)
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  const { cookie } = await signIn(b, '王会计', 'correct horse 1')
  const list = await b.get('/staff/api/inpatients', as(cookie!))
  t.equal(list.json.inpatients[0].status, 'breach')
  const detail = await b.get('/staff/api/stays/ZY1', as(cookie!))
  t.equal(detail.status, 200)
  t.equal(detail.json.gate.decision, 'block')
  t.equal(detail.json.gate.hospital_borne_amt, 350)
  t.equal(b.store.audit.recent(10, 'staff.view_stay')[0].client, 'staff:王会计', 'looking at a patient is audited')
  const overview = await b.get('/staff/api/overview', as(cookie!))
  t.equal(overview.json.counts.breach, 1)
  t.equal(overview.json.list.region_name, '广西壮族自治区柳州市柳江区')
  const alerts = await b.get('/staff/api/alerts', as(cookie!))
  const id = alerts.json.alerts[0].id
  const ack = await b.post(`/staff/api/alerts/${id}/ack`, {}, as(cookie!))
  t.equal(ack.json.acknowledged_by, '王会计')
  const ex = await b.post('/staff/api/stays/ZY1/exemptions', { approval_no: 'SP-1', approved_by: '柳江区医保局', reason: '特殊病例' }, as(cookie!))
  t.equal(ex.status, 201)
  t.equal(ex.json.exemption.recorded_by, 'staff:王会计')
  t.equal(ex.json.status, 'exempt')
  t.equal((await b.get('/staff/api/tokens', as(cookie!))).status, 403)
  t.equal((await b.post('/staff/api/users', { name: 'x', role: 'admin', password: '12345678' }, as(cookie!))).status, 403)
})

t.test('admin staff create and revoke HIS tokens and add staff users', async (t) => {
  const b = await staffBuild(t)
  const { cookie } = await signIn(b, 'admin', 'admin password 1')
  const created = await b.post('/staff/api/tokens', { name: '收费系统', role: 'his' }, as(cookie!))
  t.equal(created.status, 201)
  t.match(created.json.token, /^fp_/)
  const works = await fetch(b.url + '/v1/alerts', { headers: { authorization: `Bearer ${created.json.token as string}` } })
  t.equal(works.status, 200)
  const revoked = await b.post(`/staff/api/tokens/${created.json.id as string}/revoke`, {}, as(cookie!))
  t.equal(revoked.json.revoked, true)
  t.equal((await fetch(b.url + '/v1/alerts', { headers: { authorization: `Bearer ${created.json.token as string}` } })).status, 401)
  const user = await b.post('/staff/api/users', { name: '李护士', role: 'billing', password: 'another pass 1' }, as(cookie!))
  t.equal(user.status, 201)
  t.equal((await signIn(b, '李护士', 'another pass 1')).status, 200)
  t.equal((await b.post('/staff/api/users', { name: '李护士', role: 'billing', password: 'another pass 1' }, as(cookie!))).status, 409)
  t.equal((await b.post('/staff/api/users', { name: '短', role: 'billing', password: 'short' }, as(cookie!))).status, 400)
  const actions = b.store.audit.recent(20).map((a) => a.action)
  for (const a of ['token.create', 'token.revoke', 'staff.user_add']) t.ok(actions.includes(a), `${a} is audited`)
  t.equal((await b.post('/staff/api/sync', {}, as(cookie!))).status, 409, 'no registry configured')
})

t.test('a session ends after the idle time and at sign-out', async (t) => {
  const b = await staffBuild(t, { FANGPIN_SESSION_IDLE_MINUTES: '5' })
  const { cookie } = await signIn(b, '王会计', 'correct horse 1')
  t.equal((await b.get('/staff/api/me', as(cookie!))).status, 200)
  b.store.db.prepare('UPDATE staff_session SET last_seen_at = ?').run(new Date(Date.now() - 6 * 60_000).toISOString())
  const idle = await b.get('/staff/api/me', as(cookie!))
  t.equal(idle.status, 401)
  t.match(idle.headers.get('set-cookie'), /Max-Age=0/)
  const second = await signIn(b, '王会计', 'correct horse 1')
  t.equal((await b.post('/staff/api/logout', {}, as(second.cookie!))).status, 200)
  t.equal((await b.get('/staff/api/me', as(second.cookie!))).status, 401)
  t.equal(b.store.db.prepare('SELECT COUNT(*) FROM staff_session').pluck().get(), 0)
})

t.test('live alerts arrive as server-sent events when a charge batch raises one', async (t) => {
  const b = await staffBuild(t)
  await admit(b, 'ZY1')
  const { cookie } = await signIn(b, '王会计', 'correct horse 1')
  const controller = new AbortController()
  t.teardown(() => controller.abort())
  const res = await fetch(b.url + '/staff/api/events', { headers: { cookie: cookie! }, signal: controller.signal })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /text\/event-stream/)
  const reader = res.body!.getReader()
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 20000, '03')])
  let text = ''
  const deadline = Date.now() + 5000
  while (!text.includes('event: alert') && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
  }
  const data = /event: alert\ndata: (.*)\n/.exec(text)
  t.ok(data, 'an alert event arrived')
  const alert = JSON.parse(data![1])
  t.equal(alert.kind, 'spending_breach')
  t.equal(alert.mdtrt_id, 'ZY1')
  controller.abort()
  const his = await fetch(b.url + '/staff/api/events', { headers: { authorization: `Bearer ${b.token}` } })
  t.equal(his.status, 401)
})

t.test('fangpin user add creates a staff account from --password-stdin; short passwords are refused', async (t) => {
  const dataDir = tempDir(t)
  const ok = await fangpin(['user', 'add', '--name', '张收费', '--role', 'billing', '--password-stdin'], { FANGPIN_DATA_DIR: dataDir }, { input: 'a good password\n' })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /staff user 张收费 \(billing\) created/)
  const short = await fangpin(['user', 'add', '--name', '短', '--role', 'billing', '--password-stdin'], { FANGPIN_DATA_DIR: dataDir }, { input: 'short\n' })
  t.equal(short.code, 64)
  t.match(short.stderr, /at least 8 characters/)
  const dup = await fangpin(['user', 'add', '--name', '张收费', '--role', 'admin', '--password-stdin'], { FANGPIN_DATA_DIR: dataDir }, { input: 'a good password\n' })
  t.equal(dup.code, 64)
  const noStdin = await fangpin(['user', 'add', '--name', '王', '--role', 'admin'], { FANGPIN_DATA_DIR: dataDir })
  t.equal(noStdin.code, 64)
  t.match(noStdin.stderr, /--password-stdin/)
  const list = await fangpin(['user', 'list'], { FANGPIN_DATA_DIR: dataDir })
  t.match(list.stdout, /张收费\s+billing/)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  const { verifyPassword } = await import('../agent/rules/password.ts')
  t.ok(await verifyPassword('a good password', store.staff.passwordHash('张收费')!))
  t.equal(store.audit.recent(5, 'staff.user_add').length, 1)
  const disabled = await fangpin(['user', 'disable', '张收费'], { FANGPIN_DATA_DIR: dataDir })
  t.equal(disabled.code, 0)
  t.equal(store.staff.passwordHash('张收费'), undefined, 'a disabled user cannot sign in')
})

t.test('guesses sent all at once are still limited: the attempt counts before the password is checked', async (t) => {
  const b = await staffBuild(t)
  const results = await Promise.all(Array.from({ length: 20 }, async (_v, i) => (await signIn(b, '王会计', `guess ${i}`)).status))
  t.equal(results.filter((s) => s === 401).length, 5, 'five are checked')
  t.equal(results.filter((s) => s === 429).length, 15, 'the rest are refused at once')
})

t.test('refreshes the page makes by itself do not keep an unattended session alive', async (t) => {
  const b = await staffBuild(t, { FANGPIN_SESSION_IDLE_MINUTES: '5' })
  const { cookie } = await signIn(b, '王会计', 'correct horse 1')
  const seen = () => b.store.db.prepare('SELECT last_seen_at FROM staff_session').pluck().get() as string
  const fourMinutesAgo = new Date(Date.now() - 4 * 60_000).toISOString()
  b.store.db.prepare('UPDATE staff_session SET last_seen_at = ?').run(fourMinutesAgo)
  t.equal((await b.get('/staff/api/inpatients', { ...as(cookie!), 'x-fangpin-background': '1' })).status, 200)
  t.equal(seen(), fourMinutesAgo, 'a background refresh is not activity')
  t.equal((await b.get('/staff/api/inpatients', as(cookie!))).status, 200)
  t.not(seen(), fourMinutesAgo, 'a request the user made is')
})

t.test('a new password ends the sessions of the old one', async (t) => {
  const b = await staffBuild(t)
  const { cookie } = await signIn(b, '王会计', 'correct horse 1')
  await b.app.rules.setStaffPassword(SETUP, '王会计', 'a brand new password')
  t.equal((await b.get('/staff/api/me', as(cookie!))).status, 401)
  t.equal((await signIn(b, '王会计', 'a brand new password')).status, 200)
})

t.test('two requests adding the same user at once: one is created, the other is a conflict', async (t) => {
  const b = await staffBuild(t)
  const { cookie } = await signIn(b, 'admin', 'admin password 1')
  const body = { name: '双击', role: 'billing', password: 'double click 1' }
  const statuses = (await Promise.all([b.post('/staff/api/users', body, as(cookie!)), b.post('/staff/api/users', body, as(cookie!))])).map((r) => r.status).sort()
  t.same(statuses, [201, 409])
})

t.test('a state-changing staff call from another origin is refused', async (t) => {
  const b = await staffBuild(t)
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 20000, '03')])
  const { cookie } = await signIn(b, '王会计', 'correct horse 1')
  const id = (await b.get('/staff/api/alerts', as(cookie!))).json.alerts[0].id
  const other = await b.post(`/staff/api/alerts/${id as number}/ack`, {}, { ...as(cookie!), origin: 'http://127.0.0.1:9999' })
  t.equal(other.status, 403)
  t.equal((await b.get('/staff/api/alerts', as(cookie!))).json.count, 1, 'nothing was acknowledged')
  const same = await b.post(`/staff/api/alerts/${id as number}/ack`, {}, { ...as(cookie!), origin: b.url })
  t.equal(same.status, 200)
})
