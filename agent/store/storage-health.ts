// When the disk under the database is full (or failing), every write fails: admissions, charges,
// even the audit row of a lookup. The agent must say so plainly — a 503 with its own code and a
// message IT can act on, /readyz not ready — instead of an opaque 500, and it must come back by
// itself once space is freed, recording the outage for staff as soon as it can write again.
import { statfsSync } from 'node:fs'
import type { DB } from './db.ts'

/** SQLite result codes that mean "the storage could not take the write", not "the request was wrong". */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB)/

export function isStorageError (err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && STORAGE_CODES.test(code)
}

export interface StorageFailure {
  /** UTC ISO instant of the first failed write */
  since: string
  code: string
  /** for IT: what happened and what to do */
  message: string
}

export interface StorageOutage extends StorageFailure {
  /** UTC ISO instant writes worked again */
  until: string
}

export function storageMessage (code: string, dataDir: string): string {
  if (code.startsWith('SQLITE_FULL')) {
    return `the disk holding the database is full (${dataDir}): free space on it; the agent resumes by itself (磁盘已满，请清理磁盘空间)`
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return `the database in ${dataDir} cannot be written (${code}): check that the disk is mounted writable and the directory belongs to the user running fangpin (数据库无法写入，请检查磁盘和目录权限)`
  }
  return `the database in ${dataDir} could not be written (${code}): check the disk (dmesg, SMART) and free space (数据库写入失败，请检查磁盘)`
}

// Writes are tried again only with this much free: a disk with a few kilobytes free would let the
// probe through and fail the next charge batch, and readiness would flap.
const MIN_FREE_BYTES = 4 * 1024 * 1024
// The probe reserves this much inside the database and rolls it back: a write that fits in a
// half-empty page proves nothing about a database that cannot grow.
const PROBE_BYTES = 256 * 1024

function freeBytes (dir: string): number | null {
  try {
    const s = statfsSync(dir)
    return s.bavail * s.bsize
  } catch {
    return null
  }
}

export class StorageHealth {
  private current: StorageFailure | null = null
  private readonly probeStmt
  private readonly reserveStmt

  constructor (private readonly db: DB, private readonly dataDir: string, private readonly onRecovered: (outage: StorageOutage) => void) {
    this.probeStmt = db.prepare("INSERT INTO meta (key, value) VALUES ('storage_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    this.reserveStmt = db.prepare("INSERT INTO meta (key, value) VALUES ('storage_probe_space', zeroblob(?))")
  }

  /** The failure in progress, or null while writes work. */
  get failing (): StorageFailure | null {
    return this.current
  }

  /** Records that a write failed for a storage reason; the first failure of an outage is kept. */
  fail (err: { code: string }): StorageFailure {
    this.current ??= { since: new Date().toISOString(), code: err.code, message: storageMessage(err.code, this.dataDir) }
    return this.current
  }

  /**
   * Tries a small write. When it works the outage is over: it is recorded (an alert for staff, in
   * the same transaction as the probe) and true is returned.
   */
  probe (): boolean {
    const failure = this.current
    if (failure === null) return true
    const free = freeBytes(this.dataDir)
    if (free !== null && free < MIN_FREE_BYTES) return false
    try {
      // Room to grow: reserved, then given back (the transaction is rolled back on purpose).
      this.db.transaction(() => {
        this.reserveStmt.run(PROBE_BYTES)
        throw new ProbeRollback()
      }).immediate()
    } catch (err) {
      if (!(err instanceof ProbeRollback)) {
        if (isStorageError(err)) return false
        throw err
      }
    }
    try {
      this.db.transaction(() => {
        const until = new Date().toISOString()
        this.probeStmt.run(until)
        this.onRecovered({ ...failure, until })
      }).immediate()
    } catch (err) {
      if (isStorageError(err)) return false
      throw err
    }
    this.current = null
    return true
  }
}

class ProbeRollback extends Error {}
