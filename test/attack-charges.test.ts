// Hostile and malformed calls against the charge feed (2301/2302) and the order precheck, over a
// real listening server and a real database. A caller's mistake is a 4xx with the standard error
// body, never a 5xx; a refused batch changes nothing; the stay's totals stay exactly what the valid
// batches made them; the agent keeps serving.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { build, type Built } from './helper.ts'
import { admit, charge, line, records } from './charge-fixture.ts'

const STAY = 'ZY-ATK'

interface Res { status: number, json: any, text: string }

/** The standard error body with a 4xx status (and `status`/`code` when given). */
function isCallerError (t: Test, res: Res, status?: number, code?: string): void {
  if (status !== undefined) t.equal(res.status, status, `status ${status}`, { body: res.text.slice(0, 300) })
  t.ok(res.status >= 400 && res.status < 500, `a 4xx (got ${res.status})`, { body: res.text.slice(0, 300) })
  t.match(res.json, { error: { code: /^FANGPIN_[A-Z_]+$/, message: String } }, 'the standard error body')
  t.ok(Array.isArray(res.json?.error?.details), 'details is an array')
  if (code !== undefined) t.equal(res.json?.error?.code, code, code)
}

/**
 * Whether the error's details name `feedetail[index].field`. The schema layer writes the field as
 * a path (feedetail/0/cnt), the line checks as feedetail[0].cnt: both name the same field.
 */
function names (res: Res, index: number, field: string): boolean {
  const want = [`feedetail[${index}].${field}`, `feedetail/${index}/${field}`]
  return (res.json?.error?.details ?? []).some((d: any) => want.includes(d.field))
}

async function raw (b: Built, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Res> {
  const res = await fetch(b.url + path, { method, headers: { authorization: `Bearer ${b.token}`, ...headers }, body })
  const text = await res.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.status, json, text }
}

const charges = `/v1/admissions/${STAY}/charges`
const precheckPath = `/v1/admissions/${STAY}/precheck`

// What the valid batches below leave on the stay, in fen.
const BASE = { medfee: 255_000, out: 17_000, lines: 1005 }

/**
 * A server with one stay and its valid charges: four lines (01; 03 × 3 units; 02 with a 全自费
 * split; 02), a partial refund, a line charged and cancelled, and a batch of the maximum 1,000 lines.
 */
async function seeded (t: Test): Promise<Built> {
  const b = await build(t, { records })
  await admit(b, STAY)
  const first = await charge(b, STAY, [
    line('A1', 100_000, '01'),
    line('A2', 15_000, '03', { cnt: 3, pric: '50.00' }),
    line('A3', 20_000, '02', { fulamt_ownpay_amt: '20.00', inscp_scp_amt: '180.00' }),
    line('A4', 30_000, '02')
  ])
  t.equal(first.status, 200, 'four valid lines are accepted', { body: first.text.slice(0, 300) })
  const second = await charge(b, STAY, [line('R1', -10_000, '01', { init_feedetl_sn: 'A1' }), line('C1', 1000, '03')])
  t.equal(second.status, 200, 'a partial refund and a line to cancel are accepted', { body: second.text.slice(0, 300) })
  t.equal((await b.del(`${charges}/C1`)).json?.cancelled, true, 'C1 is cancelled')
  const max = await charge(b, STAY, Array.from({ length: 1000 }, (_, i) => line(`M${i}`, 100, '01')))
  t.equal(max.status, 200, 'a batch of exactly 1,000 lines is accepted')
  t.equal(max.json.accepted, 1000)
  await unchanged(t, b)
  return b
}

/** The stay's totals are exactly what the valid batches made them, and the agent still serves. */
async function unchanged (t: Test, b: Built): Promise<void> {
  const stay = await b.get(`/v1/admissions/${STAY}`)
  t.equal(stay.status, 200)
  t.same([stay.json.totals.medfee_sumamt, stay.json.totals.in_catalog_amt, stay.json.totals.out_of_catalog_amt, stay.json.line_count],
    [BASE.medfee / 100, (BASE.medfee - BASE.out) / 100, BASE.out / 100, BASE.lines], 'the stay\'s totals are exactly those of the valid batches')
  const lines = b.store.db.prepare('SELECT SUM(amount_fen) AS medfee, SUM(out_fen) AS out, COUNT(*) AS n FROM charge_line WHERE mdtrt_id = ? AND cancelled_at IS NULL').get(STAY)
  const row = b.store.db.prepare('SELECT medfee_fen AS medfee, out_catalog_fen AS out, line_count AS n FROM stay WHERE mdtrt_id = ?').get(STAY)
  t.same(lines, { medfee: BASE.medfee, out: BASE.out, n: BASE.lines }, 'the stored lines add up to them')
  t.same(row, lines, 'the running totals match the lines')
  t.equal((await b.get('/healthz')).status, 200, 'the agent still answers /healthz')
}

t.test('wrong types in every field of a line are 400s that name the field, and the batch applies nothing', async (t) => {
  const b = await seeded(t)
  const cases: Array<[string, unknown]> = [
    ['feedetl_sn', 123], ['feedetl_sn', 1.5], ['feedetl_sn', true], ['feedetl_sn', null], ['feedetl_sn', ['N1']], ['feedetl_sn', { sn: 'N1' }], ['feedetl_sn', ''],
    ['init_feedetl_sn', 5], ['init_feedetl_sn', { sn: 'A1' }], ['init_feedetl_sn', false],
    ['fee_ocur_time', 20261121100000], ['fee_ocur_time', null], ['fee_ocur_time', ['2026-11-21 10:00:00']],
    ['det_item_fee_sumamt', { yuan: 1 }], ['det_item_fee_sumamt', [1]], ['det_item_fee_sumamt', true], ['det_item_fee_sumamt', null],
    ['cnt', {}], ['cnt', [1]], ['cnt', false], ['cnt', null],
    ['pric', { v: 1 }], ['pric', []], ['pric', true], ['pric', null],
    ['chrgitm_lv', 1], ['chrgitm_lv', null], ['chrgitm_lv', ['01']], ['chrgitm_lv', '01 02'],
    ['fulamt_ownpay_amt', { a: 1 }], ['overlmt_amt', [0]], ['preselfpay_amt', true], ['inscp_scp_amt', {}],
    ['med_list_codg', 42], ['medins_list_codg', {}], ['med_list_name', ['药']]
  ]
  for (const [field, value] of cases) {
    // The bad line is the second: the good first line must not be applied either.
    const res = await charge(b, STAY, [line('NEW1', 500, '01'), line('NEW2', 500, '01', { [field]: value })])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 1, field), `${field}=${JSON.stringify(value)} is named`, { details: res.json?.error?.details })
    const pre = await b.post(precheckPath, { feedetail: [line('P1', 500, '01', { [field]: value })] })
    isCallerError(t, pre, 400, 'FANGPIN_VALIDATION')
    t.ok(names(pre, 0, field), `precheck: ${field}=${JSON.stringify(value)} is named`)
  }
  for (const field of ['feedetl_sn', 'fee_ocur_time', 'det_item_fee_sumamt', 'cnt', 'pric']) {
    const l = line('NEW1', 500, '01')
    delete l[field]
    const res = await charge(b, STAY, [l])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 0, field), `a missing ${field} is named`, { details: res.json?.error?.details })
  }
  t.equal(b.store.charges.get(STAY, 'NEW1'), undefined, 'no line of a refused batch was stored')
  await unchanged(t, b)
})

t.test('numbers that are not money are 400s naming the amount: huge, NaN-like, hex, exponent, full-width, three decimals', async (t) => {
  const b = await seeded(t)
  const notDecimal: unknown[] = [1e308, -1e308, 1e21, 1e20, '99999999999999999999', '1e5', '1E5', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '0o7',
    ' ', '', '１２', '１２.００', '12.', '.5', '+-1', '1,000.00', '1 000', '12元', '¥12', '--1', '1e-2', '1.2.3', 'null', 'true', '[]', '{}', '\u0000', '1\u00002']
  for (const v of notDecimal) {
    const res = await charge(b, STAY, [line('NEW1', 1200, '01', { det_item_fee_sumamt: v })])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 0, 'det_item_fee_sumamt'), `det_item_fee_sumamt=${JSON.stringify(v)} is named`, { details: res.json?.error?.details })
    for (const field of ['cnt', 'pric']) {
      const other = await charge(b, STAY, [line('NEW1', 1200, '01', { [field]: v })])
      isCallerError(t, other, 400, 'FANGPIN_VALIDATION')
      t.ok(names(other, 0, field), `${field}=${JSON.stringify(v)} is named`, { details: other.json?.error?.details })
    }
    // An empty split part is an absent one (and 0 + 12.00 is the amount); anything else here is not money.
    if (v === '') continue
    const split = await charge(b, STAY, [line('NEW1', 1200, '02', { fulamt_ownpay_amt: v, inscp_scp_amt: '12.00' })])
    isCallerError(t, split, 400, 'FANGPIN_VALIDATION')
    t.ok(names(split, 0, 'fulamt_ownpay_amt'), `fulamt_ownpay_amt=${JSON.stringify(v)} is named`)
  }
  // A third decimal of real money is a mapping error, refused rather than rounded.
  for (const v of ['1.234', 1.234, '12.005', 1.005, '0.001', '-0.001']) {
    const res = await charge(b, STAY, [line('NEW1', 1200, '01', { det_item_fee_sumamt: v })])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 0, 'det_item_fee_sumamt'), `det_item_fee_sumamt=${JSON.stringify(v)} is named`)
    t.equal(res.json.error.details[0].reason, 'not_fen', `${JSON.stringify(v)}: not_fen`)
  }
  // More than any single charge (100,000,000 yuan), as a string of 12 digits and as a number.
  for (const v of ['100000000.01', 999999999999, '-999999999999.99']) {
    const res = await charge(b, STAY, [line('NEW1', 1200, '01', { det_item_fee_sumamt: v })])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.equal(res.json.error.details[0].reason, 'too_large', `${JSON.stringify(v)}: too_large`)
  }
  for (const [field, v] of [['pric', '100000000.01'], ['cnt', '100000001']] as const) {
    const res = await charge(b, STAY, [line('NEW1', 1200, '01', { [field]: v })])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 0, field), `${field}=${v} is named`)
    t.equal(res.json.error.details[0].reason, 'too_large')
  }
  // The largest single charge itself is money: a precheck (nothing stored) takes it.
  const largest = await b.post(precheckPath, { feedetail: [line('P1', 10_000_000_000, '01')] })
  t.equal(largest.status, 200, 'a precheck of 100,000,000.00 yuan is answered', { body: largest.text.slice(0, 200) })
  t.equal(largest.json.totals.medfee_sumamt, (BASE.medfee + 10_000_000_000) / 100)
  // Floating-point noise of a serialised double is one fen, not a third decimal.
  const noise = await b.post(precheckPath, { feedetail: [line('P1', 30, '01', { det_item_fee_sumamt: 0.1 + 0.2, pric: 0.1 + 0.2 })] })
  t.equal(noise.status, 200, '0.30000000000000004 is 0.30', { body: noise.text.slice(0, 200) })
  t.equal(noise.json.totals.medfee_sumamt, (BASE.medfee + 30) / 100)
  await unchanged(t, b)
})

t.test('negative prices, amounts that do not match cnt × pric, splits that do not add up and impossible times are 400s', async (t) => {
  const b = await seeded(t)
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [line('NEW1', 1000, '01', { pric: '-10.00' }), 'pric', 'negative'],
    [line('NEW1', 1000, '01', { pric: -10, cnt: -1, det_item_fee_sumamt: '10.00' }), 'pric', 'negative'],
    [line('NEW1', 1000, '01', { det_item_fee_sumamt: '-10.00' }), 'det_item_fee_sumamt', 'amount_mismatch'],
    [line('NEW1', 1000, '01', { det_item_fee_sumamt: '10.02' }), 'det_item_fee_sumamt', 'amount_mismatch'],
    [line('NEW1', 1000, '01', { cnt: 2 }), 'det_item_fee_sumamt', 'amount_mismatch'],
    [line('NEW1', -1000, '01'), 'init_feedetl_sn', 'required'],
    [line('NEW1', -1000, '01', { init_feedetl_sn: 'NEW1' }), 'init_feedetl_sn', 'self_reference'],
    [line('NEW1', 1000, '02', { fulamt_ownpay_amt: '3.00', inscp_scp_amt: '6.00' }), 'fulamt_ownpay_amt', 'split_mismatch'],
    [line('NEW1', 1000, '02', { fulamt_ownpay_amt: '-1.00', inscp_scp_amt: '11.00' }), 'fulamt_ownpay_amt', 'sign'],
    [line('NEW1', 1000, '01', { chrgitm_lv: undefined }), 'chrgitm_lv', 'required'],
    [line('NEW1', 1000, '01', { chrgitm_lv: '  ' }), 'chrgitm_lv', 'required'],
    [line('NEW1', 1000, '01', { feedetl_sn: '   ' }), 'feedetl_sn', 'required'],
    [line('NEW1', 1000, '01', { feedetl_sn: '\u3000' }), 'feedetl_sn', 'required'],
    [line('NEW1', 1000, '01', { fee_ocur_time: '2026-02-30 10:00:00' }), 'fee_ocur_time', 'bad_date'],
    [line('NEW1', 1000, '01', { fee_ocur_time: '2026-11-21 24:00:00' }), 'fee_ocur_time', 'bad_date'],
    // Not even the shape of a time: the schema refuses it (the platform's 'YYYY-MM-DD HH:mm:ss').
    [line('NEW1', 1000, '01', { fee_ocur_time: 'NaN' }), 'fee_ocur_time', 'pattern'],
    [line('NEW1', 1000, '01', { fee_ocur_time: '' }), 'fee_ocur_time', 'pattern'],
    [line('NEW1', 1000, '01', { fee_ocur_time: '2026-11-21T10:00:00' }), 'fee_ocur_time', 'pattern']
  ]
  for (const [l, field, reason] of cases) {
    const res = await charge(b, STAY, [l])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 0, field), `${JSON.stringify(l).slice(0, 120)} names ${field}`, { details: res.json?.error?.details })
    t.equal(res.json.error.details[0]?.reason, reason, reason)
  }
  // The same feedetl_sn twice in one batch with different content.
  const twice = await charge(b, STAY, [line('NEW1', 1000, '01'), line('NEW1', 2000, '01')])
  isCallerError(t, twice, 400, 'FANGPIN_VALIDATION')
  t.ok(names(twice, 1, 'feedetl_sn'))
  t.equal(twice.json.error.details[0].reason, 'duplicate_in_batch')
  await unchanged(t, b)
})

t.test('refunds of unknown or cancelled lines, refunds of refunds, over-refunds and refunds across the catalog line are 409s that apply nothing', async (t) => {
  const b = await seeded(t)
  const conflicts: Array<[Array<Record<string, unknown>>, number, string, string]> = [
    [[line('N1', -100, '01', { init_feedetl_sn: 'NOPE' })], 0, 'init_feedetl_sn', 'unknown_line'],
    [[line('N1', -100, '03', { init_feedetl_sn: 'C1' })], 0, 'init_feedetl_sn', 'unknown_line'],
    [[line('N1', -100, '01', { init_feedetl_sn: 'R1' })], 0, 'init_feedetl_sn', 'refund_of_refund'],
    // A1 is 1,000.00 of which 100.00 was refunded: 900.00 is left.
    [[line('N1', -90_001, '01', { init_feedetl_sn: 'A1', cnt: -1 })], 0, 'det_item_fee_sumamt', 'over_refund'],
    [[line('N1', -50_000, '01', { init_feedetl_sn: 'A1' }), line('N2', -40_001, '01', { init_feedetl_sn: 'A1' })], 1, 'det_item_fee_sumamt', 'over_refund'],
    [[line('N1', -20_000, '03', { init_feedetl_sn: 'A2', cnt: -4, pric: '50.00' })], 0, 'det_item_fee_sumamt', 'over_refund'],
    // A refund cannot move spending across the catalog line: A1 is in catalog, A2 out of it, A3 has 20.00 out.
    [[line('N1', -10_000, '03', { init_feedetl_sn: 'A1' })], 0, 'chrgitm_lv', 'refund_split'],
    [[line('N1', -5000, '01', { init_feedetl_sn: 'A2', cnt: -1, pric: '50.00' })], 0, 'chrgitm_lv', 'refund_split'],
    [[line('N1', -10_000, '02', { init_feedetl_sn: 'A1', chrgitm_lv: undefined, fulamt_ownpay_amt: '-100.00' })], 0, 'fulamt_ownpay_amt', 'refund_split'],
    [[line('N1', -5000, '02', { init_feedetl_sn: 'A3', chrgitm_lv: undefined, fulamt_ownpay_amt: '-30.00', inscp_scp_amt: '-20.00' })], 0, 'fulamt_ownpay_amt', 'refund_split'],
    [[line('N1', -5000, '03', { init_feedetl_sn: 'A3' })], 0, 'chrgitm_lv', 'refund_split'],
    // A valid new line before a bad refund is not applied either.
    [[line('N0', 700, '01'), line('N1', -100, '01', { init_feedetl_sn: 'NOPE' })], 1, 'init_feedetl_sn', 'unknown_line'],
    // A line that changed content under a feedetl_sn already received.
    [[line('A1', 100_001, '01')], 0, 'feedetl_sn', 'changed_content'],
    [[line('A1', 100_000, '03')], 0, 'feedetl_sn', 'changed_content'],
    [[line('N0', 700, '01'), line('A4', 30_000, '01')], 1, 'feedetl_sn', 'changed_content']
  ]
  for (const [lines, index, field, reason] of conflicts) {
    const res = await charge(b, STAY, lines)
    isCallerError(t, res, 409, 'FANGPIN_CHARGE_CONFLICT')
    t.ok(names(res, index, field), `${reason} names feedetail[${index}].${field}`, { details: res.json?.error?.details })
    t.equal(res.json.error.details[0]?.reason, reason, reason)
    // What the charge refuses, the precheck does not predict.
    if (reason !== 'changed_content') {
      const pre = await b.post(precheckPath, { feedetail: lines })
      isCallerError(t, pre, 409, 'FANGPIN_CHARGE_CONFLICT')
      t.equal(pre.json.error.details[0]?.reason, reason, `precheck: ${reason}`)
    }
  }
  t.equal(b.store.charges.get(STAY, 'N0'), undefined, 'no line of a refused batch was stored')
  t.equal(b.store.charges.get(STAY, 'N1'), undefined)
  // A line with an active refund cannot be cancelled before its refund.
  const cancel = await b.del(`${charges}/A1`)
  isCallerError(t, cancel, 409, 'FANGPIN_CHARGE_CONFLICT')
  // Retrying a valid batch is counted once.
  const retry = await charge(b, STAY, [line('A1', 100_000, '01'), line('R1', -10_000, '01', { init_feedetl_sn: 'A1' }), line('A1', 100_000, '01')])
  t.equal(retry.status, 200)
  t.equal(retry.json.accepted, 0)
  t.same(retry.json.duplicates, ['A1', 'R1', 'A1'])
  await unchanged(t, b)
})

t.test('a refund without level of a line with a split, refunded in pieces, returns exactly what the line had', async (t) => {
  // 0.03 yuan of which 0.02 out of catalog, refunded 0.01 at a time: each piece rounds its share
  // toward zero, but the pieces together return exactly 0.02 out and 0.01 in.
  const b = await build(t, { records })
  await admit(b, STAY)
  const first = await charge(b, STAY, [line('S1', 3, '02', { cnt: 3, pric: '0.01', fulamt_ownpay_amt: '0.02', inscp_scp_amt: '0.01' })])
  t.equal(first.status, 200)
  for (const sn of ['P1', 'P2', 'P3']) {
    const res = await charge(b, STAY, [line(sn, -1, '02', { init_feedetl_sn: 'S1', chrgitm_lv: undefined })])
    t.equal(res.status, 200, `refund ${sn} of 0.01 is accepted`, { body: res.text.slice(0, 200) })
  }
  const row = b.store.db.prepare('SELECT medfee_fen, in_catalog_fen, out_catalog_fen FROM stay WHERE mdtrt_id = ?').get(STAY)
  t.same(row, { medfee_fen: 0, in_catalog_fen: 0, out_catalog_fen: 0 }, 'a fully refunded line leaves nothing on either side')
  const more = await charge(b, STAY, [line('P4', -1, '02', { init_feedetl_sn: 'S1', chrgitm_lv: undefined })])
  isCallerError(t, more, 409, 'FANGPIN_CHARGE_CONFLICT')
})

t.test('10,000 lines are refused whole: 400 past the 1,000-line limit, 413 past the body limit', async (t) => {
  const b = await seeded(t)
  const compact = (i: number): Record<string, unknown> => ({ feedetl_sn: `X${i}`, fee_ocur_time: '2026-11-21 10:00:00', det_item_fee_sumamt: 1, cnt: 1, pric: 1, chrgitm_lv: '01' })
  const small = await b.post(charges, { feedetail: Array.from({ length: 10_000 }, (_, i) => compact(i)) })
  isCallerError(t, small, 400, 'FANGPIN_VALIDATION')
  t.same(small.json.error.details.map((d: any) => d.field), ['feedetail'])
  t.ok(small.text.length < 4096, 'one short error, not one per line')
  const oneTooMany = await b.post(charges, { feedetail: Array.from({ length: 1001 }, (_, i) => compact(i)) })
  isCallerError(t, oneTooMany, 400, 'FANGPIN_VALIDATION')
  const preTooMany = await b.post(precheckPath, { feedetail: Array.from({ length: 1001 }, (_, i) => compact(i)) })
  isCallerError(t, preTooMany, 400, 'FANGPIN_VALIDATION')
  const full = await charge(b, STAY, Array.from({ length: 10_000 }, (_, i) => line(`X${i}`, 100, '01')))
  isCallerError(t, full, 413, 'FANGPIN_BODY_TOO_LARGE')
  const none = await b.post(charges, { feedetail: [] })
  isCallerError(t, none, 400, 'FANGPIN_VALIDATION')
  t.equal(b.store.charges.get(STAY, 'X0'), undefined)
  await unchanged(t, b)
})

t.test('deeply nested JSON in a charge body is a 4xx or ignored, never a crash', async (t) => {
  const b = await seeded(t)
  const deep = '['.repeat(100_000) + ']'.repeat(100_000)
  const deepObject = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)
  for (const body of [`{"feedetail":${deep}}`, `{"feedetail":[${deep}]}`, `{"feedetail":[{"feedetl_sn":"D1","det_item_fee_sumamt":${deep}}]}`,
    `{"feedetail":[${deepObject}]}`, `{"feedetail":${deepObject}}`]) {
    const res = await b.post(charges, body)
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    const pre = await b.post(precheckPath, body)
    isCallerError(t, pre, 400, 'FANGPIN_VALIDATION')
  }
  // Unterminated nesting is not JSON.
  const open = await b.post(charges, `{"feedetail":${'['.repeat(100_000)}`)
  isCallerError(t, open, 400, 'FANGPIN_MALFORMED_JSON')
  // Deep nesting in a field the agent ignores: the line is read, the junk is not (precheck stores nothing).
  const valid = JSON.stringify(line('D1', 1000, '01')).slice(0, -1)
  for (const junk of [deep, deepObject]) {
    const res = await b.post(precheckPath, `{"feedetail":[${valid},"x":${junk}}]}`)
    t.equal(res.status, 200, 'the line is read, the nested junk ignored', { body: res.text.slice(0, 200) })
    t.equal(res.json.totals.medfee_sumamt, (BASE.medfee + 1000) / 100)
  }
  // A deep __proto__ key is refused before it reaches the code.
  const poisoned = await b.post(charges, `{"feedetail":[${valid},"x":${'{"__proto__":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`)
  isCallerError(t, poisoned, 400, 'FANGPIN_MALFORMED_JSON')
  t.equal(({} as any).a, undefined, 'no prototype pollution')
  await unchanged(t, b)
})

t.test('bodies that are not a JSON object of lines are refused: content types, charsets, no body, empty body, malformed JSON', async (t) => {
  const b = await seeded(t)
  const good = JSON.stringify({ feedetail: [line('CT1', 1000, '01')] })
  for (const path of [charges, precheckPath]) {
    for (const ct of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/html']) {
      isCallerError(t, await raw(b, 'POST', path, good, { 'content-type': ct }), 415, 'FANGPIN_UNSUPPORTED_MEDIA_TYPE')
    }
    for (const ct of ['application/json; charset=gbk', 'application/json; charset=utf-16le', 'application/json;charset="GB18030"']) {
      isCallerError(t, await raw(b, 'POST', path, good, { 'content-type': ct }), 415, 'FANGPIN_UNSUPPORTED_MEDIA_TYPE')
    }
    // text/plain is read as a string, and a string is not the object of lines.
    isCallerError(t, await raw(b, 'POST', path, good, { 'content-type': 'text/plain' }), 400, 'FANGPIN_VALIDATION')
    isCallerError(t, await raw(b, 'POST', path, undefined, {}), 400, 'FANGPIN_VALIDATION')
    isCallerError(t, await raw(b, 'POST', path, '', { 'content-type': 'application/json' }), 400, 'FANGPIN_MALFORMED_JSON')
    isCallerError(t, await raw(b, 'POST', path, '   \n', { 'content-type': 'application/json' }), 400, 'FANGPIN_MALFORMED_JSON')
    for (const body of ['{"feedetail":[', '{"feedetail":[{"det_item_fee_sumamt":NaN}]}', '{"feedetail":[{"cnt":Infinity}]}', "{'feedetail':[]}",
      '{"feedetail":[],}', '{"feedetail":[{"pric":0x10}]}', '{"feedetail":[{"pric":01}]}']) {
      isCallerError(t, await raw(b, 'POST', path, body, { 'content-type': 'application/json' }), 400, 'FANGPIN_MALFORMED_JSON')
    }
    for (const body of ['[]', 'null', '42', '"feedetail"', '{}', '{"feedetail":{}}', '{"feedetail":"A1"}', '{"feedetail":[null]}', '{"feedetail":[[]]}', '{"feedetail":[1]}',
      '\ufeff{"feedetail":[]}']) {
      isCallerError(t, await raw(b, 'POST', path, body, { 'content-type': 'application/json' }), 400, 'FANGPIN_VALIDATION')
    }
  }
  t.equal(b.store.charges.get(STAY, 'CT1'), undefined)
  await unchanged(t, b)
})

t.test('mdtrt_id and feedetl_sn in the path: too long, unknown, control characters, bad percent-encoding', async (t) => {
  const b = await seeded(t)
  const body = { feedetail: [line('PATH1', 1000, '01')] }
  for (const path of ['charges', 'precheck']) {
    isCallerError(t, await b.post(`/v1/admissions/${'Z'.repeat(65)}/${path}`, body), 400, 'FANGPIN_VALIDATION')
    isCallerError(t, await b.post(`/v1/admissions/NOPE/${path}`, body), 404, 'FANGPIN_NOT_FOUND')
    // No admission can have a control character in its visit id: the caller's error, naming mdtrt_id.
    isCallerError(t, await b.post(`/v1/admissions/${encodeURIComponent('ZY-ATK\u0000')}/${path}`, body), 400, 'FANGPIN_VALIDATION')
    isCallerError(t, await b.post(`/v1/admissions/%E0%A4%A/${path}`, body), 400, 'FANGPIN_BAD_REQUEST')
    // A path longer than the HTTP server's header limit is refused before routing.
    const huge = await b.post(`/v1/admissions/${'Z'.repeat(100_000)}/${path}`, body)
    t.equal(huge.status, 431, 'request header fields too large')
  }
  isCallerError(t, await b.get(`/v1/admissions/${'Z'.repeat(65)}`), 400, 'FANGPIN_VALIDATION')
  isCallerError(t, await b.del(`${charges}/${'9'.repeat(65)}`), 400, 'FANGPIN_VALIDATION')
  isCallerError(t, await b.del(`${charges}/NOPE`), 404, 'FANGPIN_NOT_FOUND')
  isCallerError(t, await b.del(`${charges}/%00`), 404, 'FANGPIN_NOT_FOUND')
  isCallerError(t, await b.del(`${charges}/%20`), 404, 'FANGPIN_NOT_FOUND')
  isCallerError(t, await b.del(`${charges}/%E0%A4%A`), 400, 'FANGPIN_BAD_REQUEST')
  isCallerError(t, await b.del('/v1/admissions/NOPE/charges/A1'), 404, 'FANGPIN_NOT_FOUND')
  const empty = await b.del(`${charges}/`)
  isCallerError(t, empty, 400, 'FANGPIN_VALIDATION')
  t.same(empty.json.error.details.map((d: any) => d.field), ['feedetl_sn'])
  // Another stay's line is not this stay's.
  await admit(b, 'ZY-OTHER')
  isCallerError(t, await b.del('/v1/admissions/ZY-OTHER/charges/A1'), 404, 'FANGPIN_NOT_FOUND')
  // Without a token nothing is read or changed.
  const anon = await fetch(`${b.url}${charges}/A4`, { method: 'DELETE' })
  t.equal(anon.status, 401)
  const anonCharge = await fetch(b.url + charges, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.equal(anonCharge.status, 401)
  t.equal(b.store.charges.get(STAY, 'PATH1'), undefined)
  await unchanged(t, b)
})

t.test('feedetl_sn with control characters or lone surrogates is refused; other unicode is kept exactly and cancelled by its own name', async (t) => {
  const b = await seeded(t)
  for (const sn of ['A\u0000', 'L\ud800', 'L\udc00x', 'A\n1', '\tA1', 'A\u001f', 'A\r\n', '\u0007']) {
    const res = await charge(b, STAY, [line('OK1', 100, '01'), line(sn, 100, '01')])
    isCallerError(t, res, 400, 'FANGPIN_VALIDATION')
    t.ok(names(res, 1, 'feedetl_sn'), JSON.stringify(sn))
  }
  isCallerError(t, await charge(b, STAY, [line('S'.repeat(65), 100, '01')]), 400, 'FANGPIN_VALIDATION')
  const odd = ['U\u200b1', 'U\u202e2', '费用-甲-3', 'U😀4', 'U\u00ad5', 'Ｕ６', 'U 7', 'U\u0301\u03018', 'S'.repeat(64)]
  const res = await charge(b, STAY, odd.map((sn) => line(sn, 100, '01', { med_list_codg: 'X', medins_list_codg: 'H', med_list_name: '项目' })))
  t.equal(res.status, 200, 'lines with unusual unicode in feedetl_sn are accepted', { body: res.text.slice(0, 200) })
  t.equal(res.json.accepted, odd.length)
  t.same(odd.map((sn) => b.store.charges.get(STAY, sn)?.feedetl_sn), odd, 'each feedetl_sn is stored exactly as sent')
  // Padding is not part of the number: ' U 7 ' is 'U 7' again.
  const padded = await charge(b, STAY, [line(' U 7\u3000', 100, '01', { med_list_codg: 'X', medins_list_codg: 'H', med_list_name: '项目' })])
  t.equal(padded.status, 200)
  t.same(padded.json.duplicates, ['U 7'])
  t.equal(padded.json.accepted, 0)
  for (const sn of odd) {
    const del = await b.del(`${charges}/${encodeURIComponent(sn)}`)
    t.equal(del.status, 200, JSON.stringify(sn))
    t.equal(del.json.cancelled, true)
  }
  await unchanged(t, b)
})

// Values that are not valid for a field whatever the rest of the line says.
const junkString = fc.string({ maxLength: 20 }).map((s) => `x${s}`)
const nonString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }), fc.object({ maxDepth: 2 }))
const notMoney = fc.oneof(junkString, fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }), fc.object({ maxDepth: 2 }),
  fc.double({ min: 1e9, noNaN: true, noDefaultInfinity: true }), fc.double({ max: -1e9, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e5', '0x10', ' ', '', '１２', '1.234', '99999999999999999999', '1,00'))
const badField: Record<string, fc.Arbitrary<unknown>> = {
  feedetl_sn: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }), fc.constantFrom('', ' ', '\u3000', 'a\u0000', 'a\nb', 'S'.repeat(65))),
  fee_ocur_time: fc.oneof(nonString, junkString, fc.constantFrom('2026-02-30 10:00:00', '2026-11-21T10:00:00', '')),
  det_item_fee_sumamt: notMoney,
  cnt: fc.oneof(junkString, fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }), fc.double({ min: 1e12, noNaN: true, noDefaultInfinity: true })),
  pric: fc.oneof(notMoney, fc.integer({ min: -1_000_000, max: -1 })),
  chrgitm_lv: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }), fc.string({ minLength: 5, maxLength: 10 })),
  init_feedetl_sn: fc.oneof(fc.integer(), fc.boolean(), fc.object({ maxDepth: 1 }), fc.constant('S'.repeat(65))),
  fulamt_ownpay_amt: fc.oneof(junkString, fc.boolean(), fc.object({ maxDepth: 1 })),
  overlmt_amt: fc.oneof(junkString, fc.boolean(), fc.array(fc.integer(), { maxLength: 2 })),
  preselfpay_amt: fc.oneof(junkString, fc.object({ maxDepth: 1 })),
  inscp_scp_amt: fc.oneof(junkString, fc.boolean())
}
const fieldNames = Object.keys(badField)
const anyValue = fc.oneof(fc.anything({ maxDepth: 2 }), fc.string(), fc.double(), fc.integer())

/** A line that is wrong in one of `fields` at least, with anything in the others (valid values included). */
const garbageLine = (fields: string[]): fc.Arbitrary<Record<string, unknown>> => fc.tuple(
  fc.constantFrom(...fields),
  fc.boolean(),
  fc.integer({ min: 1, max: 100_000 }),
  fc.constantFrom('01', '02', '03'),
  fc.dictionary(fc.constantFrom(...fieldNames, 'med_list_codg', 'extra', 'hilist_code'), anyValue, { maxKeys: 4 })
).chain(([field, missing, fen, lv, noise]) => (missing && ['feedetl_sn', 'fee_ocur_time', 'det_item_fee_sumamt', 'cnt', 'pric'].includes(field)
  ? fc.constant(undefined)
  : badField[field]).map((bad) => {
  const l: Record<string, unknown> = { ...line(`G${fen}`, fen, lv as '01'), ...noise }
  delete l[field]
  if (bad !== undefined) l[field] = bad
  return l
}))
const validLine = fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('01', '02', '03')).map(([fen, lv]) => line(`V${fen}`, fen, lv as '01'))
const garbageBatch = (fields: string[]): fc.Arbitrary<Array<Record<string, unknown>>> => fc.tuple(fc.array(garbageLine(fields), { minLength: 1, maxLength: 4 }), fc.array(validLine, { maxLength: 4 }), fc.nat())
  .map(([bad, good, at]) => {
    const all = [...good]
    for (const l of bad) all.splice(at % (all.length + 1), 0, l)
    return all
  })

t.test('property: batches with random garbage lines are always a 4xx and never change the stay', async (t) => {
  const b = await seeded(t)
  const seen = new Map<number, number>()
  // A precheck needs no feedetl_sn: a blank or missing one is not wrong there.
  const target = fc.oneof(fc.constant({ path: charges, lines: garbageBatch(fieldNames) }), fc.constant({ path: precheckPath, lines: garbageBatch(fieldNames.filter((f) => f !== 'feedetl_sn')) }))
    .chain(({ path, lines }) => lines.map((l) => ({ path, lines: l })))
  await fc.assert(fc.asyncProperty(target, async ({ path, lines }) => {
    const res = await b.post(path, { feedetail: lines })
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1)
    return res.status === 400 && ['FANGPIN_VALIDATION', 'FANGPIN_MALFORMED_JSON'].includes(res.json?.error?.code) && Array.isArray(res.json.error.details)
  }), { numRuns: 300 })
  t.same([...seen.keys()], [400], `status counts: ${JSON.stringify(Object.fromEntries(seen))}`)
  await unchanged(t, b)
})

t.test('property: any JSON value as a charge or precheck body is a 4xx, never a 5xx', async (t) => {
  const b = await seeded(t)
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({ feedetail: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }) }),
    fc.record({ feedetail: fc.array(fc.dictionary(fc.constantFrom(...fieldNames), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 3 }) })
  )
  await fc.assert(fc.asyncProperty(body, fc.boolean(), async (value, pre) => {
    const res = await b.post(pre ? precheckPath : charges, JSON.stringify(value) ?? 'null')
    // A random body could at most be a precheck of lines the stay accepts; a charge never gets one.
    return (res.status >= 400 && res.status < 500 && typeof res.json?.error?.code === 'string') || (pre && res.status === 200)
  }), { numRuns: 300 })
  await unchanged(t, b)
})

t.test('property: DELETE of any other feedetl_sn is a 4xx and cancels nothing', async (t) => {
  const b = await seeded(t)
  const stored = new Set((b.store.db.prepare('SELECT feedetl_sn FROM charge_line').pluck().all() as string[]))
  const sn = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 10 }))
    .filter((s) => {
      try { encodeURIComponent(s) } catch { return false }
      return !stored.has(s.replace(/^[\s\u3000]+|[\s\u3000]+$/g, ''))
    })
  await fc.assert(fc.asyncProperty(sn, async (s) => {
    const res = await b.del(`${charges}/${encodeURIComponent(s)}`)
    return res.status >= 400 && res.status < 500 && typeof res.json?.error?.code === 'string'
  }), { numRuns: 300 })
  await unchanged(t, b)
})
