// Alerts for billing staff and IT: spending warnings and breaches, patients who qualified during
// their stay, sync failures and a stale list.
import type { FastifyInstance } from 'fastify'
import { errorResponses, alertParams } from '../shared.ts'

export default async function alertRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get<{ Querystring: { state?: 'open' | 'all', limit?: string } }>('/alerts', {
    schema: {
      tags: ['alerts'],
      summary: 'Alerts: open (neither acknowledged nor resolved; default) or all (newest first)',
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        properties: { state: { type: 'string', enum: ['open', 'all'] }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
        additionalProperties: false
      },
      response: { 200: { $ref: 'alert-list#' }, ...errorResponses }
    }
  }, async (request) => {
    return fastify.rules.listAlerts(request.query.state, Number(request.query.limit ?? 500))
  })

  fastify.post<{ Params: { id: string }, Body: { acknowledged_by?: string } | undefined }>('/alerts/:id/ack', {
    schema: {
      tags: ['alerts'],
      summary: 'Acknowledge an alert',
      description: 'Records who acknowledged it and when. acknowledged_by is the token name: a name sent in the body is kept only as a note in the audit row (the token is what authenticated the call). Acknowledging again keeps the first acknowledgement.',
      security: [{ bearer: [] }],
      params: alertParams,
      body: { type: 'object', properties: { acknowledged_by: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { 200: { $ref: 'alert#' }, ...errorResponses }
    }
  }, async (request) => {
    // Any caller can type any name; only the token's name is what the agent knows.
    const named = request.body?.acknowledged_by?.trim()
    return await fastify.rules.acknowledgeAlert(request.actor!, Number(request.params.id), named === '' ? undefined : named)
  })
}
