// The insurance catalog for the HIS: one item by its national code (or the hospital's own code,
// through the mapping), and a search by code, name or generic name.
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../shared.ts'
import { catalogCodeParams, catalogSearchQuery, searchLimit, type CatalogSearchQuery } from './catalog-shared.ts'

export default async function catalogRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get<{ Params: { code: string } }>('/catalog/items/:code', {
    schema: {
      tags: ['catalog'],
      summary: 'An item of the insurance catalog: the row that counts today for this hospital\'s region, and all its rows',
      description: 'By med_list_codg, or by the hospital\'s medins_list_codg through the loaded mapping (via says which). 404 when the catalog has no such item, or no catalog is loaded.',
      security: [{ bearer: [] }],
      params: catalogCodeParams,
      response: { 200: { $ref: 'catalog-item-answer#' }, ...errorResponses }
    }
  }, async (request) => fastify.rules.catalogItem(request.params.code))

  fastify.get<{ Querystring: CatalogSearchQuery }>('/catalog/search', {
    schema: {
      tags: ['catalog'],
      summary: 'Search the insurance catalog by code (prefix), name or generic name',
      description: 'At most `limit` items (default 20, at most 50), each as the row that counts today. Without a loaded catalog: no items, and catalog.loaded false.',
      security: [{ bearer: [] }],
      querystring: catalogSearchQuery,
      response: { 200: { $ref: 'catalog-search#' }, ...errorResponses }
    }
  }, async (request) => fastify.rules.catalogSearch(request.query.q, searchLimit(request.query)))
}
