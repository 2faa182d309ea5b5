// The HIS API (/v1): bodies and answers with the national platform's field names. Every route needs
// a bearer token, checked in one hook before the body is read; a route that needs an admin token
// says so with `config: { role: 'admin' }`.
import type { FastifyInstance } from 'fastify'
import admissionRoutes from './admissions.ts'
import chargeRoutes from './charges.ts'
import stayRoutes from './stays.ts'
import alertRoutes from './alerts.ts'
import syncRoutes from './sync.ts'
import catalogRoutes from './catalog.ts'
import profileRoutes from './profile.ts'
import settlementRoutes from './settlements.ts'

export default async function hisApi (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', fastify.requireToken)
  await fastify.register(admissionRoutes)
  await fastify.register(chargeRoutes)
  await fastify.register(stayRoutes)
  await fastify.register(alertRoutes)
  await fastify.register(syncRoutes)
  await fastify.register(catalogRoutes)
  await fastify.register(profileRoutes)
  await fastify.register(settlementRoutes)
}
