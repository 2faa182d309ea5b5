// Everything one data directory holds, opened together: the database, the subject key that
// hashes ID numbers, and the repositories over them.
import { openDatabase, DB_FILE, type DB } from './db.ts'
import { join } from 'node:path'
import { loadOrCreateSubjectKey, keyFingerprint, SubjectKeyError } from '../../identity/subject-key.ts'
import { ListRepository } from './list.ts'
import { AdmissionRepository } from './admissions.ts'
import { AuditRepository } from './audit.ts'
import { TokenRepository } from './tokens.ts'
import { WriteQueue } from './write-queue.ts'
import { DataVersion } from './data-version.ts'
import { AlertRepository } from './alerts.ts'
import { StayRepository } from './stays.ts'
import { ChargeRepository } from './charges.ts'
import { ExemptionRepository } from './exemptions.ts'
import { StaffRepository } from './staff.ts'
import { StorageHealth } from './storage-health.ts'
import { SyncRunRepository } from './sync-runs.ts'
import { SignInLimitRepository } from './sign-in-limits.ts'
import { BackupLog } from './backup.ts'
import { CatalogRepository } from './catalog.ts'
import { SettlementRepository } from './settlements.ts'
import { BurdenRepository } from './burden.ts'
import { TariffRepository } from './tariffs.ts'
import { Checkpointer, type CheckpointerStats } from './checkpointer.ts'

export interface WriteOptions {
  /** false: answered once committed; the disk has it with the next fsync, at most 50 ms later (write-queue.ts) */
  durable?: boolean
  /**
   * true: `fn` runs exactly one SQL statement. SQLite undoes a failed statement by itself, so it
   * needs no savepoint of its own in the group transaction (two statements fewer on a hot path).
   */
  oneStatement?: boolean
}

export interface Store {
  dataDir: string
  db: DB
  subjectKey: Buffer
  list: ListRepository
  admissions: AdmissionRepository
  audit: AuditRepository
  tokens: TokenRepository
  alerts: AlertRepository
  stays: StayRepository
  charges: ChargeRepository
  exemptions: ExemptionRepository
  staff: StaffRepository
  syncRuns: SyncRunRepository
  /** failed staff sign-ins and the locks they lead to */
  signInLimits: SignInLimitRepository
  /** when backups last worked and failed */
  backups: BackupLog
  /** the insurance catalog, the hospital's code mapping, the 集采 list, catalog drift */
  catalog: CatalogRepository
  /** the platform's settlement answers of each stay (2303/2304/2305) */
  settlements: SettlementRepository
  /** the registry's year-to-date figures per person, and who went over the year's threshold */
  burden: BurdenRepository
  /** the hospital's DRG payment table */
  tariffs: TariffRepository
  /**
   * The one write path: runs `fn` in the next group transaction and resolves with its result once
   * it is committed (see write-queue.ts). Rules write through it and nothing else does.
   */
  write: <T>(fn: () => T, opts?: WriteOptions) => Promise<T>
  /** whether writes are failing for a storage reason (disk full), and the way back */
  health: StorageHealth
  /**
   * A process that serves (or loads millions of rows) copies the write-ahead log into the database
   * on a thread of its own instead of inside its commits (checkpointer.ts). Idempotent.
   */
  checkpointInBackground: () => void
  /** null: the writer checkpoints inside its commits (SQLite's default) */
  checkpoints: () => CheckpointerStats | null
  close: () => void
}

export function openStore (dataDir: string): Store {
  const db = openDatabase(dataDir)
  try {
    const subjectKey = loadOrCreateSubjectKey(dataDir)
    // A database hashed with one key and read with another would answer "not on the list" for
    // everybody: refuse instead.
    const fp = keyFingerprint(subjectKey)
    const row = db.prepare("SELECT value FROM meta WHERE key = 'subject_key_fingerprint'").get() as { value: string } | undefined
    if (row === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('subject_key_fingerprint', ?)").run(fp)
    } else if (row.value !== fp) {
      throw new SubjectKeyError(`${dataDir}/subject.key is not the key this database was written with: restore the original key file (or start with an empty data directory)`)
    }
    const dataVersion = new DataVersion(db)
    const writes = new WriteQueue(db, join(dataDir, DB_FILE) + '-wal')
    const alerts = new AlertRepository(db)
    const health = new StorageHealth(db, dataDir, (outage) => {
      const minutes = Math.max(1, Math.round((Date.parse(outage.until) - Date.parse(outage.since)) / 60_000))
      alerts.raise({
        kind: 'storage_failed',
        level: 'critical',
        message: `数据库曾有约${minutes}分钟无法写入（${outage.code}），期间HIS的入院、费用等请求被拒绝（503），现已恢复；请信息科检查磁盘空间，并与HIS核对这段时间的数据是否已重新发送`,
        detail: outage
      })
    })
    let checkpointer: Checkpointer | null = null
    return {
      dataDir,
      db,
      subjectKey,
      list: new ListRepository(db, subjectKey, dataDir, dataVersion),
      admissions: new AdmissionRepository(db),
      audit: new AuditRepository(db),
      tokens: new TokenRepository(db, dataVersion),
      alerts,
      stays: new StayRepository(db),
      charges: new ChargeRepository(db),
      exemptions: new ExemptionRepository(db),
      staff: new StaffRepository(db),
      syncRuns: new SyncRunRepository(db),
      signInLimits: new SignInLimitRepository(db, subjectKey),
      backups: new BackupLog(db),
      catalog: new CatalogRepository(db),
      settlements: new SettlementRepository(db),
      burden: new BurdenRepository(db),
      tariffs: new TariffRepository(db),
      write: (fn, opts) => writes.enqueue(fn, opts?.durable !== false, opts?.oneStatement !== true),
      health,
      checkpointInBackground: () => {
        if (checkpointer === null && db.open) checkpointer = new Checkpointer(db, join(dataDir, DB_FILE))
      },
      checkpoints: () => checkpointer?.stats() ?? null,
      close: () => {
        if (!db.open) return
        writes.flush(true)
        // Its connection closed first: the writer's close is the last one, which checkpoints the
        // whole log and removes it.
        checkpointer?.stop()
        checkpointer = null
        writes.close()
        db.close()
      }
    }
  } catch (err) {
    db.close()
    throw err
  }
}
