// Admin staff manage HIS tokens, staff users and start a sync from the page. Audited.
import type { FastifyInstance } from 'fastify'
import { FangpinConflict, FangpinNotFound, FangpinValidation } from '../errors.ts'
import { StaffUserError, type StaffRole } from '../store/staff.ts'
import type { TokenRole } from '../store/tokens.ts'
import { SyncBusy } from '../intake/registry-sync.ts'
import { staffName } from './staff.ts'
import { errorResponses } from './responses.ts'

const token = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, created_at: { type: 'string' }, revoked_at: { type: ['string', 'null'] }, last_used_at: { type: ['string', 'null'] }, token: { type: 'string' } } }
const user = { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' }, created_at: { type: 'string' }, disabled_at: { type: ['string', 'null'] }, last_login_at: { type: ['string', 'null'] } } }
// Where an account is locked from (too many wrong passwords from that address) and until when.
const locks = { type: 'array', items: { type: 'object', properties: { address: { type: 'string' }, until: { type: 'string' } } } }
const listedUser = { ...user, properties: { ...user.properties, locks } }

export default async function staffAdminRoutes (fastify: FastifyInstance): Promise<void> {
  const { store } = fastify
  fastify.addHook('onRequest', fastify.requireStaff('admin'))

  fastify.get('/staff/api/tokens', { schema: { hide: true, response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: token } } }, ...errorResponses } } },
    async () => ({ tokens: store.tokens.list() }))

  fastify.post<{ Body: { name: string, role: TokenRole } }>('/staff/api/tokens', {
    schema: {
      hide: true,
      body: { type: 'object', required: ['name', 'role'], properties: { name: { type: 'string', minLength: 1, maxLength: 64, pattern: '\\S' }, role: { type: 'string', enum: ['his', 'admin'] } }, additionalProperties: false },
      response: { 201: token, ...errorResponses }
    }
  }, async (request, reply) => {
    const created = store.tokens.create(request.body.name.trim(), request.body.role)
    store.audit.write({ client: staffName(request), action: 'token.create', detail: { id: created.info.id, name: created.info.name, role: created.info.role } })
    // The token is shown once, here; only its hash is kept.
    return reply.code(201).send({ ...created.info, token: created.token })
  })

  fastify.post<{ Params: { id: string } }>('/staff/api/tokens/:id/revoke', {
    schema: { hide: true, params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } }, response: { 200: { type: 'object', properties: { id: { type: 'string' }, revoked: { type: 'boolean' } } }, ...errorResponses } }
  }, async (request) => {
    if (!store.tokens.list().some((x) => x.id === request.params.id)) throw new FangpinNotFound(`no token ${request.params.id}`)
    const n = store.tokens.revoke(request.params.id)
    store.audit.write({ client: staffName(request), action: 'token.revoke', detail: { id: request.params.id } })
    return { id: request.params.id, revoked: n > 0 }
  })

  fastify.get('/staff/api/users', { schema: { hide: true, response: { 200: { type: 'object', properties: { users: { type: 'array', items: listedUser } } }, ...errorResponses } } },
    async () => {
      const now = Date.now()
      return { users: store.staff.list().map((u) => ({ ...u, locks: store.signInLimits.accountLocks(u.name, now).map((l) => ({ address: l.address, until: l.until })) })) }
    })

  // IT ends the locks on an account, from every address, once the colleague is known to be who
  // was typing (the same as `fangpin user unlock`).
  fastify.post<{ Params: { name: string } }>('/staff/api/users/:name/unlock', {
    schema: {
      hide: true,
      params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: { type: 'object', properties: { name: { type: 'string' }, unlocked: { type: 'integer' } } }, ...errorResponses }
    }
  }, async (request) => {
    const target = store.staff.byName(request.params.name)
    if (target === undefined) throw new FangpinNotFound(`no staff user named ${request.params.name}`)
    const unlocked = store.db.transaction(() => {
      const n = store.signInLimits.unlockAccount(target.name, Date.now())
      store.audit.write({ client: staffName(request), action: 'staff.unlock', detail: { name: target.name, locks: n } })
      return n
    }).immediate()
    return { name: target.name, unlocked }
  })

  fastify.post<{ Body: { name: string, role: StaffRole, password: string } }>('/staff/api/users', {
    schema: {
      hide: true,
      body: { type: 'object', required: ['name', 'role', 'password'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, role: { type: 'string', enum: ['billing', 'admin'] }, password: { type: 'string', maxLength: 200 } }, additionalProperties: false },
      response: { 201: user, ...errorResponses }
    }
  }, async (request, reply) => {
    try {
      const created = await store.staff.createUser(request.body)
      store.audit.write({ client: staffName(request), action: 'staff.user_add', detail: { name: created.name, role: created.role } })
      return reply.code(201).send(created)
    } catch (err) {
      if (err instanceof StaffUserError) throw (/already exists/.test(err.message) ? new FangpinConflict(err.message) : new FangpinValidation(err.message))
      throw err
    }
  })

  fastify.post('/staff/api/sync', {
    schema: { hide: true, response: { 200: { $ref: 'sync-result#' }, ...errorResponses } }
  }, async (request) => {
    if (fastify.config.registryUrl === null) throw new FangpinConflict('未配置名单同步地址 (FANGPIN_REGISTRY_URL)：请由信息科配置后再同步')
    store.audit.write({ client: staffName(request), action: 'sync.run', decision: 'requested' })
    try {
      return await fastify.sync.run('api')
    } catch (err) {
      if (err instanceof SyncBusy) throw new FangpinConflict(err.message)
      throw err
    }
  })
}
