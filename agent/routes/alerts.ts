// Alerts for billing staff and IT: spending warnings and breaches, patients who qualified during
// their stay, sync failures and a stale list.
import type { FastifyInstance } from 'fastify'
import { alertView } from '../rules/stay.ts'
import { FangpinNotFound } from '../errors.ts'

const errors = { '4xx': { $ref: 'error#' }, '5xx': { $ref: 'error#' } }

export default async function alertRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get<{ Querystring: { state?: 'open' | 'all', limit?: string } }>('/v1/alerts', {
    onRequest: fastify.requireToken('his'),
    schema: {
      tags: ['alerts'],
      summary: 'Alerts: open (neither acknowledged nor resolved; default) or all (newest first)',
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        properties: { state: { type: 'string', enum: ['open', 'all'] }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
        additionalProperties: false
      },
      response: { 200: { $ref: 'alert-list#' }, ...errors }
    }
  }, async (request) => {
    const limit = Number(request.query.limit ?? 500)
    const rows = request.query.state === 'all' ? fastify.store.alerts.all(limit) : fastify.store.alerts.unattended(limit)
    return { count: rows.length, alerts: rows.map(alertView) }
  })

  fastify.post<{ Params: { id: string }, Body: { acknowledged_by?: string } | undefined }>('/v1/alerts/:id/ack', {
    onRequest: fastify.requireToken('his'),
    schema: {
      tags: ['alerts'],
      summary: 'Acknowledge an alert',
      description: 'Records who acknowledged it and when (acknowledged_by defaults to the token name). Acknowledging again keeps the first acknowledgement.',
      security: [{ bearer: [] }],
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      body: { type: 'object', properties: { acknowledged_by: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { 200: { $ref: 'alert#' }, ...errors }
    }
  }, async (request) => {
    const id = Number(request.params.id)
    const by = request.body?.acknowledged_by?.trim() || request.caller!.name
    const { store } = fastify
    const row = store.db.transaction(() => {
      const alert = store.alerts.get(id)
      if (alert === undefined) throw new FangpinNotFound(`no alert ${id}`)
      if (store.alerts.acknowledge(id, by)) {
        store.audit.write({ client: request.caller!.name, action: 'alert.ack', mdtrt_id: alert.mdtrt_id, decision: alert.kind, detail: { alert: id, by } })
      }
      return store.alerts.get(id)!
    }).immediate()
    return alertView(row)
  })
}
