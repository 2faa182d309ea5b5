// The charge feed (2301/2302) and the order precheck: the batch is committed before the answer leaves.
import type { FastifyInstance } from 'fastify'
import type { FeeDetail } from '../../rules/charge-line.ts'
import { errorResponses, stayParams } from '../shared.ts'

export default async function chargeRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post<{ Params: { mdtrt_id: string }, Body: { feedetail: FeeDetail[] } }>('/admissions/:mdtrt_id/charges', {
    schema: {
      tags: ['charges'],
      summary: 'Add charge lines (2301 feedetail) to a stay',
      description: 'Up to 1,000 lines, applied whole or not at all, with the stay\'s running totals in the same transaction. A feedetl_sn already received with the same content is counted once (listed in duplicates); with other content it is a 409 and nothing is applied. Unknown mdtrt_id: 404; discharged stay: 409.',
      security: [{ bearer: [] }],
      params: stayParams,
      body: { $ref: 'charge-request#' },
      response: { 200: { $ref: 'charge-result#' }, ...errorResponses }
    }
  }, async (request) => {
    const result = await fastify.rules.applyCharges(request.actor!, request.params.mdtrt_id, request.body.feedetail)
    fastify.metrics.countCharges(result.accepted, result.duplicates.length)
    return result
  })

  fastify.delete<{ Params: { mdtrt_id: string, feedetl_sn: string } }>('/admissions/:mdtrt_id/charges/:feedetl_sn', {
    schema: {
      tags: ['charges'],
      summary: 'Cancel a charge line (2302)',
      description: 'The line stops counting; it is kept for the record. Cancelling it again answers cancelled: false. A line with active refunds: cancel the refunds first (409).',
      security: [{ bearer: [] }],
      params: { ...stayParams, required: ['mdtrt_id', 'feedetl_sn'], properties: { ...stayParams.properties, feedetl_sn: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: { $ref: 'charge-result#' }, ...errorResponses }
    }
  }, async (request) => await fastify.rules.cancelCharge(request.actor!, request.params.mdtrt_id, request.params.feedetl_sn))

  fastify.post<{ Params: { mdtrt_id: string }, Body: { feedetail: FeeDetail[] } }>('/admissions/:mdtrt_id/precheck', {
    schema: {
      tags: ['charges'],
      summary: 'Order precheck: the totals and status the stay would have with these lines',
      description: 'Nothing is stored. A warning card when the order would reach the warning level, a critical card when it would pass the limit.',
      security: [{ bearer: [] }],
      params: stayParams,
      body: { $ref: 'precheck-request#' },
      response: { 200: { $ref: 'precheck-result#' }, ...errorResponses }
    }
  }, async (request) => fastify.rules.precheck(request.params.mdtrt_id, request.body.feedetail))
}
