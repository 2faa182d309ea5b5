// Backups of a data directory: the database (SQLite's online backup API, while the agent serves)
// and the subject key, without which the data cannot be matched, in ONE file. A backup that cannot
// be trusted is worse than none, so the file is written under a temporary name and only renamed
// into place once complete and on disk, and it carries a checksum that restore checks before it
// touches anything: a backup cut off by a crash or a kill -9 is never a file restore accepts.
//
// Layout: a header block of HEADER_BYTES (a magic line, then one line of JSON, padded with
// newlines), then the database file's bytes, then the subject key file's bytes. The header is
// written last, at offset 0: until then the block is zeros, which no reader takes for a header.
import Database from 'better-sqlite3'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fsyncDir } from '../../base/files.ts'
import { processAlive } from '../../base/process-alive.ts'
import { keyFingerprint, SUBJECT_KEY_FILE } from '../../identity/subject-key.ts'
import { DB_FILE, newestSchemaVersion, schemaVersion, type DB } from './db.ts'

export const BACKUP_FORMAT = 1
export const BACKUP_EXT = '.fpbak'
const MAGIC = 'fangpin backup\n'
const HEADER_BYTES = 4096
const CHUNK = 1024 * 1024
const NAME = /^fangpin-backup-(\d{8}T\d{6}Z)(?:-\d+)?\.fpbak$/
const TEMP = /^\.fangpin-(?:backup|restore)-(\d+)-[0-9a-f]+\..*\.tmp(?:-journal|-wal|-shm)?$/

export interface BackupHeader {
  format: number
  app: 'fangpin'
  /** the database's schema version (agent/store/migrations.ts) */
  schema_version: number
  /** UTC ISO instant the copy was taken */
  created_at: string
  database_bytes: number
  subject_key_bytes: number
  /** fingerprint of the subject key (as kept in the database's meta table) */
  subject_key_fingerprint: string
  /** SHA-256 (hex) of everything after the header: the database, then the key */
  sha256: string
}

export interface BackupResult {
  file: string
  bytes: number
  header: BackupHeader
}

/** The backup file is damaged, incomplete, not a backup, or cannot be restored here. */
export class BackupError extends Error {
  override name = 'BackupError'
}

/** fangpin-backup-20261202T023000Z.fpbak: sorted by name is sorted by time. */
export function backupFileName (at: Date): string {
  return `fangpin-backup-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}${BACKUP_EXT}`
}

function tempName (kind: 'backup' | 'restore', suffix: string): string {
  return `.fangpin-${kind}-${process.pid}-${randomBytes(4).toString('hex')}.${suffix}.tmp`
}

function unlinkQuiet (file: string): void {
  try { unlinkSync(file) } catch { /* already gone */ }
}

/** Temporary files left by a backup or restore whose process is gone (kill -9, a power cut). */
export function removeStaleTemps (dir: string): string[] {
  if (!existsSync(dir)) return []
  const removed: string[] = []
  for (const name of readdirSync(dir)) {
    const m = TEMP.exec(name)
    if (m === null) continue
    const pid = Number(m[1])
    if (pid !== process.pid && processAlive(pid)) continue
    // Our own pid: a temp of an earlier, failed run in this process is not in use either, unless a
    // run is going on now — callers clean up only before they start one.
    unlinkQuiet(join(dir, name))
    removed.push(name)
  }
  return removed
}

export interface WriteBackupOptions {
  now?: () => Date
  /**
   * Pages copied per step. The agent copies a few at a time so that the event loop stays free
   * (its own writes are carried into the copy as they happen); the command line copies all in one
   * step under one read transaction, because writes by another process would restart a stepwise copy.
   */
  pagesPerStep?: number
  signal?: AbortSignal
}

/**
 * An online backup of `db` and `subjectKey` into `dir`, as one file named by time. Resolves with the
 * file once it is complete, synced, and in place.
 */
export async function writeBackup (db: DB, subjectKey: Buffer, dir: string, opts: WriteBackupOptions = {}): Promise<BackupResult> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmpDb = join(dir, tempName('backup', 'db'))
  const tmpOut = join(dir, tempName('backup', 'fpbak'))
  const keyBytes = Buffer.from(subjectKey.toString('hex') + '\n')
  const fingerprint = keyFingerprint(subjectKey)
  try {
    // Made 0600 before SQLite writes into it: the copy holds what the database holds.
    closeSync(openSync(tmpDb, 'wx', 0o600))
    const rate = opts.pagesPerStep ?? 0x7fffffff
    await db.backup(tmpDb, {
      progress: () => {
        opts.signal?.throwIfAborted()
        return rate
      }
    })
    opts.signal?.throwIfAborted()
    const createdAt = (opts.now?.() ?? new Date()).toISOString()
    let version: number
    const copy = new Database(tmpDb)
    try {
      version = schemaVersion(copy)
      if (version >= 1) {
        const stored = copy.prepare("SELECT value FROM meta WHERE key = 'subject_key_fingerprint'").pluck().get() as string | undefined
        if (stored !== undefined && stored !== fingerprint) {
          throw new BackupError('the subject key does not match the database (another installation\'s key?): a backup of both would be useless; check subject.key in the data directory')
        }
        // The restored agent knows when the copy it runs from was taken.
        copy.prepare("INSERT INTO meta (key, value) VALUES ('backup_last_success_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(createdAt)
      }
      // One file, no -wal beside it: the copy is complete in itself.
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
    const dbBytes = statSync(tmpDb).size
    const hash = createHash('sha256')
    const out = await open(tmpOut, 'wx', 0o600)
    try {
      await out.write(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0)
      const input = await open(tmpDb, 'r')
      try {
        const buf = Buffer.allocUnsafe(CHUNK)
        let pos = 0
        for (;;) {
          opts.signal?.throwIfAborted()
          const { bytesRead } = await input.read(buf, 0, CHUNK, pos)
          if (bytesRead === 0) break
          hash.update(buf.subarray(0, bytesRead))
          await out.write(buf, 0, bytesRead, HEADER_BYTES + pos)
          pos += bytesRead
        }
        if (pos !== dbBytes) throw new BackupError(`the database copy changed size while it was read (${pos} of ${dbBytes} bytes)`)
      } finally {
        await input.close()
      }
      hash.update(keyBytes)
      await out.write(keyBytes, 0, keyBytes.length, HEADER_BYTES + dbBytes)
      const header: BackupHeader = {
        format: BACKUP_FORMAT,
        app: 'fangpin',
        schema_version: version,
        created_at: createdAt,
        database_bytes: dbBytes,
        subject_key_bytes: keyBytes.length,
        subject_key_fingerprint: fingerprint,
        sha256: hash.digest('hex')
      }
      const block = encodeHeader(header)
      // Content first, then the header, each synced: a file whose header is readable is complete.
      await out.sync()
      await out.write(block, 0, block.length, 0)
      await out.sync()
      await out.close()
      unlinkQuiet(tmpDb)
      opts.signal?.throwIfAborted()
      const file = placeNoReplace(tmpOut, dir, backupFileName(new Date(createdAt)))
      return { file, bytes: HEADER_BYTES + dbBytes + keyBytes.length, header }
    } catch (err) {
      await out.close().catch(() => undefined)
      throw err
    }
  } finally {
    for (const f of [tmpDb, `${tmpDb}-journal`, `${tmpDb}-wal`, `${tmpDb}-shm`, tmpOut]) unlinkQuiet(f)
  }
}

/** link() never replaces: two backups in one second get -2, -3 … */
function placeNoReplace (tmp: string, dir: string, name: string): string {
  for (let n = 1; n < 100; n++) {
    const file = join(dir, n === 1 ? name : name.replace(BACKUP_EXT, `-${n}${BACKUP_EXT}`))
    try {
      linkSync(tmp, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      // A file system without hard links (some network shares): rename, after checking the name.
      if (existsSync(file)) continue
      renameSync(tmp, file)
      fsyncDir(dir)
      return file
    }
    unlinkQuiet(tmp)
    fsyncDir(dir)
    return file
  }
  throw new BackupError(`too many backups named ${name} in ${dir}`)
}

function encodeHeader (h: BackupHeader): Buffer {
  const text = MAGIC + JSON.stringify(h) + '\n'
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length > HEADER_BYTES) throw new BackupError('backup header too long')
  return Buffer.concat([bytes, Buffer.alloc(HEADER_BYTES - bytes.length, '\n')])
}

/** Reads and checks the header only (cheap): what the file says it holds. */
export function readBackupHeader (file: string): BackupHeader {
  let fd: number
  try { fd = openSync(file, 'r') } catch (err) {
    throw new BackupError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const block = Buffer.alloc(HEADER_BYTES)
  let size: number
  try {
    readSync(fd, block, 0, HEADER_BYTES, 0)
    size = statSync(file).size
  } finally {
    closeSync(fd)
  }
  const text = block.toString('utf8')
  if (!text.startsWith(MAGIC)) {
    throw new BackupError(`${basename(file)} is not a complete fangpin backup (no header: a backup cut off before it finished, or another kind of file)`)
  }
  let h: BackupHeader
  try {
    h = JSON.parse(text.slice(MAGIC.length, text.indexOf('\n', MAGIC.length))) as BackupHeader
  } catch {
    throw new BackupError(`${basename(file)} has a damaged header`)
  }
  if (h.app !== 'fangpin' || !Number.isInteger(h.format) || !Number.isInteger(h.schema_version) || !Number.isInteger(h.database_bytes) ||
      !Number.isInteger(h.subject_key_bytes) || typeof h.sha256 !== 'string' || typeof h.created_at !== 'string') {
    throw new BackupError(`${basename(file)} has a damaged header`)
  }
  if (h.format > BACKUP_FORMAT) {
    throw new BackupError(`${basename(file)} is in backup format ${h.format}, newer than this fangpin reads (${BACKUP_FORMAT}): restore it with the fangpin release that made it`)
  }
  const expected = HEADER_BYTES + h.database_bytes + h.subject_key_bytes
  if (size !== expected) {
    throw new BackupError(`${basename(file)} is ${size} bytes but its header says ${expected}: the file is incomplete or damaged (a copy cut short?); use another backup`)
  }
  return h
}

/** Reads the whole file and checks its checksum. */
export async function verifyBackup (file: string): Promise<BackupHeader> {
  const h = readBackupHeader(file)
  const hash = createHash('sha256')
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    let pos = HEADER_BYTES
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
      pos += bytesRead
    }
  } finally {
    await fh.close()
  }
  const sum = hash.digest('hex')
  if (sum !== h.sha256) {
    throw new BackupError(`${basename(file)} is damaged: its checksum is ${sum}, its header says ${h.sha256}; use another backup`)
  }
  return h
}

/**
 * Whether a process has the data directory's database open (a running agent, an import). Every
 * SQLite connection in WAL mode holds a shared lock for as long as it is open, even when idle; an
 * exclusive lock is only granted when there is none. A pid file could outlive its process (kill -9,
 * a reboot, a reused pid); the lock cannot.
 */
export function databaseInUse (dataDir: string): boolean {
  const file = join(dataDir, DB_FILE)
  if (!existsSync(file)) return false
  let db: DB | undefined
  try {
    db = new Database(file, { timeout: 0, fileMustExist: true })
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('COMMIT')
    return false
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    // A damaged file is not in use by anybody: restoring over it is what restore is for.
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
  } finally {
    db?.close()
  }
}

export interface RestoreResult {
  header: BackupHeader
  /** where the data directory's previous files were moved (null: there were none) */
  replacedDir: string | null
}

function copyRange (fromFd: number, toFile: string, start: number, length: number, mode: number): void {
  const to = openSync(toFile, 'wx', mode)
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    let done = 0
    while (done < length) {
      const n = readSync(fromFd, buf, 0, Math.min(CHUNK, length - done), start + done)
      if (n === 0) throw new BackupError('the backup file ended early')
      writeSync(to, buf, 0, n)
      done += n
    }
    fsyncSync(to)
  } finally {
    closeSync(to)
  }
}

/**
 * Restores `file` into the STOPPED data directory `dataDir`: checks the checksum and the schema
 * version first, unpacks into temporary files there and checks the database's integrity, then
 * moves the files it replaces into replaced-<time>/ and renames the restored ones into place.
 */
export async function restoreBackup (file: string, dataDir: string, opts: { now?: () => Date } = {}): Promise<RestoreResult> {
  // A temporary file is never restored, even one that was complete when its writer was killed just
  // before renaming it: a backup is the file under its final name, nothing else.
  if (TEMP.test(basename(file))) {
    throw new BackupError(`${basename(file)} is the temporary file of a backup that did not finish: use a fangpin-backup-….fpbak file`)
  }
  const header = await verifyBackup(file)
  const newest = newestSchemaVersion()
  if (header.schema_version > newest) {
    throw new BackupError(`${basename(file)} is from schema version ${header.schema_version}, newer than this fangpin (schema version ${newest}): install the fangpin release that made the backup (or a newer one), then restore`)
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  if (databaseInUse(dataDir)) {
    throw new BackupError(`the database in ${dataDir} is open in another process (a running agent, an import): stop the agent first (systemctl stop fangpin), then restore`)
  }
  removeStaleTemps(dataDir)
  const tmpDb = join(dataDir, tempName('restore', 'db'))
  const tmpKey = join(dataDir, tempName('restore', 'key'))
  try {
    const fd = openSync(file, 'r')
    try {
      copyRange(fd, tmpDb, HEADER_BYTES, header.database_bytes, 0o600)
      copyRange(fd, tmpKey, HEADER_BYTES + header.database_bytes, header.subject_key_bytes, 0o600)
    } finally {
      closeSync(fd)
    }
    // The checksum says the file is what was written; this says what was written is a sound database.
    const check = new Database(tmpDb, { fileMustExist: true })
    try {
      const result = check.pragma('integrity_check', { simple: true })
      if (result !== 'ok') throw new BackupError(`the database in ${basename(file)} fails SQLite's integrity check (${String(result)}); use another backup`)
      if (schemaVersion(check) !== header.schema_version) throw new BackupError(`the database in ${basename(file)} is not at the schema version its header says`)
    } finally {
      check.close()
    }
    const keyHex = readFileSync(tmpKey, 'utf8').trim()
    if (!/^[0-9a-f]{64}$/.test(keyHex) || keyFingerprint(Buffer.from(keyHex, 'hex')) !== header.subject_key_fingerprint) {
      throw new BackupError(`the subject key in ${basename(file)} is damaged`)
    }
    const stamp = (opts.now?.() ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
    const present = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`, SUBJECT_KEY_FILE].filter((f) => existsSync(join(dataDir, f)))
    let replacedDir: string | null = null
    if (present.length > 0) {
      replacedDir = join(dataDir, `replaced-${stamp}`)
      for (let n = 2; existsSync(replacedDir); n++) replacedDir = join(dataDir, `replaced-${stamp}-${n}`)
      mkdirSync(replacedDir, { mode: 0o700 })
      for (const f of present) renameSync(join(dataDir, f), join(replacedDir, f))
      fsyncDir(replacedDir)
    }
    renameSync(tmpKey, join(dataDir, SUBJECT_KEY_FILE))
    renameSync(tmpDb, join(dataDir, DB_FILE))
    fsyncDir(dataDir)
    return { header, replacedDir }
  } finally {
    unlinkQuiet(tmpDb)
    unlinkQuiet(`${tmpDb}-journal`)
    unlinkQuiet(tmpKey)
  }
}

/** The scheduled backups in `dir`, oldest first (only files this module names; nothing else is touched). */
export function listBackups (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter((n) => NAME.test(n)).sort((a, b) => {
    const ta = NAME.exec(a)![1]
    const tb = NAME.exec(b)![1]
    return ta === tb ? a.length - b.length || a.localeCompare(b) : ta.localeCompare(tb)
  })
}

/** Removes all but the newest `keep` backups in `dir`; returns the names removed. */
export function pruneBackups (dir: string, keep: number): string[] {
  const all = listBackups(dir)
  const old = all.slice(0, Math.max(0, all.length - keep))
  for (const name of old) unlinkQuiet(join(dir, name))
  if (old.length > 0) fsyncDir(dir)
  return old
}

export interface BackupState {
  last_success_at: string | null
  last_file: string | null
  last_failure_at: string | null
  last_failure: string | null
}

/** When backups last worked and failed, kept in the meta table (scheduled and command-line alike). */
export class BackupLog {
  private readonly getStmt
  private readonly setStmt

  constructor (db: DB) {
    this.getStmt = db.prepare("SELECT key, value FROM meta WHERE key LIKE 'backup\\_%' ESCAPE '\\'")
    this.setStmt = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  }

  state (): BackupState {
    const rows = this.getStmt.all() as Array<{ key: string, value: string }>
    const v = (k: string): string | null => rows.find((r) => r.key === k)?.value ?? null
    return { last_success_at: v('backup_last_success_at'), last_file: v('backup_last_file'), last_failure_at: v('backup_last_failure_at'), last_failure: v('backup_last_failure') }
  }

  recordSuccess (at: string, file: string): void {
    this.setStmt.run('backup_last_success_at', at)
    this.setStmt.run('backup_last_file', file)
  }

  recordFailure (at: string, message: string): void {
    this.setStmt.run('backup_last_failure_at', at)
    this.setStmt.run('backup_last_failure', message)
  }
}

/**
 * Opens a data directory's database for `fangpin backup` without migrating it: a backup taken
 * before an upgrade must be of the database as the old release left it.
 */
export function openForBackup (dataDir: string): DB {
  const file = join(dataDir, DB_FILE)
  if (!existsSync(file)) throw new BackupError(`there is no database in ${dataDir} (${DB_FILE}): check FANGPIN_DATA_DIR`)
  if (!existsSync(join(dataDir, SUBJECT_KEY_FILE))) throw new BackupError(`there is no ${SUBJECT_KEY_FILE} in ${dataDir}: without it a backup could not be used; check FANGPIN_DATA_DIR`)
  const db = new Database(file, { fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  return db
}
