// The staff page's header: the list in service, the last sync, monitored stays by status, and
// whether the database can be written (a full disk shows as a red banner).
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../shared.ts'

export default async function overviewRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules, store } = fastify

  fastify.get('/overview', { schema: { hide: true, response: { 200: { $ref: 'staff-overview#' }, ...errorResponses } } }, async () => {
    const state = store.list.state()
    const sync = fastify.sync.status()
    const last = sync.last_attempt
    const failing = store.health.failing
    return {
      list: { ...rules.listView(), region: state.region, region_name: fastify.profile.name, source: state.source, person_count: state.person_count },
      sync: { configured: sync.configured, last_result: last?.result ?? null, last_message: last?.message ?? null, last_failed: last?.result === 'failed' },
      counts: rules.statusCounts(),
      storage: { ok: failing === null, since: failing?.since ?? null, message: failing?.message ?? null }
    }
  })
}
