// The one error handler. Whatever went wrong, the caller gets {"error": {code, message, details}}
// with a stable FANGPIN_* code; a caller's mistake is a 4xx and never a 500, and an internal fault
// is logged in full here but shown to the caller without internals.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { ErrorDetail } from '../../errors.ts'
import { isStorageError } from '../../store/storage-health.ts'

// Fastify's own 4xx codes, as the HIS vendor should see them.
const FASTIFY_CODES: Record<string, { code: string, message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'FANGPIN_UNSUPPORTED_MEDIA_TYPE', message: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'FANGPIN_BAD_REQUEST' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'FANGPIN_BODY_TOO_LARGE', message: 'the request body is larger than this agent accepts (FANGPIN_BODY_LIMIT)' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'FANGPIN_MALFORMED_JSON', message: 'the body is empty but Content-Type says application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'FANGPIN_MALFORMED_JSON' }
}

function validationDetails (err: FastifyError): ErrorDetail[] {
  return (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>
    let field = v.instancePath.replace(/^\//, '')
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') {
      field = field === '' ? params.missingProperty : `${field}/${params.missingProperty}`
    }
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      field = field === '' ? params.additionalProperty : `${field}/${params.additionalProperty}`
    }
    return { field: field === '' ? '(body)' : field, reason: v.keyword, message: v.message ?? 'is invalid' }
  })
}

async function errorHandlerPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler((error: FastifyError & { details?: ErrorDetail[] }, request, reply) => {
    const status = error.statusCode ?? 500
    if (error.validation !== undefined) {
      const details = validationDetails(error)
      const where = error.validationContext ?? 'body'
      const first = details[0]
      return reply.code(400).send({
        error: {
          code: 'FANGPIN_VALIDATION',
          message: `invalid request ${where}: ${first?.field ?? ''} ${first?.message ?? ''}`.trim(),
          details
        }
      })
    }
    if (typeof error.code === 'string' && error.code.startsWith('FANGPIN_') && status < 500) {
      return reply.code(status).send({ error: { code: error.code, message: error.message, details: error.details ?? [] } })
    }
    if (status >= 400 && status < 500) {
      const mapped = FASTIFY_CODES[error.code]
      const code = mapped?.code ?? (status === 404 ? 'FANGPIN_NOT_FOUND' : status === 405 ? 'FANGPIN_METHOD_NOT_ALLOWED' : 'FANGPIN_BAD_REQUEST')
      return reply.code(status).send({ error: { code, message: mapped?.message ?? error.message, details: [] } })
    }
    if (status === 503 && typeof error.code === 'string' && error.code.startsWith('FANGPIN_')) {
      return reply.code(503).send({ error: { code: error.code, message: error.message, details: error.details ?? [] } })
    }
    if (isStorageError(error)) {
      const failure = fastify.store.health.fail(error)
      request.log.error({ err: error, storage: failure }, 'storage failure: the request was not recorded')
      return reply.code(503).header('retry-after', '30').send({
        error: { code: 'FANGPIN_STORAGE_UNAVAILABLE', message: `nothing of this request was recorded: ${failure.message}; send it again later`, details: [] }
      })
    }
    request.log.error({ err: error }, 'internal error')
    return reply.code(500).send({ error: { code: 'FANGPIN_INTERNAL', message: 'internal error; the agent log has the details', details: [] } })
  })

  fastify.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: { code: 'FANGPIN_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: [] } })
  })
}

export default fp(errorHandlerPlugin, { name: 'error-handler', fastify: '5.x', dependencies: ['store'] })
