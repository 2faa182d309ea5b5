// A stay's state, the list of monitored inpatients, exemptions and the discharge gate.
import type { FastifyInstance } from 'fastify'
import type { ExemptionRequest } from '../../rules/exemption.ts'
import type { DischargeRequest } from '../../rules/discharge.ts'
import { errorResponses, stayParams, inpatientList, inpatientQuery, type InpatientQuery } from '../shared.ts'
import { noticeRoutes } from '../notice.ts'

export default async function stayRoutes (fastify: FastifyInstance): Promise<void> {
  await fastify.register(noticeRoutes('/admissions/:mdtrt_id/notice', { tags: ['stays'], security: [{ bearer: [] }] }))

  fastify.get<{ Params: { mdtrt_id: string } }>('/admissions/:mdtrt_id', {
    schema: {
      tags: ['stays'],
      summary: 'A stay: state, identities, totals, status, the out-of-catalog items driving the share, alerts',
      security: [{ bearer: [] }],
      params: stayParams,
      response: { 200: { $ref: 'stay#' }, ...errorResponses }
    }
  }, async (request) => fastify.rules.stayDetail(request.params.mdtrt_id))

  fastify.get<{ Querystring: InpatientQuery }>('/inpatients', {
    schema: {
      tags: ['stays'],
      summary: 'Open monitored stays with their totals, worst first',
      description: 'Breaches first, then warnings, each by out-of-catalog share. ?status= filters (not_monitored lists the stays of patients not on the list); ?dept= filters by department code or name.',
      security: [{ bearer: [] }],
      querystring: inpatientQuery(['ok', 'warning', 'breach', 'exempt', 'not_monitored']),
      response: { 200: { $ref: 'inpatient-list#' }, ...errorResponses }
    }
  }, inpatientList(fastify))

  fastify.post<{ Params: { mdtrt_id: string }, Body: ExemptionRequest }>('/admissions/:mdtrt_id/exemptions', {
    schema: {
      tags: ['stays'],
      summary: 'Record a special case approved by the health or insurance department',
      description: 'The stay becomes exempt from the in-catalog rule and its spending alerts are resolved. The same approval_no again answers 200 with created: false.',
      security: [{ bearer: [] }],
      params: stayParams,
      body: { $ref: 'exemption-request#' },
      response: { 200: { $ref: 'exemption-result#' }, 201: { $ref: 'exemption-result#' }, ...errorResponses }
    }
  }, async (request, reply) => {
    const result = await fastify.rules.recordExemption(request.actor!, request.params.mdtrt_id, request.body)
    return reply.code(result.created ? 201 : 200).send(result)
  })

  fastify.post<{ Params: { mdtrt_id: string } }>('/admissions/:mdtrt_id/discharge-check', {
    schema: {
      tags: ['stays'],
      summary: 'Discharge gate: ok / warn / block, with reasons and the amount the hospital would bear',
      security: [{ bearer: [] }],
      params: stayParams,
      response: { 200: { $ref: 'discharge-check#' }, ...errorResponses }
    }
  }, async (request) => fastify.rules.dischargeCheck(request.params.mdtrt_id))

  fastify.post<{ Params: { mdtrt_id: string }, Body: DischargeRequest | undefined }>('/admissions/:mdtrt_id/discharge', {
    schema: {
      tags: ['stays'],
      summary: 'Discharge (2402): close the stay and keep its final figures',
      description: 'Later charges are refused (409). The same discharge again answers 200 with the same figures.',
      security: [{ bearer: [] }],
      params: stayParams,
      body: { $ref: 'discharge-request#' },
      response: { 200: { $ref: 'discharge-result#' }, ...errorResponses }
    }
  }, async (request) => {
    const { replayed: _replayed, ...result } = await fastify.rules.discharge(request.actor!, request.params.mdtrt_id, request.body ?? {})
    return result
  })
}
