// Sign-in limits as an attacker on the hospital LAN meets them: a lock is on the pair of account and
// address (and on an address failing for many names), kept in the database through restarts and
// floods, and ended by IT from the command line or the admin section.
import t from 'tap'
import { request } from 'node:http'
import { build, fangpin, tempDir, type Built, SETUP } from './helper.ts'
import { records } from './charge-fixture.ts'
import { loadConfig } from '../agent/config.ts'
import { loadProfile } from '../profile/profile.ts'
import { openStore } from '../agent/store/store.ts'
import { buildApp } from '../agent/app.ts'
import { SignInLimit, clientAddress } from '../agent/rules/sign-in-limit.ts'
import { launchBrowser, openPage, signIn as pageSignIn } from './staff-fixture.ts'

const PASSWORD = 'correct horse 1'
const ADMIN_PASSWORD = 'admin password 1'

async function staffBuild (t: Parameters<typeof build>[0]): Promise<Built> {
  const b = await build(t, { records })
  await b.app.rules.addStaff(SETUP, { name: 'root', role: 'billing', password: PASSWORD })
  await b.app.rules.addStaff(SETUP, { name: 'admin', role: 'admin', password: ADMIN_PASSWORD })
  return b
}

interface Answer { status: number, json: any, cookie: string | null }

/**
 * A JSON call from a chosen loopback source address (127.0.0.2, 127.0.0.3 …): on Linux the whole
 * of 127/8 is the loopback, so each address is another PC on the LAN as the agent sees it.
 */
function call (url: string, path: string, opts: { from?: string, body?: unknown, cookie?: string } = {}): Promise<Answer> {
  const target = new URL(path, url)
  const body = JSON.stringify(opts.body ?? {})
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      localAddress: opts.from ?? '127.0.0.1',
      headers: { 'content-type': 'application/json', ...(opts.cookie !== undefined ? { cookie: opts.cookie } : {}) }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => {
        const setCookie = res.headers['set-cookie']?.[0]
        let json: any
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, json, cookie: setCookie === undefined ? null : setCookie.split(';')[0] })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const signIn = async (url: string, name: string, password: string, from: string): Promise<Answer> =>
  await call(url, '/staff/api/login', { from, body: { name, password } })

t.test('five wrong passwords for an account from one address do not lock that account from another address', async (t) => {
  const b = await staffBuild(t)
  for (let i = 0; i < 5; i++) t.equal((await signIn(b.url, 'root', `guess ${i}`, '127.0.0.2')).status, 401)
  const there = await signIn(b.url, 'root', PASSWORD, '127.0.0.2')
  t.equal(there.status, 429, 'the guessing address is locked out of that account')
  t.equal(there.json.error.code, 'FANGPIN_TOO_MANY_ATTEMPTS')
  t.match(there.json.error.message, /该账号在本机/, 'the answer says the lock is on this account from this address')
  const elsewhere = await signIn(b.url, 'root', PASSWORD, '127.0.0.3')
  t.equal(elsewhere.status, 200, 'the account still signs in from another PC')
  t.equal((await signIn(b.url, 'admin', ADMIN_PASSWORD, '127.0.0.2')).status, 200, 'and the guessing address can still sign in to another account')
  const locked = b.store.audit.recent(20, 'staff.signin').filter((a) => a.decision === 'locked')
  t.equal(locked.length, 1, 'the lock is audited once')
  t.equal(locked[0].client, 'staff:root')
  t.match(JSON.parse(locked[0].detail!), { ip: '127.0.0.2', scope: 'account' })
})

t.test('an address failing for many names is locked for every name, and only that address', async (t) => {
  const b = await staffBuild(t)
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) statuses.push((await signIn(b.url, `user${i}`, 'wrong password', '127.0.0.2')).status)
  t.same(statuses, Array(20).fill(401), 'twenty failures across names are each checked')
  const next = await signIn(b.url, 'root', PASSWORD, '127.0.0.2')
  t.equal(next.status, 429, 'then the address is locked, whatever name it tries')
  t.match(next.json.error.message, /本机登录失败次数过多/)
  t.equal((await signIn(b.url, 'root', PASSWORD, '127.0.0.3')).status, 200, 'other addresses are not')
})

t.test('2,000 addresses failing against other names never clear an active lock, and the state stays bounded', async (t) => {
  const b = await staffBuild(t)
  // The behaviour over HTTP: the pair (root, 127.0.0.2) is locked.
  for (let i = 0; i < 5; i++) await signIn(b.url, 'root', `guess ${i}`, '127.0.0.2')
  t.equal((await signIn(b.url, 'root', PASSWORD, '127.0.0.2')).status, 429)
  // The volume straight into the limiter the route uses (scrypt makes 10,000 HTTP sign-ins take
  // minutes; one transaction around the flood spares its 10,000 fsyncs): 2,000 more addresses,
  // five failures each, each against other names.
  const limit = new SignInLimit(b.store.signInLimits)
  let refused = 0
  b.store.db.transaction(() => {
    for (let a = 0; a < 2000; a++) {
      const address = `10.${(a >> 8) & 255}.${a & 255}.7`
      for (let k = 0; k < 5; k++) if (limit.attempt(address, `name-${a}-${k}`).refused !== null) refused++
    }
    // And one address trying a thousand names: counted until the address is locked, then refused.
    for (let k = 0; k < 1000; k++) limit.attempt('10.99.99.99', `spray-${k}`)
  })()
  t.equal(refused, 0, 'five failures of one address across names lock nothing')
  const wait = limit.retryAfter('127.0.0.2', 'root')
  t.ok(wait > 0 && wait <= 15 * 60, `the lock is still there (${wait} s left)`)
  t.equal((await signIn(b.url, 'root', PASSWORD, '127.0.0.2')).status, 429, 'and the route still refuses the pair')
  const perAddress = b.store.db.prepare('SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM signin_failure GROUP BY address)').pluck().get() as number
  t.equal(perAddress, 21, 'one address makes at most twenty pair rows and its own row')
  t.equal(b.store.db.prepare("SELECT COUNT(*) FROM signin_failure WHERE address = '10.99.99.99'").pluck().get(), 21)
  t.ok(limit.retryAfter('10.99.99.99', 'anyone') > 0, 'the spraying address is locked')
  // Expired rows go: the flood's rows are purged once their quarter hour is over; the lock too.
  const later = Date.now() + 16 * 60_000
  b.store.signInLimits.purge(later)
  t.equal(b.store.db.prepare('SELECT COUNT(*) FROM signin_failure').pluck().get(), 0, 'nothing outlives its window')
})

t.test('addresses are counted as one host can vary them: IPv4 as is, IPv6 by its /64', async (t) => {
  t.equal(clientAddress('10.1.2.3'), '10.1.2.3')
  t.equal(clientAddress('::ffff:10.1.2.3'), '10.1.2.3', 'an IPv4-mapped address is the IPv4 host')
  t.equal(clientAddress('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  t.equal(clientAddress('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64', 'another address of the same /64 is the same counter')
  t.equal(clientAddress('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(clientAddress('fe80::1%eth0'), 'fe80:0:0:0::/64')
  t.not(clientAddress('2001:db8:1:3::1'), clientAddress('2001:db8:1:2::1'), 'the next /64 is another')
})

t.test('a lock survives a restart of the agent on the same data directory', async (t) => {
  const dataDir = tempDir(t)
  const config = loadConfig({ FANGPIN_DATA_DIR: dataDir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' })
  const profile = loadProfile(config.profile)
  const start = async () => {
    const store = openStore(dataDir)
    const app = await buildApp({ config, profile, store, autoSync: false, logger: false })
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    return { app, store, url }
  }
  const first = await start()
  await first.app.rules.addStaff(SETUP, { name: 'root', role: 'billing', password: PASSWORD })
  for (let i = 0; i < 5; i++) t.equal((await signIn(first.url, 'root', `guess ${i}`, '127.0.0.2')).status, 401)
  await first.app.close()
  first.store.close()
  const second = await start()
  t.teardown(async () => { await second.app.close(); second.store.close() })
  t.equal((await signIn(second.url, 'root', PASSWORD, '127.0.0.2')).status, 429, 'a restart is not a way to reset a lock')
  t.equal((await signIn(second.url, 'root', PASSWORD, '127.0.0.3')).status, 200)
})

t.test('fangpin user unlock ends every lock on the account, from every address, and is audited', async (t) => {
  const b = await staffBuild(t)
  for (const from of ['127.0.0.2', '127.0.0.3']) {
    for (let i = 0; i < 5; i++) await signIn(b.url, 'root', `guess ${i}`, from)
    t.equal((await signIn(b.url, 'root', PASSWORD, from)).status, 429, `locked from ${from}`)
  }
  const env = { FANGPIN_DATA_DIR: b.config.dataDir }
  const res = await fangpin(['user', 'unlock', 'root'], env)
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /root.*2/, 'it says how many locks it ended')
  for (const from of ['127.0.0.2', '127.0.0.3']) t.equal((await signIn(b.url, 'root', PASSWORD, from)).status, 200, `the running agent lets root in from ${from} at once`)
  const audit = b.store.audit.recent(10, 'staff.unlock')
  t.equal(audit.length, 1)
  t.match(audit[0].client, /^cli:/)
  t.match(JSON.parse(audit[0].detail!), { name: 'root', locks: 2 })
  const nobody = await fangpin(['user', 'unlock', 'nobody'], env)
  t.equal(nobody.code, 64)
  t.match(nobody.stderr, /no staff user named nobody/)
  t.match((await fangpin(['help'], env)).stdout, /user unlock <name>/, 'the usage lists it')
})

t.test('an admin unlocks an account through POST /staff/api/users/:name/unlock; billing staff cannot', async (t) => {
  const b = await staffBuild(t)
  await b.app.rules.addStaff(SETUP, { name: '王会计', role: 'billing', password: 'billing pass 1' })
  for (let i = 0; i < 5; i++) await signIn(b.url, 'root', `guess ${i}`, '127.0.0.2')
  const admin = (await signIn(b.url, 'admin', ADMIN_PASSWORD, '127.0.0.1')).cookie!
  const users = await b.get('/staff/api/users', { cookie: admin, authorization: '' })
  const root = users.json.users.find((u: any) => u.name === 'root')
  t.equal(root.locks.length, 1, 'the admin sees the lock')
  t.equal(root.locks[0].address, '127.0.0.2')
  t.ok(Date.parse(root.locks[0].until) > Date.now())
  const billing = (await signIn(b.url, '王会计', 'billing pass 1', '127.0.0.1')).cookie!
  t.equal((await call(b.url, '/staff/api/users/root/unlock', { cookie: billing })).status, 403, 'billing staff cannot unlock')
  t.equal((await signIn(b.url, 'root', PASSWORD, '127.0.0.2')).status, 429)
  t.equal((await call(b.url, '/staff/api/users/nobody/unlock', { cookie: admin })).status, 404)
  const unlocked = await call(b.url, `/staff/api/users/${encodeURIComponent('root')}/unlock`, { cookie: admin })
  t.equal(unlocked.status, 200)
  t.same(unlocked.json, { name: 'root', unlocked: 1 })
  t.equal((await signIn(b.url, 'root', PASSWORD, '127.0.0.2')).status, 200)
  const audit = b.store.audit.recent(10, 'staff.unlock')
  t.equal(audit.length, 1)
  t.equal(audit[0].client, 'staff:admin')
})

t.test('a failed sign-in with a password typed as the name leaves no trace of it in the database or the log', async (t) => {
  const b = await staffBuild(t)
  const typed = 'Tr0ub4dor&3-secret'
  t.equal((await signIn(b.url, typed, 'wrong', '127.0.0.2')).status, 401)
  t.equal((await signIn(b.url, 'root', 'wrong', '127.0.0.2')).status, 401)
  const refused = b.store.audit.recent(10, 'staff.signin').filter((a) => a.decision === 'refused').map((a) => a.client)
  t.same(refused.sort(), ['staff:(unknown)', 'staff:root'], 'an existing account is named, an unknown name is not')
  const tables = b.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]
  for (const table of tables) {
    const rows = b.store.db.prepare(`SELECT * FROM "${table}"`).all()
    const text = JSON.stringify(rows, (_k, v) => Buffer.isBuffer(v) ? v.toString('latin1') : v)
    t.notOk(text.includes(typed), `no trace in ${table}`)
  }
  t.notOk(b.logs.join('').includes(typed), 'nor in the log')
})

t.test('the admin section shows a locked account with a 解锁 button that ends the lock', async (t) => {
  const b = await staffBuild(t)
  for (let i = 0; i < 5; i++) await signIn(b.url, 'root', `guess ${i}`, '127.0.0.2')
  const browser = await launchBrowser(t)
  const { page, problems } = await openPage(t, browser)
  await pageSignIn(page, b.url, 'admin', ADMIN_PASSWORD)
  const row = page.locator('#user-rows tr[data-user-name="root"]')
  await row.waitFor()
  t.match(await row.innerText(), /已锁定/, 'the row says the account is locked')
  t.match(await row.innerText(), /127\.0\.0\.2/, 'and from where')
  page.once('dialog', (d) => { void d.accept() })
  await row.getByRole('button', { name: '解锁 root' }).click()
  await page.locator('#user-rows tr[data-user-name="root"]', { hasText: '正常' }).waitFor()
  t.equal(await row.getByRole('button').count(), 0, 'no button once unlocked')
  t.equal((await signIn(b.url, 'root', PASSWORD, '127.0.0.2')).status, 200)
  t.equal(b.store.audit.recent(5, 'staff.unlock')[0]?.client, 'staff:admin')
  t.same(problems, [])
})
