// Guangxi, 柳江区 (000_c13c6dfe42a59df5.txt), over a real server: who is granted 先诊疗后付费 and
// 一站式结算, the 90 % rule at its exact boundary with the hospital bearing the excess, the 单病种
// exemption only for 单病种, and the 附件1 serious-disease list matched on every diagnosis sent.
import t from 'tap'
import { region, admitAs, listed, spend, line, patient } from './region-fixture.ts'
import { build } from './helper.ts'
import { loadProfile } from '../profile/profile.ts'

const ID = 'guangxi-liuzhou'

t.test('every category is granted 先诊疗后付费 (000 四(四)3, 五(一)1); one-stop settlement only for 脱贫人口 and the 监测对象 (四(三)2)', async (t) => {
  const p = loadProfile(ID)
  const records = p.categories.map((c, i) => listed(i + 1, [c.id]))
  const b = await region(t, ID, records)
  const oneStop = new Set(['out_of_poverty', 'unstable_out_of_poverty', 'sudden_hardship', 'marginal_at_risk', 'returned_to_poverty'])
  for (const [i, c] of p.categories.entries()) {
    const a = await admitAs(b, `GX${i}`, i + 1)
    t.equal(a.treat_first_pay_later, true, `${c.id}: 先诊疗后付费`)
    t.equal(a.one_stop_settlement, oneStop.has(c.id), `${c.id}: 一站式结算`)
    t.equal(a.identities[0].one_stop_settlement, oneStop.has(c.id))
  }
})

t.test('several identities: the highest is primary, and the card says the order is the product\'s (000 has no such rule)', async (t) => {
  const b = await region(t, ID, [listed(1, ['out_of_poverty'], ['extreme_poverty'])])
  const a = await admitAs(b, 'GX1', 1)
  t.equal(a.primary_identity.category, 'extreme_poverty')
  t.equal(a.one_stop_settlement, true, '脱贫人口 is settled 一站式 whichever identity is primary')
  t.match(a.cards.at(-1).summary, '按系统设定的身份顺序以特困人员享受待遇')
})

t.test('the 90 % rule: exactly 10 % out of catalog is within (90%以上), one fen more is over and the hospital bears it', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  await admitAs(b, 'GX1', 1)
  const at = await spend(b, 'GX1', 1_000_000, 100_000)
  t.equal(at.status, 'warning', 'exactly 10 %')
  t.equal(at.totals.headroom_amt, 0)
  const gate = await b.post('/v1/admissions/GX1/discharge-check', {})
  t.equal(gate.json.decision, 'warn')
  t.equal(gate.json.hospital_borne_amt, 0)
  const over = await b.post('/v1/admissions/GX1/charges', { feedetail: [line('GX1-x', 1, '03')] })
  t.equal(over.json.status, 'breach')
  t.match(over.json.cards[0].summary, '超过10%上限')
  t.match(over.json.cards[0].summary, '将由医院承担')
  t.match(over.json.cards[0].summary, '审批特殊病例')
  const blocked = await b.post('/v1/admissions/GX1/discharge', { endtime: '2026-11-25 10:00:00' })
  t.equal(blocked.json.decision, 'block')
  t.equal(blocked.json.hospital_borne_amt, 0.01, '100,000.01 out of 1,000,000.01: 0.01 yuan over 10 % (rounded up to the fen)')
  t.match(blocked.json.reasons[0].message, '由医院承担')
})

t.test('单病种: medical type 26 is exempt; a 病种编码 the hospital did not list (the diagnosis copied in) is not', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  await admitAs(b, 'GX26', 1, { med_type: '26' })
  await admitAs(b, 'GXDX', 1, { dise_codg: 'C34.900' })
  t.equal((await spend(b, 'GX26', 100_000_00, 50_000_00)).status, 'exempt')
  const dx = await spend(b, 'GXDX', 100_000_00, 50_000_00)
  t.equal(dx.status, 'breach', 'an HIS that fills 病种编码 with the diagnosis exempts nobody')
})

t.test('单病种: a 病种 code the hospital lists in its local settings exempts; a province\'s own 单病种 medical type can replace 26', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])], { single_disease_med_types: ['2102'], single_disease_dise_codes: ['DBZ0001'], in_county: true, one_stop_settlement: [] })
  await admitAs(b, 'A', 1, { dise_codg: 'dbz0001 ' })
  await admitAs(b, 'B', 1, { med_type: '2102' })
  await admitAs(b, 'C', 1, { med_type: '26' })
  t.equal((await spend(b, 'A', 10_000_00, 5_000_00)).status, 'exempt')
  t.equal((await spend(b, 'B', 10_000_00, 5_000_00)).status, 'exempt')
  t.equal((await spend(b, 'C', 10_000_00, 5_000_00)).status, 'breach', '26 is not 单病种 where the province uses 2102')
})

t.test('a city or provincial hospital (local in_county false) grants no waiver: 000 五(一)1 is for county hospitals', async (t) => {
  const b = await region(t, ID, [listed(1, ['extreme_poverty'])], { in_county: false, single_disease_med_types: ['26'], one_stop_settlement: [] })
  const a = await admitAs(b, 'GX1', 1)
  t.equal(a.treat_first_pay_later, false)
  t.match(a.cards.at(-1).summary, '本院不在县域内')
  t.equal((await spend(b, 'GX1', 10_000_00, 2_000_00)).status, 'breach', 'the 90 % rule still applies: 五(二)2 is for every designated hospital')
})

t.test('附件1: pandemic influenza under J09 is not 人感染禽流感; H7N9 is', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  const flu = await admitAs(b, 'F1', 1, { diseinfo: [{ diag_code: 'J09.x00', diag_name: '被标明的人畜共患或大流行性流感病毒引起的流感', maindiag_flag: '1' }] })
  t.same(flu.severe_disease, [])
  const avian = await admitAs(b, 'F2', 1, { diseinfo: [{ diag_code: 'J09.x02', diag_name: '人感染H7N9禽流感', maindiag_flag: '1' }] })
  t.same(avian.severe_disease.map((m: any) => m.group), ['human_avian_influenza'])
})

t.test('附件1: dialysis recorded only as an operation (39.95) with CKD stage 5 is 肾透析', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  const a = await admitAs(b, 'D1', 1, { diseinfo: [{ diag_code: 'N18.500', diag_name: '慢性肾脏病5期' }], oprninfo: [{ oprn_oprt_code: '39.9500x001', oprn_oprt_name: '血液透析' }] })
  t.same(a.severe_disease, [{ group: 'renal_dialysis', label: '慢性肾功能不全的肾透析', codes: ['N18.500'] }])
})

t.test('附件1: a chemotherapy admission coded only Z51.1 counts as 恶性肿瘤 when its code names the malignancy', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  const a = await admitAs(b, 'Z1', 1, { diseinfo: [{ diag_code: 'Z51.102', diag_name: '手术后恶性肿瘤化学治疗' }] })
  t.same(a.severe_disease.map((m: any) => m.group), ['malignant_tumour_therapy'])
  const benign = await admitAs(b, 'Z2', 1, { diseinfo: [{ diag_code: 'Z51.000', diag_name: '放射治疗疗程' }] })
  t.same(benign.severe_disease, [], 'radiotherapy of an unnamed tumour is not assumed malignant')
})

t.test('附件1: a local MDR-TB name such as 利福平耐药 matches', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  const a = await admitAs(b, 'T1', 1, { diseinfo: [{ diag_code: 'A15.000x901', diag_name: '继发性肺结核（利福平耐药）' }] })
  t.same(a.severe_disease.map((m: any) => m.group), ['mdr_tuberculosis'])
})

t.test('附件1: diagnoses sent later are matched too — a corrected admission and the discharge\'s 2402 diagnoses', async (t) => {
  const b = await region(t, ID, [listed(1, ['minimum_living'])])
  const first = await admitAs(b, 'L1', 1, { diseinfo: [{ diag_code: 'R50.900', diag_name: '发热' }] })
  t.same(first.severe_disease, [])
  // 2403: the ward corrects the admission diagnosis.
  const corrected = await b.post('/v1/admissions', { mdtrt_id: 'L1', certno: patient(1), psn_name: '患者1', begntime: '2026-11-20 09:30:00', med_type: '21', adm_dept_codg: 'A03', adm_dept_name: '内科', diseinfo: [{ diag_code: 'I21.900', diag_name: '急性心肌梗死' }] })
  t.equal(corrected.status, 200)
  t.same(corrected.json.severe_disease.map((m: any) => m.group), ['acute_myocardial_infarction'])
  t.same((await b.get('/v1/admissions/L1')).json.severe_disease.map((m: any) => m.group), ['acute_myocardial_infarction'])
  // 2402: the discharge adds a cancer found during the stay.
  const out = await b.post('/v1/admissions/L1/discharge', { endtime: '2026-11-28 10:00:00', diseinfo: [{ diag_code: 'C34.900', diag_name: '肺恶性肿瘤' }] })
  t.equal(out.status, 200)
  t.same(out.json.severe_disease.map((m: any) => m.group), ['malignant_tumour', 'acute_myocardial_infarction'])
  t.ok(out.json.cards.some((c: any) => c.summary.startsWith('出院诊断属重病范围：恶性肿瘤（C34.900）')))
  t.same((await b.get('/v1/admissions/L1')).json.severe_disease.map((m: any) => m.group), ['malignant_tumour', 'acute_myocardial_infarction'])
  const again = await b.post('/v1/admissions/L1/discharge', { endtime: '2026-11-28 10:00:00', diseinfo: [{ diag_code: 'C34.900', diag_name: '肺恶性肿瘤' }] })
  t.equal(again.status, 200)
  t.same(again.json.severe_disease, out.json.severe_disease, 'a retried 2402 gets the same answer')
})

t.test('the shipped Guangxi profile needs no local setting: /readyz is ready and no alert asks for one', async (t) => {
  const b = await build(t, { records: [listed(1, ['minimum_living'])] })
  const ready = await b.get('/readyz')
  t.equal(ready.json.status, 'ready')
  t.same(ready.json.local_settings_missing, [])
  t.equal(b.store.db.prepare("SELECT COUNT(*) FROM alert WHERE kind = 'local_setting_missing'").pluck().get(), 0)
})
