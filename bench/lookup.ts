// npm run bench:lookup — admission lookups with 1,000,000 people loaded, against a bare Fastify
// route in the same run. Goal (DESIGN.md Targets): ratio >= 0.80, lookup p99 <= 10 ms at 50 connections.
//
// Where an admission's ~270 µs of server CPU went in a profile on the 2-core CI machine
// (2026-11-23, inspector CPU profile of the agent under this load): the list lookup statement
// ~25 µs, the admission and audit inserts with their share of the group commit ~35 µs, JSON body
// parsing ~7 µs, the request MAC's canonical JSON ~6 µs, ID-number checks and two HMACs ~15 µs, the
// decision and cards ~5 µs, socket writes ~10 µs; the rest is Fastify's and Node's HTTP path, which
// the bare route pays too. Moving the admission/audit writes off the answer path made little
// difference (measured: 3,706 → 3,923 req/s), so durability is not what costs the ratio.
import autocannon from 'autocannon'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir, cpus, totalmem } from 'node:os'
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

async function load (url: string, token: string | null, label: string, path = '/v1/admissions'): Promise<autocannon.Result> {
  let n = 0
  const result = await autocannon({
    url: url + path,
    connections: CONNECTIONS,
    duration: SECONDS,
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
  return result
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-'))
const children: ChildProcess[] = []
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`)
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
  // warm both up (JIT, page cache) before measuring
  await autocannon({ url: bare.url + '/v1/admissions', connections: 10, duration: 2, method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  await load(agent.url, token, 'warmup')

  const bareResult = await load(bare.url, null, 'bare')
  const agentResult = await load(agent.url, token, 'agent')
  const eligibilityResult = await load(agent.url, token, 'eligibility', '/v1/eligibility')
  const ratio = agentResult.requests.average / bareResult.requests.average
  const eligibilityRatio = eligibilityResult.requests.average / bareResult.requests.average
  console.log(`bare Fastify route:    ${bareResult.requests.average.toFixed(0)} req/s, p99 ${bareResult.latency.p99} ms`)
  console.log(`POST /v1/admissions:   ${agentResult.requests.average.toFixed(0)} req/s, p50 ${agentResult.latency.p50} ms, p99 ${agentResult.latency.p99} ms (records the admission + audit row)`)
  console.log(`POST /v1/eligibility:  ${eligibilityResult.requests.average.toFixed(0)} req/s, p50 ${eligibilityResult.latency.p50} ms, p99 ${eligibilityResult.latency.p99} ms (lookup + audit row)`)
  console.log(`ratio admissions/bare: ${ratio.toFixed(2)} (goal >= 0.80)`)
  console.log(`ratio eligibility/bare: ${eligibilityRatio.toFixed(2)}`)
  const rss = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)
  if (rss !== null) console.log(`agent peak RSS:        ${Math.round(Number(rss[1]) / 1024)} MB with ${PEOPLE} people`)
  console.log(`admission p99:         ${agentResult.latency.p99} ms at ${CONNECTIONS} connections (goal <= 10 ms)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
