// The one SQLite database of a data directory. WAL lets lookups read the serving list while a
// load writes the next one; synchronous=NORMAL in WAL mode keeps every committed transaction
// across a process crash (kill -9) and loses at most the last commits on power loss.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { migrations, type Migration } from './migrations.ts'

export type DB = Database.Database

export const DB_FILE = 'fangpin.db'

export function openDatabase (dataDir: string, opts: { readonly?: boolean, migrations?: Migration[] } = {}): DB {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const db = new Database(join(dataDir, DB_FILE), { readonly: opts.readonly === true })
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
  return db
}

export function schemaVersion (db: DB): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()
  if (exists === undefined) return 0
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
  return row.v ?? 0
}

export function migrate (db: DB, list: Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
  )`)
  const current = schemaVersion(db)
  const newest = list.reduce((m, x) => Math.max(m, x.version), 0)
  if (current > newest) {
    throw new Error(`the database in this data directory is at schema version ${current}, newer than this fangpin (${newest}): run the newer fangpin or restore a backup`)
  }
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue
    // IMMEDIATE takes the write lock up front, so two processes starting together cannot both migrate.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)')
        .run(m.version, m.description, new Date().toISOString())
    }).immediate()
  }
}
