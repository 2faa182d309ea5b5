import type { FastifyInstance } from 'fastify'
import { checkEligibility, type EligibilityRequest } from '../rules/admission.ts'

export default async function eligibilityRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post<{ Body: EligibilityRequest }>('/v1/eligibility', {
    // onRequest: an unauthenticated caller is refused before its body is read or validated.
    onRequest: fastify.requireToken('his'),
    schema: {
      tags: ['admission'],
      summary: 'The admission decision without recording an admission (pre-admission, outpatient desks)',
      security: [{ bearer: [] }],
      body: { $ref: 'eligibility-request#' },
      response: { 200: { $ref: 'decision#' }, '4xx': { $ref: 'error#' }, '5xx': { $ref: 'error#' } }
    }
  }, async (request) => {
    const decision = await checkEligibility(fastify, request.body, request.caller!)
    fastify.metrics.countDecision('eligibility', decision.treat_first_pay_later)
    return decision
  })
}
