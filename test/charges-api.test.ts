// POST/DELETE /v1/admissions/:mdtrt_id/charges over a real server and database: exact totals,
// idempotent lines, refunds, whole-or-nothing batches, the platform's split.
import t from 'tap'
import { build } from './helper.ts'
import { records, admit, charge, line, POOR, NOBODY } from './charge-fixture.ts'
import { indexProfile, shippedSpec } from '../profile/profile.ts'

t.test('a batch updates the stay\'s running totals exactly, in fen', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  // 0.1 + 0.2 is not 0.3 in floating point; in fen it is.
  const res = await charge(b, 'ZY1', [line('1', 10, '01'), line('2', 20, '02'), line('3', 1, '03'), line('4', 123456, '03', { det_item_fee_sumamt: 1234.56, pric: '1234.560000' })])
  t.equal(res.status, 200)
  t.equal(res.json.accepted, 4)
  t.same(res.json.duplicates, [])
  t.equal(res.json.totals.medfee_sumamt, 1234.87)
  t.equal(res.json.totals.in_catalog_amt, 0.3)
  t.equal(res.json.totals.out_of_catalog_amt, 1234.57)
  const row = b.store.db.prepare('SELECT medfee_fen, in_catalog_fen, out_catalog_fen, line_count FROM stay WHERE mdtrt_id = ?').get('ZY1')
  t.same(row, { medfee_fen: 123487, in_catalog_fen: 30, out_catalog_fen: 123457, line_count: 4 })
})

t.test('the ratio, headroom and status follow the 90 % rule', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 900000, '01'), line('2', 50000, '03')])
  t.equal(res.json.status, 'ok')
  t.equal(res.json.totals.in_catalog_ratio, 0.9473)
  t.equal(res.json.totals.out_of_catalog_ratio, 0.0527)
  const odd = await b.post('/v1/admissions/ZY1/precheck', { feedetail: [line('p', 33333, '01')] })
  // (500 + x) / (9833.33 + x) ≤ 10 % → x ≤ 537.03…: rounded down to the fen.
  t.equal(odd.json.totals.headroom_amt, 537.03)
  // (500 + x) / (9500 + x) = 10 % → x = 500 yuan.
  t.equal(res.json.totals.headroom_amt, 500)
  const within = await charge(b, 'ZY1', [line('3', 50000, '03')])
  t.equal(within.json.status, 'warning')
  t.equal(within.json.totals.headroom_amt, 0)
  t.equal(within.json.totals.in_catalog_ratio, 0.9)
  const over = await charge(b, 'ZY1', [line('4', 1, '03')])
  t.equal(over.json.status, 'breach', 'one fen more out of catalog passes the limit')
  t.equal(over.json.totals.in_catalog_ratio, 0.8999, 'a ratio just under 90 % never reads as 0.9')
})

t.test('exactly 90 % in catalog is within the rule', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 900000, '02'), line('2', 100000, '03')])
  t.equal(res.json.status, 'warning')
  t.equal(res.json.totals.in_catalog_ratio, 0.9)
  t.equal(res.json.totals.headroom_amt, 0)
})

t.test('the same batch sent again is counted once and reported as duplicates', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const batch = [line('1', 10000, '01'), line('2', 2000, '03')]
  const first = await charge(b, 'ZY1', batch)
  const again = await charge(b, 'ZY1', batch)
  t.equal(again.status, 200)
  t.equal(again.json.accepted, 0)
  t.same(again.json.duplicates, ['1', '2'])
  t.same(again.json.totals, first.json.totals)
  // The same content written differently (number vs string, 10 vs 10.00) is the same line.
  const rewritten = await charge(b, 'ZY1', [{ ...batch[0], det_item_fee_sumamt: 100, pric: '100.000000', cnt: '1.0000' }])
  t.same(rewritten.json.duplicates, ['1'])
  t.equal(rewritten.json.totals.medfee_sumamt, 120)
})

t.test('a line repeated with other content is a 409 and nothing of the batch is applied', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 10000, '01')])
  const res = await charge(b, 'ZY1', [line('2', 5000, '01'), line('1', 20000, '01')])
  t.equal(res.status, 409)
  t.equal(res.json.error.code, 'FANGPIN_CHARGE_CONFLICT')
  t.equal(res.json.error.details[0].field, 'feedetail/1/feedetl_sn')
  const stay = await b.get('/v1/admissions/ZY1')
  t.equal(stay.json.totals.medfee_sumamt, 100, 'line 2 of the refused batch was not applied')
  t.equal(stay.json.line_count, 1)
})

t.test('a refund line returns part of its original and moves the totals back', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 30000, '03', { cnt: 3, pric: 100 })])
  // Refund one of the three units, without a level: it takes its original's out-of-catalog share.
  const res = await charge(b, 'ZY1', [{ feedetl_sn: '3', init_feedetl_sn: '2', fee_ocur_time: '2026-11-22 08:00:00', det_item_fee_sumamt: -100, cnt: -1, pric: 100 }])
  t.equal(res.status, 200)
  t.equal(res.json.totals.medfee_sumamt, 1200)
  t.equal(res.json.totals.out_of_catalog_amt, 200)
  const over = await charge(b, 'ZY1', [line('4', -30000, '03', { init_feedetl_sn: '2', cnt: -3, pric: 100 })])
  t.equal(over.status, 409, 'refunding more than is left of the line is refused')
  t.equal(over.json.error.details[0].reason, 'over_refund')
  const unknown = await charge(b, 'ZY1', [line('5', -100, '03', { init_feedetl_sn: 'nope' })])
  t.equal(unknown.status, 409)
  t.equal(unknown.json.error.details[0].field, 'feedetail/0/init_feedetl_sn')
  const noInit = await charge(b, 'ZY1', [line('6', -100, '03')])
  t.equal(noInit.status, 400)
  t.equal(noInit.json.error.details[0].field, 'feedetail/0/init_feedetl_sn')
})

t.test('a refund of a line charged earlier in the same batch is applied', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 5000, '03'), line('2', -5000, '03', { init_feedetl_sn: '1' })])
  t.equal(res.status, 200)
  t.equal(res.json.accepted, 2)
  t.equal(res.json.totals.medfee_sumamt, 0)
  t.equal(res.json.totals.in_catalog_ratio, null)
})

t.test('DELETE cancels a line (2302); cancelling again changes nothing', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 20000, '03')])
  const res = await b.del('/v1/admissions/ZY1/charges/2')
  t.equal(res.status, 200)
  t.equal(res.json.cancelled, true)
  t.equal(res.json.totals.out_of_catalog_amt, 0)
  t.equal(res.json.status, 'ok')
  const again = await b.del('/v1/admissions/ZY1/charges/2')
  t.equal(again.json.cancelled, false)
  t.equal(again.json.totals.medfee_sumamt, 1000)
  t.equal((await b.del('/v1/admissions/ZY1/charges/9')).status, 404)
  // After 2302 the HIS may upload the line again under the same feedetl_sn.
  const reupload = await charge(b, 'ZY1', [line('2', 10000, '03')])
  t.equal(reupload.json.accepted, 1)
  t.equal(reupload.json.totals.out_of_catalog_amt, 100)
  const audit = b.store.audit.recent(10, 'charge.cancel')
  t.equal(audit.length, 1)
})

t.test('a line with refunds cannot be cancelled before its refunds', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 5000, '03'), line('2', -1000, '03', { init_feedetl_sn: '1', cnt: -1, pric: 10 })])
  const res = await b.del('/v1/admissions/ZY1/charges/1')
  t.equal(res.status, 409)
  t.equal((await b.del('/v1/admissions/ZY1/charges/2')).status, 200)
  t.equal((await b.del('/v1/admissions/ZY1/charges/1')).json.totals.medfee_sumamt, 0)
})

t.test('cnt × pric must match the amount within 0.01 yuan, naming the line and field', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const ok = await charge(b, 'ZY1', [line('1', 1000, '01', { cnt: 3, pric: '3.3333', det_item_fee_sumamt: 10 })])
  t.equal(ok.status, 200, '3 × 3.3333 = 9.9999 is within 0.01 of 10.00')
  const res = await charge(b, 'ZY1', [line('2', 1000, '01'), line('3', 1000, '01', { cnt: 2 })])
  t.equal(res.status, 400)
  t.equal(res.json.error.code, 'FANGPIN_VALIDATION')
  t.equal(res.json.error.details[0].field, 'feedetail/1/det_item_fee_sumamt')
  t.match(res.json.error.message, /cnt × pric/)
  t.equal((await b.get('/v1/admissions/ZY1')).json.line_count, 1)
})

t.test('the platform split decides the out-of-catalog amount and must add up', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const split = { chrgitm_lv: '02', fulamt_ownpay_amt: 30, overlmt_amt: 20, preselfpay_amt: 10, inscp_scp_amt: 40 }
  const res = await charge(b, 'ZY1', [line('1', 10000, '02', split)])
  t.equal(res.status, 200)
  t.equal(res.json.totals.out_of_catalog_amt, 30, '全自费 counts; 超限价 does not under this profile')
  const bad = await charge(b, 'ZY1', [line('2', 10000, '02', { ...split, inscp_scp_amt: 39.99 })])
  t.equal(bad.status, 400)
  t.equal(bad.json.error.details[0].reason, 'split_mismatch')
  t.equal(bad.json.error.details[0].field, 'feedetail/0/fulamt_ownpay_amt')
  const noLevel = await charge(b, 'ZY1', [line('3', 100, '01', { chrgitm_lv: undefined })])
  t.equal(noLevel.status, 400)
  t.equal(noLevel.json.error.details[0].field, 'feedetail/0/chrgitm_lv')
})

t.test('a profile that counts 超限价 adds overlmt_amt to the out-of-catalog amount', async (t) => {
  const base = shippedSpec('guangxi-liuzhou')
  const profile = indexProfile({ ...base, spending: { ...base.spending!, overlmt_counts_as_out_of_catalog: true } })
  const b = await build(t, { records, profile })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 10000, '02', { fulamt_ownpay_amt: 30, overlmt_amt: 20, preselfpay_amt: 10, inscp_scp_amt: 40 })])
  t.equal(res.json.totals.out_of_catalog_amt, 50)
})

t.test('amounts that are not money are refused, not rounded', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  for (const [value, reason] of [['1.234', 'not_fen'], ['NaN', 'not_a_decimal'], ['1e3', 'not_a_decimal'], [1e21, 'not_a_decimal'], ['999999999999', 'too_large']] as const) {
    const res = await charge(b, 'ZY1', [line('1', 100, '01', { det_item_fee_sumamt: value })])
    t.equal(res.status, 400, `${String(value)} is refused`)
    t.equal(res.json.error.details[0].reason, reason)
  }
  // A double that some HIS serialises (0.1 + 0.2) is float noise around a whole fen.
  const noise = await charge(b, 'ZY1', [line('2', 30, '01', { det_item_fee_sumamt: 0.1 + 0.2, pric: 0.3 })])
  t.equal(noise.status, 200)
  t.equal(noise.json.totals.medfee_sumamt, 0.3)
})

t.test('a repeated feedetl_sn inside one batch: same content once, other content refused', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const same = await charge(b, 'ZY1', [line('1', 100, '01'), line('1', 100, '01')])
  t.equal(same.json.accepted, 1)
  t.same(same.json.duplicates, ['1'])
  const other = await charge(b, 'ZY1', [line('2', 100, '01'), line('2', 200, '01')])
  t.equal(other.status, 400)
  t.equal(other.json.error.details[0].field, 'feedetail/1/feedetl_sn')
})

t.test('charges for an unknown stay are a 404; for a discharged stay a 409', async (t) => {
  const b = await build(t, { records })
  const unknown = await charge(b, 'NOPE', [line('1', 100, '01')])
  t.equal(unknown.status, 404)
  t.equal(unknown.json.error.code, 'FANGPIN_NOT_FOUND')
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100, '01')])
  t.equal((await b.post('/v1/admissions/ZY1/discharge', { endtime: '2026-11-23 10:00:00', dscg_way: '1' })).status, 200)
  const late = await charge(b, 'ZY1', [line('2', 100, '01')])
  t.equal(late.status, 409)
  t.equal(late.json.error.code, 'FANGPIN_STAY_CLOSED')
  t.equal((await b.del('/v1/admissions/ZY1/charges/1')).status, 409)
})

t.test('charges of a patient not on the list are recorded but not monitored', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY9', NOBODY)
  const res = await charge(b, 'ZY9', [line('1', 100000, '01'), line('2', 900000, '03')])
  t.equal(res.status, 200)
  t.equal(res.json.status, 'not_monitored')
  t.same(res.json.alerts, [])
  t.same(res.json.cards, [])
  t.equal(res.json.totals.medfee_sumamt, 10000)
  const list = await b.get('/v1/inpatients')
  t.equal(list.json.count, 0, 'not listed among monitored inpatients')
  t.equal((await b.get('/v1/inpatients?status=not_monitored')).json.count, 1)
})

t.test('a visit id with blanks around it is the same stay', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1', POOR)
  const res = await charge(b, ' ZY1 ', [line('1', 100, '01')])
  t.equal(res.status, 200)
  t.equal(res.json.mdtrt_id, 'ZY1')
})

t.test('charge endpoints need an HIS token', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await b.post('/v1/admissions/ZY1/charges', { feedetail: [line('1', 100, '01')] }, { authorization: 'Bearer nope' })
  t.equal(res.status, 401)
  t.equal((await b.get('/v1/admissions/ZY1')).json.line_count, 0)
})

t.test('a charge level that lost its leading zero is read back; an unknown level is refused', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 100000, '01', { chrgitm_lv: '1' }), line('2', 100000, '03', { chrgitm_lv: '3' })])
  t.equal(res.status, 200)
  t.equal(res.json.totals.out_of_catalog_amt, 1000, '"3" is 丙类, out of catalog')
  t.equal(res.json.status, 'breach')
  for (const level of ['丙类', '04', '3a']) {
    const bad = await charge(b, 'ZY1', [line('9', 100, '01', { chrgitm_lv: level })])
    t.equal(bad.status, 400, `${level} is refused, not taken as in catalog`)
    t.equal(bad.json.error.details[0].field, 'feedetail/0/chrgitm_lv')
    t.equal(bad.json.error.details[0].reason, 'unknown_level')
  }
})
