// npm run bench:charges — the charge feed under load: 1,000 open monitored stays, batches of 100
// 2301 lines posted over HTTP by several connections, then the inpatient list with those 1,000
// stays; a bare Fastify route taking the same bodies in the same run as the yardstick.
// Goals: >= 10,000 lines/s; GET /v1/inpatients with 1,000 open stays <= 20 ms.
//
// Where the time went (2026-11-23, 2-core CI machine, in-process inspector CPU profiles): a batch of
// 100 lines costs the agent about 3–4 ms of CPU: its transaction ~45 % (100 inserts with named
// parameters, the totals update, the alert refresh), checking the lines ~18 % (decimals, local
// time, the sha256 content hash), JSON body parsing ~6 %, GC ~9 %. The batch p50 at 10 connections
// is queueing. The inpatient list: reading the 1,000 rows ~3 ms (better-sqlite3 building row
// objects column by column took twice that; stays.ts now builds them from raw rows), the views
// ~3 ms (BigInt ratios, day counts, the sort), the rest serialising and writing 435 KB.
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { openStore } from '../agent/store/store.ts'
import { certnoOf, start } from './fixture.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 2_000)
const STAYS = Number(process.env.BENCH_STAYS ?? 1_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20)
const LINES = 100
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const LIST_REQUESTS = 200
// Categories every stay is monitored under (all open-ended, all known to the region profile).
const CATEGORIES = ['extreme_poverty', 'minimum_living', 'out_of_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'near_minimum_living']

function * people (n: number): Generator<LoadRecord> {
  for (let i = 0; i < n; i++) {
    yield { op: 'upsert', certno: certnoOf(i), psn_cert_type: '01', psn_name: '测试人员', identities: [{ category: CATEGORIES[i % CATEGORIES.length], begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] }
  }
}

const stayId = (k: number): string => `ZY${String(k).padStart(6, '0')}`

function yuan (fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}

/**
 * The n-th batch: stay n mod STAYS, feedetl_sn unique per stay (the batch number is part of it).
 * Out-of-catalog (03) lines per 100: 15 for one stay in ten (→ breach), 9 for another one in ten
 * (→ warning), 3 for the rest (ok); the in-catalog lines alternate 01 and 02. Lines of a batch
 * share one amount (5.00–54.00 yuan by stay, cnt 2 × pric), so every stay is past the profile's
 * 1,000-yuan minimum for alerts by its second batch.
 */
function batch (n: number): { path: string, body: string } {
  const k = n % STAYS
  const out = k % 10 === 0 ? 15 : k % 10 === 1 ? 9 : 3
  const fen = 500 + (n % 50) * 100
  const lines = []
  for (let i = 0; i < LINES; i++) {
    const lv = i < out ? '03' : i % 2 === 0 ? '01' : '02'
    lines.push({
      feedetl_sn: `F${n}-${i}`,
      fee_ocur_time: `2026-11-21 ${String(8 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
      med_list_codg: `X${lv}${String(i).padStart(5, '0')}`,
      medins_list_codg: `H${String(i).padStart(5, '0')}`,
      med_list_name: lv === '03' ? `自费项目${i}` : `目录内项目${i}`,
      det_item_fee_sumamt: yuan(fen),
      cnt: 2,
      pric: yuan(fen / 2),
      chrgitm_lv: lv
    })
  }
  return { path: `/v1/admissions/${stayId(k)}/charges`, body: JSON.stringify({ feedetail: lines }) }
}

/** Posts batches from `from` on for SECONDS with CONNECTIONS connections; returns the result and the next batch number. */
async function charges (url: string, token: string | null, from: number, seconds: number, label: string): Promise<{ result: autocannon.Result, next: number }> {
  let n = from
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    requests: [{
      setupRequest (req) {
        const b = batch(n++)
        return { ...req, path: b.path, body: b.body }
      }
    }]
  })
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`)
  return { result, next: n }
}

function pct (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-charges-'))
const children: ChildProcess[] = []
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const store = openStore(dir)
  await store.list.replace(people(PEOPLE), { source: 'import', label: 'bench', version: 'bench' })
  const token = store.tokens.create('bench', 'his').token
  store.close()
  console.log(`loaded ${PEOPLE} people`)

  const agent = await start(['agent/cli/main.ts', 'serve'], { FANGPIN_DATA_DIR: dir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' })
  children.push(agent.child)
  const bare = await start(['bench/bare-server.ts'], {})
  children.push(bare.child)
  const auth = { authorization: `Bearer ${token}` }

  // 1,000 open stays, admitted over HTTP by 10 concurrent loops
  let t0 = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < STAYS) {
      const k = next++
      const res = await fetch(agent.url + '/v1/admissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ mdtrt_id: stayId(k), certno: certnoOf(k), psn_name: '测试人员', begntime: '2026-11-20 09:30:00', med_type: '21', adm_dept_codg: `A${String(k % 12).padStart(2, '0')}`, adm_dept_name: `病区${k % 12}`, diseinfo: [{ diag_code: 'I63.900', diag_name: '脑梗死', maindiag_flag: '1' }] })
      })
      const text = await res.text()
      if (res.status !== 201) throw new Error(`admission ${k}: ${res.status} ${text}`)
    }
  }))
  console.log(`admitted ${STAYS} stays over HTTP in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  // warm both up (JIT, page cache) before measuring
  await charges(bare.url, null, 0, 3, 'bare warm-up')
  const warm = await charges(agent.url, token, 0, 3, 'warm-up')
  const n = warm.next

  const bareRun = await charges(bare.url, null, 0, SECONDS, 'bare')
  const agentRun = await charges(agent.url, token, n, SECONDS, 'agent')
  const a = agentRun.result
  const b = bareRun.result

  // the inpatient list with every stay open and charged: sequential requests on one keep-alive
  // connection (undici), timed from sending to the last byte received
  const times: number[] = []
  let bytes = 0
  let count = 0
  const getList = async (): Promise<Buffer> => {
    const res = await request(agent.url + '/v1/inpatients', { headers: auth })
    const buf = Buffer.from(await res.body.arrayBuffer())
    if (res.statusCode !== 200) throw new Error(`GET /v1/inpatients: ${res.statusCode} ${buf.toString()}`)
    return buf
  }
  for (let i = 0; i < 20; i++) await getList()
  for (let i = 0; i < LIST_REQUESTS; i++) {
    t0 = performance.now()
    const buf = await getList()
    times.push(performance.now() - t0)
    bytes = buf.byteLength
    if (i === 0) {
      const list = JSON.parse(buf.toString()) as { count: number, inpatients: Array<{ status: string }> }
      count = list.count
      const by: Record<string, number> = {}
      for (const p of list.inpatients) by[p.status] = (by[p.status] ?? 0) + 1
      console.log(`inpatient list: ${count} stays (${Object.entries(by).map(([s, c]) => `${c} ${s}`).join(', ')})`)
    }
  }
  times.sort((x, y) => x - y)
  if (count !== STAYS) throw new Error(`GET /v1/inpatients listed ${count} stays, expected ${STAYS}`)

  // every answered batch is stored: the lines in the database are what the figures count
  const db = new Database(join(dir, 'fangpin.db'), { readonly: true })
  const stored = db.prepare('SELECT COUNT(*) FROM charge_line').pluck().get() as number
  const alerts = db.prepare("SELECT kind, COUNT(*) AS c FROM alert WHERE resolved_at IS NULL GROUP BY kind").all() as Array<{ kind: string, c: number }>
  db.close()
  // autocannon stops with up to one batch per connection still in flight: those are stored too
  const answered = warm.result['2xx'] + a['2xx']
  if (stored < answered * LINES || stored > (answered + 2 * CONNECTIONS) * LINES) throw new Error(`${stored} lines stored for ${answered} answered batches`)
  const batchesPerSecond = a['2xx'] / a.duration
  const bareBatchesPerSecond = b['2xx'] / b.duration
  console.log(`charge lines stored:   ${stored} for ${answered} answered batches (warm-up included); open alerts: ${alerts.map((x) => `${x.c} ${x.kind}`).join(', ')}`)
  console.log(`bare Fastify route:    ${bareBatchesPerSecond.toFixed(0)} batches/s = ${(bareBatchesPerSecond * LINES).toFixed(0)} lines/s, p50 ${b.latency.p50} ms, p99 ${b.latency.p99} ms (parses the JSON body, constant answer)`)
  console.log(`POST …/charges:        ${batchesPerSecond.toFixed(1)} batches/s = ${(batchesPerSecond * LINES).toFixed(0)} lines/s (goal >= 10,000), batch p50 ${a.latency.p50} ms, p99 ${a.latency.p99} ms, max ${a.latency.max} ms; ${a['2xx']} batches of ${LINES} lines in ${a.duration.toFixed(1)} s, ${CONNECTIONS} connections, ~${(Buffer.byteLength(batch(0).body) / 1024).toFixed(0)} KB per body`)
  console.log(`ratio charges / bare:  ${(batchesPerSecond / bareBatchesPerSecond).toFixed(2)}`)
  console.log(`GET /v1/inpatients:    ${count} open stays, ${bytes} bytes, median ${pct(times, 0.5).toFixed(1)} ms, p99 ${pct(times, 0.99).toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms over ${LIST_REQUESTS} sequential requests (goal <= 20 ms)`)
  const rss = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)
  if (rss !== null) console.log(`agent peak RSS:        ${Math.round(Number(rss[1]) / 1024)} MB`)
  // load generator and agent share the cores: other work on the machine shows in every figure
  console.log(`load average at end:   ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
