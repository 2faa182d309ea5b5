// `fangpin backup [--out DIR]` (online: the agent may be serving) and
// `fangpin restore FILE [--data-dir DIR] [--check]` (into a stopped data directory).
import { parseArgs } from 'node:util'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../config.ts'
import { UsageError, type Io } from '../../base/terminal.ts'
import { loadOrCreateSubjectKey } from '../../identity/subject-key.ts'
import { newestSchemaVersion } from '../store/db.ts'
import { BackupError, BackupLog, openForBackup, removeStaleTemps, restoreBackup, verifyBackup, writeBackup } from '../store/backup.ts'

export async function backupCommand (config: Config, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' } }, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError('usage: fangpin backup [--out DIR]')
  const dirArg = values.out ?? config.backupDir
  if (dirArg === null || dirArg === undefined) {
    // A backup beside the data it protects would go with it when the disk fails.
    throw new UsageError('say where the backup goes: fangpin backup --out DIR (another disk, a USB drive, a network share), or set FANGPIN_BACKUP_DIR')
  }
  const dir = resolve(dirArg)
  if (dir === config.dataDir) throw new UsageError(`--out ${dir} is the data directory itself: choose a directory on another disk`)
  try {
    const db = openForBackup(config.dataDir)
    try {
      const key = loadOrCreateSubjectKey(config.dataDir)
      removeStaleTemps(dir)
      const result = await writeBackup(db, key, dir)
      // Recorded only in a database that has the meta table (any schema since the first).
      try {
        new BackupLog(db).recordSuccess(result.header.created_at, result.file)
      } catch { /* an empty database: nothing to record in */ }
      io.out.write([
        `backup: ${result.file}`,
        `  ${result.bytes} bytes, schema version ${result.header.schema_version}, taken ${result.header.created_at}`,
        `  sha256 of the content: ${result.header.sha256}`,
        '  It holds the subject key: keep it as safe as the data directory (mode 0600, a locked place).',
        ''
      ].join('\n'))
      return 0
    } finally {
      db.close()
    }
  } catch (err) {
    if (err instanceof BackupError) {
      io.err.write(`fangpin backup: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

export async function restoreCommand (config: Config, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { 'data-dir': { type: 'string' }, check: { type: 'boolean', default: false } }, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('usage: fangpin restore <backup file> [--data-dir DIR] [--check]\n  (stop the agent first; --check only verifies the file)')
  const file = resolve(positionals[0])
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`)
  const dataDir = resolve(values['data-dir'] ?? config.dataDir)
  try {
    if (values.check) {
      const h = await verifyBackup(file)
      const newest = newestSchemaVersion()
      io.out.write(`${file}: complete, checksum ok; taken ${h.created_at}, schema version ${h.schema_version} (this fangpin: ${newest})${h.schema_version > newest ? ' — needs a newer fangpin to restore' : ''}\n`)
      return h.schema_version > newest ? 1 : 0
    }
    const result = await restoreBackup(file, dataDir)
    io.out.write([
      `restored ${file}`,
      `  into ${dataDir}: the database (schema version ${result.header.schema_version}, taken ${result.header.created_at}) and subject.key`,
      result.replacedDir === null ? '  (the data directory was empty)' : `  the files it replaced are in ${result.replacedDir} (remove them once the agent runs well)`,
      '  Start the agent: it migrates the database to this release\'s schema if the backup is older.',
      '  Anything recorded after the backup was taken (admissions, charges) is not in it: ask the HIS vendor to send it again.',
      ''
    ].join('\n'))
    return 0
  } catch (err) {
    if (err instanceof BackupError) {
      io.err.write(`fangpin restore: ${err.message}\nnothing was changed\n`)
      return 1
    }
    throw err
  }
}
