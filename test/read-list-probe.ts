// Child process for test/import-hostile.test.ts: reads list files one after the other as
// `fangpin import` would and prints, one JSON line per file, what came of it and how far the
// resident memory rose while reading it. Run in its own process with a capped heap, so that a
// file which exhausts memory kills this process, not the test run.
import { readFileSync, writeFileSync } from 'node:fs'
import { loadProfile } from '../profile/profile.ts'
import { readListFile } from '../lists/read-list.ts'

/** The kernel's high-water mark of this process's resident memory, in bytes; 0 where there is none. */
function peakRss (): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m !== null) return Number(m[1]) * 1024
  } catch {
    // not Linux: the samples are all there is
  }
  return 0
}

/** Starts a new high-water mark (Linux: "5" to clear_refs); false where it cannot. */
function resetPeak (): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

const profile = loadProfile('guangxi-liuzhou')
for (const file of process.argv.slice(2)) {
  ;(globalThis as { gc?: () => void }).gc?.()
  const exact = resetPeak()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
  let outcome: Record<string, unknown>
  try {
    const res = await readListFile(file, { profile })
    outcome = { ok: true, records: res.records.length, problems: res.problems.map((p) => `${p.row} ${p.column} ${p.reason}`) }
  } catch (err) {
    outcome = { ok: false, name: (err as Error).name, message: (err as Error).message }
  }
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss, exact ? peakRss() : 0)
  process.stdout.write(JSON.stringify({ file, ...outcome, rssGrowthMB: Math.round((peak - before) / 1048576) }) + '\n')
}
