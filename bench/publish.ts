// npm run bench:publish — the county's (or province's) publisher at scale: a synthetic NDJSON list
// of BENCH_PEOPLE people (default 10,000,000, streamed to a file), published by `fangpin registry
// publish` as a child process the way an operator runs it, timed, with its peak RSS read from
// /proc. Then a second publish of the same list with 1 % of people changed: the delta against the
// previous snapshot. Goal (DESIGN.md Targets): the publisher stays under 1 GB RSS; its time is reported.
import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { certnoOf, ROOT } from './fixture.ts'

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 10_000_000)
const GOAL_MB = 1024
const CATEGORIES = ['特困人员', '低保对象', '脱贫人口', '低保边缘家庭成员', '脱贫不稳定户', '边缘易致贫户']

async function writeList (file: string, changed: number): Promise<void> {
  const w = createWriteStream(file)
  let parts: string[] = []
  for (let i = 0; i < PEOPLE; i++) {
    // every 100th person has another identity in the second list
    const c = (i + (changed > 0 && i % 100 === 0 ? 1 : 0)) % CATEGORIES.length
    const ids = [{ category: CATEGORIES[c], begntime: `20${10 + (i % 15)}-0${1 + (i % 9)}-01`, source: '民政' }]
    if (i % 5 === 0) ids.push({ category: '脱贫人口', begntime: '2016-12-31', source: '乡村振兴' })
    parts.push(JSON.stringify({ op: 'upsert', certno: certnoOf(i), psn_name: '测试人员', identities: ids }))
    if (parts.length === 10_000) {
      if (!w.write(parts.join('\n') + '\n')) await once(w, 'drain')
      parts = []
    }
  }
  if (parts.length > 0) w.write(parts.join('\n') + '\n')
  w.end()
  await once(w, 'finish')
}

/** Runs the publisher; resolves with its exit code, wall time and the peak RSS it reached. */
async function run (args: string[]): Promise<{ code: number, seconds: number, peakMb: number, out: string }> {
  const t0 = performance.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'registry/cli-main.ts', ...args], { cwd: ROOT, env: { ...process.env, FANGPIN_PROFILE: 'guangxi-liuzhou' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  let peak = 0
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (m !== null) peak = Math.max(peak, Number(m[1]))
    } catch { /* exited */ }
  }, 200)
  const [code] = await once(child, 'exit') as [number]
  clearInterval(timer)
  return { code, seconds: (performance.now() - t0) / 1000, peakMb: peak / 1024, out }
}

const dir = mkdtempSync(join(tmpdir(), 'fangpin-bench-publish-'))
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg()[0].toFixed(2)} at start`)
  const keys = await run(['keygen', '--out', join(dir, 'keys')])
  if (keys.code !== 0) throw new Error(keys.out)
  const from = join(dir, 'province.ndjson')
  let t0 = performance.now()
  await writeList(from, 0)
  console.log(`wrote ${PEOPLE} records (${(statSync(from).size / 2 ** 20).toFixed(0)} MB NDJSON) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const args = ['publish', '--from', from, '--out', join(dir, 'www'), '--key', join(dir, 'keys', 'registry.key'), '--region', '450000']
  const first = await run(args)
  if (first.code !== 0) throw new Error(first.out)
  console.log(first.out.trim().split('\n').filter((l) => !l.includes('\r')).join('\n'))
  t0 = performance.now()
  await writeList(from, 1)
  const second = await run(args)
  if (second.code !== 0) throw new Error(second.out)
  console.log(second.out.trim().split('\n').filter((l) => !l.includes('\r')).join('\n'))
  const verdict = (mb: number): string => `${mb.toFixed(0)} MB, ratio to the goal ${(mb / GOAL_MB).toFixed(2)} (goal < ${GOAL_MB} MB) — ${mb < GOAL_MB ? 'met' : 'NOT met'}`
  console.log(`publish ${PEOPLE} records, full:          ${first.seconds.toFixed(1)} s; peak RSS ${verdict(first.peakMb)}`)
  console.log(`publish ${PEOPLE} records, full + delta:  ${second.seconds.toFixed(1)} s; peak RSS ${verdict(second.peakMb)}`)
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
