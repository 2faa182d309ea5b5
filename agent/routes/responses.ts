// What every route shares in its schema: the error body for any 4xx/5xx, and the visit id in the path.
export const errorResponses = { '4xx': { $ref: 'error#' }, '5xx': { $ref: 'error#' } }

// As in an admission body (schemas/admission-request.schema.json): no control characters or lone
// surrogates. No admission can have such an id, so asking for one is the caller's error (400
// naming mdtrt_id), not a 404 that suggests the stay might exist.
export const stayParams = {
  type: 'object',
  required: ['mdtrt_id'],
  properties: { mdtrt_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\ud800-\\udfff]+$' } }
}
