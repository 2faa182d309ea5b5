// npm run bench:budget — the per-request CPU budget of POST /v1/eligibility and POST /v1/admissions:
// where each microsecond of the server's CPU goes, from a V8 CPU profile of the agent under
// autocannon (50 connections), cut to the measuring window and divided by the requests answered.
// It prints the README's budget table. For the "before" column, run it against another checkout:
//   git archive 0ba80be | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//   BENCH_AGENT_ROOT=/tmp/before npm run bench:budget
// The people are loaded by that checkout's own store, so its schema and code are measured as they were.
// The profile gives the shares; they are scaled to the main thread's CPU time from /proc (a
// sample's interval also counts time the thread waited for a core). Other work on the machine
// still moves the figures (the load average at the start is printed): measure on a quiet machine.
import autocannon from 'autocannon'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { certnoOf, ROOT } from './fixture.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const AGENT_ROOT = resolve(process.env.BENCH_AGENT_ROOT ?? ROOT)
const CONNECTIONS = 50

// The areas of the table, first match from the innermost frame outwards: a sample in an HMAC
// called by the list lookup counts for the HMAC.
const AREAS: Array<[string, (fn: string, url: string) => boolean]> = [
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  ['ID number: normalise + HMAC', (fn, url) => url.includes('/identity/') || fn === 'keyOf' || fn === 'Hmac' || fn === 'normaliseSubject'],
  ['list lookup (in memory or SQLite read)', (_fn, url) => /agent\/store\/(list|list-index)\.ts$/.test(url)],
  ['audit row', (_fn, url) => url.endsWith('agent/store/audit.ts')],
  ['group commit (transaction, savepoints, fsync hand-off)', (fn, url) => url.endsWith('agent/store/write-queue.ts') || url.includes('better-sqlite3/lib/methods/transaction') || fn === 'fdatasync'],
  ['other SQLite statements (admission, stay, tokens)', (_fn, url) => url.includes('/agent/store/') || url.includes('better-sqlite3')],
  ['token check', (_fn, url) => /agent\/plugins\/app\/auth/.test(url)],
  ['metrics', (_fn, url) => /agent\/plugins\/app\/metrics/.test(url) || url.includes('prom-client')],
  ['logging', (_fn, url) => url.includes('/pino') || url.includes('sonic-boom') || url.includes('agent/base/log') || url.includes('/log.ts')],
  ['rules: decision, cards', (_fn, url) => url.includes('/agent/rules/') || url.includes('/profile/')],
  ['response serialisation', (fn, url) => url.includes('fast-json-stringify') || fn === 'serialize' || fn.startsWith('anonymous') && url === ''],
  ['request validation (ajv)', (fn, url) => url.includes('/ajv') || /^validate\d*$/.test(fn) || url.includes('schema-validator')],
  ['body parsing', (fn, url) => url.includes('secure-json-parse') || fn === 'parseJsonBody' || fn === 'parse' && url === '' || url.includes('content-type-parser')],
  ['routes and plugins of the agent', (_fn, url) => url.includes('/agent/')],
  ['Fastify (routing, hooks, reply)', (_fn, url) => url.includes('/fastify/') || url.includes('find-my-way') || url.includes('avvio') || url.includes('light-my-request')],
  ['HTTP and sockets (Node)', (fn, url) => /^node:(_http|net|stream|internal\/(streams|stream_base|http|net|js_stream))/.test(url) || fn === 'writev' || fn === 'writeUtf8String' || fn === 'writeBuffer'],
  ['V8 and native (program)', (fn) => fn === '(program)']
]

interface ProfileNode { id: number, callFrame: { functionName: string, url: string }, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, samples: number[], timeDeltas: number[] }

/** CPU µs by area for the samples between `from` and `to` (µs on the monotonic clock). */
function budget (p: Profile, from: number, to: number): Map<string, number> {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const areaOf = new Map<number, string | null>()
  const classify = (id: number): string | null => {
    const known = areaOf.get(id)
    if (known !== undefined) return known
    let area: string | null = 'other'
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const { functionName, url } = nodes.get(x)!.callFrame
      if (functionName === '(idle)') { area = null; break }
      const hit = AREAS.find(([, test]) => test(functionName, url))
      if (hit !== undefined) { area = hit[0]; break }
    }
    areaOf.set(id, area)
    return area
  }
  const out = new Map<string, number>()
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    t += dt
    if (t < from || t > to) continue
    const area = classify(p.samples[i])
    if (area !== null) out.set(area, (out.get(area) ?? 0) + dt)
  }
  return out
}

/** User + system CPU so far, in µs: of the whole process, or (`thread`) of one of its threads. */
function cpuMicros (pid: number, thread?: number): number {
  const f = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) * 10_000
}

const nowMicros = (): number => Number(process.hrtime.bigint() / 1000n)

interface Window { path: string, from: number, to: number, requests: number, cpu: number, mainCpu: number, rps: number, p99: number }

async function drive (url: string, pid: number, token: string, path: string, seconds: number): Promise<Window> {
  let n = 0
  const cpu0 = cpuMicros(pid)
  const main0 = cpuMicros(pid, pid)
  const from = nowMicros()
  const result = await autocannon({
    url: url + path,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{
      setupRequest (req) {
        n++
        // the same bodies as bench:lookup: 9 in 10 on the list, 1 in 10 not
        const who = n % 10 === 0 ? certnoOf(PEOPLE + (n % 100_000)) : certnoOf((n * 7919) % PEOPLE)
        if (path === '/v1/eligibility') return { ...req, body: JSON.stringify({ certno: who, at: '2026-11-20 09:30:00' }) }
        return { ...req, body: JSON.stringify({ mdtrt_id: `b-${process.pid}-${seconds}-${n}`, certno: who, psn_name: '测试', begntime: '2026-11-20 09:30:00', med_type: '21', diseinfo: [{ diag_code: 'I63.900', diag_name: '脑梗死', maindiag_flag: '1' }] }) }
      }
    }]
  })
  const to = nowMicros()
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { path, from, to, requests: result.requests.total, cpu: cpuMicros(pid) - cpu0, mainCpu: cpuMicros(pid, pid) - main0, rps: result.requests.average, p99: result.latency.p99 }
}

// Loads the people with the measured checkout's own store (its schema, its load path).
const LOADER = `
import { openStore } from ${JSON.stringify(join(AGENT_ROOT, 'agent/store/store.ts'))}
import { certnoOf } from ${JSON.stringify(join(ROOT, 'bench/fixture.ts'))}
const CATEGORIES = ['extreme_poverty', 'minimum_living', 'out_of_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'near_minimum_living']
function * people (n) {
  for (let i = 0; i < n; i++) {
    const identities = [{ category: CATEGORIES[i % CATEGORIES.length], begntime: '2020-01-01 00:00:00', endtime: i % 7 === 0 ? '2025-12-31 23:59:59' : null, source: '民政' }]
    if (i % 5 === 0) identities.push({ category: 'out_of_poverty', begntime: '2016-12-31 00:00:00', endtime: null, source: '乡村振兴' })
    yield { op: 'upsert', certno: certnoOf(i), psn_cert_type: '01', psn_name: '测试人员', identities }
  }
}
const store = openStore(process.argv[1])
await store.list.replace(people(${PEOPLE}), { source: 'import', label: 'bench', version: 'bench' })
process.stdout.write(store.tokens.create('bench', 'his').token)
store.close()
`

function startAgent (dir: string, profDir: string): Promise<{ child: ChildProcess, url: string }> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--import', 'tsx', 'agent/cli/main.ts', 'serve'], {
      cwd: AGENT_ROOT, env: { ...process.env, FANGPIN_DATA_DIR: dir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out)
      if (m !== null) resolveStart({ child, url: m[1] })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}

async function inMemory (url: string): Promise<number | null> {
  const m = /^fangpin_list_in_memory_persons (\d+)/m.exec(await (await fetch(url + '/metrics')).text())
  return m === null ? null : Number(m[1])
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-budget-'))
const profDir = join(dir, 'profile')
let agent: ChildProcess | null = null
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const head = spawnSync('git', ['-C', AGENT_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim()
  console.log(`agent: ${AGENT_ROOT} (${head !== '' ? head : 'not a git checkout'}), ${PEOPLE} people`)
  const loaded = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', LOADER, join(dir, 'data')], { cwd: AGENT_ROOT, encoding: 'utf8', maxBuffer: 1 << 20 })
  if (loaded.status !== 0) throw new Error(`loading the people failed: ${loaded.stderr}`)
  const token = loaded.stdout.trim()
  const started = await startAgent(join(dir, 'data'), profDir)
  agent = started.child
  const t0 = performance.now()
  for (;;) {
    const held = await inMemory(started.url)
    if (held === null || held > 0 || performance.now() - t0 > 120_000) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  await drive(started.url, agent.pid!, token, '/v1/eligibility', 3)
  await drive(started.url, agent.pid!, token, '/v1/admissions', 3)
  const windows = [
    await drive(started.url, agent.pid!, token, '/v1/eligibility', SECONDS),
    await drive(started.url, agent.pid!, token, '/v1/admissions', SECONDS)
  ]
  const exited = new Promise((resolve) => agent!.once('exit', resolve))
  agent.kill('SIGINT') // a clean exit writes the profile
  await exited
  agent = null
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error('the agent wrote no CPU profile')
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile
  const budgets = windows.map((w) => budget(profile, w.from, w.to))
  const sampled = budgets.map((b) => [...b.values()].reduce((a, x) => a + x, 0))
  if (sampled.some((s) => s === 0)) throw new Error('no profile samples fall in the measuring windows (clocks differ?)')

  for (const w of windows) console.log(`${w.path}: ${w.requests} requests, ${w.rps.toFixed(0)} req/s, p99 ${w.p99} ms, server CPU ${(w.cpu / w.requests).toFixed(0)} µs/request (/proc)`)
  console.log('')
  console.log('| µs of CPU per request | POST /v1/eligibility | POST /v1/admissions |')
  console.log('|---|---:|---:|')
  const names = [...AREAS.map(([name]) => name), 'other']
  for (const name of names) {
    const cells = budgets.map((b, i) => (b.get(name) ?? 0) / sampled[i] * windows[i].mainCpu / windows[i].requests)
    if (cells.every((c) => c < 0.5)) continue
    console.log(`| ${name} | ${cells[0].toFixed(0)} | ${cells[1].toFixed(0)} |`)
  }
  console.log(`| **main thread (/proc)** | **${(windows[0].mainCpu / windows[0].requests).toFixed(0)}** | **${(windows[1].mainCpu / windows[1].requests).toFixed(0)}** |`)
  console.log(`| whole process (/proc: main thread, thread pool, SQLite, kernel) | ${(windows[0].cpu / windows[0].requests).toFixed(0)} | ${(windows[1].cpu / windows[1].requests).toFixed(0)} |`)
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  if (agent !== null) agent.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
