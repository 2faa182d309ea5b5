// Failed staff sign-ins and the locks they lead to, in the database: a restart is not a way to reset
// a lock, and IT ends one from the command line while the agent runs (agent/rules/sign-in-limit.ts
// holds the policy: how many failures, for how long).
import { createHmac } from 'node:crypto'
import type { DB } from './db.ts'

export type LockScope = 'account' | 'address'

/** One counter a failed sign-in adds to, with the limit that locks it. */
export interface Counter {
  scope: LockScope
  address: string
  /** HMAC of the account name (scope 'account') */
  name_key: string | null
  max: number
  windowMs: number
  lockMs: number
}

interface Row {
  key: string
  failures: number
  window_until: string
  locked_until: string | null
}

export interface ActiveLock { scope: LockScope, address: string, until: string }

const iso = (ms: number): string => new Date(ms).toISOString()
const later = (a: string, b: string | null): string => b !== null && b > a ? b : a

export function counterKey (c: Pick<Counter, 'scope' | 'address' | 'name_key'>): string {
  return c.scope === 'account' ? `pair:${c.address} ${c.name_key ?? ''}` : `address:${c.address}`
}

export class SignInLimitRepository {
  private readonly getStmt
  private readonly upsertStmt
  private readonly lockedStmt

  constructor (private readonly db: DB, private readonly subjectKey: Buffer) {
    this.getStmt = db.prepare('SELECT key, failures, window_until, locked_until FROM signin_failure WHERE key = ?')
    this.upsertStmt = db.prepare(`INSERT INTO signin_failure (key, scope, address, name_key, failures, window_until, locked_until, expires_at)
      VALUES (@key, @scope, @address, @name_key, @failures, @window_until, @locked_until, @expires_at)
      ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_until = excluded.window_until,
        locked_until = excluded.locked_until, expires_at = excluded.expires_at`)
    this.lockedStmt = db.prepare('SELECT scope, address, locked_until FROM signin_failure WHERE key = ? AND locked_until > ?')
  }

  /**
   * The key an account name is counted under. Keyed with the data directory's secret, so a password
   * typed into the name field is not readable from the table, and unlock finds an account's rows.
   */
  nameKey (name: string): string {
    return createHmac('sha256', this.subjectKey).update('staff-signin-name:').update(name).digest('hex')
  }

  /** The active locks among `counters` at `now` (ms). */
  activeLocks (counters: Array<Pick<Counter, 'scope' | 'address' | 'name_key'>>, now: number): ActiveLock[] {
    const at = iso(now)
    const locks: ActiveLock[] = []
    for (const c of counters) {
      const row = this.lockedStmt.get(counterKey(c), at) as { scope: LockScope, address: string, locked_until: string } | undefined
      if (row !== undefined) locks.push({ scope: row.scope, address: row.address, until: row.locked_until })
    }
    return locks
  }

  /**
   * Counts one failure on each counter, in one transaction. A counter reaching its limit is locked
   * for `lockMs` from now. Returns the counters this failure locked.
   */
  fail (counters: Counter[], now: number): Counter[] {
    const at = iso(now)
    return this.db.transaction(() => {
      const locked: Counter[] = []
      for (const c of counters) {
        const key = counterKey(c)
        const row = this.getStmt.get(key) as Row | undefined
        const fresh = row === undefined || (row.window_until <= at && (row.locked_until === null || row.locked_until <= at))
        const failures = fresh ? 1 : row.failures + 1
        const windowUntil = fresh ? iso(now + c.windowMs) : row.window_until
        let lockedUntil = fresh ? null : row.locked_until
        if (failures >= c.max && (lockedUntil === null || lockedUntil <= at)) {
          lockedUntil = iso(now + c.lockMs)
          locked.push(c)
        }
        this.upsertStmt.run({ key, scope: c.scope, address: c.address, name_key: c.name_key, failures, window_until: windowUntil, locked_until: lockedUntil, expires_at: later(windowUntil, lockedUntil) })
      }
      return locked
    }).immediate()
  }

  /**
   * A sign-in that turned out right: the pair starts afresh, and the failure counted on the address
   * before the password was checked is taken back (and its lock with it, if this attempt made it).
   */
  takeBack (pair: Pick<Counter, 'scope' | 'address' | 'name_key'>, address: Pick<Counter, 'scope' | 'address' | 'name_key' | 'max'>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM signin_failure WHERE key = ?').run(counterKey(pair))
      const key = counterKey(address)
      const row = this.getStmt.get(key) as Row | undefined
      if (row === undefined) return
      const failures = Math.max(0, row.failures - 1)
      const lockedUntil = failures < address.max ? null : row.locked_until
      if (failures === 0) this.db.prepare('DELETE FROM signin_failure WHERE key = ?').run(key)
      else {
        this.db.prepare('UPDATE signin_failure SET failures = ?, locked_until = ?, expires_at = ? WHERE key = ?')
          .run(failures, lockedUntil, later(row.window_until, lockedUntil), key)
      }
    }).immediate()
  }

  /** Active locks on an account, one per address it is locked from. */
  accountLocks (name: string, now: number): ActiveLock[] {
    return this.db.prepare(`SELECT scope, address, locked_until AS until FROM signin_failure
      WHERE name_key = ? AND locked_until > ? ORDER BY address`).all(this.nameKey(name), iso(now)) as ActiveLock[]
  }

  /** Ends every lock (and failure count) on an account, from every address. Returns the locks it ended. */
  unlockAccount (name: string, now: number): number {
    const nameKey = this.nameKey(name)
    return this.db.transaction(() => {
      const active = this.db.prepare('SELECT COUNT(*) FROM signin_failure WHERE name_key = ? AND locked_until > ?').pluck().get(nameKey, iso(now)) as number
      this.db.prepare('DELETE FROM signin_failure WHERE name_key = ?').run(nameKey)
      return active
    }).immediate()
  }

  /** Removes rows whose window and lock are both over. */
  purge (now: number): number {
    return this.db.prepare('DELETE FROM signin_failure WHERE expires_at <= ?').run(iso(now)).changes
  }
}
