import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../agent/store/store.ts'
import { checkCharacter } from '../agent/identity/certno.ts'
const dir = mkdtempSync(join(tmpdir(), 'prof-'))
const c = (n: number) => { const f = `4502${String(n % 100).padStart(2, '0')}19800101${String(Math.floor(n / 100)).padStart(3, '0')}`; return f + checkCharacter(f) }
const store = openStore(dir)
await store.list.replace(Array.from({ length: 50000 }, (_, i) => ({ op: 'upsert' as const, certno: c(i), psn_cert_type: '01', psn_name: '张三', identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: 'x' }] })), { source: 'import', label: 'x' })
const token = store.tokens.create('b', 'his').token
store.close()
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--import', 'tsx', 'agent/cli.ts', 'serve'], { env: { ...process.env, FANGPIN_DATA_DIR: dir, FANGPIN_PORT: '18999', FANGPIN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] })
await new Promise((r) => setTimeout(r, 3000))
let n = 0
const path = process.env.P ?? '/v1/admissions'
const r = await autocannon({ url: 'http://127.0.0.1:18999' + path, connections: 50, duration: 5, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  requests: [{ setupRequest (req) { n++; return { ...req, body: JSON.stringify(path === '/v1/admissions' ? { mdtrt_id: `m${n}`, certno: c(n % 60000), psn_name: '测试', begntime: '2026-11-20 09:30:00', med_type: '21', diseinfo: [{ diag_code: 'I63.900', diag_name: '脑梗死', maindiag_flag: '1' }] } : { certno: c(n % 60000) }) } } }] })
console.log(path, r.requests.average, 'req/s p99', r.latency.p99, 'non2xx', r.non2xx)
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))
