// Staff sign in to the page with a name and password and carry a session cookie: HttpOnly (no
// script can read it), SameSite=Strict (no other site can ride it), ending after
// FANGPIN_SESSION_IDLE_MINUTES without a request. Staff routes accept only the cookie and HIS
// routes only bearer tokens, so neither credential opens the other's data. The staff API checks
// both in hooks of its own scope (routes/staff): every route in it is a staff route, however its
// path was spelt.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FangpinForbidden, FangpinUnauthorized } from '../../errors.ts'
import type { StaffUser } from '../../rules/accounts.ts'
import { staffActor } from '../../rules/staff-session.ts'

export const SESSION_COOKIE = 'fangpin_session'
// The page marks the refreshes nobody asked for (its timer, a live alert): they must not keep an
// unattended ward PC signed in, so they do not count as activity.
const BACKGROUND_HEADER = 'x-fangpin-background'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook of the staff API: a live session, and an admin one where the route's config.role says so */
    requireStaff: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** onRequest hook of the staff API: a state-changing call must come from the page's own origin */
    refuseCrossOrigin: (request: FastifyRequest) => Promise<void>
    sessionCookie: (request: FastifyRequest, value: string | null) => string
  }
  interface FastifyRequest {
    staff: StaffUser | null
    staffSession: string | null
  }
  interface FastifyContextConfig {
    /** a staff route open without a session (sign-in, sign-out) */
    public?: boolean
  }
}

export function readCookie (header: string | undefined, name: string): string | null {
  if (header === undefined) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}

async function staffAuthPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('staff', null)
  fastify.decorateRequest('staffSession', null)

  fastify.decorate('sessionCookie', (request: FastifyRequest, value: string | null) => {
    // Secure only over HTTPS: most hospital LANs serve the agent over plain HTTP.
    const secure = request.protocol === 'https' ? '; Secure' : ''
    return value === null
      ? `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`
      : `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure}`
  })

  fastify.decorate('requireStaff', async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.routeOptions.config.public === true) return
    const token = readCookie(request.headers.cookie, SESSION_COOKIE)
    const background = request.headers[BACKGROUND_HEADER] === '1'
    const user = token === null || token === ''
      ? null
      : fastify.rules.sessionUser(token, background, (err) => request.log.warn({ err }, 'could not record staff activity'))
    if (user === null) {
      if (token !== null) void reply.header('set-cookie', fastify.sessionCookie(request, null))
      throw new FangpinUnauthorized('not signed in, or the session ended after inactivity: sign in again')
    }
    if (request.routeOptions.config.role === 'admin' && user.role !== 'admin') throw new FangpinForbidden('this needs an admin staff account')
    request.staff = user
    request.staffSession = token
    request.actor = staffActor(user)
  })

  // SameSite=Strict keeps the cookie from other sites, but not from another web app on the same
  // host (another port is the same site): a state-changing call must come from the page's origin.
  fastify.decorate('refuseCrossOrigin', async (request: FastifyRequest): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD') return
    const origin = request.headers.origin
    if (origin === undefined) return
    let host: string | null = null
    try { host = new URL(origin).host } catch { host = null }
    if (host === null || host !== request.headers.host) throw new FangpinForbidden('cross-origin request refused: use the page served by the agent')
  })

  // Idle sessions are removed, not only refused.
  const idleMs = fastify.config.sessionIdleMinutes * 60_000
  const timer = setInterval(() => {
    fastify.rules.purgeIdleSessions().catch((err: unknown) => fastify.log.warn({ err }, 'could not purge idle staff sessions'))
  }, Math.min(idleMs, 10 * 60_000))
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}

export default fp(staffAuthPlugin, { name: 'staff-auth', fastify: '5.x', dependencies: ['store', 'profile', 'rules'] })
