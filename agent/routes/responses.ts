// What every route shares in its schema: the error body for any 4xx/5xx, and the visit id in the path.
export const errorResponses = { '4xx': { $ref: 'error#' }, '5xx': { $ref: 'error#' } }

export const stayParams = {
  type: 'object',
  required: ['mdtrt_id'],
  properties: { mdtrt_id: { type: 'string', minLength: 1, maxLength: 64 } }
}
