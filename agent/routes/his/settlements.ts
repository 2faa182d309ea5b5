// Settlements in (2303 pre-settlement, 2304 settlement, 2305 cancel): the platform's answers as the
// HIS forwards them, checked, stored, and answered with the patient's own burden. Stored before the
// answer leaves.
import type { FastifyInstance } from 'fastify'
import type { SettlementRequest } from '../../rules/settlement.ts'
import { errorResponses, stayParams } from '../shared.ts'

export default async function settlementRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post<{ Params: { mdtrt_id: string }, Body: SettlementRequest }>('/admissions/:mdtrt_id/settlements', {
    schema: {
      tags: ['settlements'],
      summary: 'A pre-settlement (2303) or settlement (2304) of a stay, with the platform\'s setlinfo unchanged',
      description: 'Answers the stay\'s burden: personal share, reimbursement, 综合保障率 and 个人负担率 against the region\'s targets, the person\'s year against its threshold, 再救助 where the region has it. Idempotent on setl_id (the same settlement again: 200 and the header fangpin-replayed: true; other figures under the same setl_id: 409). A pre-settlement is replaced by the next one. A final settlement before the discharge is accepted and noted. Figures that do not add up: 400 naming the field.',
      security: [{ bearer: [] }],
      params: stayParams,
      body: { $ref: 'settlement-request#' },
      response: { 200: { $ref: 'settlement-result#' }, 201: { $ref: 'settlement-result#' }, ...errorResponses }
    }
  }, async (request, reply) => {
    const { replayed, ...result } = await fastify.rules.recordSettlement(request.actor!, request.params.mdtrt_id, request.body)
    return reply.code(replayed ? 200 : 201).header('fangpin-replayed', String(replayed)).send(result)
  })

  fastify.delete<{ Params: { mdtrt_id: string, setl_id: string } }>('/admissions/:mdtrt_id/settlements/:setl_id', {
    schema: {
      tags: ['settlements'],
      summary: 'Cancel a settlement (2305)',
      description: 'The settlement stops counting (it is kept, cancelled) and the burden and alerts follow. Cancelling it again answers the same. Unknown setl_id for this stay: 404.',
      security: [{ bearer: [] }],
      params: { ...stayParams, required: ['mdtrt_id', 'setl_id'], properties: { ...stayParams.properties, setl_id: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: { $ref: 'settlement-result#' }, ...errorResponses }
    }
  }, async (request) => {
    const { replayed: _replayed, ...result } = await fastify.rules.cancelSettlement(request.actor!, request.params.mdtrt_id, request.params.setl_id)
    return result
  })
}
