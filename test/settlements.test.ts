// Settlements in: the platform's 2303/2304 answers checked by their identities, stored once per
// setl_id, replaced (pre) or cancelled (2305), and answered with the stay's burden; over a real server
// and the real database.
import t from 'tap'
import { region, admitAs, listed } from './region-fixture.ts'
import { setlinfo, settle, settleFinal } from './settlement-fixture.ts'

const GX = 'guangxi-liuzhou'
const MONITORED = 'unstable_out_of_poverty'

t.test('a final settlement is stored and answered with the stay\'s burden, each ratio as the issue defines it', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const res = await settle(b, 'S1', 'final', setlinfo('SET-1', '2026-11-25 10:00:00', { medfee: 10_000_00, fulamt: 500_00, fund: 8_600_00 }))
  t.equal(res.status, 201)
  t.equal(res.headers.get('fangpin-replayed'), 'false')
  const burden = res.json.burden
  t.equal(burden.setl_type, 'final')
  t.equal(burden.psn_part_amt, 1400)
  t.equal(burden.fulamt_ownpay_amt, 500)
  t.equal(burden.reimbursement_ratio, 0.9052, 'funds 8600 ÷ in-policy 9500, rounded down')
  t.equal(burden.protection_ratio, 0.86)
  t.equal(burden.psn_part_ratio, 0.14)
  t.equal(burden.ytd_psn_part_amt, 1400)
  t.equal(burden.ytd_out_of_catalog_ratio, 0.05)
  t.equal(burden.annual_threshold_crossed, false)
  t.equal(burden.reassist_est_amt, null, 'Guangxi has no 再救助')
  t.match(res.json.notes[0], '尚未办理出院登记', 'a final settlement before the discharge is accepted and noted')
  const row = b.store.db.prepare('SELECT medfee_fen, psn_part_fen, before_discharge FROM settlement WHERE setl_id = ?').get('SET-1') as any
  t.same(row, { medfee_fen: 1_000_000, psn_part_fen: 140_000, before_discharge: 1 })
  const audit = b.store.db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'settlement.record'").get() as any
  t.equal(audit.n, 1)
  const stay = await b.get('/v1/admissions/S1')
  t.equal(stay.json.burden.psn_part_amt, 1400, 'the stay carries the burden too')
  t.equal(stay.json.settlements.length, 1)
})

t.test('figures that do not add up are a 400 naming the field, and nothing is stored', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const good = setlinfo('SET-X', '2026-11-25 10:00:00', { medfee: 10_000_00, fulamt: 500_00, fund: 8_600_00 })
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['the parts off by 0.02', { ...good, psn_part_amt: '1400.02', psn_cash_pay: '1400.02' }, 'setlinfo/psn_part_amt'],
    ['the split off', { ...good, inscp_scp_amt: '9400.00' }, 'setlinfo/inscp_scp_amt'],
    ['the funds one by one off', { ...good, hifmi_pay: '10.00' }, 'setlinfo/fund_pay_sumamt'],
    ['cash and account not the personal part', { ...good, psn_cash_pay: '1300.00' }, 'setlinfo/psn_part_amt'],
    ['three decimals', { ...good, medfee_sumamt: '10000.001' }, 'setlinfo/medfee_sumamt'],
    ['a negative amount', { ...good, fulamt_ownpay_amt: '-1.00' }, 'setlinfo/fulamt_ownpay_amt'],
    ['no total', { ...good, medfee_sumamt: undefined }, 'setlinfo/medfee_sumamt'],
    ['not a time', { ...good, setl_time: '2026-02-30 10:00:00' }, 'setlinfo/setl_time']
  ]
  for (const [name, info, field] of cases) {
    const res = await settle(b, 'S1', 'final', JSON.parse(JSON.stringify(info)))
    t.equal(res.status, 400, name)
    t.equal(res.json.error.code, 'FANGPIN_VALIDATION', name)
    t.ok(res.json.error.details.some((d: any) => d.field === field), `${name}: names ${field} (${JSON.stringify(res.json.error.details)})`)
  }
  const within = await settle(b, 'S1', 'final', { ...good, psn_part_amt: '1400.01', psn_cash_pay: '1400.01' })
  t.equal(within.status, 201, 'a difference of 0.01 is the platform\'s rounding and is accepted')
  t.equal((b.store.db.prepare('SELECT count(*) AS n FROM settlement').get() as any).n, 1)
  t.equal((await settle(b, 'NOPE', 'final', { ...good, setl_id: 'SET-Y' })).status, 404)
})

t.test('the same settlement again is answered the same; other figures under its setl_id are a conflict', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const info = setlinfo('SET-1', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 9_000_00 })
  const first = await settle(b, 'S1', 'final', info)
  const again = await settle(b, 'S1', 'final', { ...info, unknown_field: 'ignored' })
  t.equal(again.status, 200)
  t.equal(again.headers.get('fangpin-replayed'), 'true')
  t.same(again.json.burden, first.json.burden)
  const other = await settle(b, 'S1', 'final', setlinfo('SET-1', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 8_000_00 }))
  t.equal(other.status, 409)
  await admitAs(b, 'S2', 1)
  t.equal((await settle(b, 'S2', 'final', info)).status, 409, 'a setl_id belongs to one stay')
  t.equal((b.store.db.prepare('SELECT count(*) AS n FROM settlement').get() as any).n, 1)
})

t.test('a pre-settlement is replaced by the next one and by the final one', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const p1 = await settle(b, 'S1', 'pre', setlinfo('PRE-1', '2026-11-24 10:00:00', { medfee: 5_000_00, fund: 4_000_00 }))
  t.equal(p1.json.burden.setl_type, 'pre')
  t.equal(p1.json.burden.psn_part_amt, 1000)
  const p2 = await settle(b, 'S1', 'pre', setlinfo('PRE-2', '2026-11-25 10:00:00', { medfee: 6_000_00, fund: 5_400_00 }))
  t.equal(p2.json.burden.psn_part_amt, 600, 'the newest pre-settlement is the preview, not the sum')
  const f = await settleFinal(b, 'S1', 'FIN-1', '2026-11-26 10:00:00', { medfee: 6_100_00, fund: 5_490_00 })
  t.equal(f.burden.setl_type, 'final')
  t.equal(f.burden.psn_part_amt, 610)
  const rows = b.store.db.prepare('SELECT setl_id, cancel_reason FROM settlement ORDER BY setl_id').all()
  t.same(rows, [{ setl_id: 'FIN-1', cancel_reason: null }, { setl_id: 'PRE-1', cancel_reason: 'replaced' }, { setl_id: 'PRE-2', cancel_reason: 'replaced' }])
})

t.test('a cancelled settlement (2305) stops counting, and the alerts it raised are withdrawn', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const low = await settleFinal(b, 'S1', 'FIN-1', '2026-11-26 10:00:00', { medfee: 10_000_00, fund: 8_000_00 })
  t.same(low.alerts.map((a: any) => a.kind), ['reimbursement_low'])
  const del = await b.del('/v1/admissions/S1/settlements/FIN-1')
  t.equal(del.status, 200)
  t.equal(del.json.burden, null)
  t.same(del.json.alerts, [])
  t.equal((await b.del('/v1/admissions/S1/settlements/FIN-1')).status, 200, 'cancelling again answers the same')
  t.equal((await b.del('/v1/admissions/S1/settlements/NOPE')).status, 404)
  const open = b.store.db.prepare("SELECT count(*) AS n FROM alert WHERE kind = 'reimbursement_low' AND resolved_at IS NULL").get() as any
  t.equal(open.n, 0)
  t.equal((await settle(b, 'S1', 'final', setlinfo('FIN-1', '2026-11-26 10:00:00', { medfee: 10_000_00, fund: 8_000_00 }))).status, 409, 'a cancelled setl_id is not taken again')
})

t.test('the settlement routes need a token', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const res = await fetch(`${b.url}/v1/admissions/S1/settlements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setl_type: 'final', setlinfo: setlinfo('A', '2026-11-26 10:00:00', { medfee: 100, fund: 50 }) }) })
  t.equal(res.status, 401)
})

t.test('hostile settlement bodies are a 4xx naming what is wrong, never a 5xx, and nothing is stored', async (t) => {
  const b = await region(t, GX, [listed(1, [MONITORED])])
  await admitAs(b, 'S1', 1)
  const good = setlinfo('SET-H', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 8_600_00 })
  const bodies: unknown[] = [
    {},
    { setl_type: 'final' },
    { setl_type: 'later', setlinfo: good },
    { setl_type: 'final', setlinfo: 'x' },
    { setl_type: 'final', setlinfo: [good] },
    { setl_type: 'final', setlinfo: { ...good, setl_id: 'x'.repeat(10_000) } },
    { setl_type: 'final', setlinfo: { ...good, setl_id: 12345 } },
    { setl_type: 'final', setlinfo: { ...good, medfee_sumamt: { $gt: 0 } } },
    { setl_type: 'final', setlinfo: { ...good, medfee_sumamt: [1] } },
    { setl_type: 'final', setlinfo: { ...good, medfee_sumamt: 1e300, psn_part_amt: 1e300 } },
    { setl_type: 'final', setlinfo: { ...good, medfee_sumamt: 'NaN' } },
    { setl_type: 'final', setlinfo: { ...good, setl_time: 20261125 } },
    { setl_type: 'final', setlinfo: { ...good, setl_time: '2026-11-25T10:00:00Z' } },
    { setl_type: 'final', setlinfo: good, extra: true }
  ]
  for (const body of bodies) {
    const res = await b.post('/v1/admissions/S1/settlements', body)
    t.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body).slice(0, 80)} → ${res.status}`)
    t.match(res.json?.error?.code, /^FANGPIN_/)
  }
  t.equal((await b.post('/v1/admissions/S1/settlements', '{"setl_type":')).status, 400, 'broken JSON')
  t.equal((b.store.db.prepare('SELECT count(*) AS n FROM settlement').get() as any).n, 0)
  t.equal((await b.get('/v1/admissions/S1/notice.pdf')).status, 200, 'the agent still answers')
})
