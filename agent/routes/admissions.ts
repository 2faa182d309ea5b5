import type { FastifyInstance } from 'fastify'
import { recordAdmission, type AdmissionRequest } from '../rules/admission.ts'
import { errorResponses } from './responses.ts'

export default async function admissionRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post<{ Body: AdmissionRequest }>('/v1/admissions', {
    // onRequest: an unauthenticated caller is refused before its body is read or validated.
    onRequest: fastify.requireToken('his'),
    schema: {
      tags: ['admission'],
      summary: 'Record an admission (2401) and decide 先诊疗后付费',
      description: 'Idempotent on mdtrt_id: the same body again returns the same answer (header Fangpin-Replayed: true); another certno under the same mdtrt_id is a 409.',
      security: [{ bearer: [] }],
      body: { $ref: 'admission-request#' },
      response: { 200: { $ref: 'decision#' }, 201: { $ref: 'decision#' }, ...errorResponses }
    }
  }, async (request, reply) => {
    const { answer, outcome } = await recordAdmission(fastify, request.body, request.caller!)
    fastify.metrics.countDecision('admission', answer.treat_first_pay_later)
    reply.header('Fangpin-Replayed', outcome === 'replayed' ? 'true' : 'false')
    return reply.code(outcome === 'created' ? 201 : 200).send(answer)
  })
}
