// The staff page's 本地政策 panel: the same description as GET /v1/profile.
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../shared.ts'

export default async function profileRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/profile', { schema: { hide: true, response: { 200: { $ref: 'profile-view#' }, ...errorResponses } } }, async () => fastify.rules.profileView())
}
