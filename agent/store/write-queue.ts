// The one write path: a unit of work with group commit. Every write of the agent's rules — an
// admission, a charge batch, an exemption, a discharge, an acknowledgement, an audit row, a token,
// a staff account — is a function handed to write(); the functions queued in one event-loop turn
// run one after the other inside ONE transaction, each in a savepoint of its own, and every caller
// is answered only after that transaction is committed AND on disk.
// The durability contract: a promise resolved means committed and on disk; rejected means nothing
// of that function is in the database (or, for a failed fsync, that the disk could not confirm it:
// a storage failure the caller reports as such). One function throwing (a conflict, a validation)
// rolls back its own savepoint only; a failed commit (disk full) rejects every function of the group.
// Functions run in order and see what the earlier ones of the group wrote, so a check-and-count
// (sign-in attempts, an idempotency key) done inside one function cannot race another.
//
// How a group reaches the disk: synchronous=FULL would fsync the write-ahead log inside COMMIT, on
// the event loop, where each fsync (0.5–2 ms on a hospital's disk) stops every request. The group
// is committed with synchronous=NORMAL instead (no fsync in COMMIT; a killed process loses nothing
// committed, the OS has it), then the log file is fdatasync'ed on libuv's thread pool, and only then
// are the group's callers answered: the same guarantee as FULL for everything acknowledged — the
// log frames of the commit are on stable storage — while the event loop goes on serving. Groups
// committed while one fsync runs share the next one. SQLite itself still syncs the log before a
// checkpoint copies it into the database, and the log's header when it is reused (NORMAL in WAL mode).
// A group that nobody waits for (lookup audit rows, `durable: false`) does not start an fsync of
// its own: it rides on the next one a waiting caller starts, or on one LAZY_SYNC_MS later.
// Under a stream of lookups that is twenty fsyncs a second instead of one per event-loop turn.
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync } from 'node:fs'
import type { DB } from './db.ts'

/** The longest a commit nobody waits for stays without an fsync of the log. */
const LAZY_SYNC_MS = 50

interface Pending {
  run: () => unknown
  /** answered once on disk (true), or once committed (false: it reaches the disk with the next fsync) */
  durable: boolean
  /** false: `run` is one SQL statement, whose failure SQLite undoes by itself; no savepoint needed */
  savepoint: boolean
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

type Outcome = { ok: true, value: unknown } | { ok: false, err: unknown }

export class WriteQueue {
  private pending: Pending[] = []
  private scheduled = false
  /** answers waiting for the next fsync of the log */
  private unsynced: Array<(err: unknown) => void> = []
  /** entries of `unsynced` with callers waiting for the disk */
  private waiters = 0
  private lazyTimer: NodeJS.Timeout | null = null
  private syncing = false
  private walFd: number | null = null

  /** `walFile`: the database's write-ahead log; null: commit with synchronous=FULL and answer at once. */
  constructor (private readonly db: DB, private readonly walFile: string | null = null) {}

  /**
   * Runs `run` inside the next group transaction; resolves with its result once committed and on
   * disk — or, with `durable` false, once committed (a killed process keeps it; the disk has it
   * after the fsync that follows the commit, a few milliseconds later).
   */
  enqueue<T> (run: () => T, durable = true, savepoint = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, durable, savepoint, resolve: resolve as (value: unknown) => void, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /**
   * Commits everything queued so far. `final` (the database is about to close): committed with
   * synchronous=FULL, and every answer still waiting for an fsync gets one now, on this thread.
   */
  flush (final = false): void {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    const deferred = this.walFile !== null && !final
    if (batch.length > 0) {
      const outcomes: Outcome[] = []
      let lost: unknown = null
      try {
        if (deferred) this.db.pragma('synchronous = NORMAL')
        try {
          this.db.transaction(() => {
            for (const w of batch) {
              try {
                outcomes.push({ ok: true, value: w.savepoint ? this.db.transaction(w.run)() : w.run() })
              } catch (err) {
                // SQLite rolls the whole transaction back on some errors (a full disk, an I/O error):
                // the group is lost, and the next function would run outside any transaction.
                if (!this.db.inTransaction) {
                  lost = err
                  throw err
                }
                outcomes.push({ ok: false, err })
              }
            }
          }).immediate()
        } finally {
          if (deferred) this.db.pragma('synchronous = FULL')
        }
      } catch (err) {
        for (const w of batch) w.reject(lost ?? err)
        return
      }
      let waiting = false
      batch.forEach((w, i) => {
        const o = outcomes[i]
        // A function that failed is answered with its own error: nothing of it was written.
        if (!o.ok) w.reject(o.err)
        else if (!deferred || !w.durable) w.resolve(o.value)
        else waiting = true
      })
      if (waiting) {
        this.waiters++
        this.unsynced.push((syncErr: unknown) => {
          batch.forEach((w, i) => {
            const o = outcomes[i]
            if (!o.ok || !w.durable) return
            if (syncErr !== null) w.reject(syncErr)
            else w.resolve(o.value)
          })
        })
      } else if (deferred) {
        // Nobody waits, but the commit still goes to disk with the next fsync.
        this.unsynced.push(() => undefined)
      }
    }
    if (final) this.syncNow()
    else this.scheduleSync()
  }

  /** Starts the next fsync now when someone waits for it, else within LAZY_SYNC_MS. */
  private scheduleSync (): void {
    if (this.syncing || this.unsynced.length === 0) return
    if (this.waiters > 0) {
      this.sync()
    } else if (this.lazyTimer === null) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = null
        // A sync running now re-schedules when it ends.
        if (!this.syncing && this.unsynced.length > 0) this.sync()
      }, LAZY_SYNC_MS)
      // Never what keeps a process alive: close() syncs whatever is left, and a process that dies
      // has handed its commits to the OS already.
      this.lazyTimer.unref()
    }
  }

  /** One fdatasync of the log on the thread pool for every group committed before it started. */
  private sync (): void {
    const group = this.unsynced
    this.unsynced = []
    this.waiters = 0
    this.clearLazy()
    this.syncing = true
    let fd: number
    try {
      fd = this.logFd()
    } catch (err) {
      this.syncing = false
      for (const answer of group) answer(err)
      return
    }
    fdatasync(fd, (err) => {
      this.syncing = false
      for (const answer of group) answer(err ?? null)
      this.scheduleSync()
    })
  }

  private syncNow (): void {
    if (this.unsynced.length === 0) return
    const group = this.unsynced
    this.unsynced = []
    this.waiters = 0
    this.clearLazy()
    let failure: unknown = null
    try {
      // An fsync already running on the pool covers its own groups; this one covers the rest.
      const fd = this.logFd()
      fdatasyncSync(fd)
    } catch (err) {
      failure = err
    }
    for (const answer of group) answer(failure)
  }

  /**
   * The log file, opened once. SQLite removes it only when the last connection closes, which this
   * one is not while it writes; a log unlinked under us (its link count 0) is opened again.
   */
  private logFd (): number {
    if (this.walFd !== null && fstatSync(this.walFd).nlink > 0) return this.walFd
    if (this.walFd !== null) closeSync(this.walFd)
    this.walFd = openSync(this.walFile!, 'r')
    return this.walFd
  }

  private clearLazy (): void {
    if (this.lazyTimer !== null) clearTimeout(this.lazyTimer)
    this.lazyTimer = null
  }

  /** Closes the log file (after the last flush). */
  close (): void {
    this.clearLazy()
    if (this.walFd !== null) closeSync(this.walFd)
    this.walFd = null
  }
}
