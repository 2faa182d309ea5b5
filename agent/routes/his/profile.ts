// The region's rules as this agent applies them (the same as `fangpin profile show` and the staff
// page's 本地政策 panel), so the HIS vendor and the hospital can see what the answers rest on.
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../shared.ts'

export default async function profileRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/profile', {
    schema: {
      tags: ['profile'],
      summary: 'The region profile in force: categories, rules with their clauses, missing local settings',
      security: [{ bearer: [] }],
      response: { 200: { $ref: 'profile-view#' }, ...errorResponses }
    }
  }, async () => fastify.rules.profileView())
}
