// Keeps the list current without anyone touching it: the registry sync on FANGPIN_SYNC_CRON (the
// hospital's local time), once at start when the list is stale or not from the registry, and on
// demand. Runs never overlap (see agent/intake/registry-sync.ts), end by FANGPIN_SYNC_TIMEOUT_MINUTES at the
// latest, and a shutdown stops a running one instead of waiting for a slow registry.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import cron, { type ScheduledTask } from 'node-cron'
import { runSync, syncRunLive, SyncBusy, INTERRUPTED, type SyncResult, type SyncTrigger } from '../../intake/registry-sync.ts'

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

export interface SyncPluginOptions {
  /** schedule the sync and run it at start (default true when a registry is configured) */
  autoStart?: boolean
  /** runs in the transaction that makes a real list serve (the app ends the demo's access with it) */
  atRealList?: () => void
}

async function syncPlugin (fastify: FastifyInstance, opts: SyncPluginOptions): Promise<void> {
  const { config, store, rules } = fastify
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
        ctx: rules.ctx,
        url,
        publicKey,
        demo: config.registryDemo,
        atRealList: opts.atRealList,
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
    const view = rules.listView()
    const row = store.syncRuns.last()
    let last: SyncStatus['last_attempt'] = null
    let runningElsewhere = false
    if (row !== undefined) {
      const { pid, id: _id, ...attempt } = row
      last = attempt
      if (attempt.result === 'running') {
        // A run whose process is gone (kill -9, a power cut) is not running, whatever its row says.
        if (syncRunLive(pid)) runningElsewhere = true
        else last = { ...attempt, result: 'failed', message: INTERRUPTED }
      }
    }
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
      last_success: store.syncRuns.lastSuccess()
    }
  }

  fastify.decorate('sync', { run, status, running: () => current !== null })

  if (config.registryUrl !== null && opts.autoStart !== false) {
    fastify.addHook('onReady', async () => {
      task = cron.schedule(config.syncCron, () => {
        run('cron').catch((err: unknown) => fastify.log.warn({ err }, 'scheduled sync not run'))
      }, { timezone: config.tz, name: 'fangpin-registry-sync', noOverlap: true })
      const state = store.list.state()
      if (state.source !== 'registry' || rules.listView().stale) {
        // In the background: the agent answers from the list it has while it fetches a newer one.
        setImmediate(() => {
          run('start').catch((err: unknown) => fastify.log.warn({ err }, 'start-up sync not run'))
        })
      }
    })
  }
  // Closing stops a running sync and waits (briefly) for it to record itself as interrupted before
  // the server stops taking requests: a POST /v1/sync/run?wait=true waiting for it gets its answer
  // while its connection can still be closed cleanly, and the database never closes under the run.
  // A run still busy after that is cut off with the process, and marked interrupted at the next start.
  fastify.addHook('preClose', async () => {
    closing = true
    await task?.destroy()
    task = null
    stopCurrent?.abort(new Error('the agent is shutting down'))
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

export default fp(syncPlugin, { name: 'sync', fastify: '5.x', dependencies: ['store', 'profile', 'rules'] })
