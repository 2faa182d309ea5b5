// One row per registry sync attempt: for GET /v1/sync/status, /metrics and IT asking "when did it
// last work?", and the lock that keeps two syncs (the agent's and a `fangpin sync` beside it) from
// running at once. A 'running' row of a process that is gone was cut off (kill -9, a power cut).
import type { DB } from './db.ts'

export type SyncTrigger = 'cron' | 'start' | 'cli' | 'api'

export interface SyncRunRow {
  id: number
  trigger: string
  started_at: string
  finished_at: string | null
  result: 'running' | 'updated' | 'unchanged' | 'failed' | null
  message: string | null
  pid: number | null
}

export interface SyncRunEnd {
  result: 'updated' | 'unchanged' | 'failed'
  kind?: 'full' | 'delta'
  seq_after: number | null
  records?: number
  message: string
}

export const INTERRUPTED = 'interrupted (the process stopped)'

export class SyncRunBusy extends Error {
  override name = 'SyncRunBusy'
}

export class SyncRunRepository {
  private readonly runningStmt
  private readonly interruptStmt
  private readonly insertStmt
  private readonly finishStmt
  private readonly lastStmt
  private readonly lastSuccessStmt
  private readonly lastEndedStmt
  private readonly failuresStmt

  constructor (db: DB) {
    this.runningStmt = db.prepare("SELECT id, pid FROM sync_run WHERE result = 'running'")
    this.interruptStmt = db.prepare("UPDATE sync_run SET result = 'failed', finished_at = ?, message = ? WHERE id = ? AND result = 'running'")
    this.insertStmt = db.prepare("INSERT INTO sync_run (trigger, started_at, result, seq_before, pid) VALUES (?, ?, 'running', ?, ?)")
    this.finishStmt = db.prepare('UPDATE sync_run SET finished_at = ?, result = ?, kind = ?, seq_after = ?, records = ?, message = ? WHERE id = ?')
    this.lastStmt = db.prepare('SELECT id, trigger, started_at, finished_at, result, message, pid FROM sync_run ORDER BY id DESC LIMIT 1')
    this.lastSuccessStmt = db.prepare("SELECT finished_at FROM sync_run WHERE result IN ('updated', 'unchanged') ORDER BY id DESC LIMIT 1").pluck()
    this.lastEndedStmt = db.prepare("SELECT result FROM sync_run WHERE result != 'running' ORDER BY id DESC LIMIT 1").pluck()
    this.failuresStmt = db.prepare("SELECT COUNT(*) FROM sync_run WHERE result = 'failed'").pluck()
  }

  /**
   * Starts a run, unless another is live (`live(pid)` says whether a running row's process is
   * still at it); running rows of processes that are gone are marked interrupted on the way.
   * Run it inside a transaction (the write path).
   */
  claim (trigger: SyncTrigger, seqBefore: number | null, live: (pid: number | null) => boolean): number {
    for (const r of this.runningStmt.all() as Array<{ id: number, pid: number | null }>) {
      if (r.pid !== process.pid && live(r.pid)) throw new SyncRunBusy(`a sync is already running (process ${r.pid ?? '?'})`)
      this.interruptStmt.run(new Date().toISOString(), INTERRUPTED, r.id)
    }
    return Number(this.insertStmt.run(trigger, new Date().toISOString(), seqBefore, process.pid).lastInsertRowid)
  }

  finish (id: number, end: SyncRunEnd): void {
    this.finishStmt.run(new Date().toISOString(), end.result, end.kind ?? null, end.seq_after, end.records ?? null, end.message, id)
  }

  /** Marks the running rows whose process is not live as interrupted; returns how many. */
  markInterrupted (live: (pid: number | null) => boolean): number {
    let marked = 0
    for (const r of this.runningStmt.all() as Array<{ id: number, pid: number | null }>) {
      if (live(r.pid)) continue
      marked += this.interruptStmt.run(new Date().toISOString(), INTERRUPTED, r.id).changes
    }
    return marked
  }

  last (): SyncRunRow | undefined {
    return this.lastStmt.get() as SyncRunRow | undefined
  }

  /** When a sync last worked (UTC ISO), if ever. */
  lastSuccess (): string | null {
    return (this.lastSuccessStmt.get() as string | undefined) ?? null
  }

  /** The result of the last run that ended. */
  lastEnded (): string | null {
    return (this.lastEndedStmt.get() as string | undefined) ?? null
  }

  failures (): number {
    return this.failuresStmt.get() as number
  }
}
