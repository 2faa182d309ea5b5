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

async function storePlugin (fastify: FastifyInstance, opts: StorePluginOptions): Promise<void> {
  const store = opts.store ?? openStore(opts.dataDir)
  fastify.decorate('store', store)
  fastify.addHook('onClose', async () => {
    store.close()
  })
}

export default fp(storePlugin, { name: 'store', fastify: '5.x' })
