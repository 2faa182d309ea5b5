// The billing staff page's API. Session cookie only (see plugins/app/staff-auth.ts); every action
// and every look at a patient's stay is audited under the staff member's name.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FangpinSigninFailed, FangpinTooManyAttempts } from '../errors.ts'
import { verifyPassword, decoyHash } from '../rules/password.ts'
import { SignInLimit } from '../rules/sign-in-limit.ts'
import { SESSION_COOKIE, readCookie } from '../plugins/app/staff-auth.ts'
import { inpatients, stayDetail, openStay, trimId, statusCounts } from '../rules/stay.ts'
import { listAlerts, acknowledgeAlert } from '../rules/alert.ts'
import { gateOf } from '../rules/discharge.ts'
import { recordExemption } from '../rules/exemption.ts'
import { listView } from '../rules/eligibility.ts'
import type { SpendingStatus } from '../rules/spending.ts'
import { errorResponses, stayParams } from './responses.ts'

const me = { type: 'object', required: ['name', 'role'], properties: { name: { type: 'string' }, role: { type: 'string' } }, additionalProperties: false }

export function staffName (request: FastifyRequest): string {
  return `staff:${request.staff!.name}`
}

export default async function staffRoutes (fastify: FastifyInstance): Promise<void> {
  const { store } = fastify
  const limit = new SignInLimit(store.signInLimits)
  const audit = (request: FastifyRequest, action: string, extra: { mdtrt_id?: string | null, decision?: string | null, detail?: unknown, subject_key?: Buffer | null } = {}): void => {
    store.audit.write({ client: request.staff !== null ? staffName(request) : null, action, ...extra })
  }

  fastify.post<{ Body: { name: string, password: string } }>('/staff/api/login', {
    schema: {
      hide: true,
      body: { type: 'object', required: ['name', 'password'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 200 } }, additionalProperties: false },
      response: { 200: me, ...errorResponses }
    }
  }, async (request, reply) => {
    const name = request.body.name.trim()
    // Counted before the (slow) password check: sixty guesses sent at once are sixty attempts.
    const { refused: lock, locked } = limit.attempt(request.ip, name)
    if (lock !== null) {
      const minutes = Math.ceil(lock.seconds / 60)
      reply.header('retry-after', String(lock.seconds))
      throw new FangpinTooManyAttempts(lock.scope === 'account'
        ? `该账号在本机登录失败次数过多，已锁定，请${minutes}分钟后再试，或请信息科解锁 (too many failed sign-ins for this account from this computer: try again in ${minutes} minutes, or ask IT to unlock it)`
        : `本机登录失败次数过多，已锁定，请${minutes}分钟后再试 (too many failed sign-ins from this computer: try again in ${minutes} minutes)`)
    }
    const hash = store.staff.passwordHash(name)
    const ok = await verifyPassword(request.body.password, hash ?? await decoyHash()) && hash !== undefined
    if (!ok) {
      // A password typed into the name field must not be kept: the name is written only when it
      // is an account's.
      const client = store.staff.byName(name) !== undefined ? `staff:${name}` : 'staff:(unknown)'
      store.audit.write({ client, action: 'staff.signin', decision: 'refused', detail: { ip: request.ip } })
      for (const scope of locked) store.audit.write({ client, action: 'staff.signin', decision: 'locked', detail: { ip: request.ip, scope } })
      throw new FangpinSigninFailed('姓名或密码错误 (wrong name or password)')
    }
    limit.succeed(request.ip, name)
    const user = store.staff.byName(name)!
    const token = store.staff.startSession(user.id, request.ip)
    store.audit.write({ client: `staff:${name}`, action: 'staff.signin', decision: 'ok', detail: { ip: request.ip } })
    reply.header('set-cookie', fastify.sessionCookie(request, token))
    return { name: user.name, role: user.role }
  })

  fastify.post('/staff/api/logout', {
    schema: { hide: true, response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errorResponses } }
  }, async (request, reply) => {
    const token = readCookie(request.headers.cookie, SESSION_COOKIE)
    if (token !== null && token !== '') {
      const session = store.staff.session(token)
      if (session !== undefined) store.audit.write({ client: `staff:${session.user.name}`, action: 'staff.signout' })
      store.staff.endSession(token)
    }
    reply.header('set-cookie', fastify.sessionCookie(request, null))
    return { ok: true }
  })

  // Everything below needs a signed-in staff member.
  await fastify.register(async (app) => {
    app.addHook('onRequest', app.requireStaff('billing'))

    app.get('/staff/api/me', { schema: { hide: true, response: { 200: me, ...errorResponses } } }, async (request) => ({ name: request.staff!.name, role: request.staff!.role }))

    app.get('/staff/api/overview', {
      schema: {
        hide: true,
        response: {
          200: {
            type: 'object',
            properties: {
              list: {
                type: 'object',
                properties: {
                  version: { type: ['string', 'null'] }, loaded_at: { type: ['string', 'null'] }, age_hours: { type: ['number', 'null'] }, stale: { type: 'boolean' },
                  demo: { type: 'boolean' }, region: { type: ['string', 'null'] }, region_name: { type: 'string' }, source: { type: ['string', 'null'] }, person_count: { type: 'integer' }
                }
              },
              sync: { type: 'object', properties: { configured: { type: 'boolean' }, last_result: { type: ['string', 'null'] }, last_message: { type: ['string', 'null'] }, last_failed: { type: 'boolean' } } },
              counts: { type: 'object', properties: { breach: { type: 'integer' }, warning: { type: 'integer' }, ok: { type: 'integer' }, exempt: { type: 'integer' } } },
              storage: { type: 'object', properties: { ok: { type: 'boolean' }, since: { type: ['string', 'null'] }, message: { type: ['string', 'null'] } } }
            }
          },
          ...errorResponses
        }
      }
    }, async () => {
      const state = store.list.state()
      const view = listView(state, fastify.config.staleHours)
      const sync = fastify.sync.status()
      const last = sync.last_attempt
      const counts = statusCounts(store, fastify.profile)
      return {
        list: { ...view, region: state.region, region_name: fastify.profile.name, source: state.source, person_count: state.person_count },
        sync: { configured: sync.configured, last_result: last?.result ?? null, last_message: last?.message ?? null, last_failed: last?.result === 'failed' },
        counts,
        storage: { ok: store.health.failing === null, since: store.health.failing?.since ?? null, message: store.health.failing?.message ?? null }
      }
    })

    app.get<{ Querystring: { status?: SpendingStatus, dept?: string } }>('/staff/api/inpatients', {
      schema: {
        hide: true,
        querystring: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'warning', 'breach', 'exempt'] }, dept: { type: 'string', maxLength: 100 } }, additionalProperties: false },
        response: { 200: { $ref: 'inpatient-list#' }, ...errorResponses }
      }
    }, async (request) => {
      const list = inpatients(store, fastify.profile, fastify.config.tz, request.query)
      return { count: list.length, inpatients: list }
    })

    app.get<{ Params: { mdtrt_id: string } }>('/staff/api/stays/:mdtrt_id', {
      schema: {
        hide: true,
        params: stayParams,
        response: { 200: { type: 'object', properties: { stay: { $ref: 'stay#' }, gate: { $ref: 'discharge-check#' } } }, ...errorResponses }
      }
    }, async (request) => {
      const stay = stayDetail(store, fastify.profile, fastify.config.tz, request.params.mdtrt_id)
      const row = openStay(store, stay.mdtrt_id)
      const result = { stay, gate: gateOf(fastify, row) }
      await store.writes.enqueue(() => audit(request, 'staff.view_stay', { mdtrt_id: stay.mdtrt_id, subject_key: row.person_key }))
      return result
    })

    app.post<{ Params: { mdtrt_id: string }, Body: { approval_no: string, approved_by: string, reason: string } }>('/staff/api/stays/:mdtrt_id/exemptions', {
      schema: {
        hide: true,
        params: stayParams,
        body: { type: 'object', required: ['approval_no', 'approved_by', 'reason'], properties: { approval_no: { type: 'string', minLength: 1, maxLength: 64 }, approved_by: { type: 'string', minLength: 1, maxLength: 100 }, reason: { type: 'string', minLength: 1, maxLength: 500 } }, additionalProperties: false },
        response: { 200: { $ref: 'exemption-result#' }, 201: { $ref: 'exemption-result#' }, ...errorResponses }
      }
    }, async (request, reply) => {
      const result = recordExemption(fastify, trimId(request.params.mdtrt_id), { kind: 'special_case', ...request.body }, staffName(request))
      return reply.code(result.created ? 201 : 200).send(result)
    })

    app.get<{ Querystring: { state?: 'open' | 'all' } }>('/staff/api/alerts', {
      schema: {
        hide: true,
        querystring: { type: 'object', properties: { state: { type: 'string', enum: ['open', 'all'] } }, additionalProperties: false },
        response: { 200: { $ref: 'alert-list#' }, ...errorResponses }
      }
    }, async (request) => {
      return listAlerts(store, request.query.state)
    })

    app.post<{ Params: { id: string } }>('/staff/api/alerts/:id/ack', {
      schema: {
        hide: true,
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
        response: { 200: { $ref: 'alert#' }, ...errorResponses }
      }
    }, async (request) => {
      return acknowledgeAlert(store, Number(request.params.id), request.staff!.name, staffName(request))
    })
  })
}
