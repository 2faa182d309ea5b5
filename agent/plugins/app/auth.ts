// HIS callers present `Authorization: Bearer fp_…`. The check is a preHandler routes opt into,
// so health probes stay open and every /v1 route states what it needs.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FangpinForbidden, FangpinUnauthorized } from '../../errors.ts'
import type { TokenRole } from '../../store/tokens.ts'

export interface Caller {
  id: string
  name: string
  role: TokenRole
}

declare module 'fastify' {
  interface FastifyInstance {
    requireToken: (role?: TokenRole) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    caller: Caller | null
  }
}

async function authPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('caller', null)
  fastify.decorate('requireToken', (role: TokenRole = 'his') => {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const header = request.headers.authorization
      if (header === undefined || !/^Bearer\s+\S+$/i.test(header)) {
        reply.header('WWW-Authenticate', 'Bearer realm="fangpin"')
        throw new FangpinUnauthorized('missing bearer token: send Authorization: Bearer <token> (create one with `fangpin token create --name <client>`)')
      }
      const caller = fastify.store.tokens.verify(header.replace(/^Bearer\s+/i, '').trim())
      if (caller === null) {
        reply.header('WWW-Authenticate', 'Bearer realm="fangpin", error="invalid_token"')
        throw new FangpinUnauthorized('the bearer token is not valid or has been revoked')
      }
      // An admin token may do what an HIS token does; an HIS token may not administer.
      if (role === 'admin' && caller.role !== 'admin') {
        throw new FangpinForbidden('this operation needs an admin token')
      }
      request.caller = caller
      if (fastify.store.tokens.touchDue(caller.id)) {
        // Not awaited: bookkeeping must not delay or fail the HIS's call.
        fastify.store.writes.enqueue(() => fastify.store.tokens.touch(caller.id))
          .catch((err: unknown) => request.log.warn({ err }, 'could not record token use'))
      }
    }
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['store'] })
