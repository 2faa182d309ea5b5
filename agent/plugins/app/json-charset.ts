// JSON on the wire is UTF-8. A body declared as GBK or UTF-16 would be decoded as UTF-8 and the
// patient's name silently garbled, so it is refused with a clear 415 instead.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import createError from '@fastify/error'

const FangpinUnsupportedCharset = createError('FANGPIN_UNSUPPORTED_MEDIA_TYPE', '%s', 415)

async function jsonCharsetPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', async (request) => {
    const type = request.headers['content-type']
    if (type === undefined) return
    const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type)
    if (m !== null && !/^utf-?8$/i.test(m[1])) {
      throw new FangpinUnsupportedCharset(`charset ${m[1]} is not accepted: send the JSON body as UTF-8`)
    }
  })
}

export default fp(jsonCharsetPlugin, { name: 'json-charset', fastify: '5.x' })
