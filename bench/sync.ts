// npm run bench:sync — publishes a 1,000,000-record full snapshot, syncs it into an agent over HTTP
// on loopback while lookups keep coming, imports the same people from a county CSV with `fangpin
// import`, and compares both with sqlite3's .import of the same rows from CSV into a keyed table,
// in the same run. Then a 10,000-record delta.
// Goals (DESIGN.md Targets): sync and import <= 3 x .import; lookup p99 during the sync <= 50 ms;
// a 10,000-record delta <= 1 s.
import autocannon from 'autocannon'
import { spawnSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { openStore } from '../agent/store/store.ts'
import { certnoOf, start, ROOT } from './fixture.ts'
import { publicKeyBase64 } from '../registry/manifest.ts'
import { publish } from '../registry/publish.ts'
import { startRegistryServer } from '../registry/serve.ts'
import type { ListRecord } from '../lists/list-record.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000)
const DELTA = 10_000
const CATEGORIES = ['extreme_poverty', 'minimum_living', 'out_of_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'near_minimum_living']
// the same categories as a county's export names them (profile guangxi-liuzhou)
const LABELS: Record<string, string> = { extreme_poverty: '特困人员', minimum_living: '低保对象', out_of_poverty: '脱贫人口', unstable_out_of_poverty: '脱贫不稳定户', marginal_at_risk: '边缘易致贫户', near_minimum_living: '低保边缘家庭成员' }

function goal (label: string, figure: string, ratio: number, target: string, met: boolean): void {
  console.log(`${label.padEnd(40)} ${figure.padEnd(30)} ratio ${ratio.toFixed(2).padStart(5)}  goal ${target.padEnd(10)} ${met ? 'met' : 'NOT met'}`)
}

function record (i: number, variant = 0): ListRecord {
  return {
    op: 'upsert',
    certno: certnoOf(i),
    psn_cert_type: '01',
    psn_name: '测试人员',
    identities: [{ category: CATEGORIES[(i + variant) % CATEGORIES.length], begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }]
  }
}

function * people (n: number, changedFrom = -1, variant = 0): Generator<ListRecord> {
  for (let i = 0; i < n; i++) yield record(i, i >= changedFrom && changedFrom >= 0 && i < changedFrom + DELTA ? variant : 0)
}

async function waitForSeq (url: string, token: string, seq: number): Promise<void> {
  for (;;) {
    const res = await fetch(url + '/v1/sync/status', { headers: { authorization: `Bearer ${token}` } })
    const s = await res.json() as { loaded_seq: number | null, last_attempt: { result: string, message: string } | null }
    if (s.loaded_seq === seq) return
    if (s.last_attempt?.result === 'failed') throw new Error(`sync failed: ${s.last_attempt.message}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-sync-'))
const children: ChildProcess[] = []
let registry: Awaited<ReturnType<typeof startRegistryServer>> | undefined
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const regDir = join(dir, 'registry')
  let t0 = performance.now()
  await publish({ records: people(PEOPLE), outDir: regDir, privateKey, region: '450206' })
  console.log(`published ${PEOPLE} records in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  registry = await startRegistryServer(regDir, { port: 0 })

  // the baseline: sqlite3's .import of the same rows (key, name, category, window, source) from CSV
  const csv = join(dir, 'rows.csv')
  const county = join(dir, 'county.csv')
  const w = createWriteStream(csv)
  const c = createWriteStream(county)
  c.write('姓名,身份证号码,人员类别,身份生效时间,身份终止时间,发证部门\n')
  for (let i = 0; i < PEOPLE; i++) {
    const r = record(i)
    const id = r.identities[0]
    if (!w.write(`${r.psn_cert_type}:${r.certno},${r.psn_name ?? ''},${id.category},${id.begntime},,${id.source ?? ''}\n`)) await once(w, 'drain')
    if (!c.write(`${r.psn_name ?? ''},${r.certno},${LABELS[id.category]},${id.begntime},,${id.source ?? ''}\n`)) await once(c, 'drain')
  }
  w.end()
  c.end()
  await Promise.all([once(w, 'finish'), once(c, 'finish')])
  const baseDb = join(dir, 'baseline.db')
  spawnSync('sqlite3', [baseDb, 'PRAGMA journal_mode=WAL; CREATE TABLE list_identity (person_key TEXT, name TEXT, category TEXT, begntime TEXT, endtime TEXT, source TEXT, PRIMARY KEY (person_key)) WITHOUT ROWID;'])
  t0 = performance.now()
  const imp = spawnSync('sqlite3', [baseDb, '.mode csv', `.import ${csv} list_identity`])
  const importSeconds = (performance.now() - t0) / 1000
  if (imp.status !== 0) throw new Error(`sqlite3 .import failed: ${imp.stderr.toString()}`)

  // `fangpin import` of the same people from the county's CSV, as an operator runs it: every row
  // validated, every person hashed, loaded into a new generation and flipped
  t0 = performance.now()
  const fangpinImport = spawnSync(process.execPath, ['--import', 'tsx', 'agent/cli/main.ts', 'import', county], { cwd: ROOT, env: { ...process.env, FANGPIN_DATA_DIR: join(dir, 'import') } })
  const fangpinImportSeconds = (performance.now() - t0) / 1000
  if (fangpinImport.status !== 0) throw new Error(`fangpin import failed: ${fangpinImport.stderr.toString()}`)
  console.log(fangpinImport.stdout.toString().trim())
  rmSync(join(dir, 'import'), { recursive: true, force: true })

  // the agent: a small imported list to answer from while the registry's list comes in
  const dataDir = join(dir, 'data')
  const store = openStore(dataDir)
  await store.list.replace(people(1000), { source: 'import', label: 'bench-start' })
  const token = store.tokens.create('bench', 'admin').token
  store.close()
  const agent = await start(['agent/cli/main.ts', 'serve'], {
    FANGPIN_DATA_DIR: dataDir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn',
    FANGPIN_REGISTRY_URL: registry.url + '/', FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(publicKey)
  })
  children.push(agent.child)
  t0 = performance.now()
  let n = 0
  // lookups during the sync (the start-up sync begins as the agent starts)
  const lookups = autocannon({
    url: agent.url + '/v1/eligibility', connections: 10, duration: 600, method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest (req) { n++; return { ...req, body: JSON.stringify({ certno: certnoOf(n % 1000), at: '2026-11-20 09:30:00' }) } } }]
  })
  await waitForSeq(agent.url, token, 1)
  const syncSeconds = (performance.now() - t0) / 1000
  ;(lookups as unknown as { stop: () => void }).stop()
  const during = await lookups
  console.log(`sqlite3 .import of the same rows:        ${importSeconds.toFixed(1)} s`)
  console.log(`lookups during the sync:                  ${during.requests.total} answered, p50 ${during.latency.p50} ms, p99 ${during.latency.p99} ms, max ${during.latency.max} ms, non-2xx ${during.non2xx}`)
  goal(`fangpin import of ${PEOPLE} people (CSV)`, `${fangpinImportSeconds.toFixed(1)} s vs ${importSeconds.toFixed(1)} s`, fangpinImportSeconds / importSeconds, '<= 3', fangpinImportSeconds / importSeconds <= 3)
  goal(`full sync of ${PEOPLE} records over HTTP`, `${syncSeconds.toFixed(1)} s vs ${importSeconds.toFixed(1)} s`, syncSeconds / importSeconds, '<= 3', syncSeconds / importSeconds <= 3)
  goal('lookup p99 during the sync', `${during.latency.p99} ms`, during.latency.p99 / 50, '<= 50 ms', during.latency.p99 <= 50 && during.non2xx === 0)

  await publish({ records: people(PEOPLE, 5000, 1), outDir: regDir, privateKey, region: '450206' })
  t0 = performance.now()
  const res = await fetch(agent.url + '/v1/sync/run?wait=true', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const body = await res.json() as { result: string, kind?: string, records?: number, message: string }
  const deltaSeconds = (performance.now() - t0) / 1000
  goal(`delta of ${body.records ?? '?'} records (${body.kind ?? '?'}, ${body.result})`, `${deltaSeconds.toFixed(2)} s`, deltaSeconds / 1, '<= 1 s', deltaSeconds <= 1 && body.result === 'updated')
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  await registry?.close()
  rmSync(dir, { recursive: true, force: true })
}
