// What the catalog routes of the HIS API and the staff page share: the code in the path and the
// search query, validated the same way for both.
export const catalogCodeParams = {
  type: 'object',
  required: ['code'],
  properties: { code: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\ud800-\\udfff]+$' } }
}

export interface CatalogSearchQuery { q: string, limit?: string }

/** The query's limit as a number (query strings are not coerced: a number is written as digits). */
export function searchLimit (q: CatalogSearchQuery): number | undefined {
  return q.limit === undefined ? undefined : Number(q.limit)
}

export const catalogSearchQuery = {
  type: 'object',
  required: ['q'],
  properties: {
    q: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\ud800-\\udfff]+$' },
    limit: { type: 'string', pattern: '^([1-9]|[1-4][0-9]|50)$', description: 'at most this many items, 1–50 (default 20)' }
  },
  additionalProperties: false
}
