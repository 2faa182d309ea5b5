// An external merge sort for the publisher: a province publishes ten million people, and holding
// them in memory to sort them took about 500 MB per million. Lines are kept in memory up to a
// budget, each full batch is sorted and written to a run file in a private temporary directory,
// and the runs are merged back in order as a stream. A list that fits in one batch never touches
// the disk. The runs hold what the published files hold (the county's list, ID numbers included):
// they live in a directory only this user can read, never in the published directory, and are
// removed when the publish ends.
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { processAlive } from '../base/process-alive.ts'

export interface SpooledLine {
  /** the sort key */
  key: string
  /** the line of the input it came from (0 when unknown): ties are kept in input order */
  line: number
  /** the text to publish */
  text: string
}

/** UTF-16 characters a batch may hold before it is sorted and written out (32 MB of strings, about 200 MB of heap at its peak). */
const DEFAULT_BATCH_CHARS = 16 * 1024 * 1024

function compare (a: SpooledLine, b: SpooledLine): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.line - b.line
}

export class SortSpool {
  private batch: SpooledLine[] = []
  private batchChars = 0
  private dir: string | null = null
  private readonly runs: string[] = []
  count = 0

  constructor (private readonly opts: { tmpDir?: string, batchChars?: number } = {}) {}

  async add (key: string, line: number, text: string): Promise<void> {
    this.batch.push({ key, line, text })
    this.batchChars += key.length + text.length + 16
    this.count++
    if (this.batchChars >= (this.opts.batchChars ?? DEFAULT_BATCH_CHARS)) await this.spill()
  }

  /** The lines in key order (then input order), each once; the spool is used up. */
  async * sorted (): AsyncGenerator<SpooledLine> {
    this.batch.sort(compare)
    if (this.runs.length === 0) {
      const batch = this.batch
      this.batch = []
      yield * batch
      return
    }
    await this.spill()
    const heads: Array<{ head: SpooledLine, rest: AsyncIterator<SpooledLine> }> = []
    for (const run of this.runs) {
      const rest = readRun(run)
      const first = await rest.next()
      if (first.done !== true) heads.push({ head: first.value, rest })
    }
    // A binary heap over the runs' current lines: a province's list makes a few dozen runs.
    const less = (i: number, j: number): boolean => compare(heads[i].head, heads[j].head) < 0
    const swap = (i: number, j: number): void => { const x = heads[i]; heads[i] = heads[j]; heads[j] = x }
    const down = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heads.length && less(l, m)) m = l
        if (r < heads.length && less(r, m)) m = r
        if (m === i) return
        swap(i, m)
        i = m
      }
    }
    for (let i = (heads.length >> 1) - 1; i >= 0; i--) down(i)
    while (heads.length > 0) {
      const top = heads[0]
      yield top.head
      const next = await top.rest.next()
      if (next.done === true) {
        const last = heads.pop()!
        if (heads.length === 0) break
        heads[0] = last
      } else {
        top.head = next.value
      }
      down(0)
    }
  }

  /** Removes the run files (always call it, also after a failure). */
  dispose (): void {
    this.batch = []
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true })
    this.dir = null
  }

  private async spill (): Promise<void> {
    if (this.batch.length === 0) return
    this.batch.sort(compare)
    if (this.dir === null) {
      const parent = this.opts.tmpDir ?? tmpdir()
      removeAbandonedRuns(parent)
      this.dir = mkdtempSync(join(parent, `fangpin-publish-${process.pid}-`))
    }
    const file = join(this.dir, `run-${this.runs.length}`)
    const fh: FileHandle = await open(file, 'wx', 0o600)
    try {
      let parts: string[] = []
      let chars = 0
      for (const e of this.batch) {
        // The key as JSON: it holds a NUL separator, and JSON never holds a raw tab or line break.
        const s = `${e.line}\t${JSON.stringify(e.key)}\t${e.text}\n`
        parts.push(s)
        chars += s.length
        if (chars >= 1024 * 1024) {
          await fh.write(parts.join(''))
          parts = []
          chars = 0
        }
      }
      if (parts.length > 0) await fh.write(parts.join(''))
    } finally {
      await fh.close()
    }
    this.runs.push(file)
    this.batch = []
    this.batchChars = 0
  }
}

const RUN_DIR = /^fangpin-publish-(\d+)-/

/**
 * Run directories of a publish that was killed (kill -9, a power cut: dispose() never ran) hold a
 * copy of the county's list: removed by the next publish once their process is gone. Only this
 * user's, and only with a process id in the name that no longer runs.
 */
export function removeAbandonedRuns (parent: string): string[] {
  const removed: string[] = []
  let names: string[]
  try {
    names = readdirSync(parent)
  } catch {
    return removed
  }
  for (const name of names) {
    const m = RUN_DIR.exec(name)
    if (m === null || processAlive(Number(m[1]))) continue
    const dir = join(parent, name)
    try {
      if (typeof process.getuid === 'function' && statSync(dir).uid !== process.getuid()) continue
      rmSync(dir, { recursive: true, force: true })
      removed.push(dir)
    } catch { /* another publish removed it */ }
  }
  return removed
}

async function * readRun (file: string): AsyncGenerator<SpooledLine> {
  const input = createReadStream(file, { highWaterMark: 64 * 1024 })
  const rl = createInterface({ input, crlfDelay: Infinity })
  try {
    for await (const s of rl) {
      const a = s.indexOf('\t')
      const b = s.indexOf('\t', a + 1)
      yield { line: Number(s.slice(0, a)), key: JSON.parse(s.slice(a + 1, b)) as string, text: s.slice(b + 1) }
    }
  } finally {
    rl.close()
    input.destroy()
  }
}
