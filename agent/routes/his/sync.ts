import type { FastifyInstance } from 'fastify'
import { FangpinConflict } from '../../errors.ts'
import { SyncBusy } from '../../intake/registry-sync.ts'
import { errorResponses } from '../shared.ts'

export default async function syncRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/sync/status', {
    schema: {
      tags: ['sync'],
      summary: 'Registry sync status: loaded seq, region, records, last attempt, next run, age, stale',
      security: [{ bearer: [] }],
      response: { 200: { $ref: 'sync-status#' }, ...errorResponses }
    }
  }, async () => fastify.sync.status())

  fastify.post<{ Querystring: { wait?: string } }>('/sync/run', {
    config: { role: 'admin' },
    schema: {
      tags: ['sync'],
      summary: 'Run a registry sync now (admin token)',
      description: 'Starts a sync and answers 202 at once; with ?wait=true answers when it is done. A sync already running is a 409.',
      security: [{ bearer: [] }],
      // Query strings are text: the API's ajv does not coerce types, so the flag is spelled out.
      querystring: { type: 'object', properties: { wait: { type: 'string', enum: ['true', 'false', '1', '0'] } }, additionalProperties: false },
      response: { 200: { $ref: 'sync-result#' }, 202: { $ref: 'sync-result#' }, ...errorResponses }
    }
  }, async (request, reply) => {
    if (fastify.config.registryUrl === null) throw new FangpinConflict('no registry is configured: set FANGPIN_REGISTRY_URL and FANGPIN_REGISTRY_PUBKEY')
    if (fastify.sync.running()) throw new FangpinConflict('a sync is already running; see GET /v1/sync/status')
    const state = fastify.store.list.state()
    await fastify.rules.recordAction(request.actor!, 'sync.run', 'requested')
    const running = fastify.sync.run('api')
    if (request.query.wait !== 'true' && request.query.wait !== '1') {
      running.catch((err: unknown) => request.log.warn({ err }, 'requested sync not run'))
      return reply.code(202).send({ result: 'started', seq_before: state.source === 'registry' ? state.seq : null, seq_after: null, message: 'sync started; see GET /v1/sync/status' })
    }
    try {
      return reply.code(200).send(await running)
    } catch (err) {
      if (err instanceof SyncBusy) throw new FangpinConflict(err.message)
      throw err
    }
  })
}
