// npm run bench:lookup — admission and eligibility lookups with 1,000,000 people loaded, each
// against a bare Fastify route that parses the same bodies, side by side in one run (autocannon,
// 50 connections; the load generator shares the machine's two cores with the server).
// Goals (DESIGN.md Targets): POST /v1/eligibility >= 0.6 of the bare route with p99 <= 2 x the bare
// route's, the audit row still written; POST /v1/admissions >= 0.4 of the bare route, every
// admission on disk before it is answered.
//
// Server CPU per request is printed from /proc; where it goes, by a CPU profile, is bench:budget's
// (bench/budget.ts), and both go to the README's Figures section.
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../agent/store/store.ts'
import { certnoOf, start } from './fixture.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
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

  const agent = await start(['agent/cli/main.ts', 'serve'], { FANGPIN_DATA_DIR: dir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' })
  children.push(agent.child)
  const bare = await start(['bench/bare-server.ts'], {})
  children.push(bare.child)
  const t1 = performance.now()
  while (await inMemory(agent.url) === 0 && performance.now() - t1 < 120_000) await new Promise((resolve) => setTimeout(resolve, 200))
  console.log(`list held in memory by the agent after ${((performance.now() - t1) / 1000).toFixed(1)} s (${await inMemory(agent.url)} people)`)
  // warm both up (JIT, page cache) before measuring
  await load(bare.url, bare.child.pid!, null, 'warm-bare', '/v1/eligibility', 3)
  const warmE = await load(agent.url, agent.child.pid!, token, 'warm-e', '/v1/eligibility', 3)
  await load(agent.url, agent.child.pid!, token, 'warm-a', '/v1/admissions', 3)

  // each agent run right after a bare run with the same bodies
  const bareE = await load(bare.url, bare.child.pid!, null, 'bare-e', '/v1/eligibility')
  const elig = await load(agent.url, agent.child.pid!, token, 'eligibility', '/v1/eligibility')
  const bareA = await load(bare.url, bare.child.pid!, null, 'bare-a', '/v1/admissions')
  const adm = await load(agent.url, agent.child.pid!, token, 'agent', '/v1/admissions')
  const rss = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)

  // what the goals promise: every answered admission and lookup has its rows in the database
  const db = new Database(join(dir, 'fangpin.db'), { readonly: true })
  const admissions = db.prepare("SELECT COUNT(*) FROM admission WHERE mdtrt_id LIKE 'agent-%'").pluck().get() as number
  const audits = db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'eligibility.lookup'").pluck().get() as number
  db.close()

  const line = (r: Run): string => `${r.result.requests.average.toFixed(0)} req/s, p50 ${r.result.latency.p50} ms, p99 ${r.result.latency.p99} ms, ${r.cpuPerRequest.toFixed(0)} µs CPU/req`
  console.log(`bare route, eligibility bodies:  ${line(bareE)}`)
  console.log(`POST /v1/eligibility:            ${line(elig)} (lookup + audit row)`)
  console.log(`bare route, admission bodies:    ${line(bareA)}`)
  console.log(`POST /v1/admissions:             ${line(adm)} (admission, stay and audit rows on disk before the answer)`)
  const lookups = warmE.result['2xx'] + elig.result['2xx']
  const er = elig.result.requests.average / bareE.result.requests.average
  const ep = elig.result.latency.p99 / Math.max(1, bareE.result.latency.p99)
  const ar = adm.result.requests.average / bareA.result.requests.average
  goal('POST /v1/eligibility / bare route', `${elig.result.requests.average.toFixed(0)} vs ${bareE.result.requests.average.toFixed(0)} req/s`, er, '>= 0.60', er >= 0.6)
  goal('eligibility p99 / bare route p99', `${elig.result.latency.p99} vs ${bareE.result.latency.p99} ms`, ep, '<= 2.00', ep <= 2)
  goal('POST /v1/admissions / bare route', `${adm.result.requests.average.toFixed(0)} vs ${bareA.result.requests.average.toFixed(0)} req/s`, ar, '>= 0.40', ar >= 0.4)
  goal('every answered admission on disk', `${admissions} rows, ${adm.result['2xx']} answered`, admissions / Math.max(1, adm.result['2xx']), '>= 1.00', admissions >= adm.result['2xx'])
  goal('every answered lookup has its audit row', `${audits} rows, ${lookups} answered`, audits / Math.max(1, lookups), '>= 1.00', audits >= lookups)
  if (rss !== null) console.log(`agent peak RSS:                  ${Math.round(Number(rss[1]) / 1024)} MB with ${PEOPLE} people`)
  console.log(`load average at end:             ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
