// Group commit. Lookups arrive from many HIS connections at once and each must leave an audit row
// (and an admission) on disk before it is answered. Committing each on its own costs a WAL append
// per request; here the writes of one event-loop turn share one transaction, and every caller is
// answered only after that transaction committed — the same durability, a fraction of the cost.
import type { DB } from './db.ts'

interface Pending {
  run: () => void
  resolve: () => void
  reject: (err: unknown) => void
}

export class WriteQueue {
  private pending: Pending[] = []
  private scheduled = false

  constructor (private readonly db: DB) {}

  /** Runs `run` inside the next group transaction; resolves once it is committed. */
  enqueue (run: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ run, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Commits everything queued so far (also called before the database closes). */
  flush (): void {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    if (batch.length === 0) return
    try {
      this.db.transaction(() => { for (const w of batch) w.run() }).immediate()
      for (const w of batch) w.resolve()
    } catch {
      // One failing write (a constraint, say) must not take its neighbours down: the group rolled
      // back, so redo each write in a transaction of its own and report each outcome to its caller.
      for (const w of batch) {
        try {
          this.db.transaction(w.run).immediate()
          w.resolve()
        } catch (err) {
          w.reject(err)
        }
      }
    }
  }
}
