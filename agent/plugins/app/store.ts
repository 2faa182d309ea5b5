import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { openStore, type Store } from '../../store/store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export interface StorePluginOptions {
  dataDir: string
  /** an already opened store (the CLI's serve opens it first to load the demo list) */
  store?: Store
}

// While writes fail for a storage reason the agent tries a small write this often, and recovers
// by itself when one works (no restart needed once IT has freed space).
const PROBE_EVERY_MS = 5000

async function storePlugin (fastify: FastifyInstance, opts: StorePluginOptions): Promise<void> {
  const store = opts.store ?? openStore(opts.dataDir)
  // A serving process answers lookups from the list held in memory (store/list-index.ts).
  store.list.enableIndex()
  // ... and commits without copying the write-ahead log into the database inside them.
  store.checkpointInBackground()
  fastify.decorate('store', store)
  const timer = setInterval(() => {
    if (store.health.failing === null || !store.db.open) return
    try {
      if (store.health.probe()) fastify.log.warn('storage: writes work again; the outage is recorded as a storage_failed alert')
    } catch (err) {
      fastify.log.error({ err }, 'storage probe failed')
    }
  }, PROBE_EVERY_MS)
  timer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    store.close()
  })
}

export default fp(storePlugin, { name: 'store', fastify: '5.x' })
