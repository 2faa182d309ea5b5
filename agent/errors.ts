// The error catalogue. Codes are a contract with HIS vendors: never rename one, only add.
// Every error reaches the caller as {"error": {"code", "message", "details"}} through the one
// error handler in plugins/app/error-handler.ts.
import createError from '@fastify/error'

export interface ErrorDetail {
  field?: string
  reason: string
  message?: string
  [key: string]: unknown
}

/** Errors carrying a `details` array for the response body. */
export interface DetailedError extends Error {
  code: string
  statusCode?: number
  details?: ErrorDetail[]
}

export const FangpinUnauthorized = createError('FANGPIN_UNAUTHORIZED', '%s', 401)
export const FangpinForbidden = createError('FANGPIN_FORBIDDEN', '%s', 403)
export const FangpinInvalidCertno = createError('FANGPIN_INVALID_CERTNO', '%s', 400)
export const FangpinValidation = createError('FANGPIN_VALIDATION', '%s', 400)
export const FangpinConflict = createError('FANGPIN_CONFLICT', '%s', 409)
export const FangpinNotFound = createError('FANGPIN_NOT_FOUND', '%s', 404)
// A charge line that contradicts what the stay already has (same feedetl_sn with other content,
// a refund of a line the stay does not have): nothing of the batch is applied.
export const FangpinChargeConflict = createError('FANGPIN_CHARGE_CONFLICT', '%s', 409)
// The stay is discharged: its charges and figures are final.
export const FangpinStayClosed = createError('FANGPIN_STAY_CLOSED', '%s', 409)
export const FangpinSigninFailed = createError('FANGPIN_SIGNIN_FAILED', '%s', 401)
export const FangpinTooManyAttempts = createError('FANGPIN_TOO_MANY_ATTEMPTS', '%s', 429)
export const FangpinListNotLoaded = createError('FANGPIN_LIST_NOT_LOADED', '%s', 503)
// The database could not take a write (disk full, a failing disk): nothing of the request was
// recorded; the HIS should retry later. Not the caller's fault, and not an unknown fault either.
export const FangpinStorageUnavailable = createError('FANGPIN_STORAGE_UNAVAILABLE', '%s', 503)
// Requests the HTTP parser refuses before any route sees them (app.ts clientErrorHandler).
export const FangpinBadRequest = createError('FANGPIN_BAD_REQUEST', '%s', 400)
export const FangpinHeadersTooLarge = createError('FANGPIN_HEADERS_TOO_LARGE', '%s', 431)
export const FangpinRequestTimeout = createError('FANGPIN_REQUEST_TIMEOUT', '%s', 408)

export function withDetails<E extends Error> (err: E, details: ErrorDetail[]): E & { details: ErrorDetail[] } {
  return Object.assign(err, { details })
}
