// npm run bench:province — a city or provincial hospital carries the province's list: 5,000,000
// people. A registry directory is written directly (gzip NDJSON and a signed manifest, as the
// publisher writes them; bench:publish times the publisher itself), an agent that serves a small
// list syncs the province's snapshot over HTTP at start while lookups keep coming, then a
// 50,000-record delta (40,000 changed, 5,000 removed, 5,000 new) is published and synced.
// Goals (DESIGN.md Targets): full sync time reported; agent RSS <= 200 MB after it; lookups during
// it p99 <= 50 ms; a 50,000-record delta <= 2 s.
import autocannon from 'autocannon'
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { createGzip } from 'node:zlib'
import type { ChildProcess } from 'node:child_process'
import { certnoOf, start } from './fixture.ts'
import { openStore } from '../agent/store/store.ts'
import { publicKeyBase64, signManifest, SCHEMA_VERSION, type FileEntry, type Manifest } from '../registry/manifest.ts'
import { startRegistryServer } from '../registry/serve.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 5_000_000)
const CATEGORIES = ['extreme_poverty', 'minimum_living', 'out_of_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'near_minimum_living']
const REGION = '450000'

function line (i: number, changed: boolean): string {
  const identities = [{ category: CATEGORIES[(i + (changed ? 1 : 0)) % CATEGORIES.length], begntime: `20${10 + (i % 15)}-0${1 + (i % 9)}-01 00:00:00`, endtime: null, source: '民政' }]
  if (i % 5 === 0) identities.push({ category: 'out_of_poverty', begntime: '2016-12-31 00:00:00', endtime: null, source: '乡村振兴' })
  return JSON.stringify({ op: 'upsert', certno: certnoOf(i), psn_cert_type: '01', psn_name: '测试人员', identities })
}

/** Writes a gzip NDJSON file from lines; returns its manifest entry. */
async function writeGz (dir: string, file: string, lines: Iterable<string>, entry: Omit<FileEntry, 'file' | 'record_count' | 'size' | 'sha256'>): Promise<FileEntry> {
  const gz = createGzip({ level: 1 })
  const out = createWriteStream(join(dir, file))
  const hash = createHash('sha256')
  let size = 0
  gz.on('data', (d: Buffer) => { hash.update(d); size += d.length; if (!out.write(d)) gz.pause() })
  out.on('drain', () => gz.resume())
  let count = 0
  let parts: string[] = []
  for (const l of lines) {
    parts.push(l)
    count++
    if (parts.length === 5000) {
      if (!gz.write(parts.join('\n') + '\n')) await once(gz, 'drain')
      parts = []
    }
  }
  if (parts.length > 0) gz.write(parts.join('\n') + '\n')
  gz.end()
  await once(gz, 'end')
  out.end()
  await once(out, 'finish')
  return { ...entry, file, record_count: count, size, sha256: hash.digest('hex') }
}

function writeManifest (dir: string, key: KeyObject, top: FileEntry, full: FileEntry): void {
  const now = new Date()
  const m: Manifest = {
    seq: top.seq, kind: top.kind, base_seq: top.base_seq, created_at: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    expires_at: new Date(now.getTime() + 40 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), region: REGION,
    record_count: top.record_count, size: top.size, sha256: top.sha256, schema_version: SCHEMA_VERSION, file: top.file, full
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(signManifest(m, key), null, 2))
}

// The delta: people 0..39,999 change category, 40,000..44,999 leave, PEOPLE..PEOPLE+4,999 arrive.
const changed = (i: number): boolean => i < 40_000
const removed = (i: number): boolean => i >= 40_000 && i < 45_000

function * full (n: number, second: boolean): Generator<string> {
  for (let i = 0; i < n; i++) {
    if (second && removed(i)) continue
    yield line(i, second && changed(i))
  }
  if (second) for (let i = n; i < n + 5000; i++) yield line(i, false)
}

function * delta (n: number): Generator<string> {
  for (let i = 0; i < 45_000; i++) yield changed(i) ? line(i, true) : JSON.stringify({ op: 'delete', certno: certnoOf(i), psn_cert_type: '01' })
  for (let i = n; i < n + 5000; i++) yield line(i, false)
}

function memory (pid: number): { rss: number, peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024, peak: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024 }
}

/** What the RSS holds, from the agent's own /metrics: the JavaScript heap and buffers; the rest is native. */
async function heap (url: string, token: string): Promise<string> {
  const text = await (await fetch(url + '/metrics', { headers: { authorization: `Bearer ${token}` } })).text()
  const mb = (name: string): string => (Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20).toFixed(0)
  return `JS heap ${mb('nodejs_heap_size_used_bytes')} MB used of ${mb('nodejs_heap_size_total_bytes')} MB, buffers and native objects ${mb('nodejs_external_memory_bytes')} MB`
}

async function waitForSeq (url: string, token: string, seq: number): Promise<void> {
  for (;;) {
    const res = await fetch(url + '/v1/sync/status', { headers: { authorization: `Bearer ${token}` } })
    const s = await res.json() as { loaded_seq: number | null, last_attempt: { result: string, message: string } | null }
    if (s.loaded_seq === seq) return
    if (s.last_attempt?.result === 'failed') throw new Error(`sync failed: ${s.last_attempt.message}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function goal (label: string, figure: string, ratio: number, target: string, met: boolean): void {
  console.log(`${label.padEnd(42)} ${figure.padEnd(22)} ratio ${ratio.toFixed(2).padStart(5)}  goal ${target.padEnd(10)} ${met ? 'met' : 'NOT met'}`)
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-province-'))
const children: ChildProcess[] = []
let registry: Awaited<ReturnType<typeof startRegistryServer>> | undefined
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const regDir = join(dir, 'registry')
  mkdirSync(regDir)
  let t0 = performance.now()
  const full1 = await writeGz(regDir, 'full-1.ndjson.gz', full(PEOPLE, false), { kind: 'full', seq: 1, base_seq: null })
  writeManifest(regDir, privateKey, full1, full1)
  console.log(`wrote the province's snapshot: ${PEOPLE} records, ${(full1.size / 2 ** 20).toFixed(0)} MB gzip, in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  registry = await startRegistryServer(regDir, { port: 0 })

  // the agent serves a small imported list while the province's list comes in
  const dataDir = join(dir, 'data')
  const store = openStore(dataDir)
  await store.list.replace(Array.from({ length: 1000 }, (_, i) => ({ op: 'upsert' as const, certno: certnoOf(i), psn_cert_type: '01', psn_name: '测试人员', identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: null }] })), { source: 'import', label: 'bench-start' })
  const token = store.tokens.create('bench', 'admin').token
  store.close()
  const agent = await start(['agent/cli/main.ts', 'serve'], {
    FANGPIN_DATA_DIR: dataDir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'warn', FANGPIN_PROFILE: 'guangxi-liuzhou',
    FANGPIN_REGISTRY_URL: registry.url + '/', FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(publicKey)
  })
  children.push(agent.child)
  t0 = performance.now()
  let n = 0
  const lookups = autocannon({
    url: agent.url + '/v1/eligibility', connections: 10, duration: 3600, method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest (req) { n++; return { ...req, body: JSON.stringify({ certno: certnoOf((n * 7919) % PEOPLE), at: '2026-11-20 09:30:00' }) } } }]
  })
  await waitForSeq(agent.url, token, 1)
  const syncSeconds = (performance.now() - t0) / 1000
  ;(lookups as unknown as { stop: () => void }).stop()
  const during = await lookups
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const afterSync = memory(agent.child.pid!)
  const heapAfterSync = await heap(agent.url, token)

  t0 = performance.now()
  const full2 = await writeGz(regDir, 'full-2.ndjson.gz', full(PEOPLE, true), { kind: 'full', seq: 2, base_seq: null })
  const delta12 = await writeGz(regDir, 'delta-1-2.ndjson.gz', delta(PEOPLE), { kind: 'delta', seq: 2, base_seq: 1 })
  writeManifest(regDir, privateKey, delta12, full2)
  console.log(`wrote the next publish (full ${full2.record_count} records and a ${delta12.record_count}-record delta) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  t0 = performance.now()
  const res = await fetch(agent.url + '/v1/sync/run?wait=true', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const body = await res.json() as { result: string, kind?: string, records?: number, message: string }
  const deltaSeconds = (performance.now() - t0) / 1000
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const afterDelta = memory(agent.child.pid!)
  const heapAfterDelta = await heap(agent.url, token)
  const check = await (await fetch(agent.url + '/v1/eligibility', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ certno: certnoOf(7), at: '2026-11-20 09:30:00' }) })).json() as { identities: Array<{ category: string }>, list: { version: string } }

  console.log(`full sync of ${PEOPLE} records over HTTP:  ${syncSeconds.toFixed(1)} s (download, verify, validate and hash every record, spool, load, flip)`)
  console.log(`lookups during the sync:                   ${during.requests.total} answered, p50 ${during.latency.p50} ms, p99 ${during.latency.p99} ms, max ${during.latency.max} ms, non-2xx ${during.non2xx}`)
  console.log(`after the delta, person 7:                 ${check.identities.map((i) => i.category).join(', ')} (list ${check.list.version})`)
  console.log(`agent memory after the full sync:          RSS ${afterSync.rss.toFixed(0)} MB; ${heapAfterSync}`)
  console.log(`agent memory after the delta:              RSS ${afterDelta.rss.toFixed(0)} MB; ${heapAfterDelta}`)
  goal('agent RSS after the full sync', `${afterSync.rss.toFixed(0)} MB (peak ${afterSync.peak.toFixed(0)})`, afterSync.rss / 200, '<= 200 MB', afterSync.rss <= 200)
  goal('lookup p99 during the full sync', `${during.latency.p99} ms`, during.latency.p99 / 50, '<= 50 ms', during.latency.p99 <= 50 && during.non2xx === 0)
  goal(`delta of ${body.records ?? '?'} records (${body.kind ?? '?'}, ${body.result})`, `${deltaSeconds.toFixed(2)} s`, deltaSeconds / 2, '<= 2 s', deltaSeconds <= 2 && body.result === 'updated')
  goal('agent RSS after the delta', `${afterDelta.rss.toFixed(0)} MB (peak ${afterDelta.peak.toFixed(0)})`, afterDelta.rss / 200, '<= 200 MB', afterDelta.rss <= 200)
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  await registry?.close()
  rmSync(dir, { recursive: true, force: true })
}
