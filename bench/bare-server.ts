// The yardstick for bench:lookup and bench:charges: bare Fastify routes answering a constant JSON
// body, on the same machine and Node, so the agent's throughput is judged against what Fastify
// itself can do.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
const body = { treat_first_pay_later: true, identities: [], primary_identity: null, severe_disease: [], list: { version: 'x', loaded_at: null, age_hours: 0, stale: false, demo: false }, cards: [] }
app.post('/v1/admissions', async () => body)
// for bench:lookup's eligibility goal: the same bodies as POST /v1/eligibility, parsed, a constant answer
app.post('/v1/eligibility', async () => body)
// for bench:charges: Fastify parses the batch's JSON body; the answer is a constant of about the
// size of the agent's charge result
const chargeResult = { mdtrt_id: 'x', accepted: 100, duplicates: [], totals: { medfee_sumamt: 1250, in_catalog_amt: 1212.5, out_of_catalog_amt: 37.5, in_catalog_ratio: 0.97, out_of_catalog_ratio: 0.03, headroom_amt: 97.22 }, status: 'ok', alerts: [], cards: [] }
app.post('/v1/admissions/:mdtrt_id/charges', async () => chargeResult)
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening on ${address}\n`)
