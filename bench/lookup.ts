// npm run bench:lookup — admission and eligibility lookups with 1,000,000 people loaded, each
// against a bare Fastify route that parses the same bodies, side by side in one run (autocannon,
// 50 connections; the load generator shares the machine's two cores with the server).
// Goals (DESIGN.md Targets): POST /v1/eligibility >= 0.6 of the bare route with p99 <= 2 x the bare
// route's, the audit row still written; POST /v1/admissions >= 0.4 of the bare route, every
// admission on disk before it is answered.
//
// Server CPU per request is printed from /proc; where it goes, by a CPU profile, is bench:budget's
// (bench/budget.ts), and both go to the README's Figures section.
//
// The bare route's figure moves by a third between two 10-second runs on this machine, so each
// figure is the median of BENCH_ROUNDS rounds (default 3), the bare route and the agent taking
// turns within each round. BENCH_BEFORE_ROOT=<checkout of an earlier commit, with node_modules>
// adds that commit's agent (on a copy of the same database) to every round: before and after,
// side by side in one run.
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import type { ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { openStore } from '../agent/store/store.ts'
import { certnoOf, start } from './fixture.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const BEFORE_ROOT = process.env.BENCH_BEFORE_ROOT === undefined ? null : resolve(process.env.BENCH_BEFORE_ROOT)
const CONNECTIONS = 50
const CATEGORIES = ['extreme_poverty', 'minimum_living', 'out_of_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'near_minimum_living']

function * people (n: number): Generator<LoadRecord> {
  for (let i = 0; i < n; i++) {
    const identities = [{ category: CATEGORIES[i % CATEGORIES.length], begntime: '2020-01-01 00:00:00', endtime: i % 7 === 0 ? '2025-12-31 23:59:59' : null, source: '民政' }]
    if (i % 5 === 0) identities.push({ category: 'out_of_poverty', begntime: '2016-12-31 00:00:00', endtime: null, source: '乡村振兴' })
    yield { op: 'upsert', certno: certnoOf(i), psn_cert_type: '01', psn_name: '测试人员', identities }
  }
}

/** User + system CPU of a process so far, in µs. */
function cpuMicros (pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) * 10_000
}

interface Run { result: autocannon.Result, cpuPerRequest: number }

async function load (url: string, pid: number, token: string | null, label: string, path: string, seconds = SECONDS): Promise<Run> {
  let n = 0
  const before = cpuMicros(pid)
  const result = await autocannon({
    url: url + path,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    requests: [{
      setupRequest (req) {
        n++
        // 9 in 10 look up someone on the list, 1 in 10 someone who is not
        const who = n % 10 === 0 ? certnoOf(PEOPLE + (n % 100_000)) : certnoOf((n * 7919) % PEOPLE)
        if (path === '/v1/eligibility') return { ...req, body: JSON.stringify({ certno: who, at: '2026-11-20 09:30:00' }) }
        return { ...req, body: JSON.stringify({ mdtrt_id: `${label}-${process.pid}-${n}`, certno: who, psn_name: '测试', begntime: '2026-11-20 09:30:00', med_type: '21', diseinfo: [{ diag_code: 'I63.900', diag_name: '脑梗死', maindiag_flag: '1' }] }) }
      }
    }]
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { result, cpuPerRequest: (cpuMicros(pid) - before) / result.requests.total }
}

async function inMemory (url: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text()
  return Number(/^fangpin_list_in_memory_persons (\d+)/m.exec(text)?.[1] ?? 0)
}

function goal (label: string, figure: string, ratio: number, target: string, met: boolean): void {
  console.log(`${label.padEnd(44)} ${figure.padEnd(34)} ratio ${ratio.toFixed(2).padStart(5)}  goal ${target.padEnd(12)} ${met ? 'met' : 'NOT met'}`)
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-'))
const children: ChildProcess[] = []
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const store = openStore(dir)
  const t0 = performance.now()
  await store.list.replace(people(PEOPLE), { source: 'import', label: 'bench', version: 'bench' })
  const loadSeconds = (performance.now() - t0) / 1000
  const token = store.tokens.create('bench', 'his').token
  store.close()
  console.log(`loaded ${PEOPLE} people in ${loadSeconds.toFixed(1)} s`)

  // The earlier commit's agent gets a copy of the same database (a data directory has one writer).
  let beforeDir: string | null = null
  if (BEFORE_ROOT !== null) {
    beforeDir = join(dir, 'before')
    mkdirSync(beforeDir, { mode: 0o700 })
    for (const f of ['fangpin.db', 'subject.key']) copyFileSync(join(dir, f), join(beforeDir, f))
  }
  const agent = await start(['agent/cli/main.ts', 'serve'], { FANGPIN_DATA_DIR: dir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' })
  children.push(agent.child)
  const before = beforeDir === null ? null : await start(['agent/cli/main.ts', 'serve'], { FANGPIN_DATA_DIR: beforeDir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' }, BEFORE_ROOT!)
  if (before !== null) children.push(before.child)
  const bare = await start(['bench/bare-server.ts'], {})
  children.push(bare.child)
  const t1 = performance.now()
  for (const a of before === null ? [agent] : [agent, before]) {
    while (await inMemory(a.url) === 0 && performance.now() - t1 < 120_000) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  console.log(`list held in memory by the agent after ${((performance.now() - t1) / 1000).toFixed(1)} s (${await inMemory(agent.url)} people)`)
  let lookups = 0
  for (const [path, short] of [['/v1/eligibility', 'e'], ['/v1/admissions', 'a']] as const) {
    await load(bare.url, bare.child.pid!, null, `warm-bare-${short}`, path, 3)
    const w = await load(agent.url, agent.child.pid!, token, `warm-${short}`, path, 3)
    if (short === 'e') lookups += w.result['2xx']
    if (before !== null) await load(before.url, before.child.pid!, token, `warm-before-${short}`, path, 3)
  }

  const runs: Record<'bareE' | 'elig' | 'beforeE' | 'bareA' | 'adm' | 'beforeA', Run[]> = { bareE: [], elig: [], beforeE: [], bareA: [], adm: [], beforeA: [] }
  for (let round = 1; round <= ROUNDS; round++) {
    runs.bareE.push(await load(bare.url, bare.child.pid!, null, `bare-e${round}`, '/v1/eligibility'))
    runs.elig.push(await load(agent.url, agent.child.pid!, token, `eligibility${round}`, '/v1/eligibility'))
    lookups += runs.elig[runs.elig.length - 1].result['2xx']
    if (before !== null) runs.beforeE.push(await load(before.url, before.child.pid!, token, `before-e${round}`, '/v1/eligibility'))
    runs.bareA.push(await load(bare.url, bare.child.pid!, null, `bare-a${round}`, '/v1/admissions'))
    runs.adm.push(await load(agent.url, agent.child.pid!, token, `agent${round}`, '/v1/admissions'))
    if (before !== null) runs.beforeA.push(await load(before.url, before.child.pid!, token, `before-a${round}`, '/v1/admissions'))
    const r = (x: Run[], y: Run[]): string => (x[x.length - 1].result.requests.average / y[y.length - 1].result.requests.average).toFixed(2)
    console.log(`round ${round}: eligibility ${r(runs.elig, runs.bareE)} of the bare route, admissions ${r(runs.adm, runs.bareA)}` +
      (before !== null ? `; before: ${r(runs.beforeE, runs.bareE)}, ${r(runs.beforeA, runs.bareA)}` : ''))
  }
  const rss = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)

  const db = new Database(join(dir, 'fangpin.db'), { readonly: true })
  const admissions = db.prepare("SELECT COUNT(*) FROM admission WHERE mdtrt_id LIKE 'agent%'").pluck().get() as number
  const audits = db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'eligibility.lookup'").pluck().get() as number
  db.close()
  const answeredAdm = runs.adm.reduce((n, r) => n + r.result['2xx'], 0)

  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
  const rate = (rs: Run[]): number => median(rs.map((r) => r.result.requests.average))
  const p99 = (rs: Run[]): number => median(rs.map((r) => r.result.latency.p99))
  const line = (rs: Run[]): string => `${rate(rs).toFixed(0)} req/s, p50 ${median(rs.map((r) => r.result.latency.p50))} ms, p99 ${p99(rs)} ms, ${median(rs.map((r) => r.cpuPerRequest)).toFixed(0)} µs CPU/req`
  console.log(`medians of ${ROUNDS} rounds of ${SECONDS} s:`)
  console.log(`bare route, eligibility bodies:  ${line(runs.bareE)}`)
  console.log(`POST /v1/eligibility:            ${line(runs.elig)} (lookup + audit row)`)
  if (before !== null) console.log(`  before (${BEFORE_ROOT}):  ${line(runs.beforeE)}`)
  console.log(`bare route, admission bodies:    ${line(runs.bareA)}`)
  console.log(`POST /v1/admissions:             ${line(runs.adm)} (admission, stay and audit rows on disk before the answer)`)
  if (before !== null) console.log(`  before (${BEFORE_ROOT}):  ${line(runs.beforeA)}`)
  const er = rate(runs.elig) / rate(runs.bareE)
  const ep = p99(runs.elig) / Math.max(1, p99(runs.bareE))
  const ar = rate(runs.adm) / rate(runs.bareA)
  goal('POST /v1/eligibility / bare route', `${rate(runs.elig).toFixed(0)} vs ${rate(runs.bareE).toFixed(0)} req/s`, er, '>= 0.60', er >= 0.6)
  goal('eligibility p99 / bare route p99', `${p99(runs.elig)} vs ${p99(runs.bareE)} ms`, ep, '<= 2.00', ep <= 2)
  goal('POST /v1/admissions / bare route', `${rate(runs.adm).toFixed(0)} vs ${rate(runs.bareA).toFixed(0)} req/s`, ar, '>= 0.40', ar >= 0.4)
  goal('every answered admission on disk', `${admissions} rows, ${answeredAdm} answered`, admissions / Math.max(1, answeredAdm), '>= 1.00', admissions >= answeredAdm)
  goal('every answered lookup has its audit row', `${audits} rows, ${lookups} answered`, audits / Math.max(1, lookups), '>= 1.00', audits >= lookups)
  if (before !== null) {
    console.log(`before / after, eligibility req/s:          ${(rate(runs.beforeE)).toFixed(0)} -> ${rate(runs.elig).toFixed(0)} (${(rate(runs.elig) / rate(runs.beforeE)).toFixed(2)} x)`)
    console.log(`before / after, admissions req/s:           ${(rate(runs.beforeA)).toFixed(0)} -> ${rate(runs.adm).toFixed(0)} (${(rate(runs.adm) / rate(runs.beforeA)).toFixed(2)} x)`)
  }
  if (rss !== null) console.log(`agent peak RSS:                  ${Math.round(Number(rss[1]) / 1024)} MB with ${PEOPLE} people`)
  console.log(`load average at end:             ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
