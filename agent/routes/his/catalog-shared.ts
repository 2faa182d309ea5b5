// What the catalog routes of the HIS API and the staff page share: the code in the path and the
// search query, validated the same way for both.
export const catalogCodeParams = {
  type: 'object',
  required: ['code'],
  properties: { code: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\ud800-\\udfff]+$' } }
}

export interface CatalogSearchQuery { q: string, limit?: number }

export const catalogSearchQuery = {
  type: 'object',
  required: ['q'],
  properties: {
    q: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\ud800-\\udfff]+$' },
    limit: { type: 'integer', minimum: 1, maximum: 50, default: 20 }
  },
  additionalProperties: false
}
