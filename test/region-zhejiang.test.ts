// Zhejiang, 衢州 (002_0d2281d7bbc70ae8.txt), over a real server. 002 三(五) puts the self-pay share
// of 医疗救助对象 into the hospital's agreement with the insurance office: no number, no liability.
// So the limit is the hospital's local setting, off until it is given; over it, staff are warned and
// nothing says the hospital bears anything. 低收入农户 are on the county's list but are not 医疗救助
// 对象: their stays are not watched.
import t from 'tap'
import { region, admitAs, listed, spend, line, everythingSaid } from './region-fixture.ts'

const ID = 'zhejiang-quzhou'
const AGREED = { treat_first_pay_later: ['extreme_poverty', 'minimum_living'], one_stop_settlement: ['extreme_poverty', 'minimum_living', 'near_minimum_living', 'medical_assistance_recipient'], out_of_catalog_max: 0.1, annual_burden_fen: 2_000_000 }

t.test('on its own: four local settings missing, the agreement limit off (no_limit), and the answers say so', async (t) => {
  const b = await region(t, ID, [listed(1, ['medical_assistance_recipient'])])
  const ready = await b.get('/readyz')
  t.equal(ready.json.status, 'degraded')
  t.same(ready.json.local_settings_missing, ['treat_first_pay_later', 'one_stop_settlement', 'out_of_catalog_max', 'annual_burden_fen'])
  const a = await admitAs(b, 'ZJ1', 1)
  t.equal(a.treat_first_pay_later, false)
  t.equal(a.one_stop_settlement, false)
  t.equal((await spend(b, 'ZJ1', 10_000_00, 3_000_00)).status, 'no_limit')
  const gate = await b.post('/v1/admissions/ZJ1/discharge-check', {})
  t.match(gate.json.reasons[0].message, '医保协议约定的自费费用占比尚未在本地设置 local.out_of_catalog_max 中填写')
})

t.test('the agreement\'s share, written as 不超过 (>): exactly at it is within, one fen more is over — a warning, never a hospital-borne amount', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], AGREED)
  t.equal((await b.get('/readyz')).json.status, 'ready')
  const a = await admitAs(b, 'ZJ1', 1)
  t.equal(a.treat_first_pay_later, true)
  t.equal(a.one_stop_settlement, true)
  t.equal((await spend(b, 'ZJ1', 1_000_000, 100_000)).status, 'warning')
  const over = await b.post('/v1/admissions/ZJ1/charges', { feedetail: [line('ZJ1-x', 1, '03')] })
  t.equal(over.json.status, 'breach')
  t.match(over.json.cards[0].summary, '超过协议约定的10%上限')
  t.notMatch(over.json.cards[0].summary, '审批特殊病例', '002 has no special-case approval')
  const gate = await b.post('/v1/admissions/ZJ1/discharge', { endtime: '2026-11-25 10:00:00' })
  t.equal(gate.json.decision, 'warn', 'over an agreement share the gate warns: 002 gives no consequence at discharge')
  t.equal(gate.json.hospital_borne_amt, null)
  t.match(gate.json.reasons[0].message, '超过协议约定的10%上限')
  t.notMatch(everythingSaid(b), /医院承担|由医院/)
  const alert = b.store.db.prepare("SELECT message FROM alert WHERE kind = 'spending_breach'").pluck().get() as string
  t.match(alert, '超过协议约定的10%上限')
})

t.test('an agreement written as 低于 (local out_of_catalog_breach_when >=) breaks at exactly the share', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], { ...AGREED, out_of_catalog_breach_when: '>=' })
  await admitAs(b, 'ZJ1', 1)
  const c = await spend(b, 'ZJ1', 1_000_000, 100_000)
  t.equal(c.status, 'breach')
  t.match(c.cards[0].summary, '达到协议约定的10%上限')
})

t.test('a special-case approval is refused: 002 has no such exemption', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], AGREED)
  await admitAs(b, 'ZJ1', 1)
  const res = await b.post('/v1/admissions/ZJ1/exemptions', { kind: 'special_case', approval_no: 'QZ-1', approved_by: '衢州市医保局', reason: '罕见病' }, { authorization: `Bearer ${b.adminToken}` })
  t.equal(res.status, 409)
  t.equal(res.json.error.code, 'FANGPIN_CONFLICT')
  t.match(res.json.error.message, 'has no special-case approval')
})

t.test('单病种 exempts nothing: 002 makes no such exception', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], AGREED)
  await admitAs(b, 'ZJ1', 1, { med_type: '26', dise_codg: 'DBZ001' })
  t.equal((await spend(b, 'ZJ1', 10_000_00, 3_000_00)).status, 'breach')
})

t.test('低收入农户 is a category of the list whose stays are not watched; 医疗救助对象 is', async (t) => {
  const b = await region(t, ID, [listed(1, ['low_income_farmer']), listed(2, ['medical_assistance_recipient'])], AGREED)
  await admitAs(b, 'ZJ1', 1)
  await admitAs(b, 'ZJ2', 2)
  t.equal((await spend(b, 'ZJ1', 10_000_00, 3_000_00)).status, 'not_monitored')
  t.equal((await spend(b, 'ZJ2', 10_000_00, 3_000_00)).status, 'breach')
})

t.test('the profile view shows the agreement limit as the hospital\'s, with 002\'s targets', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], AGREED)
  const p = (await b.get('/v1/profile')).json
  t.same(p.spending_limit, { share: 0.1, breach_when: '>', hospital_bears_excess: false, source: 'agreement', special_case_approval: false })
  t.equal(p.hospital_name, '测试县人民医院')
  const targets = p.rules.filter((r: any) => r.topic === 'targets').map((r: any) => r.text)
  t.match(targets[0], '医疗费用综合保障率不低于85%')
  t.match(targets[1], '医疗费用个人负担率不高于15%')
  t.ok(p.rules.some((r: any) => r.topic === 'spending' && r.text.includes('不计算、不显示医院承担金额')))
})
