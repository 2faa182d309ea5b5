// Signing in and out of the staff page.
import type { FastifyInstance } from 'fastify'
import { SESSION_COOKIE, readCookie } from '../../plugins/app/staff-auth.ts'
import { errorResponses } from '../shared.ts'

export default async function sessionRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify

  fastify.post<{ Body: { name: string, password: string } }>('/login', {
    config: { public: true },
    schema: { hide: true, body: { $ref: 'staff-login-request#' }, response: { 200: { $ref: 'staff-me#' }, ...errorResponses } }
  }, async (request, reply) => {
    try {
      const { user, token } = await rules.signIn(request.body.name, request.body.password, request.ip)
      reply.header('set-cookie', fastify.sessionCookie(request, token))
      return { name: user.name, role: user.role }
    } catch (err) {
      const wait = (err as { retryAfter?: number }).retryAfter
      if (wait !== undefined) reply.header('retry-after', String(wait))
      throw err
    }
  })

  fastify.post('/logout', {
    config: { public: true },
    schema: { hide: true, response: { 200: { $ref: 'staff-logout-result#' }, ...errorResponses } }
  }, async (request, reply) => {
    const token = readCookie(request.headers.cookie, SESSION_COOKIE)
    if (token !== null && token !== '') await rules.signOut(token)
    reply.header('set-cookie', fastify.sessionCookie(request, null))
    return { ok: true }
  })

  fastify.get('/me', { schema: { hide: true, response: { 200: { $ref: 'staff-me#' }, ...errorResponses } } },
    async (request) => ({ name: request.staff!.name, role: request.staff!.role }))
}
