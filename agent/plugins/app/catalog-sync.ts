// The catalog channel on the registry's schedule: the agent fetches the county's signed catalog on
// FANGPIN_SYNC_CRON (beside the list), once at start when its catalog is not the registry's or is
// stale, and by `fangpin catalog sync`. A shutdown stops a running catalog sync at once.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import cron, { type ScheduledTask } from 'node-cron'
import { runCatalogSync, type CatalogSyncResult } from '../../intake/catalog-sync.ts'

declare module 'fastify' {
  interface FastifyInstance {
    catalogSync: { run: (trigger: string) => Promise<CatalogSyncResult | null> }
  }
}

const CLOSE_WAIT_MS = 5000

async function catalogSyncPlugin (fastify: FastifyInstance, opts: { autoStart?: boolean }): Promise<void> {
  const { config, store, rules } = fastify
  let task: ScheduledTask | null = null
  let current: Promise<CatalogSyncResult> | null = null
  let stop: AbortController | null = null
  let closing = false

  // The bundled demo registry publishes no catalog: nothing to fetch.
  const configured = config.registryUrl !== null && config.registryPublicKey !== null && !config.registryDemo

  const run = async (trigger: string): Promise<CatalogSyncResult | null> => {
    if (!configured || current !== null || closing) return null
    const controller = new AbortController()
    stop = controller
    current = runCatalogSync({
      ctx: rules.ctx,
      url: config.registryUrl!,
      publicKey: config.registryPublicKey!,
      client: { minBytesPerSec: config.syncMinBytesPerSec },
      timeoutMs: config.syncTimeoutMinutes * 60_000,
      signal: controller.signal
    }).then((r) => {
      fastify.log[r.result === 'failed' ? 'error' : 'info']({ catalogSync: { trigger, ...r } }, `catalog sync ${r.result}: ${r.message}`)
      return r
    })
    try {
      return await current
    } finally {
      current = null
      stop = null
    }
  }

  fastify.decorate('catalogSync', { run })

  if (configured && opts.autoStart !== false) {
    fastify.addHook('onReady', async () => {
      task = cron.schedule(config.syncCron, () => {
        run('cron').catch((err: unknown) => fastify.log.warn({ err }, 'scheduled catalog sync not run'))
      }, { timezone: config.tz, name: 'fangpin-catalog-sync', noOverlap: true })
      const s = store.catalog.state()
      const asOf = Date.parse(s.data_as_of ?? s.loaded_at ?? '')
      if (s.source !== 'registry' || !(Date.now() - asOf < config.staleHours * 3_600_000)) {
        setImmediate(() => {
          run('start').catch((err: unknown) => fastify.log.warn({ err }, 'start-up catalog sync not run'))
        })
      }
    })
  }

  fastify.addHook('preClose', async () => {
    closing = true
    await task?.destroy()
    task = null
    stop?.abort(new Error('the agent is shutting down'))
    if (current === null) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([current.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS) })])
    clearTimeout(timer)
  })
}

export default fp(catalogSyncPlugin, { name: 'catalog-sync', fastify: '5.x', dependencies: ['store', 'profile', 'rules'] })
