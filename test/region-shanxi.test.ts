// Shanxi (001_1e1915f0a19a8352.txt), over a real server. 001 says who is settled 一站式 (四) and that
// several identities get the higher benefit (四 待遇就高不就低); it says nothing of 先诊疗后付费, of an
// in-catalog share, of the hospital bearing anything, or of a serious-disease list. So: one-stop as
// 四 lists it, 先诊疗后付费 only from the hospital's local settings, spending watched with no limit,
// and no sentence borrowed from Guangxi.
import t from 'tap'
import { region, admitAs, listed, spend, everythingSaid } from './region-fixture.ts'

const ID = 'shanxi'
const TREAT_FIRST = { treat_first_pay_later: ['extreme_poverty', 'minimum_living', 'unstable_out_of_poverty', 'sudden_hardship', 'marginal_at_risk', 'returned_to_poverty'], one_stop_city_opt_in: false }

t.test('on its own, the shipped profile grants nobody 先诊疗后付费 and says why; one-stop settlement follows 001 四', async (t) => {
  const b = await region(t, ID, [listed(1, ['extreme_poverty']), listed(2, ['out_of_poverty']), listed(3, ['near_minimum_living'])])
  const a = await admitAs(b, 'SX1', 1)
  t.equal(a.treat_first_pay_later, false)
  t.equal(a.one_stop_settlement, true, '001 四: 特困人员 直接纳入一站式结算')
  t.match(a.cards.at(-1).summary, '本地区政策文件未规定先诊疗后付费对象')
  t.equal((await admitAs(b, 'SX2', 2)).one_stop_settlement, false, '脱贫人口 is not in 001 四\'s list')
  t.equal((await admitAs(b, 'SX3', 3)).one_stop_settlement, false, '低保边缘家庭成员: only where the city opts in, and it has not said')
})

t.test('the hospital\'s local settings grant 先诊疗后付费 to the categories it lists, and a city that opts in settles 低保边缘 一站式', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living']), listed(2, ['near_minimum_living']), listed(3, ['out_of_poverty'])], { ...TREAT_FIRST, one_stop_city_opt_in: true })
  const a = await admitAs(b, 'SX1', 1)
  t.equal(a.treat_first_pay_later, true)
  t.equal(a.one_stop_settlement, true)
  const edge = await admitAs(b, 'SX2', 2)
  t.equal(edge.treat_first_pay_later, false)
  t.equal(edge.one_stop_settlement, true, 'the city opted in')
  t.match(edge.cards.at(-1).summary, '不在本地区先诊疗后付费范围内')
  t.equal((await admitAs(b, 'SX3', 3)).treat_first_pay_later, false)
})

t.test('several identities: 001 四 待遇就高不就低, and the card cites it', async (t) => {
  const b = await region(t, ID, [listed(1, ['near_minimum_living'], ['minimum_living'])], TREAT_FIRST)
  const a = await admitAs(b, 'SX1', 1)
  t.equal(a.primary_identity.category, 'minimum_living')
  t.match(a.cards.at(-1).summary, '按就高不就低以低保对象享受待遇')
})

t.test('no in-catalog rule: spending is watched as no_limit, nothing is judged against a number, and no hospital bears anything', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], TREAT_FIRST)
  await admitAs(b, 'SX1', 1, { med_type: '26' })
  const c = await spend(b, 'SX1', 10_000_00, 5_000_00)
  t.equal(c.status, 'no_limit', 'even a 单病种 medical type changes nothing: 001 has no rule to exempt from')
  t.equal(c.totals.out_of_catalog_ratio, 0.5)
  t.equal(c.totals.headroom_amt, null)
  t.same(c.cards, [])
  t.same(c.alerts, [])
  const pre = await b.post('/v1/admissions/SX1/precheck', { feedetail: [{ feedetl_sn: 'p1', fee_ocur_time: '2026-11-21 10:00:00', det_item_fee_sumamt: '100.00', cnt: 1, pric: '100.00', chrgitm_lv: '03' }] })
  t.equal(pre.json.status, 'no_limit')
  t.match(pre.json.cards[0].summary, '本地区政策未规定住院目录外费用占比上限')
  const gate = await b.post('/v1/admissions/SX1/discharge-check', {})
  t.equal(gate.json.decision, 'ok')
  t.equal(gate.json.hospital_borne_amt, null)
  t.same(gate.json.reasons.map((r: any) => r.code), ['no_limit'])
  const out = await b.post('/v1/admissions/SX1/discharge', { endtime: '2026-11-25 10:00:00' })
  t.equal(out.json.hospital_borne_amt, null)
  t.notMatch(everythingSaid(b), /医院承担|由医院|90%|10%上限/, 'no Guangxi sentence reaches a Shanxi hospital')
  t.equal(b.store.db.prepare("SELECT COUNT(*) FROM alert WHERE kind LIKE 'spending_%'").pluck().get(), 0)
})

t.test('no serious-disease list: a cancer diagnosis is not flagged and no card speaks of 附件1', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], TREAT_FIRST)
  const a = await admitAs(b, 'SX1', 1, { diseinfo: [{ diag_code: 'C34.900', diag_name: '肺恶性肿瘤' }] })
  t.same(a.severe_disease, [])
  t.notOk(a.cards.some((c: any) => c.summary.includes('重病')))
})

t.test('the missing local settings: /readyz degraded naming them, one staff alert, and GET /v1/profile lists them', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  const ready = await b.get('/readyz')
  t.equal(ready.json.status, 'degraded')
  t.same(ready.json.local_settings_missing, ['treat_first_pay_later', 'one_stop_city_opt_in'])
  t.ok(ready.json.warnings.some((w: string) => w.startsWith('local setting missing: local.treat_first_pay_later')))
  const alerts = b.store.db.prepare("SELECT message FROM alert WHERE kind = 'local_setting_missing' AND resolved_at IS NULL").all() as Array<{ message: string }>
  t.equal(alerts.length, 1)
  t.match(alerts[0].message, 'local.treat_first_pay_later、local.one_stop_city_opt_in')
  t.ok(b.logs.some((l) => l.includes('local setting missing: local.treat_first_pay_later')), 'a start warning names the setting')
  const profile = await b.get('/v1/profile')
  t.equal(profile.status, 200)
  t.same(profile.json.missing_local.map((m: any) => m.key), ['treat_first_pay_later', 'one_stop_city_opt_in'])
  t.equal(profile.json.spending_limit, null)
  const spending = profile.json.rules.find((r: any) => r.topic === 'spending')
  t.equal(spending.state, 'off')
  t.equal(spending.source, '001 未规定住院目录外费用占比')
  const annual = profile.json.rules.filter((r: any) => r.topic === 'annual_burden')
  t.match(annual[0].text, '超过6,000元')
  t.match(annual[0].source, '001_1e1915f0a19a8352.txt 三')
  t.match(annual[1].text, '其他参保居民年度累计个人负担超过20,000元')
})

t.test('with every local setting given the agent is ready and the alert is resolved', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], TREAT_FIRST)
  t.equal((await b.get('/readyz')).json.status, 'ready')
  t.equal(b.store.db.prepare("SELECT COUNT(*) FROM alert WHERE kind = 'local_setting_missing' AND resolved_at IS NULL").pluck().get(), 0)
})
