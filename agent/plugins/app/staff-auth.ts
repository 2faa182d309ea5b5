// Staff sign in to the page with a name and password and carry a session cookie: HttpOnly (no
// script can read it), SameSite=Strict (no other site can ride it), ending after
// FANGPIN_SESSION_IDLE_MINUTES without a request. Staff routes accept only the cookie and HIS
// routes only bearer tokens, so neither credential opens the other's data.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FangpinForbidden, FangpinUnauthorized } from '../../errors.ts'
import type { StaffRole, StaffUser } from '../../store/staff.ts'

export const SESSION_COOKIE = 'fangpin_session'
// last_seen_at is written at most this often per session (and at least twice per idle period),
// so a busy page does not turn into a write per request.
const TOUCH_EVERY_MS = 60_000
// The page marks the refreshes nobody asked for (its timer, a live alert): they must not keep an
// unattended ward PC signed in, so they do not count as activity.
const BACKGROUND_HEADER = 'x-fangpin-background'

declare module 'fastify' {
  interface FastifyInstance {
    requireStaff: (role?: StaffRole) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    sessionCookie: (request: FastifyRequest, value: string | null) => string
  }
  interface FastifyRequest {
    staff: StaffUser | null
    staffSession: string | null
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

/** Whether the request was routed to the staff API, however its path was spelt. */
function isStaffApiRoute (request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  return route !== undefined && route.startsWith('/staff/api/')
}

async function staffAuthPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('staff', null)
  fastify.decorateRequest('staffSession', null)
  const idleMs = fastify.config.sessionIdleMinutes * 60_000
  const touchEvery = Math.min(TOUCH_EVERY_MS, idleMs / 2)

  fastify.decorate('sessionCookie', (request: FastifyRequest, value: string | null) => {
    // Secure only over HTTPS: most hospital LANs serve the agent over plain HTTP.
    const secure = request.protocol === 'https' ? '; Secure' : ''
    return value === null
      ? `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`
      : `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure}`
  })

  fastify.decorate('requireStaff', (role: StaffRole = 'billing') => {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE)
      const session = token === null || token === '' ? undefined : fastify.store.staff.session(token)
      const now = Date.now()
      if (session === undefined || now - Date.parse(session.last_seen_at) > idleMs) {
        if (session !== undefined) fastify.store.staff.endSession(token!)
        if (token !== null) void reply.header('set-cookie', fastify.sessionCookie(request, null))
        throw new FangpinUnauthorized('not signed in, or the session ended after inactivity: sign in again')
      }
      if (role === 'admin' && session.user.role !== 'admin') throw new FangpinForbidden('this needs an admin staff account')
      request.staff = session.user
      request.staffSession = token
      if (request.headers[BACKGROUND_HEADER] !== '1' && now - Date.parse(session.last_seen_at) > touchEvery) {
        // Bookkeeping: on a full disk the page must still open to show why nothing can be saved.
        try {
          fastify.store.staff.touch(token!)
        } catch (err) {
          request.log.warn({ err }, 'could not record staff activity')
        }
      }
    }
  })

  // SameSite=Strict keeps the cookie from other sites, but not from another web app on the same
  // host (another port is the same site): a state-changing call must come from the page's origin.
  // Decided by the route the router matched, never by the raw URL: the router decodes the path, so
  // /%73taff/api/… reaches a staff route while its raw text does not start with /staff/api/.
  fastify.addHook('onRequest', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD' || !isStaffApiRoute(request)) return
    const origin = request.headers.origin
    if (origin === undefined) return
    let host: string | null = null
    try { host = new URL(origin).host } catch { host = null }
    if (host === null || host !== request.headers.host) throw new FangpinForbidden('cross-origin request refused: use the page served by the agent')
  })

  // Idle sessions are removed, not only refused.
  const timer = setInterval(() => {
    try {
      fastify.store.staff.purgeIdle(new Date(Date.now() - idleMs).toISOString())
    } catch (err) {
      fastify.log.warn({ err }, 'could not purge idle staff sessions')
    }
  }, Math.min(idleMs, 10 * 60_000))
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}

export default fp(staffAuthPlugin, { name: 'staff-auth', fastify: '5.x', dependencies: ['store', 'profile'] })
