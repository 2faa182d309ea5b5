// The disk under the database: full, read-only, readable by others. Each has a clear answer: a 503
// with its own code and a message IT can act on (never an opaque 500), /readyz not ready until
// writes work again (without a restart), a staff alert recording the outage, files only the
// service user can read, and an open error that names the path and what to check.
import t from 'tap'
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { execFileSync, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { build, certno, person, tempDir, fangpin, startAgent, ROOT } from './helper.ts'
import { openStore } from '../agent/store/store.ts'
import { loadConfig } from '../agent/config.ts'
import { loadProfile } from '../profile/profile.ts'
import { buildApp } from '../agent/app.ts'

const A = certno('45020619580312001')
const records = [person(A, '张三', [['extreme_poverty', '2021-01-01 00:00:00', null]])]
const admission = (id: string): Record<string, unknown> => ({ mdtrt_id: id, certno: A, psn_name: '张三', begntime: '2026-11-20 09:30:00', med_type: '21' })

t.test('a full database answers 503 FANGPIN_STORAGE_UNAVAILABLE, /readyz says so, and writes recover without a restart', async (t) => {
  const b = await build(t, { records })
  const db = b.store.db
  // SQLite's own limit stands in for the disk: past max_page_count every write that needs a new
  // page fails with SQLITE_FULL, exactly as on a full filesystem. Admissions fill the last pages.
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
  let admit = await b.post('/v1/admissions', admission('ZY-FULL-0'))
  for (let i = 1; i < 5000 && admit.status === 201; i++) admit = await b.post('/v1/admissions', admission(`ZY-FULL-${i}`))
  t.equal(admit.status, 503, admit.text)
  t.equal(admit.json.error.code, 'FANGPIN_STORAGE_UNAVAILABLE')
  t.match(admit.json.error.message, /nothing of this request was recorded/)
  t.match(admit.json.error.message, new RegExp(b.config.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the message names the data directory')
  t.equal(admit.headers.get('retry-after'), '30')
  let look = await b.post('/v1/eligibility', { certno: A })
  for (let i = 0; i < 5000 && look.status === 200; i++) look = await b.post('/v1/eligibility', { certno: A })
  t.equal(look.status, 503, 'a lookup whose audit row cannot be written is not answered as if it were')
  t.equal(look.json.error.code, 'FANGPIN_STORAGE_UNAVAILABLE')
  const ready = await b.get('/readyz')
  t.equal(ready.status, 503)
  t.equal(ready.json.status, 'not_ready')
  t.match(ready.json.warnings.join('\n'), /storage: writes fail since .*disk holding the database is full/)
  t.match((await b.get('/metrics')).text, /fangpin_storage_failing 1/)
  t.notOk(b.logs.some((l) => l.includes('"internal error"')), 'no internal-error log line')

  db.pragma('max_page_count = 1073741823')
  const again = await b.get('/readyz')
  t.equal(again.status, 200, 'ready again without a restart')
  t.equal(again.json.status, 'ready')
  t.match((await b.get('/metrics')).text, /fangpin_storage_failing 0/)
  const alert = b.store.alerts.open().find((a) => a.kind === 'storage_failed')
  t.ok(alert, 'the outage is recorded for staff')
  t.match(alert?.message ?? '', /无法写入（SQLITE_FULL）.*现已恢复/)
  t.equal(alert?.level, 'critical')
  const admitted = await b.post('/v1/admissions', admission('ZY-FULL-AGAIN'))
  t.equal(admitted.status, 201, 'the HIS retry is recorded')
})

t.test('a real full filesystem: 503s while full, ready again once space is freed', async (t) => {
  const mnt = tempDir(t, 'fangpin-tmpfs-')
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]).status === 0
  if (!mounted) {
    t.pass('skipped: cannot mount a small tmpfs here (needs root); the max_page_count test covers the behaviour')
    return
  }
  t.teardown(() => { spawnSync('umount', ['-l', mnt]) })
  const dataDir = join(mnt, 'data')
  const store = openStore(dataDir)
  await store.list.replace(records, { source: 'import', label: 'test' })
  const token = store.tokens.create('his', 'his').token
  const config = loadConfig({ FANGPIN_DATA_DIR: dataDir, FANGPIN_LOG_LEVEL: 'silent' })
  const app = await buildApp({ config, profile: loadProfile(config.profile), store, autoSync: false, logger: false })
  t.teardown(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const filler = join(mnt, 'filler')
  const fd = openSync(filler, 'w')
  try {
    for (;;) writeSync(fd, Buffer.alloc(64 * 1024))
  } catch (err) {
    t.equal((err as NodeJS.ErrnoException).code, 'ENOSPC', 'the filesystem is full')
  } finally {
    closeSync(fd)
  }
  let full: { status: number, json: any } | undefined
  for (let i = 0; i < 3000 && full === undefined; i++) {
    const res = await fetch(url + '/v1/admissions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(admission(`ZY-DISK-${i}`)) })
    if (res.status !== 201) full = { status: res.status, json: await res.json() }
    else await res.arrayBuffer()
  }
  t.equal(full?.status, 503, 'an admission on a full disk is a 503')
  t.equal(full?.json.error.code, 'FANGPIN_STORAGE_UNAVAILABLE')
  t.equal((await fetch(url + '/readyz')).status, 503)
  rmSync(filler)
  const ready = await fetch(url + '/readyz')
  t.equal(ready.status, 200, 'ready again once space is freed')
  const res = await fetch(url + '/v1/admissions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(admission('ZY-DISK-AFTER')) })
  t.equal(res.status, 201)
})

t.test('the database, its WAL and shared-memory files are readable by the service user only, and an open data directory is warned about', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  mkdirSync(dataDir, { mode: 0o755 })
  chmodSync(dataDir, 0o755)
  const agent = await startAgent(t, { FANGPIN_DATA_DIR: dataDir })
  for (let i = 0; i < 400 && !agent.output().includes('warning: the data directory'); i++) await new Promise((r) => setTimeout(r, 50))
  for (const f of ['fangpin.db', 'fangpin.db-wal', 'fangpin.db-shm']) {
    t.equal((statSync(join(dataDir, f)).mode & 0o777).toString(8), '600', `${f} is 0600`)
  }
  t.match(agent.output(), /warning: the data directory .* can be read by other users of this machine \(mode 755\): run chmod 700/)
  agent.child.kill('SIGKILL')
  await new Promise((resolve) => agent.child.once('exit', resolve))

  // A database copied in with loose permissions is tightened when it is opened.
  chmodSync(join(dataDir, 'fangpin.db'), 0o644)
  openStore(dataDir).close()
  t.equal((statSync(join(dataDir, 'fangpin.db')).mode & 0o777).toString(8), '600')
})

t.test('a data directory the agent cannot write names the path and what to check', async (t) => {
  const dataDir = join(tempDir(t), 'readonly')
  mkdirSync(dataDir)
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  // root ignores file modes: run the command as an unprivileged user instead.
  const env = { FANGPIN_DATA_DIR: dataDir }
  let out: { code: number | null, stderr: string }
  if (root) {
    chmodSync(dataDir, 0o755)
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'status'], { cwd: ROOT, env: { ...process.env, ...env, HOME: '/tmp' }, uid: 65534, gid: 65534, encoding: 'utf8' })
    out = { code: r.status, stderr: r.stderr }
  } else {
    chmodSync(dataDir, 0o555)
    out = await fangpin(['status'], env)
  }
  t.not(out.code, 0)
  t.match(out.stderr, new RegExp(`cannot open the database ${join(dataDir, 'fangpin.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  t.match(out.stderr, /writable by the user running fangpin/)
  t.notMatch(out.stderr, /^fangpin status: unable to open database file$/m)
  void execFileSync
  void writeFileSync
})
