// The admission notice (告知书, 000 四(二)3) as a printable page and as a PDF, for the HIS (/v1, token)
// and the staff page (/staff/api, session): the rule builds its facts and audits the print; this
// file only renders. The page runs under the agent's strict CSP, its stylesheet served at
// NOTICE_STYLESHEET by the page routes; it is never cached (it names a patient).
import type { FastifyInstance } from 'fastify'
import { noticeHtml } from '../notice/notice-html.ts'
import { noticePdf } from '../notice/notice-pdf.ts'
import { errorResponses, stayParams, PAGE_CSP } from './shared.ts'

export const NOTICE_STYLESHEET = '/assets/notice.css'

export function noticeRoutes (path: string, doc: { tags?: string[], hide?: boolean, security?: Array<Record<string, string[]>> }) {
  return async function (fastify: FastifyInstance): Promise<void> {
    fastify.get<{ Params: { mdtrt_id: string } }>(path, {
      schema: {
        ...doc,
        summary: 'The admission notice (告知书) for the patient and family: printable HTML, one A4 page',
        params: stayParams,
        produces: ['text/html'],
        response: { 200: { type: 'string', description: 'text/html' }, ...errorResponses }
      }
    }, async (request, reply) => {
      const data = await fastify.rules.admissionNotice(request.actor!, request.params.mdtrt_id)
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', PAGE_CSP)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send(noticeHtml(data, { stylesheet: NOTICE_STYLESHEET }))
    })

    fastify.get<{ Params: { mdtrt_id: string } }>(`${path}.pdf`, {
      schema: {
        ...doc,
        summary: 'The admission notice as a one-page A4 PDF with its Chinese font embedded',
        description: 'No Chinese font found (FANGPIN_NOTICE_FONT, the packaged font, system fonts): 503 FANGPIN_NOTICE_FONT_MISSING.',
        params: stayParams,
        produces: ['application/pdf'],
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses }
      }
    }, async (request, reply) => {
      const data = await fastify.rules.admissionNotice(request.actor!, request.params.mdtrt_id)
      const pdf = await noticePdf(data, { font: fastify.config.noticeFont })
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="notice-${encodeURIComponent(data.mdtrt_id)}.pdf"`)
        .header('cache-control', 'no-store')
        .send(pdf)
    })
  }
}
