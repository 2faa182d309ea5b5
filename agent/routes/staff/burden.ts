// The 年度负担 view and the monthly burden list's download (the same list `fangpin report burden`
// writes). Producing it is audited by the rule under the staff member's name.
import type { FastifyInstance } from 'fastify'
import type { BurdenReport } from '../../rules/burden-report.ts'
import { errorResponses } from '../shared.ts'

const monthQuery = {
  type: 'object',
  required: ['month'],
  additionalProperties: false,
  properties: { month: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } }
} as const

export default async function burdenRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify

  fastify.get<{ Querystring: { month: string } }>('/burden', {
    schema: { hide: true, querystring: monthQuery, response: { 200: { $ref: 'staff-burden-report#' }, ...errorResponses } }
  }, async (request): Promise<BurdenReport> => await rules.burdenReport(request.actor!, request.query.month))

  fastify.get<{ Params: { format: 'xlsx' | 'csv' }, Querystring: { month: string } }>('/reports/burden.:format', {
    schema: {
      hide: true,
      params: { type: 'object', required: ['format'], properties: { format: { enum: ['xlsx', 'csv'] } } },
      querystring: monthQuery,
      response: { 200: { type: 'string', format: 'binary' }, ...errorResponses }
    }
  }, async (request, reply) => {
    const report = await rules.burdenReport(request.actor!, request.query.month)
    // Rendering pulls in exceljs: only when someone downloads.
    const { burdenXlsx, burdenCsv } = await import('../../report/burden-file.ts')
    const xlsx = request.params.format === 'xlsx'
    const body = xlsx ? await burdenXlsx(report) : Buffer.from(burdenCsv(report), 'utf8')
    return reply
      .type(xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="burden-${report.month}.${request.params.format}"`)
      .header('cache-control', 'no-store')
      .send(body)
  })
}
