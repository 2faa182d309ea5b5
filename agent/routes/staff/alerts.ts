// Alerts on the staff page: the list, and acknowledging one under the staff member's name.
import type { FastifyInstance } from 'fastify'
import { errorResponses, alertParams } from '../shared.ts'

export default async function alertRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify

  fastify.get<{ Querystring: { state?: 'open' | 'all' } }>('/alerts', {
    schema: {
      hide: true,
      querystring: { type: 'object', properties: { state: { type: 'string', enum: ['open', 'all'] } }, additionalProperties: false },
      response: { 200: { $ref: 'alert-list#' }, ...errorResponses }
    }
  }, async (request) => rules.listAlerts(request.query.state))

  fastify.post<{ Params: { id: string } }>('/alerts/:id/ack', {
    schema: { hide: true, params: alertParams, response: { 200: { $ref: 'alert#' }, ...errorResponses } }
  }, async (request) => await rules.acknowledgeAlert(request.actor!, Number(request.params.id)))
}
