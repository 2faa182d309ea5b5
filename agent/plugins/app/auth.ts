// HIS callers present `Authorization: Bearer fp_…`. The HIS API checks it in one hook for all its
// routes (routes/his), before the body is read: a route that needs an admin token says so in its
// config (`config: { role: 'admin' }`). Health probes stay open.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FangpinForbidden, FangpinUnauthorized } from '../../errors.ts'
import type { TokenRole } from '../../rules/accounts.ts'

declare module 'fastify' {
  interface FastifyInstance {
    requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyContextConfig {
    /** the role a route needs: an HIS route 'his' (default) or 'admin'; a staff route 'billing' (default) or 'admin' */
    role?: TokenRole | 'billing'
  }
}

async function authPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('requireToken', async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
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
    if (request.routeOptions.config.role === 'admin' && caller.role !== 'admin') {
      throw new FangpinForbidden('this operation needs an admin token')
    }
    request.actor = { kind: 'token', ...caller }
    // Not awaited: bookkeeping must not delay or fail the HIS's call.
    fastify.rules.noteTokenUse(caller.id).catch((err: unknown) => request.log.warn({ err }, 'could not record token use'))
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['store', 'rules'] })
