// Builds the Fastify application: external plugins, then the app's own (store, profile, auth,
// metrics, error handling), then the routes. Tests build it the same way and close it after.
import Fastify, { type FastifyHttpsOptions, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import type { Server as HttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import helmet from '@fastify/helmet'
import { schemaFile } from '../base/paths.ts'
import { isLoopbackHost, type Config } from './config.ts'
import type { LoadedProfile } from '../profile/profile.ts'
import type { Store } from './store/store.ts'
import { CATALOGUE, CODE, FangpinBadRequest, FangpinHeadersTooLarge, FangpinRequestTimeout, errorBody } from './errors.ts'
import swaggerPlugin from './plugins/external/swagger.ts'
import storePlugin from './plugins/app/store.ts'
import profilePlugin from './plugins/app/profile.ts'
import authPlugin from './plugins/app/auth.ts'
import metricsPlugin from './plugins/app/metrics.ts'
import errorHandlerPlugin from './plugins/app/error-handler.ts'
import jsonBodyPlugin from './plugins/app/json-body.ts'
import rulesPlugin from './plugins/app/rules.ts'
import staffAuthPlugin from './plugins/app/staff-auth.ts'
import listWatchPlugin from './plugins/app/list-watch.ts'
import localSettingsPlugin from './plugins/app/local-settings.ts'
import syncPlugin from './plugins/app/sync.ts'
import backupPlugin from './plugins/app/backup.ts'
import catalogSyncPlugin from './plugins/app/catalog-sync.ts'
import hisApi from './routes/his/index.ts'
import staffApi from './routes/staff/index.ts'
import healthRoutes from './routes/ops/health.ts'
import pageRoutes from './routes/ops/page.ts'
import { stopNoticePdfWorker } from './notice/notice-pdf.ts'
import { endDemoAccess } from './demo/demo-access.ts'


/** The HTTP contract's schemas, registered by $id so routes and OpenAPI share them. */
export const API_SCHEMAS = ['error', 'card', 'identity-view', 'list-view', 'severe-disease', 'estimate', 'decision', 'admission-request', 'eligibility-request', 'readiness', 'sync-status', 'sync-result',
  'fee-detail', 'charge-request', 'precheck-request', 'totals', 'alert', 'charge-result', 'precheck-result', 'exemption-request',
  'exemption-result', 'discharge-check', 'discharge-request', 'discharge-result', 'inpatient', 'inpatient-list', 'stay', 'alert-list', 'profile-view', 'burden', 'settlement-view', 'settlement-request', 'settlement-result',
  'line-level', 'catalog-product', 'catalog-alternatives', 'catalog-item', 'catalog-status', 'catalog-item-answer', 'catalog-search']

/** The staff page's schemas: the same discipline, not part of the HIS contract (kept out of /docs). */
export const STAFF_SCHEMAS = ['staff-login-request', 'staff-me', 'staff-logout-result', 'staff-overview', 'staff-stay-view', 'staff-exemption-request',
  'staff-token', 'staff-token-list', 'staff-token-request', 'staff-token-revoked', 'staff-user', 'staff-user-list', 'staff-user-request', 'staff-unlock-result',
  'staff-burden-report', 'staff-catalog-drift']

export function loadApiSchemas (): Array<Record<string, unknown>> {
  return [...API_SCHEMAS, ...STAFF_SCHEMAS].map((id) => JSON.parse(readFileSync(schemaFile(id), 'utf8')) as Record<string, unknown>)
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

// An ID number can arrive in a URL (a query string, a wrong path): log the path only, never the
// query, with any run of 15 or more digits masked. The path is masked as the router reads it,
// after percent-decoding (%34%35%30… is 450…), and cut short: a 16 KB path must not become a
// 16 KB log line on every request.
const MAX_LOGGED_PATH = 256

function decodePath (path: string): string {
  if (!path.includes('%')) return path
  // Run by run, so one bad escape does not leave the rest encoded; a run that is not UTF-8 still
  // has its ASCII escapes (the digits) decoded, and a lone % stays as written. Never throws.
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run.replace(/%([0-7][0-9A-Fa-f])/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    }
  })
}

function safeUrl (url: string): string {
  const path = decodePath(url.split('?')[0]).replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
  const masked = path.replace(/\d{6}(\d{5,})([\dXx]{4})/g, (_m, mid: string, tail: string) => `******${'*'.repeat(mid.length)}${tail}`)
  return masked.length > MAX_LOGGED_PATH ? masked.slice(0, MAX_LOGGED_PATH) + '…' : masked
}

export const LOG_SERIALIZERS = {
  req (request: { method: string, url: string, id?: string, ip?: string }) {
    return { method: request.method, url: safeUrl(request.url), id: request.id, remoteAddress: request.ip }
  }
}

// Request ids in the log let IT follow one HIS call without logging who it was about. The HIS's
// X-Request-Id is written on every line of its request, so only a short token of safe characters
// is taken, and never one holding an ID number (15 or more digits in a row): an id like
// "450206195001011007-张三丰" or 15 KB of text is replaced by one the agent makes.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  if (typeof given === 'string' && REQUEST_ID.test(given) && !/\d{15}/.test(given)) return given
  return randomUUID()
}

const REQUEST_TIMEOUT_MS = 30_000

/**
 * Node's HTTP parser refuses a request before Fastify sees it: a body framed both by Content-Length
 * and Transfer-Encoding (request smuggling), a bad chunk, a malformed line, headers over 16 KB, a
 * request that never finishes. The caller still gets the standard error body, and the connection is
 * closed: after a framing error nothing else on it can be trusted. The parser's own message (and
 * the raw bytes it carries, which may hold an ID number) is neither answered nor logged.
 */
export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const error = err.code === 'HPE_HEADER_OVERFLOW'
    ? new FangpinHeadersTooLarge('the request headers are larger than this agent accepts (16 KB): send fewer or shorter headers')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new FangpinRequestTimeout(`the request was not received in full within ${REQUEST_TIMEOUT_MS / 1000} s: send it again`)
      : new FangpinBadRequest('the request is not valid HTTP/1.1 (a malformed request line or header, a bad chunk, or a body framed both by Content-Length and Transfer-Encoding): it was not processed; send one well-formed request per connection')
  this.log.debug({ code: err.code }, 'refused a request the HTTP parser could not read')
  // An answer already under way on this connection cannot be followed by another one.
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
  if (socket.writable && pending?.headersSent !== true) {
    const status = error.statusCode
    const body = JSON.stringify(errorBody(error.code, error.message))
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/**
 * The log as configured: standard output, or FANGPIN_LOG_FILE rotated by pino-roll (daily and at
 * FANGPIN_LOG_MAX_SIZE, FANGPIN_LOG_KEEP old files kept, across restarts). The transport runs in a
 * worker thread and gets lines already redacted and serialised here: the rules above hold for the file.
 */
export function loggerOptions (config: Config): NonNullable<FastifyServerOptions['logger']> {
  const base = { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS }
  if (config.logFile === null) return base
  return {
    ...base,
    transport: {
      // Resolved here: the worker thread would look for it from pino's own folder.
      target: createRequire(import.meta.url).resolve('pino-roll'),
      options: {
        file: config.logFile,
        frequency: 'daily',
        size: config.logMaxSize,
        dateFormat: 'yyyy-MM-dd',
        mkdir: true,
        // The log has request paths and client addresses: for the service user only.
        mode: 0o600,
        limit: { count: config.logKeep, removeOtherLogFiles: true }
      }
    }
  }
}

/** Sent with every answer while the agent serves the LAN over plain HTTP (FANGPIN_ALLOW_PLAINTEXT). */
export const PLAINTEXT_WARNING = '199 fangpin "plaintext HTTP on the hospital LAN: set FANGPIN_TLS_CERT and FANGPIN_TLS_KEY"'

export function plaintextOnLan (config: Config): boolean {
  return config.tls === null && !isLoopbackHost(config.host)
}

export interface BuildOptions {
  config: Config
  profile: LoadedProfile
  store?: Store
  logger?: FastifyServerOptions['logger']
  /** schedule the registry sync and run it at start (default true when a registry is configured) */
  autoSync?: boolean
  /** schedule backups (default true when FANGPIN_BACKUP_DIR is set) */
  autoBackup?: boolean
}

export async function buildApp (opts: BuildOptions): Promise<FastifyInstance> {
  const tls = opts.config.tls
  const options: FastifyServerOptions = {
    logger: opts.logger ?? loggerOptions(opts.config),
    bodyLimit: opts.config.bodyLimit,
    // X-Request-Id is read by requestId(), which checks it; Fastify would take any value as given.
    requestIdHeader: false,
    genReqId: requestId,
    clientErrorHandler,
    return503OnClosing: true,
    requestTimeout: REQUEST_TIMEOUT_MS,
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
      void (reply as unknown as FastifyReply).code(CATALOGUE.FANGPIN_BAD_REQUEST.status).send(errorBody(CODE.FANGPIN_BAD_REQUEST, `the request URL is not valid: ${error.message}`))
    }
  }
  // Node's defaults (TLS 1.2 and 1.3, OpenSSL's ciphers) are kept: an HIS that cannot speak TLS 1.2
  // must be configured to, not met with weaker settings.
  const app = (tls === null ? Fastify(options) : Fastify({ ...options, https: { cert: tls.cert, key: tls.key } } as FastifyHttpsOptions<HttpsServer>)) as unknown as FastifyInstance
  for (const schema of loadApiSchemas()) app.addSchema(schema)

  // Security headers on every answer. API answers get a CSP that allows nothing (they are data, never
  // a page); the staff page and /docs set their own, stricter or specific, policy on their routes.
  // HSTS only under TLS, and without subdomains: other hosts of the hospital may still be plain HTTP.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    strictTransportSecurity: tls === null ? false : { maxAge: 180 * 24 * 3600, includeSubDomains: false },
    // Browsers ignore it from a plain-HTTP origin, and say so as an error on every page.
    crossOriginOpenerPolicy: tls !== null,
    xFrameOptions: { action: 'deny' }
  })
  // Stopping (SIGTERM): a request in flight still gets its answer, and its connection is closed
  // after it. Left open (keep-alive), it would hold the close until the stop grace ran out.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => { if (closing) void reply.header('connection', 'close') })
  if (plaintextOnLan(opts.config)) {
    app.addHook('onRequest', async (_request, reply) => { void reply.header('warning', PLAINTEXT_WARNING) })
  }
  await app.register(swaggerPlugin, { tls: tls !== null })
  await app.register(storePlugin, { dataDir: opts.config.dataDir, store: opts.store })
  await app.register(errorHandlerPlugin)
  await app.register(jsonBodyPlugin)
  await app.register(profilePlugin, { profile: opts.profile, config: opts.config })
  await app.register(rulesPlugin)
  await app.register(authPlugin)
  await app.register(metricsPlugin)
  // A registry list of real people ends the demo's well-known token and sign-in in its flip.
  await app.register(syncPlugin, { autoStart: opts.autoSync, atRealList: () => endDemoAccess(app.store, 'sync') })
  // The catalog channel of the same registry, on the same schedule.
  await app.register(catalogSyncPlugin, { autoStart: opts.autoSync })
  await app.register(staffAuthPlugin)
  await app.register(listWatchPlugin)
  await app.register(backupPlugin, { autoStart: opts.autoBackup })
  await app.register(localSettingsPlugin)

  await app.register(hisApi, { prefix: '/v1' })
  await app.register(staffApi, { prefix: '/staff/api' })
  await app.register(healthRoutes)
  await app.register(pageRoutes)
  // The notice PDF's worker (started on the first PDF) goes with the app.
  app.addHook('onClose', async () => { await stopNoticePdfWorker() })
  return app
}
