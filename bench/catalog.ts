// npm run bench:catalog — the insurance catalog at a province's size: import a synthetic catalog
// (100,000 drugs, 10,000 services, 50,000 materials, a hospital mapping of 160,000 codes) from CSV
// files and time it; then post charge batches of 100 lines over HTTP to one agent, batches whose
// lines carry no level (classified from the catalog: by code, or by hospital code through the
// mapping) alternating with the same kind of batches carrying their levels, in one run.
// Goal: classification costs under 10 % of the batch throughput (no-level / with-level >= 0.90).
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../agent/store/store.ts'
import { createContext, type Actor } from '../agent/rules/index.ts'
import { importCatalog } from '../agent/intake/catalog-import.ts'
import { batchCatalog, classifyLines } from '../agent/rules/catalog.ts'
import { readChargeLine } from '../agent/rules/charge-line.ts'
import { loadProfile } from '../profile/profile.ts'
import { certnoOf, start } from './fixture.ts'
import type { LoadRecord } from '../agent/store/list.ts'

const DRUGS = Number(process.env.BENCH_DRUGS ?? 100_000)
const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000)
const MATERIALS = Number(process.env.BENCH_MATERIALS ?? 50_000)
const STAYS = Number(process.env.BENCH_STAYS ?? 1_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const LINES = 100
const DOSFORMS = ['片剂', '胶囊剂', '注射剂', '颗粒剂']

const drugCode = (i: number): string => `X${String(i).padStart(9, '0')}`
const serviceCode = (i: number): string => String(110_000_000_000_000 + i)
const materialCode = (i: number): string => `C${String(i).padStart(9, '0')}`
// One drug in twenty is 丙类: a stay stays under the warning level, so no answer computes
// alternatives and the runs measure classification, not the suggestions.
const drugLevel = (i: number): string => i % 20 === 19 ? '03' : i % 2 === 0 ? '01' : '02'

async function writeLines (file: string, header: string, rows: Iterable<string>): Promise<void> {
  const out = createWriteStream(file)
  out.write(header + '\n')
  for (const r of rows) if (!out.write(r + '\n')) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

function * drugs (): Generator<string> {
  for (let i = 0; i < DRUGS; i++) {
    const g = i % 10_000
    const row = [drugCode(i), `通用名${g}${DOSFORMS[Math.floor(i / 10_000) % 4]}${i}`, `通用名${g}`, `G${g}`, DOSFORMS[Math.floor(i / 10_000) % 4], '10mg', drugLevel(i), '450000', '2024-01-01', '', '1', i % 50 === 0 ? '1' : '0', i % 7 === 0 ? '1' : '0', '0', (1 + (i % 300) / 10).toFixed(2)]
    yield row.join(',')
    // one drug in ten also has a nationwide row: the provincial one is more local and wins
    if (i % 10 === 0) yield [drugCode(i), row[1], row[2], row[3], row[4], row[5], '02', '', '2020-01-01', '', '1', '0', '0', '0', ''].join(',')
  }
}

function * services (): Generator<string> {
  for (let i = 0; i < SERVICES; i++) yield [serviceCode(i), `诊疗项目${i}`, '', '', '', '', i % 25 === 24 ? '03' : '01', '450000', '2024-01-01', '', '1', '0', '0', '0', ''].join(',')
}

function * materials (): Generator<string> {
  for (let i = 0; i < MATERIALS; i++) yield [materialCode(i), `医用耗材${i}`, '', '', '', '', i % 20 === 19 ? '03' : '02', '450000', '2024-01-01', '', '1', '0', '0', '0', (10 + i % 100).toFixed(2)].join(',')
}

const ALL = DRUGS + SERVICES + MATERIALS

/** The k-th item of the whole catalog: its national code and level. */
function nth (k: number): { code: string, lv: string } {
  const i = k % ALL
  if (i < DRUGS) return { code: drugCode(i), lv: drugLevel(i) }
  if (i < DRUGS + SERVICES) return { code: serviceCode(i - DRUGS), lv: (i - DRUGS) % 25 === 24 ? '03' : '01' }
  return { code: materialCode(i - DRUGS - SERVICES), lv: (i - DRUGS - SERVICES) % 20 === 19 ? '03' : '02' }
}

function * mappingRows (): Generator<string> {
  for (let k = 0; k < ALL; k++) yield `H${k},${nth(k).code},2024-01-01,1`
}

const stayId = (k: number): string => `ZY${String(k).padStart(6, '0')}`

/**
 * The n-th batch: stay n mod STAYS, 100 lines of items spread over the catalog. Without levels,
 * one line in five gives the hospital's code only (classified through the mapping); with levels,
 * every line carries the level the catalog has (so there is no drift to record).
 */
function batch (n: number, levels: boolean): { path: string, body: string } {
  const lines = []
  for (let j = 0; j < LINES; j++) {
    const k = ((n * LINES + j) * 7919) % ALL
    const it = nth(k)
    const byHospital = !levels && j % 5 === 0
    const fen = 500 + (n % 50) * 100
    const line: Record<string, unknown> = {
      feedetl_sn: `${levels ? 'L' : 'N'}${n}-${j}`,
      fee_ocur_time: `2026-11-21 ${String(8 + (j % 10)).padStart(2, '0')}:${String(j % 60).padStart(2, '0')}:00`,
      medins_list_codg: `H${k}`,
      med_list_name: `项目${k}`,
      det_item_fee_sumamt: (fen / 100).toFixed(2),
      cnt: 2,
      pric: (fen / 200).toFixed(2)
    }
    if (!byHospital) line.med_list_codg = it.code
    if (levels) line.chrgitm_lv = it.lv
    lines.push(line)
  }
  return { path: `/v1/admissions/${stayId(n % STAYS)}/charges`, body: JSON.stringify({ feedetail: lines }) }
}

async function charges (url: string, token: string, from: number, levels: boolean, seconds: number): Promise<{ result: autocannon.Result, next: number }> {
  let n = from
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest (req) { const b = batch(n++, levels); return { ...req, path: b.path, body: b.body } } }]
  })
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) throw new Error(`${levels ? 'levels' : 'no level'}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`)
  return { result, next: n }
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-catalog-'))
const children: ChildProcess[] = []
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const header = 'med_list_codg,med_list_name,drug_genname,genname_codg,drug_dosform,drug_spec,chrgitm_lv,insu_admdvs,begndate,enddate,vali_flag,hi_nego_drug_flag,bas_medn_flag,lmt_used_flag,hilist_pric_uplmt_amt'
  const files = { drugs: join(dir, 'drugs.csv'), services: join(dir, 'services.csv'), materials: join(dir, 'materials.csv'), mapping: join(dir, 'mapping.csv') }
  await writeLines(files.drugs, header, drugs())
  await writeLines(files.services, header, services())
  await writeLines(files.materials, header, materials())
  await writeLines(files.mapping, 'medins_list_codg,med_list_codg,begndate,vali_flag', mappingRows())

  const data = join(dir, 'data')
  const store = openStore(data)
  const profile = loadProfile('guangxi-liuzhou')
  const ctx = createContext({ store, profile, settings: { tz: 'Asia/Shanghai', staleHours: 36, sessionIdleMinutes: 30 } })
  const actor: Actor = { kind: 'operator', user: 'bench' }
  let readDone = 0
  const t0 = performance.now()
  const out = await importCatalog(ctx, actor, { files: [files.drugs, files.services, files.materials], mappings: [files.mapping] }, {
    onLoadProgress: () => { if (readDone === 0) readDone = performance.now() }
  })
  const t1 = performance.now()
  const rows = out.files.reduce((s, f) => s + f.rows, 0)
  console.log(`import: ${out.load.items} catalog rows of ${out.load.codes} codes and ${out.load.mappings} mapping rows (${rows} CSV rows in 4 files): ${((t1 - t0) / 1000).toFixed(1)} s — reading ${((readDone - t0) / 1000).toFixed(1)} s, loading ${((t1 - readDone) / 1000).toFixed(1)} s`)

  // In process: classifying batches of 100 lines without levels, first with codes not looked up
  // before (every line a statement), then the same batches again (the generation's rows cached).
  const parsed = Array.from({ length: 200 }, (_, n) => (JSON.parse(batch(1000 + n, false).body).feedetail as never[]).map((r, j) => readChargeLine(r, j, profile, 'Asia/Shanghai', true, true)))
  const timeClassify = (): number => {
    const c0 = performance.now()
    for (const lines of parsed) classifyLines(batchCatalog(ctx), lines.map((l) => ({ ...l })))
    return (performance.now() - c0) / parsed.length * 1000
  }
  const cold = timeClassify()
  const warm = timeClassify()
  console.log(`in process: classifying a batch of ${LINES} lines takes ${cold.toFixed(0)} µs with codes not seen before, ${warm.toFixed(0)} µs once the generation's rows are cached`)

  const people = function * (): Generator<LoadRecord> {
    for (let i = 0; i < STAYS; i++) yield { op: 'upsert', certno: certnoOf(i), psn_cert_type: '01', psn_name: '测试人员', identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }] }
  }
  await store.list.replace(people(), { source: 'import', label: 'bench', version: 'bench' })
  const token = store.tokens.create('bench', 'his').token
  store.close()

  const agent = await start(['agent/cli/main.ts', 'serve'], { FANGPIN_DATA_DIR: data, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn' })
  children.push(agent.child)
  let next = 0
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < STAYS) {
      const k = next++
      const res = await fetch(agent.url + '/v1/admissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ mdtrt_id: stayId(k), certno: certnoOf(k), psn_name: '测试人员', begntime: '2026-11-20 09:30:00', med_type: '21' })
      })
      if (res.status !== 201) throw new Error(`admission ${k}: ${res.status} ${await res.text()}`)
    }
  }))
  let n = (await charges(agent.url, token, 0, false, 3)).next
  n = (await charges(agent.url, token, n, true, 3)).next
  const totals = { none: { batches: 0, seconds: 0, p99: [] as number[] }, levels: { batches: 0, seconds: 0, p99: [] as number[] } }
  for (let r = 0; r < ROUNDS; r++) {
    // The order alternates between rounds: whatever the machine does meanwhile falls on both kinds.
    for (const levels of r % 2 === 0 ? [true, false] : [false, true]) {
      const run = await charges(agent.url, token, n, levels, SECONDS)
      n = run.next
      const k = levels ? totals.levels : totals.none
      k.batches += run.result['2xx']
      k.seconds += run.result.duration
      k.p99.push(run.result.latency.p99)
      console.log(`round ${r + 1}, ${levels ? 'with levels' : 'no level   '}: ${(run.result['2xx'] / run.result.duration * LINES).toFixed(0)} lines/s, batch p50 ${run.result.latency.p50} ms, p99 ${run.result.latency.p99} ms`)
    }
  }
  const db = new Database(join(data, 'fangpin.db'), { readonly: true })
  const sources = db.prepare('SELECT level_source, COUNT(*) AS c FROM charge_line GROUP BY level_source').all() as Array<{ level_source: string, c: number }>
  const statuses = db.prepare("SELECT kind, COUNT(*) AS c FROM alert WHERE resolved_at IS NULL GROUP BY kind").all() as Array<{ kind: string, c: number }>
  db.close()
  if (sources.some((s) => s.level_source === 'unknown')) throw new Error(`lines the catalog could not place: ${JSON.stringify(sources)}`)
  const none = totals.none.batches / totals.none.seconds * LINES
  const levels = totals.levels.batches / totals.levels.seconds * LINES
  console.log(`lines stored by level source: ${sources.map((s) => `${s.c} ${s.level_source}`).join(', ')}; open alerts: ${statuses.map((s) => `${s.c} ${s.kind}`).join(', ') || 'none'}`)
  console.log(`with levels (drift check only): ${levels.toFixed(0)} lines/s, p99 ${totals.levels.p99.join(' / ')} ms`)
  console.log(`no level (classified):          ${none.toFixed(0)} lines/s, p99 ${totals.none.p99.join(' / ')} ms`)
  console.log(`ratio no level / with levels:   ${(none / levels).toFixed(2)} (goal >= 0.90: classification under 10 % of the throughput)`)
  const rss = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)
  if (rss !== null) console.log(`agent peak RSS:                 ${Math.round(Number(rss[1]) / 1024)} MB`)
  console.log(`load average at end:            ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
