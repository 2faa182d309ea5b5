// Anhui, 叶集区 (003_e224e886618c999f.txt), over a real server. 003 五 asks hospitals to lower the
// self-pay share (降低自费费用占比) and gives no number and no liability: without a limit of the
// hospital's own the shares are shown and nothing is judged, and that is not a missing setting.
import t from 'tap'
import { region, admitAs, listed, spend, everythingSaid } from './region-fixture.ts'
import { loadProfile, resolveCategory } from '../profile/profile.ts'

const ID = 'anhui-yeji'

t.test('the limit of 003 五 is optional: not a missing setting, and stays are no_limit without it', async (t) => {
  const b = await region(t, ID, [listed(1, ['other_rural_low_income'])])
  t.same((await b.get('/readyz')).json.local_settings_missing, ['treat_first_pay_later', 'one_stop_settlement'])
  await admitAs(b, 'AH1', 1)
  t.equal((await spend(b, 'AH1', 10_000_00, 4_000_00)).status, 'no_limit')
  const gate = await b.post('/v1/admissions/AH1/discharge-check', {})
  t.equal(gate.json.decision, 'ok')
  t.match(gate.json.reasons[0].message, '本院的目录外费用占比上限尚未在本地设置 local.out_of_catalog_max 中填写')
})

t.test('a hospital\'s own limit is said as its own; over it staff are warned and nobody is said to bear anything', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], { treat_first_pay_later: ['extreme_poverty', 'minimum_living'], one_stop_settlement: ['extreme_poverty', 'minimum_living'], out_of_catalog_max: 0.15 })
  t.equal((await b.get('/readyz')).json.status, 'ready')
  const a = await admitAs(b, 'AH1', 1)
  t.equal(a.treat_first_pay_later, true)
  t.equal(a.one_stop_settlement, true)
  t.equal((await spend(b, 'AH1', 1_000_000, 150_000)).status, 'warning', 'exactly 15 % is within')
  await admitAs(b, 'AH2', 1)
  const c = await spend(b, 'AH2', 1_000_000, 150_001)
  t.equal(c.status, 'breach')
  t.match(c.cards[0].summary, '超过本院设定的15%上限')
  const gate = await b.post('/v1/admissions/AH2/discharge-check', {})
  t.equal(gate.json.decision, 'warn')
  t.equal(gate.json.hospital_borne_amt, null)
  t.notMatch(everythingSaid(b), /医院承担|由医院/)
})

t.test('003\'s categories: 特困供养人员, 其他农村低收入人口 (低保边缘 is read as it), the three 监测对象', async (t) => {
  const p = loadProfile(ID)
  t.equal(resolveCategory(p, '特困供养人员')?.id, 'extreme_poverty')
  t.equal(resolveCategory(p, '低保边缘')?.id, 'other_rural_low_income')
  t.equal(resolveCategory(p, '7204')?.id, 'marginal_at_risk')
  t.same(p.severe_diseases, [])
  t.same(p.burden.annual, [], '003 五 gives no amount for 个人自付合规医疗费用较高人员')
})
