// Staff sign in to the page with a name and password and carry a session cookie: HttpOnly (no
// script can read it), SameSite=Strict (no other site can ride it), ending after
// FANGPIN_SESSION_IDLE_MINUTES without a request. Staff routes accept only the cookie and HIS
// routes only bearer tokens, so neither credential opens the other's data.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FangpinForbidden, FangpinUnauthorized } from '../../errors.ts'
import type { StaffRole, StaffUser } from '../../store/staff.ts'

export const SESSION_COOKIE = 'fangpin_session'
// last_seen_at is written at most this often per session: a page polling every few seconds must
// not turn into a write per request.
const TOUCH_EVERY_MS = 60_000

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

async function staffAuthPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('staff', null)
  fastify.decorateRequest('staffSession', null)
  const idleMs = fastify.config.sessionIdleMinutes * 60_000

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
      if (now - Date.parse(session.last_seen_at) > TOUCH_EVERY_MS) fastify.store.staff.touch(token!)
    }
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
