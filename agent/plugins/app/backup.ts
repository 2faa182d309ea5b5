// Scheduled backups (FANGPIN_BACKUP_DIR, FANGPIN_BACKUP_CRON, FANGPIN_BACKUP_KEEP): an online copy
// of the database and the subject key while the agent serves, the oldest ones removed after a
// successful one. A failure is logged, shown on /readyz and /metrics, and raised as a backup_failed
// alert for staff (IT may not read the log for weeks); the next success resolves it.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import cron, { type ScheduledTask } from 'node-cron'
import { pruneBackups, removeStaleTemps, writeBackup, type BackupResult } from '../../store/backup.ts'

/** A scheduled backup older than this (or none) makes /readyz degraded: two missed nights. */
export const BACKUP_STALE_HOURS = 48
/** Pages per step of the online copy: about 1 MB at a time, the event loop free in between. */
const PAGES_PER_STEP = 256
const CLOSE_WAIT_MS = 5000

export interface BackupStatus {
  /** FANGPIN_BACKUP_DIR is set */
  scheduled: boolean
  dir: string | null
  running: boolean
  last_success_at: string | null
  last_file: string | null
  age_hours: number | null
  last_failure_at: string | null
  last_failure: string | null
  /** the last attempt failed (no success since) */
  failed: boolean
  /** scheduled, and no success within BACKUP_STALE_HOURS */
  stale: boolean
  next_run: string | null
}

export interface BackupControl {
  run: (trigger: 'cron' | 'start' | 'api') => Promise<BackupResult>
  status: () => BackupStatus
}

declare module 'fastify' {
  interface FastifyInstance {
    backup: BackupControl
  }
}

export class BackupBusy extends Error {
  override name = 'BackupBusy'
}

async function backupPlugin (fastify: FastifyInstance, opts: { autoStart?: boolean }): Promise<void> {
  const { config, store } = fastify
  const dir = config.backupDir
  let task: ScheduledTask | null = null
  let current: Promise<BackupResult> | null = null
  let stop: AbortController | null = null
  let closing = false

  const run = async (trigger: 'cron' | 'start' | 'api'): Promise<BackupResult> => {
    if (dir === null) throw new BackupBusy('no backup directory is configured (FANGPIN_BACKUP_DIR)')
    if (current !== null) throw new BackupBusy('a backup is already running')
    if (closing) throw new BackupBusy('the agent is shutting down')
    const abort = new AbortController()
    stop = abort
    current = (async () => {
      try {
        removeStaleTemps(dir)
        const result = await writeBackup(store.db, store.subjectKey, dir, { pagesPerStep: PAGES_PER_STEP, signal: abort.signal })
        const removed = pruneBackups(dir, config.backupKeep)
        await store.write(() => {
          store.backups.recordSuccess(result.header.created_at, result.file)
          store.alerts.resolve('backup_failed')
        })
        fastify.log.info({ backup: { trigger, file: result.file, bytes: result.bytes, schema_version: result.header.schema_version, removed } }, `backup written: ${result.file}`)
        return result
      } catch (err) {
        const message = (err as Error).message
        fastify.log.error({ err, backup: { trigger, dir } }, `backup failed: ${message}`)
        if (!abort.signal.aborted) {
          const at = new Date().toISOString()
          await store.write(() => {
            store.backups.recordFailure(at, message)
            store.alerts.raise({
              kind: 'backup_failed',
              level: 'warning',
              message: `数据备份失败：${message.slice(0, 300)}；请信息科检查备份目录（${dir}）的空间和权限。在下次备份成功之前，最近的数据没有备份`,
              detail: { dir, trigger, message }
            })
          }).catch((e: unknown) => fastify.log.error({ err: e }, 'could not record the failed backup'))
        }
        throw err
      }
    })()
    try {
      return await current
    } finally {
      current = null
      stop = null
    }
  }

  const status = (): BackupStatus => {
    const s = store.backups.state()
    const age = s.last_success_at === null ? null : Math.round((Date.now() - Date.parse(s.last_success_at)) / 36e5 * 10) / 10
    const failed = s.last_failure_at !== null && (s.last_success_at === null || s.last_failure_at > s.last_success_at)
    const next = task?.getNextRun() ?? null
    return {
      scheduled: dir !== null,
      dir,
      running: current !== null,
      ...s,
      age_hours: age,
      failed,
      stale: dir !== null && (age === null || age > BACKUP_STALE_HOURS),
      next_run: next === null ? null : next.toISOString()
    }
  }

  fastify.decorate('backup', { run, status })

  if (dir !== null && opts.autoStart !== false) {
    fastify.addHook('onReady', async () => {
      task = cron.schedule(config.backupCron, () => {
        run('cron').catch((err: unknown) => { if (err instanceof BackupBusy) fastify.log.warn(`scheduled backup not run: ${err.message}`) })
      }, { timezone: config.tz, name: 'fangpin-backup', noOverlap: true })
      // A server that was off at backup time (a holiday, a broken disk) catches up at start.
      if (status().stale) {
        setImmediate(() => {
          run('start').catch((err: unknown) => { if (err instanceof BackupBusy) fastify.log.warn(`start-up backup not run: ${err.message}`) })
        })
      }
    })
  }

  // A backup running at shutdown is stopped (its temporary files removed), not waited for: the
  // next start catches up. The database must not close under it.
  fastify.addHook('preClose', async () => {
    closing = true
    await task?.destroy()
    task = null
    stop?.abort(new Error('the agent is shutting down'))
    if (current === null) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      current.then(() => true, () => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS) })
    ])
    clearTimeout(timer)
  })
}

export default fp(backupPlugin, { name: 'backup', fastify: '5.x', dependencies: ['store', 'profile'] })
