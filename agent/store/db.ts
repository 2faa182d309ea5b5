// The one SQLite database of a data directory. WAL lets lookups read the serving list while a
// load writes the next one; synchronous=FULL makes every commit durable before the HIS is answered
// (a killed process and a power cut alike). The files hold masked names, keyed hashes and the audit
// trail: readable by the service user only.
import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { migrations, type Migration } from './migrations.ts'

export type DB = Database.Database

export const DB_FILE = 'fangpin.db'

/** The database cannot be opened: the message names the file and what to check. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError'
}

function cannotOpen (dataDir: string, file: string, err: unknown): StoreOpenError {
  const e = err as { code?: string, message?: string }
  const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : ''
  return new StoreOpenError(`cannot open the database ${file}: ${e.message ?? String(err)}${e.code !== undefined ? ` [${e.code}]` : ''}. ` +
    `Check that FANGPIN_DATA_DIR (${dataDir}) exists, is on a disk mounted writable, has free space, and is writable by the user running fangpin${uid}.`)
}

/**
 * The database file and SQLite's companions (-wal, -shm) are readable by their owner only. SQLite
 * creates the companions with the database file's mode, so the database file is made 0600 before
 * SQLite opens it; files from an older install or a copy are tightened.
 */
function restrictFiles (file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'wx', 0o600))
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600)
  }
}

/** Start-up warnings about the data directory itself (shown in the log; the agent still starts). */
export function dataDirWarnings (dataDir: string): string[] {
  if (process.platform === 'win32' || !existsSync(dataDir)) return []
  const mode = statSync(dataDir).mode & 0o777
  if ((mode & 0o077) === 0) return []
  return [`the data directory ${dataDir} can be read by other users of this machine (mode ${mode.toString(8).padStart(3, '0')}): run chmod 700 on it`]
}

export function openDatabase (dataDir: string, opts: { readonly?: boolean, migrations?: Migration[] } = {}): DB {
  const file = join(dataDir, DB_FILE)
  let db: DB
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    if (opts.readonly !== true) restrictFiles(file)
    db = new Database(file, { readonly: opts.readonly === true })
  } catch (err) {
    throw cannotOpen(dataDir, file, err)
  }
  try {
    db.pragma('busy_timeout = 5000')
    if (opts.readonly !== true) {
      db.pragma('journal_mode = WAL')
      // FULL: every commit reaches the disk before the HIS is answered. NORMAL survives a killed
      // process but may lose the last commits on a power cut, and county hospitals have those; an
      // acknowledged charge or admission must not vanish. Group commit keeps the fsyncs few.
      db.pragma('synchronous = FULL')
      db.pragma('foreign_keys = ON')
      // Lookups read a few pages each from a list of millions: keep the hot index pages in SQLite's
      // cache (16 MB; the OS page cache holds the rest) within the agent's memory budget.
      db.pragma('cache_size = -16384')
      db.pragma('temp_store = MEMORY')
      migrate(db, opts.migrations ?? migrations)
    }
  } catch (err) {
    db.close()
    const code = (err as { code?: string }).code ?? ''
    if (/^SQLITE_(READONLY|CANTOPEN|IOERR|FULL|PERM)/.test(code)) throw cannotOpen(dataDir, file, err)
    throw err
  }
  return db
}

export function schemaVersion (db: DB): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()
  if (exists === undefined) return 0
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
  return row.v ?? 0
}

/** The schema version this fangpin's migrations bring a database to. */
export function newestSchemaVersion (list: Migration[] = migrations): number {
  return list.reduce((m, x) => Math.max(m, x.version), 0)
}

export function migrate (db: DB, list: Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
  )`)
  const current = schemaVersion(db)
  const newest = newestSchemaVersion(list)
  if (current > newest) {
    // A rolled-back release must not write into a database it does not understand.
    throw new Error(`the database in this data directory is at schema version ${current}, newer than this fangpin (schema version ${newest}): run the newer fangpin, or restore a backup taken before the upgrade (fangpin restore)`)
  }
  // Each issue is handed its migration number, and they land in the order the work is finished (8
  // and 9 shipped before 7): a migration is applied when it is not recorded, not when its number is
  // above the database's highest. In number order, so a fresh database is built as always.
  const isApplied = db.prepare('SELECT 1 FROM schema_version WHERE version = ?')
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (isApplied.get(m.version) !== undefined) continue
    // IMMEDIATE takes the write lock up front, so two processes starting together cannot both migrate.
    db.transaction(() => {
      if (isApplied.get(m.version) !== undefined) return
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)')
        .run(m.version, m.description, new Date().toISOString())
    }).immediate()
  }
}
