// The one write path: a unit of work with group commit. Every write of the agent's rules — an
// admission, a charge batch, an exemption, a discharge, an acknowledgement, an audit row, a token,
// a staff account — is a function handed to write(); the functions queued in one event-loop turn
// run one after the other inside ONE transaction, each in a savepoint of its own, and every caller
// is answered only after that transaction committed (synchronous=FULL: on disk).
// The durability contract: a promise resolved means committed; rejected means nothing of that
// function is in the database. One function throwing (a conflict, a validation) rolls back its own
// savepoint only; a failed commit (disk full) rejects every function of the group.
// Functions run in order and see what the earlier ones of the group wrote, so a check-and-count
// (sign-in attempts, an idempotency key) done inside one function cannot race another.
import type { DB } from './db.ts'

interface Pending {
  run: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

type Outcome = { ok: true, value: unknown } | { ok: false, err: unknown }

export class WriteQueue {
  private pending: Pending[] = []
  private scheduled = false

  constructor (private readonly db: DB) {}

  /** Runs `run` inside the next group transaction; resolves with its result once committed. */
  enqueue<T> (run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject })
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
    const outcomes: Outcome[] = []
    let lost: unknown = null
    try {
      this.db.transaction(() => {
        for (const w of batch) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(w.run)() })
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
    } catch (err) {
      for (const w of batch) w.reject(lost ?? err)
      return
    }
    batch.forEach((w, i) => {
      const o = outcomes[i]
      if (o.ok) w.resolve(o.value)
      else w.reject(o.err)
    })
  }
}
