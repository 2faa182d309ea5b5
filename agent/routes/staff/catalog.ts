// The 目录查询 box of the staff page and the catalog panel: what is loaded, a search, an item, and
// the items whose level from the HIS disagrees with the catalog (catalog drift).
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../shared.ts'
import { catalogCodeParams, catalogSearchQuery, searchLimit, type CatalogSearchQuery } from '../his/catalog-shared.ts'

export default async function staffCatalogRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify

  fastify.get('/catalog/status', {
    schema: { hide: true, response: { 200: { $ref: 'catalog-status#' }, ...errorResponses } }
  }, async () => rules.catalogStatus())

  fastify.get<{ Querystring: CatalogSearchQuery }>('/catalog/search', {
    schema: { hide: true, querystring: catalogSearchQuery, response: { 200: { $ref: 'catalog-search#' }, ...errorResponses } }
  }, async (request) => rules.catalogSearch(request.query.q, searchLimit(request.query)))

  fastify.get<{ Params: { code: string } }>('/catalog/items/:code', {
    schema: { hide: true, params: catalogCodeParams, response: { 200: { $ref: 'catalog-item-answer#' }, ...errorResponses } }
  }, async (request) => rules.catalogItem(request.params.code))

  fastify.get('/catalog/drift', {
    schema: { hide: true, response: { 200: { $ref: 'staff-catalog-drift#' }, ...errorResponses } }
  }, async () => rules.catalogDrift())
}
