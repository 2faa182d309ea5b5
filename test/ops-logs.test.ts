// Log files: FANGPIN_LOG_FILE writes the agent's log to a file rotated by size and by day, keeping
// FANGPIN_LOG_KEEP old ones, through pino-roll in a worker thread; the redaction and serialisers
// still apply, so no ID number reaches the file however it was sent.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './helper.ts'
import { serve } from './ops-fixture.ts'
import { records, POOR, POOR2 } from './charge-fixture.ts'
import { openStore } from '../agent/store/store.ts'
import { loadConfig } from '../agent/config.ts'

t.test('FANGPIN_LOG_FILE: rotated files, FANGPIN_LOG_KEEP kept, and no ID number in any line', async (t) => {
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const store = openStore(dataDir)
  await store.list.replace(records, { source: 'import', label: 'test' })
  const token = store.tokens.create('his', 'his').token
  store.close()
  const logDir = join(dir, 'log')
  const agent = await serve(t, { FANGPIN_DATA_DIR: dataDir, FANGPIN_LOG_FILE: join(logDir, 'fangpin.log'), FANGPIN_LOG_MAX_SIZE: '20k', FANGPIN_LOG_KEEP: '2' })
  const auth = { authorization: `Bearer ${token}` }
  // An ID number in the path, percent-encoded in the path, in the query, in X-Request-Id, in a body.
  const sent = [
    fetch(`${agent.url}/v1/admissions/${POOR}`, { headers: { ...auth, 'x-request-id': POOR } }),
    fetch(`${agent.url}/v1/admissions/${encodeURIComponent(POOR2).replace(/\d/g, (d) => '%3' + d)}?certno=${POOR}`, { headers: { ...auth, 'x-request-id': `${POOR2}-zhang` } }),
    fetch(`${agent.url}/v1/eligibility`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'x-request-id': 'his-call-0001' }, body: JSON.stringify({ certno: POOR, psn_name: '张三丰' }) }),
    fetch(`${agent.url}/v1/eligibility`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ certno: POOR.slice(0, 17) + '0' }) })
  ]
  for (const res of await Promise.all(sent)) await res.text()
  // Enough requests to roll the 20 KB file several times.
  for (let i = 0; i < 150; i++) await (await fetch(`${agent.url}/healthz`, { headers: { 'x-request-id': `probe-${i}` } })).text()
  agent.child.kill('SIGTERM')
  t.equal((await agent.exited).code, 0)

  const files = readdirSync(logDir).filter((n) => n.endsWith('.log')).sort()
  t.ok(files.length >= 2, `rotated (${files.join(', ')})`)
  t.ok(files.length <= 3, 'FANGPIN_LOG_KEEP=2 old files besides the current one')
  for (const f of files) {
    t.match(f, /^fangpin\.\d{4}-\d{2}-\d{2}\.\d+\.log$/, 'named by day and number')
    t.equal(statSync(join(logDir, f)).mode & 0o777, 0o600, `${f} is readable by the service user only`)
    t.ok(statSync(join(logDir, f)).size < 40 * 1024, `${f} was rolled near 20 KB`)
  }
  const text = files.map((f) => readFileSync(join(logDir, f), 'utf8')).join('')
  t.match(text, /"msg":"request completed"/, 'requests are logged')
  t.match(text, /"reqId":"probe-149"/, 'up to the last one')
  for (const id of [POOR, POOR2, POOR.slice(0, 17)]) t.notMatch(text, id, `${id.slice(0, 6)}… is not in the files`)
  // Timings are floats with long fractions; everything else may not hold 15 digits in a row.
  t.notMatch(text.replace(/"responseTime":[\d.]+/g, ''), /\d{15}/, 'no run of 15 digits (an ID number) anywhere in the files')
  t.notMatch(text, /张三丰/, 'no name')
  t.notMatch(text, new RegExp(token), 'no token')
})

t.test('log settings are checked at start', async (t) => {
  const bad = (env: Record<string, string>): string => { try { loadConfig(env); return '' } catch (e) { return (e as Error).message } }
  t.match(bad({ FANGPIN_LOG_KEEP: '0' }), /FANGPIN_LOG_KEEP="0" is not valid/)
  t.match(bad({ FANGPIN_LOG_MAX_SIZE: 'big' }), /FANGPIN_LOG_MAX_SIZE="big" is not valid: a size with its unit, e\.g\. 50m/)
  t.match(bad({ FANGPIN_LOG_FILE: '/var/log/fangpin|x.log' }), /FANGPIN_LOG_FILE=.* has a character a log file name cannot have/)
  const c = loadConfig({})
  t.equal(c.logFile, null)
  t.equal(c.logKeep, 14)
  t.equal(c.logMaxSize, '50m')
})
