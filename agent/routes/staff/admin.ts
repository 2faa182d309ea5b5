// Admin staff manage HIS tokens and staff accounts, unlock an account and start a sync from the
// page — the same rules as the command line, audited under the admin's name.
import type { FastifyInstance } from 'fastify'
import { FangpinConflict } from '../../errors.ts'
import { SyncBusy } from '../../intake/registry-sync.ts'
import type { StaffRole, TokenRole } from '../../rules/accounts.ts'
import { errorResponses } from '../shared.ts'

const admin = { role: 'admin' } as const

export default async function adminRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify

  fastify.get('/tokens', { config: admin, schema: { hide: true, response: { 200: { $ref: 'staff-token-list#' }, ...errorResponses } } },
    async () => ({ tokens: rules.listTokens() }))

  fastify.post<{ Body: { name: string, role: TokenRole } }>('/tokens', {
    config: admin,
    schema: { hide: true, body: { $ref: 'staff-token-request#' }, response: { 201: { $ref: 'staff-token#' }, ...errorResponses } }
  }, async (request, reply) => {
    const created = await rules.createToken(request.actor!, request.body.name, request.body.role)
    // The token is shown once, here; only its hash is kept.
    return reply.code(201).send({ ...created.info, token: created.token })
  })

  fastify.post<{ Params: { id: string } }>('/tokens/:id/revoke', {
    config: admin,
    schema: { hide: true, params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } }, response: { 200: { $ref: 'staff-token-revoked#' }, ...errorResponses } }
  }, async (request) => {
    const n = await rules.revokeToken(request.actor!, request.params.id)
    return { id: request.params.id, revoked: n > 0 }
  })

  fastify.get('/users', { config: admin, schema: { hide: true, response: { 200: { $ref: 'staff-user-list#' }, ...errorResponses } } },
    async () => ({ users: rules.listStaff() }))

  // IT ends the locks on an account, from every address, once the colleague is known to be who
  // was typing (the same as `fangpin user unlock`).
  fastify.post<{ Params: { name: string } }>('/users/:name/unlock', {
    config: admin,
    schema: {
      hide: true,
      params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: { $ref: 'staff-unlock-result#' }, ...errorResponses }
    }
  }, async (request) => await rules.unlockStaff(request.actor!, request.params.name))

  fastify.post<{ Body: { name: string, role: StaffRole, password: string } }>('/users', {
    config: admin,
    schema: { hide: true, body: { $ref: 'staff-user-request#' }, response: { 201: { $ref: 'staff-user#' }, ...errorResponses } }
  }, async (request, reply) => reply.code(201).send(await rules.addStaff(request.actor!, request.body)))

  fastify.post('/sync', {
    config: admin,
    schema: { hide: true, response: { 200: { $ref: 'sync-result#' }, ...errorResponses } }
  }, async (request) => {
    if (fastify.config.registryUrl === null) throw new FangpinConflict('未配置名单同步地址 (FANGPIN_REGISTRY_URL)：请由信息科配置后再同步')
    await rules.recordAction(request.actor!, 'sync.run', 'requested')
    try {
      return await fastify.sync.run('api')
    } catch (err) {
      if (err instanceof SyncBusy) throw new FangpinConflict(err.message)
      throw err
    }
  })
}
