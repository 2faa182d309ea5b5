// Keeps the list current without anyone touching it: the registry sync on FANGPIN_SYNC_CRON (the
// hospital's local time), once at start when the list is stale or not from the registry, and on
// demand. Runs never overlap (see sync/registry/sync.ts).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import cron, { type ScheduledTask } from 'node-cron'
import { runSync, SyncBusy, type SyncResult, type SyncTrigger } from '../../../sync/registry/sync.ts'
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

async function syncPlugin (fastify: FastifyInstance, opts: { autoStart?: boolean }): Promise<void> {
  const { config, store, profile } = fastify
  let task: ScheduledTask | null = null
  let current: Promise<SyncResult> | null = null

  const run = async (trigger: SyncTrigger): Promise<SyncResult> => {
    if (config.registryUrl === null || config.registryPublicKey === null) {
      throw new SyncBusy('no registry is configured (FANGPIN_REGISTRY_URL)')
    }
    if (current !== null) throw new SyncBusy('a sync is already running')
    const state = store.list.state()
    if (config.registryDemo && state.active_gen !== null && !state.demo) {
      // A real list was imported while the demo ran: the demo registry must never replace it.
      return { result: 'unchanged', seq_before: null, seq_after: null, message: 'a real list is loaded; the demo registry is no longer used' }
    }
    current = runSync({ store, profile, url: config.registryUrl, publicKey: config.registryPublicKey, tz: config.tz, demo: config.registryDemo }, trigger)
    try {
      const result = await current
      fastify.log[result.result === 'failed' ? 'error' : 'info']({ sync: { trigger, ...result } }, `registry sync ${result.result}: ${result.message}`)
      return result
    } finally {
      current = null
    }
  }

  const status = (): SyncStatus => {
    const state = store.list.state()
    const view = listView(state, config.staleHours)
    const last = store.db.prepare('SELECT trigger, started_at, finished_at, result, message FROM sync_run ORDER BY id DESC LIMIT 1').get() as SyncStatus['last_attempt'] | undefined
    const ok = store.db.prepare("SELECT finished_at FROM sync_run WHERE result IN ('updated', 'unchanged') ORDER BY id DESC LIMIT 1").pluck().get() as string | undefined
    let next: string | null = null
    if (task !== null) {
      const d = task.getNextRun()
      next = d === null ? null : d.toISOString()
    }
    return {
      configured: config.registryUrl !== null,
      url: config.registryUrl,
      running: current !== null || last?.result === 'running',
      loaded_seq: state.source === 'registry' ? state.seq : null,
      region: state.region,
      records: state.person_count,
      version: state.version,
      age_hours: view.age_hours,
      stale: view.stale,
      next_run: next,
      last_attempt: last ?? null,
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
  // Closing waits for a running sync: the database must not close under it.
  fastify.addHook('onClose', async () => {
    await task?.destroy()
    await current?.catch(() => undefined)
  })
}

export default fp(syncPlugin, { name: 'sync', fastify: '5.x', dependencies: ['store', 'profile'] })
