// Admission (2401) and the same decision without an admission (pre-admission, outpatient desks).
import type { FastifyInstance } from 'fastify'
import type { AdmissionRequest, EligibilityRequest } from '../../rules/admission.ts'
import { errorResponses } from '../shared.ts'

export default async function admissionRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules, metrics } = fastify

  fastify.post<{ Body: AdmissionRequest }>('/admissions', {
    schema: {
      tags: ['admission'],
      summary: 'Record an admission (2401) and decide 先诊疗后付费',
      description: 'Idempotent on mdtrt_id: the same body again returns the same answer (header Fangpin-Replayed: true); another certno under the same mdtrt_id is a 409.',
      security: [{ bearer: [] }],
      body: { $ref: 'admission-request#' },
      response: { 200: { $ref: 'decision#' }, 201: { $ref: 'decision#' }, ...errorResponses }
    }
  }, async (request, reply) => {
    const { answer, outcome } = await rules.recordAdmission(request.actor!, request.body)
    metrics.countDecision('admission', answer.treat_first_pay_later)
    reply.header('Fangpin-Replayed', outcome === 'replayed' ? 'true' : 'false')
    return reply.code(outcome === 'created' ? 201 : 200).send(answer)
  })

  fastify.post<{ Body: EligibilityRequest }>('/eligibility', {
    schema: {
      tags: ['admission'],
      summary: 'The admission decision without recording an admission (pre-admission, outpatient desks)',
      security: [{ bearer: [] }],
      body: { $ref: 'eligibility-request#' },
      response: { 200: { $ref: 'decision#' }, ...errorResponses }
    }
  }, async (request) => {
    const decision = await rules.checkEligibility(request.actor!, request.body)
    metrics.countDecision('eligibility', decision.treat_first_pay_later)
    return decision
  })
}
