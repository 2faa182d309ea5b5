// Prometheus metrics without a client library: a few counters and one latency histogram, kept in
// plain maps so recording on the hot path costs a map lookup and an array increment.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

interface Histogram { counts: number[], sum: number, count: number }

export class Metrics {
  private readonly requests = new Map<string, number>()
  private readonly latency = new Map<string, Histogram>()
  private readonly decisions = new Map<string, number>()
  private chargeLines = { accepted: 0, duplicate: 0 }

  observeRequest (method: string, route: string, status: number, seconds: number): void {
    const key = `${method}\u0000${route}\u0000${status}`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    const hkey = `${method}\u0000${route}`
    let h = this.latency.get(hkey)
    if (h === undefined) {
      h = { counts: new Array(BUCKETS.length).fill(0), sum: 0, count: 0 }
      this.latency.set(hkey, h)
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++
    h.sum += seconds
    h.count++
  }

  countDecision (kind: string, granted: boolean): void {
    const key = `${kind}\u0000${granted ? 'true' : 'false'}`
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1)
  }

  countCharges (accepted: number, duplicates: number): void {
    this.chargeLines.accepted += accepted
    this.chargeLines.duplicate += duplicates
  }

  render (gauges: Array<{ name: string, help: string, value: number }>): string {
    const out: string[] = []
    out.push('# HELP fangpin_http_requests_total HTTP requests answered, by route and status.')
    out.push('# TYPE fangpin_http_requests_total counter')
    for (const [key, n] of this.requests) {
      const [method, route, status] = key.split('\u0000')
      out.push(`fangpin_http_requests_total{method="${method}",route="${esc(route)}",status="${status}"} ${n}`)
    }
    out.push('# HELP fangpin_http_request_duration_seconds Time to answer, by route.')
    out.push('# TYPE fangpin_http_request_duration_seconds histogram')
    for (const [key, h] of this.latency) {
      const [method, route] = key.split('\u0000')
      const labels = `method="${method}",route="${esc(route)}"`
      BUCKETS.forEach((b, i) => out.push(`fangpin_http_request_duration_seconds_bucket{${labels},le="${b}"} ${h.counts[i]}`))
      out.push(`fangpin_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`)
      out.push(`fangpin_http_request_duration_seconds_sum{${labels}} ${h.sum}`)
      out.push(`fangpin_http_request_duration_seconds_count{${labels}} ${h.count}`)
    }
    out.push('# HELP fangpin_lookups_total Eligibility decisions, by kind and whether 先诊疗后付费 was granted.')
    out.push('# TYPE fangpin_lookups_total counter')
    for (const [key, n] of this.decisions) {
      const [kind, granted] = key.split('\u0000')
      out.push(`fangpin_lookups_total{kind="${kind}",granted="${granted}"} ${n}`)
    }
    out.push('# HELP fangpin_charge_lines_total Charge lines received: accepted (counted) or duplicate (a retry, counted once).')
    out.push('# TYPE fangpin_charge_lines_total counter')
    out.push(`fangpin_charge_lines_total{result="accepted"} ${this.chargeLines.accepted}`)
    out.push(`fangpin_charge_lines_total{result="duplicate"} ${this.chargeLines.duplicate}`)
    for (const g of gauges) {
      out.push(`# HELP ${g.name} ${g.help}`)
      out.push(`# TYPE ${g.name} gauge`)
      out.push(`${g.name} ${g.value}`)
    }
    return out.join('\n') + '\n'
  }
}

function esc (s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

async function metricsPlugin (fastify: FastifyInstance): Promise<void> {
  const metrics = new Metrics()
  fastify.decorate('metrics', metrics)
  fastify.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: /v1/admissions/:mdtrt_id must not become one series per visit.
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
