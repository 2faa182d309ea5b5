// The one error handler. Whatever went wrong, the caller gets {"error": {code, message, details}}
// with a stable FANGPIN_* code; a caller's mistake is a 4xx and never a 500, and an internal fault
// is logged in full here but shown to the caller without internals.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { CATALOGUE, CODE, errorBody, isFangpinCode, type ErrorDetail, type FangpinCode } from '../../errors.ts'
import { isStorageError } from '../../store/storage-health.ts'

// Fastify's own 4xx codes, as the HIS vendor should see them.
const FASTIFY_CODES: Record<string, { code: FangpinCode, message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: CODE.FANGPIN_UNSUPPORTED_MEDIA_TYPE, message: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: CODE.FANGPIN_BAD_REQUEST },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: CODE.FANGPIN_BODY_TOO_LARGE, message: 'the request body is larger than this agent accepts (FANGPIN_BODY_LIMIT)' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: CODE.FANGPIN_MALFORMED_JSON, message: 'the body is empty but Content-Type says application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: CODE.FANGPIN_MALFORMED_JSON }
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
      const message = `invalid request ${where}: ${first?.field ?? ''} ${first?.message ?? ''}`.trim()
      return reply.code(CATALOGUE.FANGPIN_VALIDATION.status).send(errorBody(CODE.FANGPIN_VALIDATION, message, details))
    }
    // Only the catalogue's own errors pass with their code: a FANGPIN_* code made anywhere else
    // is not one the HIS vendors were told about.
    const own = isFangpinCode(error.code) ? error.code : null
    if (own !== null && status < 500) {
      return reply.code(status).send(errorBody(own, error.message, error.details))
    }
    if (status >= 400 && status < 500) {
      const mapped = FASTIFY_CODES[error.code]
      const code = mapped?.code ?? (status === 404 ? CODE.FANGPIN_NOT_FOUND : status === 405 ? CODE.FANGPIN_METHOD_NOT_ALLOWED : CODE.FANGPIN_BAD_REQUEST)
      return reply.code(status).send(errorBody(code, mapped?.message ?? error.message))
    }
    if (status === 503 && own !== null) {
      return reply.code(503).send(errorBody(own, error.message, error.details))
    }
    if (isStorageError(error)) {
      const failure = fastify.store.health.fail(error)
      request.log.error({ err: error, storage: failure }, 'storage failure: the request was not recorded')
      return reply.code(CATALOGUE.FANGPIN_STORAGE_UNAVAILABLE.status).header('retry-after', '30')
        .send(errorBody(CODE.FANGPIN_STORAGE_UNAVAILABLE, `nothing of this request was recorded: ${failure.message}; send it again later`))
    }
    request.log.error({ err: error }, 'internal error')
    return reply.code(CATALOGUE.FANGPIN_INTERNAL.status).send(errorBody(CODE.FANGPIN_INTERNAL, 'internal error; the agent log has the details'))
  })

  fastify.setNotFoundHandler((request, reply) => {
    return reply.code(CATALOGUE.FANGPIN_NOT_FOUND.status).send(errorBody(CODE.FANGPIN_NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`))
  })
}

export default fp(errorHandlerPlugin, { name: 'error-handler', fastify: '5.x', dependencies: ['store'] })
