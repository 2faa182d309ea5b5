// Shandong, 汶上县 (004_5dd05a6463dc1b61.txt), over a real server. 004 三(一) settles 建档立卡贫困人口
// 一站式 in every designated hospital; 三(二) and 三(三) give the 大病保险 and 再救助 parameters; there
// is no in-catalog rule and no serious-disease list.
import t from 'tap'
import { region, admitAs, listed, spend, everythingSaid } from './region-fixture.ts'
import { loadProfile } from '../profile/profile.ts'

const ID = 'shandong-wenshang'

t.test('建档立卡贫困人口 is settled 一站式 without any local setting; 特困 and 低保 wait for the hospital\'s', async (t) => {
  const b = await region(t, ID, [listed(1, ['registered_poor']), listed(2, ['extreme_poverty'])])
  const poor = await admitAs(b, 'SD1', 1)
  t.equal(poor.one_stop_settlement, true)
  t.equal(poor.treat_first_pay_later, false)
  t.match(poor.cards.at(-1).summary, '本地区政策文件未规定先诊疗后付费对象')
  t.equal((await admitAs(b, 'SD2', 2)).one_stop_settlement, false)
  t.same((await b.get('/readyz')).json.local_settings_missing, ['treat_first_pay_later', 'one_stop_settlement'])
})

t.test('with local settings the hospital grants 先诊疗后付费 and 一站式 to whom it lists', async (t) => {
  const b = await region(t, ID, [listed(1, ['extreme_poverty'], ['registered_poor'])], { treat_first_pay_later: ['registered_poor', 'extreme_poverty'], one_stop_settlement: ['extreme_poverty'] })
  const a = await admitAs(b, 'SD1', 1)
  t.equal(a.treat_first_pay_later, true)
  t.equal(a.one_stop_settlement, true)
  t.same(a.identities.map((i: any) => [i.category, i.one_stop_settlement]), [['extreme_poverty', true], ['registered_poor', true]])
})

t.test('no in-catalog rule and no serious-disease list: no_limit, no hospital-borne amount, no 附件1', async (t) => {
  const b = await region(t, ID, [listed(1, ['registered_poor'])], { treat_first_pay_later: ['registered_poor'], one_stop_settlement: [] })
  const a = await admitAs(b, 'SD1', 1, { diseinfo: [{ diag_code: 'N18.500', diag_name: '慢性肾脏病5期' }, { diag_code: 'Z49.101', diag_name: '血液透析' }] })
  t.same(a.severe_disease, [])
  t.equal((await spend(b, 'SD1', 10_000_00, 9_000_00)).status, 'no_limit')
  const out = await b.post('/v1/admissions/SD1/discharge', { endtime: '2026-11-25 10:00:00' })
  t.equal(out.json.hospital_borne_amt, null)
  t.notMatch(everythingSaid(b), /医院承担|由医院|重病/)
})

t.test('the 大病保险 and 再救助 parameters are 004 三(二) and 三(三)\'s, shown with their clauses', async (t) => {
  const p = loadProfile(ID)
  t.same(p.benefits.reassistance, { ...p.benefits.reassistance, rate: 0.7, threshold_fen: 500_000, annual_cap_fen: 2_000_000, categories: ['registered_poor'] })
  t.match(p.benefits.critical_illness_insurance, { no_deductible: true, ratio_bonus_points: 5, no_cap: true, inpatient_ratio_bonus_points: 10 })
  const b = await region(t, ID, [listed(1, ['registered_poor'])])
  const rules = (await b.get('/v1/profile')).json.rules
  const re = rules.find((r: any) => r.topic === 'benefits' && r.text.includes('再救助'))
  t.match(re.text, '超过5,000元的部分按70%再救助，年度累计不超过20,000元')
  t.equal(re.source, '004_5dd05a6463dc1b61.txt 三(三)')
  const identity = rules.find((r: any) => r.topic === 'identity')
  t.match(identity.source, '004_5dd05a6463dc1b61.txt 一(三)2')
})
