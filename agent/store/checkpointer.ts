// Checkpoints off the event loop. SQLite copies its write-ahead log back into the database file
// (a checkpoint) by default inside the COMMIT that takes the log past 1,000 pages: on the thread
// that writes, which here is the one that answers the HIS. A checkpoint writes every page the log
// holds into the database and fsyncs both files: tens of milliseconds for a delta's chunk, and
// every admission that lands in that commit waits for it. A serving process hands the work to a
// thread with a connection of its own (checkpoint-worker.mjs) that looks at the log every 50 ms and
// copies it from the same 1,000 pages on (so no more checkpoints, and fsyncs, than before); the
// writer's own automatic checkpoint stays, at a much larger log, as the backstop for a thread that
// died or fell behind. The thread starts a second after the store opens: a process that opens its
// store for a moment (a command, a test) never pays for it.
// The durability contract does not change: a commit is durable when its log frames are on disk
// (write-queue.ts); a checkpoint only moves them, fsyncing the log before it copies and the
// database after, and a kill -9 in the middle of one is recovered by SQLite from the log.
import { Worker } from 'node:worker_threads'
import type { DB } from './db.ts'

const STARTING = 0
const OPEN = 1
const STOP = 2
const CLOSED = 3

/** How often the thread looks at the log. */
const INTERVAL_MS = 50
/** Log pages from which it copies them: SQLite's own automatic checkpoint threshold (4 MB). */
const MIN_FRAMES = 1000
/** How long after the store opens the thread starts. */
const START_DELAY_MS = 1000
/** The writer's own automatic checkpoint while the thread runs: 16,384 pages (64 MB of log). */
const BACKSTOP_PAGES = 16_384
/** SQLite's default, put back when the thread is gone. */
const DEFAULT_PAGES = 1000
/** The longest close() waits for a checkpoint in progress to end (a huge log after a load). */
const CLOSE_WAIT_MS = 60_000

export interface CheckpointerStats {
  running: boolean
  checkpoints: number
  failures: number
  frames: number
}

export class Checkpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(16))
  private worker: Worker | null = null
  private timer: NodeJS.Timeout | null
  private failed: string | null = null

  constructor (private readonly db: DB, private readonly file: string, delayMs = START_DELAY_MS) {
    this.timer = setTimeout(() => { this.start() }, delayMs)
    // It must never keep a process alive that is otherwise done.
    this.timer.unref()
  }

  private start (): void {
    this.timer = null
    if (!this.db.open || Atomics.load(this.state, 0) !== STARTING) return
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
    this.worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
      workerData: { file: this.file, shared: this.state.buffer, intervalMs: INTERVAL_MS, minFrames: MIN_FRAMES },
      // Plain JavaScript needs none of the process's loaders or flags (--input-type would stop it).
      execArgv: []
    })
    // Nor may the thread keep it alive, or take it down.
    this.worker.unref()
    this.worker.on('error', (err) => { this.fallBack(err) })
    this.worker.on('exit', () => { if (Atomics.load(this.state, 0) !== CLOSED) this.fallBack(new Error('the checkpoint thread ended')) })
  }

  stats (): CheckpointerStats {
    return {
      running: Atomics.load(this.state, 0) === OPEN,
      checkpoints: Atomics.load(this.state, 1),
      failures: Atomics.load(this.state, 2),
      frames: Atomics.load(this.state, 3)
    }
  }

  /** Why the thread is not running, when it stopped on its own (the writer checkpoints again). */
  get failure (): string | null { return this.failed }

  /**
   * Stops the thread and waits for its connection to close, so that the writer's close() is the
   * last connection's: SQLite then checkpoints the whole log and removes it, as without the thread.
   */
  stop (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (Atomics.compareExchange(this.state, 0, STARTING, STOP) !== STARTING) {
      if (Atomics.compareExchange(this.state, 0, OPEN, STOP) === OPEN) {
        Atomics.notify(this.state, 0)
        const until = Date.now() + CLOSE_WAIT_MS
        for (let s = Atomics.load(this.state, 0); s !== CLOSED && Date.now() < until; s = Atomics.load(this.state, 0)) {
          Atomics.wait(this.state, 0, s, 100)
        }
      }
    }
    void this.worker?.terminate().catch(() => undefined)
    this.restoreDefault()
  }

  private fallBack (err: unknown): void {
    if (Atomics.load(this.state, 0) === STOP) return
    // An error thrown in the thread arrives here as a copy: a SqliteError comes as a plain
    // object with its code only.
    const e = err as { message?: unknown, code?: unknown } | null
    this.failed ??= [e?.code, e?.message].filter((x) => x !== undefined).map(String).join(': ') || String(err)
    Atomics.store(this.state, 0, CLOSED)
    this.restoreDefault()
  }

  private restoreDefault (): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_PAGES}`)
  }
}
