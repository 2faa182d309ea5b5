// Whether another connection (a `fangpin import` or `fangpin sync` beside the server, an operator's
// revocation) has committed since we last looked: SQLite's PRAGMA data_version. Asking costs a read
// transaction — three system calls, about 5 µs on the hospital's virtual machines, paid by every HIS
// request when each cache asked for itself. It is asked once per event-loop turn and shared: every
// request handled in a turn that began after another process committed sees the commit. This
// connection's own commits never change it; whoever commits here tells its caches itself.
import type { DB } from './db.ts'

export class DataVersion {
  private readonly stmt
  private value = -1
  private fresh = false
  private readonly expire = (): void => { this.fresh = false }

  constructor (db: DB) {
    this.stmt = db.prepare('PRAGMA data_version').pluck()
  }

  current (): number {
    if (!this.fresh) {
      this.value = this.stmt.get() as number
      this.fresh = true
      setImmediate(this.expire)
    }
    return this.value
  }
}
