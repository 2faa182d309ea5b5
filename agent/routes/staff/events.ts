// Live alerts for the staff page (server-sent events). Alerts are written by this process (charge
// batches) and by others (`fangpin sync` from cron), so the stream follows the alert table itself:
// one indexed read of the newest ids a second, whoever wrote them.
import type { FastifyInstance } from 'fastify'
import type { ServerResponse } from 'node:http'

const POLL_MS = 1000
const HEARTBEAT_MS = 15_000

export default async function eventRoutes (fastify: FastifyInstance): Promise<void> {
  const { rules } = fastify
  const streams = new Set<ServerResponse>()
  // Open streams would keep the server from closing.
  fastify.addHook('preClose', async () => {
    for (const s of streams) s.end()
  })

  fastify.get<{ Headers: { 'last-event-id'?: string } }>('/events', {
    schema: { hide: true, response: { 200: { type: 'string' } } }
  }, async (request, reply) => {
    // A reconnecting EventSource sends the last id it saw; anything else starts from now (an empty
    // header must not replay the oldest alerts).
    const header = request.headers['last-event-id']?.trim() ?? ''
    const resumeFrom = /^\d{1,15}$/.test(header) ? Number(header) : -1
    let last = resumeFrom >= 0 ? resumeFrom : rules.latestAlertId()
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    res.write('retry: 3000\n: connected\n\n')
    streams.add(res)
    const user = request.staff!
    let sinceBeat = 0
    const timer = setInterval(() => {
      try {
        // A session that ended (sign-out, disabled user, inactivity) ends its stream too; the
        // stream itself is not activity.
        if (rules.sessionUser(request.staffSession!, true) === null) {
          res.end()
          return
        }
        for (const a of rules.alertsSince(last)) {
          last = a.id
          res.write(`id: ${a.id}\nevent: alert\ndata: ${JSON.stringify(a)}\n\n`)
        }
        sinceBeat += POLL_MS
        if (sinceBeat >= HEARTBEAT_MS) {
          sinceBeat = 0
          res.write(': heartbeat\n\n')
        }
      } catch (err) {
        request.log.warn({ err, staff: user.name }, 'alert stream failed')
        res.end()
      }
    }, POLL_MS)
    res.on('close', () => {
      clearInterval(timer)
      streams.delete(res)
    })
  })
}
