// Builds the Fastify application: external plugins, then the app's own (store, profile, auth,
// metrics, error handling), then the routes. Tests build it the same way and close it after.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import type { Config } from './config.ts'
import type { LoadedProfile } from './profile/profile.ts'
import type { Store } from './store/store.ts'
import swaggerPlugin from './plugins/external/swagger.ts'
import storePlugin from './plugins/app/store.ts'
import profilePlugin from './plugins/app/profile.ts'
import authPlugin from './plugins/app/auth.ts'
import metricsPlugin from './plugins/app/metrics.ts'
import errorHandlerPlugin from './plugins/app/error-handler.ts'
import jsonBodyPlugin from './plugins/app/json-body.ts'
import healthRoutes from './routes/health.ts'
import admissionRoutes from './routes/admissions.ts'
import eligibilityRoutes from './routes/eligibility.ts'
import syncRoutes from './routes/sync.ts'
import chargeRoutes from './routes/charges.ts'
import stayRoutes from './routes/stays.ts'
import alertRoutes from './routes/alerts.ts'
import staffAuthPlugin from './plugins/app/staff-auth.ts'
import listWatchPlugin from './plugins/app/list-watch.ts'
import staffRoutes from './routes/staff.ts'
import staffAdminRoutes from './routes/staff-admin.ts'
import staffEventRoutes from './routes/staff-events.ts'
import pageRoutes from './routes/page.ts'
import syncPlugin from './plugins/app/sync.ts'

const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas')

/** The HTTP contract's schemas, registered by $id so routes and OpenAPI share them. */
export const API_SCHEMAS = ['error', 'card', 'identity-view', 'list-view', 'decision', 'admission-request', 'eligibility-request', 'readiness', 'sync-status', 'sync-result',
  'fee-detail', 'charge-request', 'precheck-request', 'totals', 'alert', 'charge-result', 'precheck-result', 'exemption-request',
  'exemption-result', 'discharge-check', 'discharge-request', 'discharge-result', 'inpatient', 'inpatient-list', 'stay', 'alert-list']

export function loadApiSchemas (): Array<Record<string, unknown>> {
  return API_SCHEMAS.map((id) => JSON.parse(readFileSync(join(SCHEMAS_DIR, `${id}.schema.json`), 'utf8')) as Record<string, unknown>)
}

// Personal data never reaches the log: ID numbers, names and tokens are redacted wherever a
// serializer or a careless log call might put them.
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.certno',
  '*.psn_name',
  '*.*.certno',
  '*.*.psn_name',
  'body',
  'req.body'
]

// An ID number can arrive in a URL (a query string, a wrong path): log the path only, with any run
// of 15 or more digits masked, never the query.
function safeUrl (url: string): string {
  return url.split('?')[0].replace(/\d{6}(\d{5,})([\dXx]{4})/g, (_m, mid: string, tail: string) => `******${'*'.repeat(mid.length)}${tail}`)
}

export const LOG_SERIALIZERS = {
  req (request: { method: string, url: string, id?: string, ip?: string }) {
    return { method: request.method, url: safeUrl(request.url), id: request.id, remoteAddress: request.ip }
  }
}

export interface BuildOptions {
  config: Config
  profile: LoadedProfile
  store?: Store
  logger?: FastifyServerOptions['logger']
  /** schedule the registry sync and run it at start (default true when a registry is configured) */
  autoSync?: boolean
}

export async function buildApp (opts: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? { level: opts.config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS },
    bodyLimit: opts.config.bodyLimit,
    // Request ids in the log let IT follow one HIS call without logging who it was about.
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    requestTimeout: 30_000,
    ajv: {
      customOptions: {
        // Strict places (additionalProperties: false) must refuse unknown fields, not drop them,
        // and a number is not a code: the 2401 fields are strings.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
        // allErrors would check and report every element of a 600,000-item array after maxItems
        // already failed: one request could pin the event loop and build a 40 MB answer.
        allErrors: false,
        // Amounts arrive as JSON numbers or decimal strings (both are common in HIS exports).
        allowUnionTypes: true
      }
    },
    // A URL Fastify cannot even decode still gets the standard error body.
    frameworkErrors (error, request, reply) {
      void (reply as unknown as FastifyReply).code(400).send({ error: { code: 'FANGPIN_BAD_REQUEST', message: `the request URL is not valid: ${error.message}`, details: [] } })
    }
  })
  for (const schema of loadApiSchemas()) app.addSchema(schema)

  await app.register(swaggerPlugin)
  await app.register(storePlugin, { dataDir: opts.config.dataDir, store: opts.store })
  await app.register(errorHandlerPlugin)
  await app.register(jsonBodyPlugin)
  await app.register(profilePlugin, { profile: opts.profile, config: opts.config })
  await app.register(authPlugin)
  await app.register(metricsPlugin)
  await app.register(syncPlugin, { autoStart: opts.autoSync })
  await app.register(staffAuthPlugin)
  await app.register(listWatchPlugin)

  await app.register(healthRoutes)
  await app.register(admissionRoutes)
  await app.register(eligibilityRoutes)
  await app.register(syncRoutes)
  await app.register(chargeRoutes)
  await app.register(stayRoutes)
  await app.register(alertRoutes)
  await app.register(staffRoutes)
  await app.register(staffAdminRoutes)
  await app.register(staffEventRoutes)
  await app.register(pageRoutes)
  return app
}
