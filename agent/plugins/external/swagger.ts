// OpenAPI rendered from the same JSON Schemas that validate requests and serialise responses,
// so the document an HIS vendor reads cannot drift from what the agent does. Served from the
// package's own assets: the hospital LAN has no internet.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

async function swaggerPlugin (fastify: FastifyInstance, opts: { tls?: boolean }): Promise<void> {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'fangpin agent',
        description: 'Admission lookup (先诊疗后付费) and spending monitoring for poor and low-income inpatients. Bodies use the national medical-insurance platform field names (2401/2301/2402).',
        version: '0.1.0'
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
    },
    refResolver: {
      buildLocalReference (json, _baseUri, _fragment, i) {
        return typeof json.$id === 'string' ? json.$id : `def-${i}`
      }
    }
  })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // The page's policy asks browsers to upgrade its requests to https: over plain HTTP (loopback,
    // or FANGPIN_ALLOW_PLAINTEXT) that would make /docs load nothing.
    transformStaticCSP: (header) => opts.tls === true ? header : header.replace(/\s*upgrade-insecure-requests;?/, '')
  })
}

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x' })
