// The rules, bound to this agent's store, profile and settings, for every route to call: routes
// validate, call one rule and answer.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createRules, createContext, type Rules, type Actor } from '../../rules/index.ts'

declare module 'fastify' {
  interface FastifyInstance {
    rules: Rules
  }
  interface FastifyRequest {
    /** who the request acts for: an HIS token or a signed-in staff member (set by the auth hooks) */
    actor: Actor | null
  }
}

async function rulesPlugin (fastify: FastifyInstance): Promise<void> {
  const { config } = fastify
  const ctx = createContext({
    store: fastify.store,
    profile: fastify.profile,
    settings: { tz: config.tz, staleHours: config.staleHours, sessionIdleMinutes: config.sessionIdleMinutes, ...(config.insuAdmdvs !== null ? { insuAdmdvs: config.insuAdmdvs } : {}) }
  })
  fastify.decorate('rules', createRules(ctx))
  fastify.decorateRequest('actor', null)
}

export default fp(rulesPlugin, { name: 'rules', fastify: '5.x', dependencies: ['store', 'profile'] })
