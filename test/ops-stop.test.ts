// Graceful stop: a SIGTERM (systemctl stop, a WinSW stop, an upgrade) while the HIS is in the middle
// of a request lets that answer out, refuses new connections, closes the database cleanly (its WAL
// folded in) and exits 0.
import t from 'tap'
import Database from 'better-sqlite3'
import { connect } from 'node:net'
import { spawn } from 'node:child_process'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { certno, person, ROOT, syntheticCertno, tempDir } from './helper.ts'
import { serve } from './ops-fixture.ts'
import { records, POOR } from './charge-fixture.ts'
import { openStore } from '../agent/store/store.ts'

t.test('SIGTERM during an HTTP request lets the answer out, and the process exits 0 with the database closed', async (t) => {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  await store.list.replace(records, { source: 'import', label: 'test' })
  const token = store.tokens.create('his', 'his').token
  store.close()
  const agent = await serve(t, { FANGPIN_DATA_DIR: dataDir })
  const { hostname, port } = new URL(agent.url)

  // The HIS has sent the headers and half the body when the stop comes.
  const body = JSON.stringify({ certno: POOR, at: '2026-11-25 10:00:00' })
  const socket = connect(Number(port), hostname)
  await new Promise((resolve) => socket.once('connect', resolve))
  let answer = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => { answer += d })
  const closed = new Promise((resolve) => socket.once('close', resolve))
  socket.write(`POST /v1/eligibility HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`)
  socket.write(body.slice(0, 20))
  await new Promise((r) => setTimeout(r, 300))
  const stopAt = Date.now()
  agent.child.kill('SIGTERM')
  for (let i = 0; i < 100 && !agent.output().includes('SIGTERM: closing'); i++) await new Promise((r) => setTimeout(r, 20))
  t.match(agent.output(), /SIGTERM: closing/)

  // The agent no longer takes new connections while it finishes this one.
  // (The listening socket closes a moment after the log line: try a few times.)
  let refused = ''
  for (let i = 0; i < 40 && refused !== 'ECONNREFUSED'; i++) {
    refused = await new Promise<string>((resolve) => {
      const other = connect(Number(port), hostname)
      other.once('connect', () => { other.destroy(); resolve('connected') })
      other.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    })
    if (refused !== 'ECONNREFUSED') await new Promise((r) => setTimeout(r, 50))
  }
  t.equal(refused, 'ECONNREFUSED', 'new connections are refused once the stop began')

  socket.write(body.slice(20))
  await closed
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'the request in flight was answered')
  const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { treat_first_pay_later: boolean }
  t.equal(json.treat_first_pay_later, true)

  const exit = await agent.exited
  t.equal(exit.code, 0, 'exit code 0: ' + agent.output().split('\n').slice(-6).join('\n'))
  t.ok(Date.now() - stopAt < 10_000, 'within the stop grace')

  // Closed cleanly: SQLite folds the WAL into the database and removes it when the last connection
  // closes; what the answered request wrote is in the database.
  t.notOk(existsSync(join(dataDir, 'fangpin.db-wal')) && statSync(join(dataDir, 'fangpin.db-wal')).size > 0, 'no WAL left to replay')
  const db = new Database(join(dataDir, 'fangpin.db'), { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  t.equal(db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'eligibility.lookup'").pluck().get(), 1, 'the answered lookup is recorded')
})

t.test('SIGTERM to fangpin import in the middle of its load stops after the chunk being written: exit 1, the old list in service, nothing left to purge', async (t) => {
  const A = certno('45020619580312001')
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  await store.list.replace([person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'import', label: 'old', version: 'old' })
  store.close()
  const file = join(tempDir(t), 'big.csv')
  const lines = ['姓名,身份证号码,人员类别,身份生效时间,身份终止时间,发证部门', `张三,${A},特困人员,2020-01-01,,民政`]
  for (let i = 0; i < 200_000; i++) lines.push(`某某,${syntheticCertno(i + 10)},脱贫人口,2016-01-01,,乡村振兴`)
  writeFileSync(file, lines.join('\n') + '\n')

  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'import', file], {
    cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdout.resume()
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })

  // Really in the middle: some chunks of the new list are written, most are not.
  const probe = new Database(join(dataDir, 'fangpin.db'), { readonly: true })
  probe.pragma('busy_timeout = 5000')
  let written = 0
  for (let i = 0; i < 3000 && written <= 10_000; i++) {
    written = probe.prepare("SELECT COUNT(*) FROM list_identity WHERE gen IN (SELECT gen FROM list_generation WHERE state = 'loading')").pluck().get() as number
    if (written <= 10_000) await new Promise((r) => setTimeout(r, 20))
  }
  probe.close()
  t.ok(written > 10_000 && written < 200_000, `stopped with ${written} rows of the new list written`)
  child.kill('SIGTERM')

  t.same(await exited, { code: 1, signal: null }, 'exit 1, not killed by the signal\n' + stderr)
  t.match(stderr, /import interrupted \(SIGTERM received\): nothing was loaded; the list in service is unchanged/)
  t.notOk(existsSync(join(dataDir, 'fangpin.db-wal')) && statSync(join(dataDir, 'fangpin.db-wal')).size > 0, 'the database was closed cleanly (no WAL left)')

  const after = openStore(dataDir)
  t.teardown(() => after.close())
  t.equal(after.db.pragma('integrity_check', { simple: true }), 'ok')
  t.equal(after.list.state().version, 'old', 'the old list is still the one in service')
  t.equal(after.list.lookup(after.list.keyOf('01', A)).person?.identities[0].category, 'minimum_living')
  // The stopped load cleaned up after itself, before it exited: no rows wait for the next start.
  t.equal(after.db.prepare('SELECT COUNT(*) FROM list_identity').pluck().get(), 1)
  t.equal(after.db.prepare("SELECT COUNT(*) FROM list_generation WHERE state = 'loading'").pluck().get(), 0)
})
