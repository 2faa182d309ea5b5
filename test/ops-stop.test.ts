// Graceful stop: a SIGTERM (systemctl stop, a WinSW stop, an upgrade) while the HIS is in the middle
// of a request lets that answer out, refuses new connections, closes the database cleanly (its WAL
// folded in) and exits 0.
import t from 'tap'
import Database from 'better-sqlite3'
import { connect } from 'node:net'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './helper.ts'
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
