// The staff page: three static files read once at start, served with a strict Content-Security-
// Policy (no inline script, nothing from outside the agent: hospital PCs often have no internet).
import type { FastifyInstance } from 'fastify'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web')
const CSP = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const FILES: Array<{ url: string[], file: string, type: string }> = [
  { url: ['/', '/login'], file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: ['/assets/app.js'], file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { url: ['/assets/app.css'], file: 'app.css', type: 'text/css; charset=utf-8' }
]

export default async function pageRoutes (fastify: FastifyInstance): Promise<void> {
  for (const f of FILES) {
    const body = readFileSync(join(WEB, f.file))
    for (const url of f.url) {
      fastify.get(url, { schema: { hide: true, response: { 200: { type: 'string' } } } }, async (_request, reply) => {
        return reply
          .header('content-type', f.type)
          .header('content-security-policy', CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .header('cache-control', 'no-cache')
          .send(body)
      })
    }
  }
}
