// The yardstick for bench:lookup: a bare Fastify route answering a constant JSON body, on the
// same machine and Node, so the agent's throughput is judged against what Fastify itself can do.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
const body = { treat_first_pay_later: true, identities: [], primary_identity: null, severe_disease: [], list: { version: 'x', loaded_at: null, age_hours: 0, stale: false, demo: false }, cards: [] }
app.post('/v1/admissions', async () => body)
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening on ${address}\n`)
