// The error catalogue: every code the agent answers, its HTTP status and what it means, here and
// nowhere else. Codes are a contract with HIS vendors: never rename one, only add (and add it to
// docs/errors.md and test/errors.test.ts, which pin the list). Every error reaches the caller as
// {"error": {"code", "message", "details"}}, built by errorBody() below: through the one error
// handler in plugins/app/error-handler.ts, or, for what Fastify never hands to it, in app.ts.
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

// A caller's mistake is a 4xx, never a 5xx. The meanings are the lines of docs/errors.md, word for word.
export const CATALOGUE = {
  FANGPIN_VALIDATION: { status: 400, meaning: 'A field of the request is missing, of the wrong type or not allowed; the details name the field and the reason.' },
  FANGPIN_INVALID_CERTNO: { status: 400, meaning: 'certno is not a valid resident ID number (its length, characters, check digit or birth date).' },
  FANGPIN_MALFORMED_JSON: { status: 400, meaning: 'The body is not JSON the agent reads: empty, broken, or holding a __proto__ or constructor.prototype key.' },
  // Also Fastify's own 4xx refusals that have no more specific code, with Fastify's status.
  FANGPIN_BAD_REQUEST: { status: 400, meaning: 'The request could not be read: not valid HTTP/1.1, a URL that cannot be decoded, or a wrong Content-Length.' },
  FANGPIN_UNAUTHORIZED: { status: 401, meaning: 'No valid credential: the bearer token is missing, unknown or revoked, or the staff session has ended.' },
  FANGPIN_SIGNIN_FAILED: { status: 401, meaning: 'Staff sign-in refused: wrong name or password.' },
  FANGPIN_FORBIDDEN: { status: 403, meaning: 'The credential may not do this (an admin token or admin staff account is needed), or a staff request came from another origin.' },
  FANGPIN_NOT_FOUND: { status: 404, meaning: 'No such route, or no such admission, charge line, alert, token or staff user.' },
  // Fastify answers a method a path does not have with a 404; this is for a 405 from elsewhere.
  FANGPIN_METHOD_NOT_ALLOWED: { status: 405, meaning: 'The path does not take this HTTP method.' },
  FANGPIN_REQUEST_TIMEOUT: { status: 408, meaning: 'The request was not received in full within 30 s; the connection is closed.' },
  FANGPIN_CONFLICT: { status: 409, meaning: 'The request contradicts what is recorded: a visit id of another person, a discharged admission, an existing staff user, a sync running or not configured.' },
  // A charge line that contradicts what the stay already has (same feedetl_sn with other content,
  // a refund of a line the stay does not have): nothing of the batch is applied.
  FANGPIN_CHARGE_CONFLICT: { status: 409, meaning: 'A charge line contradicts what the stay already has (a feedetl_sn with other content, a refund of a line it does not have); nothing of the batch is applied.' },
  FANGPIN_STAY_CLOSED: { status: 409, meaning: 'The stay is discharged: its charges and figures are final.' },
  FANGPIN_BODY_TOO_LARGE: { status: 413, meaning: 'The request body is larger than the agent accepts (FANGPIN_BODY_LIMIT).' },
  FANGPIN_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The body is not application/json in UTF-8.' },
  FANGPIN_TOO_MANY_ATTEMPTS: { status: 429, meaning: 'Too many failed staff sign-ins from this computer or for this account: signing in is locked for a while (Retry-After).' },
  FANGPIN_HEADERS_TOO_LARGE: { status: 431, meaning: 'The request headers are larger than 16 KB; the connection is closed.' },
  FANGPIN_INTERNAL: { status: 500, meaning: 'A fault inside the agent; the agent log has the details, the answer has none.' },
  FANGPIN_LIST_NOT_LOADED: { status: 503, meaning: 'No identity list is loaded yet, so the agent cannot tell whether a patient is on it.' },
  // The database could not take a write (disk full, a failing disk): nothing of the request was
  // recorded; the HIS should retry later. Not the caller's fault, and not an unknown fault either.
  FANGPIN_STORAGE_UNAVAILABLE: { status: 503, meaning: 'The database could not take a write (disk full, a failing disk): nothing of the request was recorded.' },
  // The admission notice PDF carries its own Chinese font; without one on the server it cannot be
  // made. The HTML notice still can (the browser has fonts), so this is the server's, not the caller's.
  FANGPIN_NOTICE_FONT_MISSING: { status: 503, meaning: 'The admission notice PDF cannot be made: no Chinese font was found (FANGPIN_NOTICE_FONT, the packaged font or a system font).' }
} as const satisfies Record<`FANGPIN_${string}`, { status: number, meaning: string }>

export type FangpinCode = keyof typeof CATALOGUE

/** Each code by name (CODE.FANGPIN_VALIDATION), so code elsewhere never spells one as a string. */
export const CODE = Object.freeze(Object.fromEntries(Object.keys(CATALOGUE).map((c) => [c, c]))) as { readonly [C in FangpinCode]: C }

export function isFangpinCode (code: unknown): code is FangpinCode {
  return typeof code === 'string' && Object.hasOwn(CATALOGUE, code)
}

export interface ErrorBody {
  error: { code: FangpinCode, message: string, details: ErrorDetail[] }
}

/** The one shape of every error answer. */
export function errorBody (code: FangpinCode, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details } }
}

// The constructors take the code's status from the catalogue: a code cannot exist outside it.
function fangpinError<C extends FangpinCode> (code: C): createError.FastifyErrorConstructor<{ code: C, statusCode: typeof CATALOGUE[C]['status'] }, [message: string]> {
  return createError<C, typeof CATALOGUE[C]['status'], [message: string]>(code, '%s', CATALOGUE[code].status)
}

export const FangpinValidation = fangpinError('FANGPIN_VALIDATION')
export const FangpinInvalidCertno = fangpinError('FANGPIN_INVALID_CERTNO')
// JSON bodies are read by plugins/app/json-body.ts.
export const FangpinMalformedJson = fangpinError('FANGPIN_MALFORMED_JSON')
export const FangpinUnsupportedMediaType = fangpinError('FANGPIN_UNSUPPORTED_MEDIA_TYPE')
export const FangpinUnauthorized = fangpinError('FANGPIN_UNAUTHORIZED')
export const FangpinForbidden = fangpinError('FANGPIN_FORBIDDEN')
export const FangpinSigninFailed = fangpinError('FANGPIN_SIGNIN_FAILED')
export const FangpinTooManyAttempts = fangpinError('FANGPIN_TOO_MANY_ATTEMPTS')
export const FangpinNotFound = fangpinError('FANGPIN_NOT_FOUND')
export const FangpinConflict = fangpinError('FANGPIN_CONFLICT')
export const FangpinChargeConflict = fangpinError('FANGPIN_CHARGE_CONFLICT')
export const FangpinStayClosed = fangpinError('FANGPIN_STAY_CLOSED')
export const FangpinListNotLoaded = fangpinError('FANGPIN_LIST_NOT_LOADED')
export const FangpinStorageUnavailable = fangpinError('FANGPIN_STORAGE_UNAVAILABLE')
// The notice PDF's font (agent/notice/notice-font.ts).
export const FangpinNoticeFontMissing = fangpinError('FANGPIN_NOTICE_FONT_MISSING')
// Requests the HTTP parser refuses before any route sees them (app.ts clientErrorHandler).
export const FangpinBadRequest = fangpinError('FANGPIN_BAD_REQUEST')
export const FangpinHeadersTooLarge = fangpinError('FANGPIN_HEADERS_TOO_LARGE')
export const FangpinRequestTimeout = fangpinError('FANGPIN_REQUEST_TIMEOUT')

export function withDetails<E extends Error> (err: E, details: ErrorDetail[]): E & { details: ErrorDetail[] } {
  return Object.assign(err, { details })
}
