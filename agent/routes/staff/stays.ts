// Monitored inpatients, one stay with its discharge gate, and a special-case approval entered by staff.
import type { FastifyInstance } from 'fastify'
import { trimId } from '../../rules/stay.ts'
import { errorResponses, stayParams, inpatientList, inpatientQuery, type InpatientQuery } from '../shared.ts'
import { noticeRoutes } from '../notice.ts'

export default async function stayRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify
  await fastify.register(noticeRoutes('/stays/:mdtrt_id/notice', { hide: true }))

  fastify.get<{ Querystring: InpatientQuery }>('/inpatients', {
    schema: { hide: true, querystring: inpatientQuery(['ok', 'warning', 'breach', 'exempt']), response: { 200: { $ref: 'inpatient-list#' }, ...errorResponses } }
  }, inpatientList(fastify))

  fastify.get<{ Params: { mdtrt_id: string } }>('/stays/:mdtrt_id', {
    schema: { hide: true, params: stayParams, response: { 200: { $ref: 'staff-stay-view#' }, ...errorResponses } }
  }, async (request) => await rules.viewStay(request.actor!, request.params.mdtrt_id))

  fastify.post<{ Params: { mdtrt_id: string }, Body: { approval_no: string, approved_by: string, reason: string } }>('/stays/:mdtrt_id/exemptions', {
    schema: {
      hide: true,
      params: stayParams,
      body: { $ref: 'staff-exemption-request#' },
      response: { 200: { $ref: 'exemption-result#' }, 201: { $ref: 'exemption-result#' }, ...errorResponses }
    }
  }, async (request, reply) => {
    const result = await rules.recordExemption(request.actor!, trimId(request.params.mdtrt_id), { kind: 'special_case', ...request.body })
    return reply.code(result.created ? 201 : 200).send(result)
  })
}
