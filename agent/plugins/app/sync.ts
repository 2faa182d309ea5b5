// Keeps the list current without anyone touching it: the registry sync on FANGPIN_SYNC_CRON (the
// hospital's local time), once at start when the list is stale or not from the registry, and on
// demand. Runs never overlap (see agent/intake/registry-sync.ts), end by FANGPIN_SYNC_TIMEOUT_MINUTES at the
// latest, and a shutdown stops a running one instead of waiting for a slow registry.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import cron, { type ScheduledTask } from 'node-cron'
import { runSync, syncRunLive, SyncBusy, INTERRUPTED, type SyncResult, type SyncTrigger } from '../../intake/registry-sync.ts'
import { listView } from '../../rules/eligibility.ts'

export interface SyncStatus {
  configured: boolean
  url: string | null
  running: boolean
  loaded_seq: number | null
  region: string | null
  records: number
  version: string | null
  age_hours: number | null
  stale: boolean
  next_run: string | null
  last_attempt: { trigger: string, started_at: string, finished_at: string | null, result: string | null, message: string | null } | null
  last_success: string | null
}

export interface SyncControl {
  run: (trigger: SyncTrigger) => Promise<SyncResult>
  status: () => SyncStatus
  running: () => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    sync: SyncControl
  }
}

/** How long closing waits for a stopped sync to record itself before the store closes anyway. */
const CLOSE_WAIT_MS = 5000

async function syncPlugin (fastify: FastifyInstance, opts: { autoStart?: boolean }): Promise<void> {
  const { config, store, profile } = fastify
  let task: ScheduledTask | null = null
  let current: Promise<SyncResult> | null = null
  let stopCurrent: AbortController | null = null
  let closing = false

  const run = async (trigger: SyncTrigger): Promise<SyncResult> => {
    const { registryUrl: url, registryPublicKey: publicKey } = config
    if (url === null || publicKey === null) {
      throw new SyncBusy('no registry is configured (FANGPIN_REGISTRY_URL)')
    }
    if (current !== null) throw new SyncBusy('a sync is already running')
    if (closing) throw new SyncBusy('the agent is shutting down')
    const state = store.list.state()
    if (config.registryDemo && state.active_gen !== null && !state.demo) {
      // A real list was imported while the demo ran: the demo registry must never replace it.
      return { result: 'unchanged', seq_before: null, seq_after: null, message: 'a real list is loaded; the demo registry is no longer used' }
    }
    const stop = new AbortController()
    stopCurrent = stop
    // The log line is part of the run: closing waits for it too.
    current = (async () => {
      const result = await runSync({
        store,
        profile,
        url,
        publicKey,
        tz: config.tz,
        demo: config.registryDemo,
        timeoutMs: config.syncTimeoutMinutes * 60_000,
        client: { minBytesPerSec: config.syncMinBytesPerSec },
        signal: stop.signal
      }, trigger)
      fastify.log[result.result === 'failed' ? 'error' : 'info']({ sync: { trigger, ...result } }, `registry sync ${result.result}: ${result.message}`)
      return result
    })()
    try {
      return await current
    } finally {
      current = null
      stopCurrent = null
    }
  }

  const status = (): SyncStatus => {
    const state = store.list.state()
    const view = listView(state, config.staleHours)
    const row = store.db.prepare('SELECT trigger, started_at, finished_at, result, message, pid FROM sync_run ORDER BY id DESC LIMIT 1').get() as (NonNullable<SyncStatus['last_attempt']> & { pid: number | null }) | undefined
    let last: SyncStatus['last_attempt'] = null
    let runningElsewhere = false
    if (row !== undefined) {
      const { pid, ...attempt } = row
      last = attempt
      if (attempt.result === 'running') {
        // A run whose process is gone (kill -9, a power cut) is not running, whatever its row says.
        if (syncRunLive(pid)) runningElsewhere = true
        else last = { ...attempt, result: 'failed', message: INTERRUPTED }
      }
    }
    const ok = store.db.prepare("SELECT finished_at FROM sync_run WHERE result IN ('updated', 'unchanged') ORDER BY id DESC LIMIT 1").pluck().get() as string | undefined
    let next: string | null = null
    if (task !== null) {
      const d = task.getNextRun()
      next = d === null ? null : d.toISOString()
    }
    return {
      configured: config.registryUrl !== null,
      url: config.registryUrl,
      running: current !== null || runningElsewhere,
      loaded_seq: state.source === 'registry' ? state.seq : null,
      region: state.region,
      records: state.person_count,
      version: state.version,
      age_hours: view.age_hours,
      stale: view.stale,
      next_run: next,
      last_attempt: last,
      last_success: ok ?? null
    }
  }

  fastify.decorate('sync', { run, status, running: () => current !== null })

  if (config.registryUrl !== null && opts.autoStart !== false) {
    fastify.addHook('onReady', async () => {
      task = cron.schedule(config.syncCron, () => {
        run('cron').catch((err: unknown) => fastify.log.warn({ err }, 'scheduled sync not run'))
      }, { timezone: config.tz, name: 'fangpin-registry-sync', noOverlap: true })
      const state = store.list.state()
      if (state.source !== 'registry' || listView(state, config.staleHours).stale) {
        // In the background: the agent answers from the list it has while it fetches a newer one.
        setImmediate(() => {
          run('start').catch((err: unknown) => fastify.log.warn({ err }, 'start-up sync not run'))
        })
      }
    })
  }
  // Closing stops a running sync before the server waits for its requests (a POST /v1/sync/run?wait
  // may be waiting for it), then gives it a moment to record itself as interrupted: the database must
  // not close under it. A run still busy after that (an apply, which is not stopped halfway) is cut
  // off with the process, and marked interrupted at the next start.
  fastify.addHook('preClose', async () => {
    closing = true
    await task?.destroy()
    task = null
    stopCurrent?.abort(new Error('the agent is shutting down'))
  })
  fastify.addHook('onClose', async () => {
    if (current === null) return
    let timer: NodeJS.Timeout | undefined
    const stopped = await Promise.race([
      current.then(() => true, () => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS) })
    ])
    clearTimeout(timer)
    if (!stopped) fastify.log.warn(`a registry sync was still busy ${CLOSE_WAIT_MS / 1000} s after the shutdown began; closing without it (it is marked interrupted at the next start)`)
  })
}

export default fp(syncPlugin, { name: 'sync', fastify: '5.x', dependencies: ['store', 'profile'] })
