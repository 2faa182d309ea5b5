// How HIS bodies are read. JSON on the wire is UTF-8: a body declared as GBK or UTF-16 would be
// decoded as UTF-8 and the patient's name silently garbled, so it is refused with a 415. A body
// that is not JSON gets a message that says where it breaks (Fastify's own parser says only
// "not valid JSON"); the message never quotes the body, which may hold an ID number or a name.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'
import { FangpinMalformedJson, FangpinUnsupportedMediaType } from '../../errors.ts'

export function parseJsonBody (body: string): unknown {
  if (body.trim() === '') throw new FangpinMalformedJson('the body is empty but Content-Type says application/json')
  try {
    // __proto__ and constructor.prototype keys are refused: they are how a JSON body poisons objects.
    return sjson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch (err) {
    const message = (err as Error).message
    if (/prototype/i.test(message)) {
      throw new FangpinMalformedJson('the body contains a __proto__ or constructor.prototype key, which is refused')
    }
    const at = /position (\d+)/.exec(message)
    throw new FangpinMalformedJson(`the body is not valid JSON${at === null ? '' : ` (near character ${Number(at[1]) + 1})`}`)
  }
}

async function jsonBodyPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', async (request) => {
    const type = request.headers['content-type']
    if (type === undefined) return
    const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type)
    if (m !== null && !/^utf-?8$/i.test(m[1])) {
      throw new FangpinUnsupportedMediaType(`charset ${m[1]} is not accepted: send the JSON body as UTF-8`)
    }
  })
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
}

export default fp(jsonBodyPlugin, { name: 'json-body', fastify: '5.x' })
