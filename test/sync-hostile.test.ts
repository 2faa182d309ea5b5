// A registry that is hostile or merely hopeless: a signed manifest with a data file that never ends,
// a Range answer that lies, a trickle of one byte every few seconds. The agent must stop at the
// signed size, give up on a transfer too slow or a sync too long, shut down while a download hangs,
// and never report a run whose process is gone as still running.
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join, basename } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { build, tempDir, certno, person, startAgent, ROOT } from './helper.ts'
import { keys, publishTo, type RegistryRecord, syncSetup, categoryOf, type SyncSetup } from './registry-fixture.ts'
import { openStore } from '../agent/store/store.ts'
import { loadConfig, ConfigError } from '../agent/config.ts'
import { publicKeyBase64 } from '../registry/manifest.ts'
import { runSync, type SyncOptions } from '../agent/intake/registry-sync.ts'

const A = certno('45020619580312001')
const B = certno('45020619700101004')

const rec = (who: string, category: string): RegistryRecord =>
  ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '张三', identities: [{ category, begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] })

/** Enough records that the gzip file is a few kilobytes: a trickle of it lasts. */
function many (n: number, category = 'out_of_poverty'): RegistryRecord[] {
  const out = new Map<string, RegistryRecord>()
  for (let i = 0; out.size < n; i++) {
    const who = certno(`4502061980${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(Math.floor(i / 336)).padStart(3, '0')}`)
    out.set(who, rec(who, category))
  }
  return [...out.values()]
}

type Behaviour =
  /** 200 with no length and 64 KiB chunks as fast as the client reads, up to `upTo` bytes */
  | { endless: true, upTo: number }
  /** the real file, one byte every `everyMs`; the connection is dropped after `forMs` */
  | { trickle: true, everyMs: number, forMs: number }
  /** a Range request is answered 206 with the whole file and a Content-Range from byte 0 */
  | { rangeFromZero: true }
  /** the first `bytes` of the real file, then the connection is dropped */
  | { cutAfter: number }
  /** the first `bytes` of the real file, a pause of `ms`, then the rest */
  | { pauseAfter: number, ms: number }
  | { status: number, retryAfter?: string }

interface Hostile {
  url: string
  /** how each file is served from now on (until changed); undefined: served normally */
  behave: (file: string, b: Behaviour | undefined) => void
  /** how the next requests of a file are served, one each, before `behave`'s applies again */
  queue: (file: string, ...b: Behaviour[]) => void
  requests: Array<{ file: string, range: string | undefined }>
  /** body bytes sent for each file, and whether the client hung up before the server was done */
  sent: Map<string, number>
  hungUp: Set<string>
  close: () => Promise<void>
}

async function hostileRegistry (dir: string): Promise<Hostile> {
  const behaviours = new Map<string, Behaviour>()
  const queued = new Map<string, Behaviour[]>()
  const requests: Hostile['requests'] = []
  const sent = new Map<string, number>()
  const hungUp = new Set<string>()
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const file = basename(decodeURIComponent((req.url ?? '/').split('?')[0]))
    const range = req.headers.range
    requests.push({ file, range })
    const count = (n: number): void => { sent.set(file, (sent.get(file) ?? 0) + n) }
    let done = false
    res.on('close', () => { if (!done) hungUp.add(file) })
    const b = queued.get(file)?.shift() ?? behaviours.get(file)
    if (b !== undefined && 'status' in b) {
      done = true
      res.writeHead(b.status, b.retryAfter === undefined ? {} : { 'retry-after': b.retryAfter }).end('trouble')
      return
    }
    if (b !== undefined && 'endless' in b) {
      res.writeHead(200, { 'content-type': 'application/gzip' })
      const chunk = Buffer.alloc(64 * 1024, 0x41)
      let total = 0
      const pump = (): void => {
        while (total < b.upTo) {
          total += chunk.length
          count(chunk.length)
          if (!res.write(chunk)) { res.once('drain', pump); return }
        }
        done = true
        res.end()
      }
      pump()
      return
    }
    const path = join(dir, file)
    if (!existsSync(path)) {
      done = true
      res.writeHead(404).end()
      return
    }
    const bytes = readFileSync(path)
    const m = range === undefined ? null : /^bytes=(\d+)-$/.exec(range)
    const start = m === null ? 0 : Number(m[1])
    if (b !== undefined && 'rangeFromZero' in b && m !== null) {
      res.writeHead(206, { 'content-length': bytes.length, 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}` })
      count(bytes.length)
      done = true
      res.end(bytes)
      return
    }
    const body = bytes.subarray(start)
    const headers: Record<string, string | number> = { 'content-length': body.length, 'accept-ranges': 'bytes' }
    if (m !== null) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`
    res.writeHead(m === null ? 200 : 206, headers)
    if (b !== undefined && 'cutAfter' in b) {
      count(b.cutAfter)
      res.write(body.subarray(0, b.cutAfter), () => { res.socket?.destroy() })
      return
    }
    if (b !== undefined && 'pauseAfter' in b) {
      count(b.pauseAfter)
      res.write(body.subarray(0, b.pauseAfter))
      const timer = setTimeout(() => {
        timers.delete(timer)
        count(body.length - b.pauseAfter)
        done = true
        res.end(body.subarray(b.pauseAfter))
      }, b.ms)
      timers.add(timer)
      return
    }
    if (b !== undefined && 'trickle' in b) {
      let i = 0
      const began = Date.now()
      const timer = setInterval(() => {
        if (i >= body.length || Date.now() - began > b.forMs) {
          clearInterval(timer)
          timers.delete(timer)
          if (i >= body.length) { done = true; res.end() } else res.socket?.destroy()
          return
        }
        res.write(body.subarray(i, i + 1))
        count(1)
        i++
      }, b.everyMs)
      timers.add(timer)
      res.on('close', () => { clearInterval(timer); timers.delete(timer) })
      return
    }
    count(body.length)
    done = true
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    behave: (file, b) => { if (b === undefined) behaviours.delete(file); else behaviours.set(file, b) },
    queue: (file, ...b) => { queued.set(file, [...(queued.get(file) ?? []), ...b]) },
    requests,
    sent,
    hungUp,
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

type Setup = SyncSetup<Hostile>

async function setup (t: { teardown: (fn: () => unknown) => void }, client: SyncOptions['client'] = {}): Promise<Setup> {
  return await syncSetup(t, hostileRegistry, { attempts: 2, backoffMs: 20, maxBackoffMs: 200, headersTimeoutMs: 2000, bodyTimeoutMs: 10_000, ...client })
}

/** The largest size `file` reached while `work` ran, sampled as often as the event loop allows. */
async function largestWhile<T> (file: string, work: Promise<T>): Promise<{ result: T, largest: number }> {
  let largest = 0
  const sample = (): void => {
    try { largest = Math.max(largest, statSync(file).size) } catch { /* not there (yet, or any more) */ }
  }
  const timer = setInterval(sample, 1)
  try {
    const result = await work
    sample()
    return { result, largest }
  } finally {
    clearInterval(timer)
  }
}

async function until (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function exited (child: ChildProcess, timeoutMs: number): Promise<{ code: number | null, signal: NodeJS.Signals | null } | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs)
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }) })
  })
}

t.test('a data file that never ends is stopped at the signed size and discarded; the old list serves', async (t) => {
  const s = await setup(t)
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  t.equal((await runSync(s.opts, 'cli')).result, 'updated')
  const m = publishTo(s.dir, s.key.privateKey, { seq: 2, full: [rec(A, 'orphan'), rec(B, 'minimum_living')] })
  s.server.behave(m.full.file, { endless: true, upTo: 64 * 1024 * 1024 })
  const part = join(s.store.dataDir, 'registry', `${m.full.file}.part`)
  const { result: r, largest } = await largestWhile(part, runSync(s.opts, 'cron'))
  t.equal(r.result, 'failed')
  t.ok(largest <= m.full.size, `the part file never grew past the signed ${m.full.size} bytes (largest seen: ${largest})`)
  t.match(r.message, `${s.server.url}${m.full.file}`, 'the message names the URL')
  t.match(r.message, String(m.full.size), 'and the signed size')
  t.notOk(existsSync(part), 'the part file is discarded')
  await until('the agent to hang up', () => s.server.hungUp.has(m.full.file), 10_000)
  t.ok(s.server.hungUp.has(m.full.file), 'the agent hung up instead of reading the endless body to its end')
  t.equal(s.server.requests.filter((x) => x.file === m.full.file).length, 1, 'an oversized answer is not retried')
  t.equal(categoryOf(s.store, A), 'extreme_poverty', 'the old list still serves')
  t.equal(s.store.list.state().seq, 1)
  const alert = s.store.alerts.open().find((a) => a.kind === 'sync_failed')
  t.match(alert?.message, String(m.full.size), 'a sync_failed alert says why')
})

t.test('a Content-Length larger than the signed size is refused before anything is written', async (t) => {
  const s = await setup(t)
  const m = publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')], before: (x) => { x.full.size -= 10; x.size -= 10 } })
  // The body comes in two parts: what the agent writes of the first would be on disk for a while.
  s.server.behave(m.full.file, { pauseAfter: 50, ms: 300 })
  const part = join(s.store.dataDir, 'registry', `${m.full.file}.part`)
  const { result: r, largest } = await largestWhile(part, runSync(s.opts, 'cli'))
  t.equal(r.result, 'failed')
  t.match(r.message, String(m.full.size))
  t.equal(largest, 0, 'not one byte was written')
  await until('the agent to hang up', () => s.server.hungUp.has(m.full.file), 10_000)
  t.ok(s.server.hungUp.has(m.full.file), 'the agent hung up without reading the body')
  t.equal(s.store.list.state().active_gen, null)
})

t.test('a 206 whose Content-Range is not the range asked for is not appended: the download starts again', async (t) => {
  const s = await setup(t)
  const m = publishTo(s.dir, s.key.privateKey, { seq: 1, full: many(3000) })
  // The first answer is cut; the resumed one (Range) answers the whole file as if from byte 0.
  s.server.queue(m.full.file, { cutAfter: Math.floor(m.full.size / 3) }, { rangeFromZero: true })
  const part = join(s.store.dataDir, 'registry', `${m.full.file}.part`)
  const { result: r, largest } = await largestWhile(part, runSync({ ...s.opts, client: { ...s.opts.client, attempts: 4 } }, 'cli'))
  t.equal(r.result, 'updated', r.message)
  t.ok(largest <= m.full.size, `the part file never grew past the signed size (largest seen: ${largest})`)
  const gets = s.server.requests.filter((x) => x.file === m.full.file)
  t.equal(gets[1].range, `bytes=${Math.floor(m.full.size / 3)}-`, 'the resume asked for the rest')
  t.equal(gets[2].range, undefined, 'after the wrong range, the whole file was asked for')
  t.equal(s.store.list.state().person_count, 3000)
})

t.test('a registry that trickles below the minimum rate is cut off, and the next sync runs', async (t) => {
  const s = await setup(t, { minBytesPerSec: 20, rateWindowMs: 500 })
  const m = publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  s.server.behave(m.full.file, { trickle: true, everyMs: 250, forMs: 8000 })
  const r = await runSync(s.opts, 'cron')
  t.equal(r.result, 'failed')
  t.match(r.message, /below the minimum of 20 bytes per second/)
  t.match(r.message, /FANGPIN_SYNC_MIN_BYTES_PER_SEC/)
  await until('the agent to hang up', () => s.server.hungUp.has(m.full.file), 10_000)
  t.ok(s.server.hungUp.has(m.full.file))
  t.ok(s.store.alerts.open().some((a) => a.kind === 'sync_failed'))
  s.server.behave(m.full.file, undefined)
  const next = await runSync(s.opts, 'api')
  t.equal(next.result, 'updated', next.message)
  t.equal(categoryOf(s.store, A), 'extreme_poverty')
  t.same(s.store.db.prepare('SELECT result FROM sync_run ORDER BY id').pluck().all(), ['failed', 'updated'])
})

t.test('a sync that goes on past its deadline fails naming the deadline, and the next sync runs', async (t) => {
  const s = await setup(t, { minBytesPerSec: 0 })
  const m = publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  // 50 bytes a second: fast enough for any minimum rate, far too slow for a 1.5 s deadline.
  s.server.behave(m.full.file, { trickle: true, everyMs: 20, forMs: 8000 })
  const r = await runSync({ ...s.opts, timeoutMs: 1500 }, 'cron')
  t.equal(r.result, 'failed')
  t.match(r.message, /did not finish within 1\.5 s/)
  t.match(r.message, /FANGPIN_SYNC_TIMEOUT_MINUTES/)
  t.ok(s.store.alerts.open().some((a) => a.kind === 'sync_failed'))
  const row = s.store.db.prepare('SELECT result, finished_at FROM sync_run ORDER BY id DESC LIMIT 1').get() as { result: string, finished_at: string | null }
  t.equal(row.result, 'failed')
  t.type(row.finished_at, 'string')
  s.server.behave(m.full.file, undefined)
  t.equal((await runSync({ ...s.opts, timeoutMs: 60_000 }, 'api')).result, 'updated')
})

t.test('the deadline also ends a long wait between retries', async (t) => {
  const s = await setup(t, { maxBackoffMs: 20_000 })
  publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  s.server.behave('manifest.json', { status: 503, retryAfter: '3600' })
  const r = await runSync({ ...s.opts, timeoutMs: 1000 }, 'cron')
  t.equal(r.result, 'failed')
  t.match(r.message, /did not finish within 1 s/)
  t.equal(s.server.requests.length, 1, 'the second attempt was never made')
})

t.test('an abort from the caller ends the download and the run is recorded as interrupted', async (t) => {
  const s = await setup(t)
  const m = publishTo(s.dir, s.key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  s.server.behave(m.full.file, { trickle: true, everyMs: 200, forMs: 60_000 })
  const controller = new AbortController()
  const run = runSync({ ...s.opts, signal: controller.signal }, 'api')
  await until('the download to start', () => (s.server.sent.get(m.full.file) ?? 0) > 0)
  controller.abort(new Error('the agent is shutting down'))
  const r = await run
  t.equal(r.result, 'failed')
  t.equal(r.message, 'interrupted (the agent is shutting down)')
  const row = s.store.db.prepare('SELECT result, message FROM sync_run ORDER BY id DESC LIMIT 1').get()
  t.same(row, { result: 'failed', message: 'interrupted (the agent is shutting down)' })
  t.notOk(s.store.alerts.open().some((a) => a.kind === 'sync_failed'), 'a shutdown is not a registry failure')
})

t.test('FANGPIN_SYNC_TIMEOUT_MINUTES and FANGPIN_SYNC_MIN_BYTES_PER_SEC are validated, with defaults', async (t) => {
  const config = loadConfig({})
  t.equal(config.syncTimeoutMinutes, 30)
  t.equal(config.syncMinBytesPerSec, 1024)
  const set = loadConfig({ FANGPIN_SYNC_TIMEOUT_MINUTES: '5', FANGPIN_SYNC_MIN_BYTES_PER_SEC: '0' })
  t.equal(set.syncTimeoutMinutes, 5)
  t.equal(set.syncMinBytesPerSec, 0, '0 turns the minimum rate off')
  t.throws(() => loadConfig({ FANGPIN_SYNC_TIMEOUT_MINUTES: '0' }), ConfigError)
  try {
    loadConfig({ FANGPIN_SYNC_TIMEOUT_MINUTES: 'half an hour', FANGPIN_SYNC_MIN_BYTES_PER_SEC: '-1' })
    t.fail('accepted')
  } catch (err) {
    t.match((err as Error).message, /FANGPIN_SYNC_TIMEOUT_MINUTES="half an hour" is not valid/)
    t.match((err as Error).message, /FANGPIN_SYNC_MIN_BYTES_PER_SEC="-1" is not valid/)
  }
})

t.test('closing the agent stops a running sync and answers a waiting POST /v1/sync/run with the interruption', async (t) => {
  const base = tempDir(t)
  const dir = join(base, 'registry')
  mkdirSync(dir)
  const server = await hostileRegistry(dir)
  t.teardown(() => server.close())
  const key = keys()
  const m = publishTo(dir, key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  server.behave(m.full.file, { trickle: true, everyMs: 1000, forMs: 120_000 })
  const b = await build(t, { env: { FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) } })
  const waiting = b.post('/v1/sync/run?wait=true', undefined, { authorization: `Bearer ${b.adminToken}` })
  await until('the download to start', () => (server.sent.get(m.full.file) ?? 0) > 0)
  const closed = await Promise.race([
    b.app.close().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000).unref())
  ])
  t.equal(closed, true, 'the agent closed without waiting for the registry')
  const answer = await waiting
  t.equal(answer.status, 200)
  t.equal(answer.json.result, 'failed')
  t.equal(answer.json.message, 'interrupted (the agent is shutting down)')
  const store = openStore(b.config.dataDir)
  t.teardown(() => store.close())
  const row = store.db.prepare('SELECT trigger, result, message FROM sync_run ORDER BY id DESC LIMIT 1').get()
  t.same(row, { trigger: 'api', result: 'failed', message: 'interrupted (the agent is shutting down)' })
  t.match(b.logs.join(''), /registry sync failed: interrupted \(the agent is shutting down\)/, 'the interruption is logged before the close ends')
})

t.test('fangpin serve exits promptly on SIGTERM while a download trickles, and records the run as interrupted', async (t) => {
  const base = tempDir(t)
  const dir = join(base, 'registry')
  mkdirSync(dir)
  const dataDir = join(base, 'data')
  const server = await hostileRegistry(dir)
  t.teardown(() => server.close())
  const key = keys()
  const m = publishTo(dir, key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  // One byte a second: far under the body timeout, and the default minimum rate needs 30 s to notice.
  server.behave(m.full.file, { trickle: true, everyMs: 1000, forMs: 120_000 })
  const agent = await startAgent(t, { FANGPIN_DATA_DIR: dataDir, FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) })
  await until('the start-up sync to be downloading', () => (server.sent.get(m.full.file) ?? 0) > 0)
  agent.child.kill('SIGTERM')
  const exit = await exited(agent.child, 20_000)
  t.ok(exit !== null, 'the process exited after SIGTERM\n' + agent.output())
  t.same(exit, { code: 0, signal: null }, 'and cleanly')
  await until('the registry to see the hang-up', () => server.hungUp.has(m.full.file), 10_000)
  t.ok(server.hungUp.has(m.full.file), 'the download was abandoned')
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  const row = store.db.prepare('SELECT trigger, result, message, finished_at FROM sync_run ORDER BY id DESC LIMIT 1').get() as { trigger: string, result: string, message: string, finished_at: string | null }
  t.equal(row.trigger, 'start')
  t.equal(row.result, 'failed')
  t.match(row.message, /interrupted/)
  t.type(row.finished_at, 'string')
})

t.test('SIGTERM to `fangpin sync` mid-download stops it with exit code 1 and records the run as interrupted', async (t) => {
  const base = tempDir(t)
  const dir = join(base, 'registry')
  mkdirSync(dir)
  const dataDir = join(base, 'data')
  const server = await hostileRegistry(dir)
  t.teardown(() => server.close())
  const key = keys()
  const m = publishTo(dir, key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  server.behave(m.full.file, { trickle: true, everyMs: 500, forMs: 120_000 })
  const sync = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'sync'], {
    cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dataDir, FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) }, stdio: ['ignore', 'ignore', 'pipe']
  })
  t.teardown(() => { if (sync.exitCode === null && sync.signalCode === null) sync.kill('SIGKILL') })
  let stderr = ''
  sync.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  await until('the sync to be downloading', () => (server.sent.get(m.full.file) ?? 0) > 0)
  sync.kill('SIGTERM')
  t.same(await exited(sync, 20_000), { code: 1, signal: null }, 'it stopped by itself, not killed by the signal')
  t.match(stderr, /failed: interrupted \(SIGTERM received\)/)
  const store = openStore(dataDir)
  t.teardown(() => store.close())
  t.same(store.db.prepare('SELECT trigger, result, message FROM sync_run').all(), [{ trigger: 'cli', result: 'failed', message: 'interrupted (SIGTERM received)' }])
})

t.test('after kill -9 of a `fangpin sync` mid-download, the sync status says not running and interrupted', async (t) => {
  const base = tempDir(t)
  const dir = join(base, 'registry')
  mkdirSync(dir)
  const dataDir = join(base, 'data')
  const server = await hostileRegistry(dir)
  t.teardown(() => server.close())
  const key = keys()
  const m = publishTo(dir, key.privateKey, { seq: 1, full: [rec(A, 'extreme_poverty')] })
  server.behave(m.full.file, { trickle: true, everyMs: 500, forMs: 120_000 })
  // A real list is loaded, so the agent beside the sync neither syncs nor loads the demo itself.
  const seed = openStore(dataDir)
  await seed.list.replace([person(B, '李四', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'import', label: 'county.csv' })
  const token = seed.tokens.create('his', 'his').token
  seed.close()
  const status = async (url: string): Promise<any> => await (await fetch(url + '/v1/sync/status', { headers: { authorization: `Bearer ${token}` } })).json()

  const agent = await startAgent(t, { FANGPIN_DATA_DIR: dataDir })
  const sync = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'sync'], {
    cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dataDir, FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) }, stdio: 'ignore'
  })
  t.teardown(() => { if (sync.exitCode === null && sync.signalCode === null) sync.kill('SIGKILL') })
  await until('the sync to be downloading', () => (server.sent.get(m.full.file) ?? 0) > 0)
  const during = await status(agent.url)
  t.equal(during.running, true, 'a live `fangpin sync` is reported as running')
  t.equal(during.last_attempt.result, 'running')

  sync.kill('SIGKILL')
  await exited(sync, 10_000)
  const after = await status(agent.url)
  t.equal(after.running, false, 'the killed run is not reported as running')
  t.equal(after.last_attempt.result, 'failed')
  t.match(after.last_attempt.message, /interrupted/)

  agent.child.kill('SIGTERM')
  t.same(await exited(agent.child, 20_000), { code: 0, signal: null })
  const again = await startAgent(t, { FANGPIN_DATA_DIR: dataDir })
  const restarted = await status(again.url)
  t.equal(restarted.running, false)
  t.equal(restarted.last_attempt.result, 'failed')
  t.equal(restarted.last_attempt.message, 'interrupted (the process stopped)')
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(join(dataDir, 'fangpin.db'), { readonly: true })
  t.teardown(() => db.close())
  const row = db.prepare('SELECT result, message, finished_at FROM sync_run ORDER BY id DESC LIMIT 1').get() as { result: string, message: string, finished_at: string | null }
  t.equal(row.result, 'failed', 'the start marked the row itself, not only the answer')
  t.equal(row.message, 'interrupted (the process stopped)')
  t.type(row.finished_at, 'string')
  again.child.kill('SIGTERM')
  await exited(again.child, 20_000)
})
