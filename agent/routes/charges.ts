// The charge feed (2301/2302) and the order precheck. Routes validate, delegate to rules/charges.ts
// and answer; the batch's transaction is committed before the answer leaves.
import type { FastifyInstance } from 'fastify'
import { applyCharges, cancelCharge, precheck } from '../rules/charges.ts'
import type { FeeDetail } from '../rules/charge-line.ts'
import { errorResponses, stayParams } from './responses.ts'

export default async function chargeRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post<{ Params: { mdtrt_id: string }, Body: { feedetail: FeeDetail[] } }>('/v1/admissions/:mdtrt_id/charges', {
    onRequest: fastify.requireToken('his'),
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
    const result = applyCharges(fastify, request.params.mdtrt_id, request.body.feedetail, request.caller!)
    fastify.metrics.countCharges(result.accepted, result.duplicates.length)
    return result
  })

  fastify.delete<{ Params: { mdtrt_id: string, feedetl_sn: string } }>('/v1/admissions/:mdtrt_id/charges/:feedetl_sn', {
    onRequest: fastify.requireToken('his'),
    schema: {
      tags: ['charges'],
      summary: 'Cancel a charge line (2302)',
      description: 'The line stops counting; it is kept for the record. Cancelling it again answers cancelled: false. A line with active refunds: cancel the refunds first (409).',
      security: [{ bearer: [] }],
      params: { ...stayParams, required: ['mdtrt_id', 'feedetl_sn'], properties: { ...stayParams.properties, feedetl_sn: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: { $ref: 'charge-result#' }, ...errorResponses }
    }
  }, async (request) => cancelCharge(fastify, request.params.mdtrt_id, request.params.feedetl_sn, request.caller!))

  fastify.post<{ Params: { mdtrt_id: string }, Body: { feedetail: FeeDetail[] } }>('/v1/admissions/:mdtrt_id/precheck', {
    onRequest: fastify.requireToken('his'),
    schema: {
      tags: ['charges'],
      summary: 'Order precheck: the totals and status the stay would have with these lines',
      description: 'Nothing is stored. A warning card when the order would reach the warning level, a critical card when it would pass the limit.',
      security: [{ bearer: [] }],
      params: stayParams,
      body: { $ref: 'precheck-request#' },
      response: { 200: { $ref: 'precheck-result#' }, ...errorResponses }
    }
  }, async (request) => precheck(fastify, request.params.mdtrt_id, request.body.feedetail))
}
