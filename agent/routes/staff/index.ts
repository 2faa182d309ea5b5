// The billing staff page's API (/staff/api). Session cookie only (plugins/app/staff-auth.ts), checked
// in one hook for every route but sign-in and sign-out (`config: { public: true }`); admin routes
// say so with `config: { role: 'admin' }`. A state-changing call from another origin is refused in
// the same scope, so no spelling of the path gets around it. Every action and every look at a
// patient's stay is audited under the staff member's name (by the rules).
import type { FastifyInstance } from 'fastify'
import sessionRoutes from './session.ts'
import overviewRoutes from './overview.ts'
import stayRoutes from './stays.ts'
import alertRoutes from './alerts.ts'
import eventRoutes from './events.ts'
import adminRoutes from './admin.ts'
import staffCatalogRoutes from './catalog.ts'
import profileRoutes from './profile.ts'
import burdenRoutes from './burden.ts'

export default async function staffApi (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', fastify.refuseCrossOrigin)
  fastify.addHook('onRequest', fastify.requireStaff)
  await fastify.register(sessionRoutes)
  await fastify.register(overviewRoutes)
  await fastify.register(stayRoutes)
  await fastify.register(alertRoutes)
  await fastify.register(eventRoutes)
  await fastify.register(adminRoutes)
  await fastify.register(staffCatalogRoutes)
  await fastify.register(profileRoutes)
  await fastify.register(burdenRoutes)
}
