// kill -9 in the middle of a charge feed. The HIS is answered only after a batch committed, so a
// batch it saw a 200 for must be on disk after the crash, a batch is never half there, and the
// HIS's retry of every batch (answered or not) must count each line exactly once.
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { startAgent, tempDir } from './helper.ts'
import { openStore } from '../agent/store/store.ts'
import { DB_FILE } from '../agent/store/db.ts'
import { POOR, POOR2, records, line, yuan } from './charge-fixture.ts'

const STAYS = 5
const BATCHES = 24
const LINES = 100
const ROUNDS = 4

/** mulberry32: a small seeded generator, so a failing round can be replayed from its seed. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Expected { sn: string, amount: number, out: number }
interface Batch { stay: number, index: number, lines: Array<Record<string, unknown>>, distinct: Expected[] }
interface Original { sn: string, unit: number, outPerUnit: number, units: number, level: '01' | '02' | '03' | null }

function mdtrtId (stay: number): string {
  return `ZY-CRASH-${stay}`
}

/**
 * The charge feed of one stay: BATCHES batches of LINES lines, levels 01/02/03 and lines with the
 * platform's split, refunds of one unit of lines charged earlier (in an earlier batch or earlier in
 * the same batch; with the original's level, or without level so the agent takes the original's
 * proportion), now and then a line repeated inside its batch. Every expected amount is exact.
 */
function plan (stay: number, random: () => number): Batch[] {
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))
  const originals: Original[] = []
  const batches: Batch[] = []
  for (let b = 0; b < BATCHES; b++) {
    const lines: Array<Record<string, unknown>> = []
    const distinct: Expected[] = []
    for (let k = 0; k < LINES; k++) {
      // The same feedetl_sn in every stay: lines are keyed per stay.
      const sn = `L${b}-${k}`
      const refundable = originals.filter((o) => o.units > 0)
      if (refundable.length > 0 && random() < 0.15) {
        const o = refundable[int(0, refundable.length - 1)]
        o.units--
        const withLevel = o.level !== null && random() < 0.5
        lines.push(line(sn, -o.unit, o.level ?? '01', {
          init_feedetl_sn: o.sn,
          cnt: -1,
          pric: yuan(o.unit),
          med_list_codg: `X${o.sn}`,
          chrgitm_lv: withLevel ? o.level : undefined
        }))
        distinct.push({ sn, amount: -o.unit, out: -o.outPerUnit })
        continue
      }
      const unit = int(1, 50_000)
      const units = int(1, 3)
      const kind = random()
      let l: Record<string, unknown>
      let outPerUnit: number
      let level: Original['level']
      if (kind < 0.2) {
        // The 2301 split: the 全自费 part is out of catalog, the rest in.
        outPerUnit = int(0, unit)
        level = null
        l = line(sn, unit * units, '02', {
          cnt: units,
          pric: yuan(unit),
          fulamt_ownpay_amt: yuan(outPerUnit * units),
          inscp_scp_amt: yuan((unit - outPerUnit) * units)
        })
      } else {
        level = kind < 0.5 ? '01' : kind < 0.75 ? '02' : '03'
        outPerUnit = level === '03' ? unit : 0
        l = line(sn, unit * units, level, { cnt: units, pric: yuan(unit) })
      }
      lines.push(l)
      distinct.push({ sn, amount: unit * units, out: outPerUnit * units })
      originals.push({ sn, unit, outPerUnit, units, level })
      // A line repeated inside its batch with the same content is one line.
      if (random() < 0.02) lines.push({ ...l })
    }
    batches.push({ stay, index: b, lines, distinct })
  }
  return batches
}

interface Sums { medfee: number, out: number, lines: number }

function sums (batches: Batch[], upTo: number): Sums {
  const s = { medfee: 0, out: 0, lines: 0 }
  for (const b of batches.slice(0, upTo)) {
    for (const l of b.distinct) {
      s.medfee += l.amount
      s.out += l.out
      s.lines++
    }
  }
  return s
}

/** Totals as the agent shows them: yuan computed from exact fen. */
function shown (s: Sums): Record<string, number> {
  return { medfee_sumamt: s.medfee / 100, in_catalog_amt: (s.medfee - s.out) / 100, out_of_catalog_amt: s.out / 100 }
}

function pick (totals: Record<string, number>): Record<string, number> {
  return { medfee_sumamt: totals.medfee_sumamt, in_catalog_amt: totals.in_catalog_amt, out_of_catalog_amt: totals.out_of_catalog_amt }
}

interface Client {
  post: (path: string, body: unknown) => Promise<{ status: number, json: any }>
  get: (path: string) => Promise<{ status: number, json: any }>
}

function client (url: string, token: string): Client {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    let json: any
    try { json = JSON.parse(text) } catch { json = text }
    return { status: res.status, json }
  }
  return { post: async (path, body) => await call('POST', path, body), get: async (path) => await call('GET', path) }
}

async function stop (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}

function activeLines (db: Database.Database, id: string): Map<string, { amount_fen: number, out_fen: number }> {
  const rows = db.prepare('SELECT feedetl_sn, amount_fen, out_fen FROM charge_line WHERE mdtrt_id = ? AND cancelled_at IS NULL').all(id) as Array<{ feedetl_sn: string, amount_fen: number, out_fen: number }>
  return new Map(rows.map((r) => [r.feedetl_sn, { amount_fen: r.amount_fen, out_fen: r.out_fen }]))
}

async function round (t: Test, seed: number): Promise<void> {
  const random = rng(seed)
  const dataDir = tempDir(t, 'fangpin-crash-')
  const store = openStore(dataDir)
  await store.list.replace(records, { source: 'import', label: 'crash test' })
  const token = store.tokens.create('crash-his', 'his').token
  store.close()
  const env = { FANGPIN_DATA_DIR: dataDir, FANGPIN_LOG_LEVEL: 'info' }

  const first = await startAgent(t, env)
  const before = client(first.url, token)
  for (let s = 0; s < STAYS; s++) {
    const res = await before.post('/v1/admissions', {
      mdtrt_id: mdtrtId(s), certno: s % 2 === 0 ? POOR : POOR2, psn_name: s % 2 === 0 ? '张三丰' : '李四', begntime: '2026-11-20 09:30:00', med_type: '21'
    })
    t.equal(res.status, 201, `admission ${mdtrtId(s)}`)
  }
  const feeds = Array.from({ length: STAYS }, (_, s) => plan(s, random))
  const total = STAYS * BATCHES

  // Stream: one connection per stay, each sending its stay's batches in order, all at once. After
  // a random number of answered batches and a random further delay, the agent is killed -9.
  const acked = new Array<number>(STAYS).fill(0)
  const refused: string[] = []
  const wrongAnswers: string[] = []
  let answered = 0
  let inFlight = 0
  let inFlightAtKill = -1
  const threshold = 5 + Math.floor(random() * (total * 0.7 - 5))
  const delay = Math.floor(random() * 25)
  let killed: Promise<void> | undefined
  const stream = async (s: number): Promise<void> => {
    for (const batch of feeds[s]) {
      let res: { status: number, json: any }
      inFlight++
      try {
        res = await before.post(`/v1/admissions/${mdtrtId(s)}/charges`, { feedetail: batch.lines })
      } catch {
        return // the connection died with the agent: this batch was not acknowledged
      } finally {
        inFlight--
      }
      if (res.status !== 200) {
        refused.push(`${mdtrtId(s)} batch ${batch.index}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`)
        return
      }
      acked[s] = batch.index + 1
      // Batches of a stay are sequential: the answer's totals are exactly the sum so far.
      const want = sums(feeds[s], batch.index + 1)
      if (res.json.accepted !== batch.distinct.length || JSON.stringify(pick(res.json.totals)) !== JSON.stringify(shown(want))) {
        wrongAnswers.push(`${mdtrtId(s)} batch ${batch.index}: accepted ${res.json.accepted as number}, totals ${JSON.stringify(res.json.totals)}`)
      }
      if (++answered === threshold) {
        killed = new Promise((resolve) => setTimeout(resolve, delay)).then(async () => {
          inFlightAtKill = inFlight
          await stop(first.child, 'SIGKILL')
        })
      }
    }
  }
  await Promise.all(Array.from({ length: STAYS }, async (_, s) => await stream(s)))
  await killed
  t.same(refused, [], 'every batch answered before the kill was accepted')
  t.same(wrongAnswers, [], 'every answer before the kill had the exact running totals')
  t.equal(first.child.signalCode, 'SIGKILL', 'the agent was killed -9')
  const ackedTotal = acked.reduce((a, b) => a + b, 0)
  t.ok(ackedTotal >= threshold && ackedTotal < total, `killed mid-feed: ${ackedTotal} of ${total} batches acknowledged (kill after ${threshold} answers + ${delay} ms)`)
  t.ok(inFlightAtKill > 0, `the kill hit batches in flight (${inFlightAtKill})`)

  // Restart on the same data directory. Before any retry: every acknowledged batch is there, and
  // each stay holds whole batches only — its acknowledged ones, plus at most the one that was in
  // flight (committed, but the answer was lost with the process).
  const second = await startAgent(t, env)
  const after = client(second.url, token)
  const probe = new Database(join(dataDir, DB_FILE), { readonly: true })
  const committed: number[] = []
  try {
    for (let s = 0; s < STAYS; s++) {
      const rows = activeLines(probe, mdtrtId(s))
      const lost = feeds[s].slice(0, acked[s]).flatMap((b) => b.distinct).filter((l) => {
        const row = rows.get(l.sn)
        return row === undefined || row.amount_fen !== l.amount || row.out_fen !== l.out
      })
      t.same(lost.map((l) => l.sn), [], `${mdtrtId(s)}: no line of its ${acked[s]} acknowledged batches is lost or altered`)
      const m = rows.size === sums(feeds[s], acked[s]).lines ? acked[s] : acked[s] + 1
      t.ok(m <= BATCHES, `${mdtrtId(s)}: at most one unacknowledged batch committed`)
      const whole = new Set(feeds[s].slice(0, m).flatMap((b) => b.distinct.map((l) => l.sn)))
      t.equal(rows.size, whole.size, `${mdtrtId(s)}: whole batches only (${m} committed, ${acked[s]} acknowledged)`)
      t.ok([...rows.keys()].every((sn) => whole.has(sn)), `${mdtrtId(s)}: no line of a later batch`)
      const stay = await after.get(`/v1/admissions/${mdtrtId(s)}`)
      t.equal(stay.status, 200)
      t.same(pick(stay.json.totals), shown(sums(feeds[s], m)), `${mdtrtId(s)}: totals after the crash are those of its committed batches`)
      t.equal(stay.json.line_count, whole.size)
      committed.push(m)
    }
  } finally {
    probe.close()
  }

  // The HIS retries everything, in the original order. Committed batches are all duplicates.
  const replayed: string[] = []
  for (let b = 0; b < BATCHES; b++) {
    for (let s = 0; s < STAYS; s++) {
      const batch = feeds[s][b]
      const res = await after.post(`/v1/admissions/${mdtrtId(s)}/charges`, { feedetail: batch.lines })
      const wantAccepted = b < committed[s] ? 0 : batch.distinct.length
      if (res.status !== 200 || res.json.accepted !== wantAccepted || res.json.accepted + res.json.duplicates.length !== batch.lines.length) {
        replayed.push(`${mdtrtId(s)} batch ${b}: ${res.status} accepted ${String(res.json?.accepted)} (want ${wantAccepted}) ${res.status === 200 ? '' : JSON.stringify(res.json).slice(0, 200)}`)
      }
    }
  }
  t.same(replayed, [], 'every replayed batch is a 200; committed ones count no line again')

  for (let s = 0; s < STAYS; s++) {
    const want = sums(feeds[s], BATCHES)
    const stay = await after.get(`/v1/admissions/${mdtrtId(s)}`)
    t.same(pick(stay.json.totals), shown(want), `${mdtrtId(s)}: final totals are the exact sums of all lines`)
    t.equal(stay.json.line_count, want.lines, `${mdtrtId(s)}: ${want.lines} distinct lines`)
  }
  await stop(second.child, 'SIGTERM')

  const db = new Database(join(dataDir, DB_FILE), { readonly: true })
  try {
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'integrity_check')
    for (let s = 0; s < STAYS; s++) {
      const want = sums(feeds[s], BATCHES)
      const lines = db.prepare('SELECT COALESCE(SUM(amount_fen), 0) AS medfee, COALESCE(SUM(out_fen), 0) AS out, COUNT(*) AS n FROM charge_line WHERE mdtrt_id = ? AND cancelled_at IS NULL').get(mdtrtId(s)) as { medfee: number, out: number, n: number }
      const stay = db.prepare('SELECT medfee_fen, in_catalog_fen, out_catalog_fen, line_count FROM stay WHERE mdtrt_id = ?').get(mdtrtId(s)) as { medfee_fen: number, in_catalog_fen: number, out_catalog_fen: number, line_count: number }
      t.same(stay, { medfee_fen: lines.medfee, in_catalog_fen: lines.medfee - lines.out, out_catalog_fen: lines.out, line_count: lines.n }, `${mdtrtId(s)}: the stay's running totals are the sums of its lines`)
      t.same(lines, { medfee: want.medfee, out: want.out, n: want.lines }, `${mdtrtId(s)}: the lines are exactly the ones sent`)
    }
  } finally {
    db.close()
  }
}

// FANGPIN_CRASH_SEED=<seed> replays a round that failed.
const base = process.env.FANGPIN_CRASH_SEED === undefined ? Date.now() : Number(process.env.FANGPIN_CRASH_SEED)
for (let r = 0; r < ROUNDS; r++) {
  const seed = (base + r * 7919) >>> 0
  t.test(`kill -9 at a random moment loses no acknowledged charge line and counts none twice (round ${r + 1}, seed ${seed})`, async (t) => {
    await round(t, seed)
  })
}
