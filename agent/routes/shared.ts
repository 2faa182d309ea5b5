// What the routes of every audience share: the error body for any 4xx/5xx, the ids in paths, and
// the one handler that lists monitored inpatients for the HIS and for the staff page.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SpendingStatus } from '../rules/spending.ts'

/** The agent's pages (the staff page, the notice): nothing inline, nothing from outside the agent (hospital PCs often have no internet). */
export const PAGE_CSP = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

export const errorResponses = { '4xx': { $ref: 'error#' }, '5xx': { $ref: 'error#' } }

// As in an admission body (schemas/admission-request.schema.json): no control characters or lone
// surrogates. No admission can have such an id, so asking for one is the caller's error (400
// naming mdtrt_id), not a 404 that suggests the stay might exist.
export const stayParams = {
  type: 'object',
  required: ['mdtrt_id'],
  properties: { mdtrt_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\ud800-\\udfff]+$' } }
}

export const alertParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } }

export interface InpatientQuery { status?: SpendingStatus, dept?: string }

export function inpatientQuery (statuses: SpendingStatus[]): Record<string, unknown> {
  return {
    type: 'object',
    properties: { status: { type: 'string', enum: statuses }, dept: { type: 'string', maxLength: 100 } },
    additionalProperties: false
  }
}

/** Open monitored stays, worst first: GET /v1/inpatients and the staff page's list. */
export function inpatientList (fastify: FastifyInstance) {
  return async (request: FastifyRequest<{ Querystring: InpatientQuery }>) => {
    const list = fastify.rules.inpatients(request.query)
    return { count: list.length, inpatients: list }
  }
}
