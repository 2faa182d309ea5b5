// The staff page: three static files (and the notice's stylesheet) read once at start, served with a strict Content-Security-
// Policy (no inline script, nothing from outside the agent: hospital PCs often have no internet).
import type { FastifyInstance } from 'fastify'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { NOTICE_CSS_FILE } from '../../notice/notice-html.ts'
import { NOTICE_STYLESHEET } from '../notice.ts'
import { PAGE_CSP } from '../shared.ts'

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web')

const FILES: Array<{ url: string[], file: string, type: string }> = [
  { url: ['/', '/login'], file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: ['/assets/app.js'], file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { url: ['/assets/app.css'], file: 'app.css', type: 'text/css; charset=utf-8' },
  // The admission notice's look, for its page under the same CSP
  { url: [NOTICE_STYLESHEET], file: NOTICE_CSS_FILE, type: 'text/css; charset=utf-8' }
]

export default async function pageRoutes (fastify: FastifyInstance): Promise<void> {
  for (const f of FILES) {
    const body = readFileSync(f.file.startsWith('/') ? f.file : join(WEB, f.file))
    for (const url of f.url) {
      fastify.get(url, { schema: { hide: true, response: { 200: { type: 'string' } } } }, async (_request, reply) => {
        return reply
          .header('content-type', f.type)
          .header('content-security-policy', PAGE_CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .header('cache-control', 'no-cache')
          .send(body)
      })
    }
  }
}
