// The checks the policies ask of settlements, each at its exact boundary (以上/达到/以内 ≥ or ≤,
// 超过 >): the reimbursement targets (000 一; 002 二), the year's burden against its threshold
// (000 四(三)1; 001 三; 002 三(四)) across the registry's ytd_as_of and a year boundary, and
// 再救助 (004 三(三)) below, at and above 5,000 yuan and its 20,000 cap across stays.
import t from 'tap'
import { region, admitAs, listed } from './region-fixture.ts'
import { settleFinal } from './settlement-fixture.ts'
import type { Built } from './helper.ts'

function openAlerts (b: Built, kind: string): number {
  return (b.store.db.prepare('SELECT count(*) AS n FROM alert WHERE kind = ? AND resolved_at IS NULL').get(kind) as any).n
}

t.test('Guangxi: 监测对象\'s in-policy reimbursement 达到 90 % is met at exactly 90 %, and one fen under raises reimbursement_low', async (t) => {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['marginal_at_risk']), listed(2, ['extreme_poverty'])])
  await admitAs(b, 'G1', 1)
  const at = await settleFinal(b, 'G1', 'G1-F', '2026-11-25 10:00:00', { medfee: 11_000_00, fulamt: 1_000_00, fund: 9_000_00 })
  t.same(at.burden.targets.map((x: any) => [x.measure, x.value, x.met]), [['reimbursement_ratio', 0.9, true]])
  t.same(at.alerts, [])
  await admitAs(b, 'G2', 1)
  const under = await settleFinal(b, 'G2', 'G2-F', '2026-11-25 10:00:00', { medfee: 11_000_00, fulamt: 1_000_00, fund: 8_999_99 })
  t.equal(under.burden.targets[0].met, false)
  t.same(under.alerts.map((a: any) => a.kind), ['reimbursement_low'])
  t.match(under.alerts[0].message, '90%')
  t.match(under.alerts[0].message, '请核查各项待遇')
  await admitAs(b, 'G3', 2)
  const other = await settleFinal(b, 'G3', 'G3-F', '2026-11-25 10:00:00', { medfee: 11_000_00, fulamt: 1_000_00, fund: 5_000_00 })
  t.same(other.burden.targets, [], '000 一\'s 90 % is for 监测对象 only: 特困 has no target there')
  t.equal(openAlerts(b, 'reimbursement_low'), 1)
})

t.test('Zhejiang: 综合保障率 85 %以上 and 个人负担率 15 %以内 are both met at exactly the line', async (t) => {
  const b = await region(t, 'zhejiang-quzhou', [listed(1, ['minimum_living'])])
  await admitAs(b, 'Z1', 1)
  const at = await settleFinal(b, 'Z1', 'Z1-F', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 8_500_00 })
  t.same(at.burden.targets.map((x: any) => [x.measure, x.met]), [['protection_ratio', true], ['psn_part_ratio', true]])
  await admitAs(b, 'Z2', 1)
  const under = await settleFinal(b, 'Z2', 'Z2-F', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 8_499_99 })
  t.same(under.burden.targets.map((x: any) => [x.measure, x.met]), [['protection_ratio', false], ['psn_part_ratio', false]])
  t.match(under.alerts[0].message, '85%')
  t.match(under.alerts[0].message, '15%')
})

t.test('Guangxi\'s year: 5,000 达到 (≥) and 自费 超过 10 % (>) must both hold', async (t) => {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['out_of_poverty']), listed(2, ['out_of_poverty']), listed(3, ['out_of_poverty'])])
  await admitAs(b, 'A1', 1)
  const tenPercent = await settleFinal(b, 'A1', 'A1-F', '2026-11-25 10:00:00', { medfee: 20_000_00, fulamt: 2_000_00, fund: 15_000_00 })
  t.equal(tenPercent.burden.ytd_psn_part_amt, 5000)
  t.equal(tenPercent.burden.ytd_out_of_catalog_ratio, 0.1)
  t.equal(tenPercent.burden.annual_threshold_crossed, false, '自费 exactly 10 % is not 超过 10 %')
  await admitAs(b, 'A2', 2)
  const over = await settleFinal(b, 'A2', 'A2-F', '2026-11-25 10:00:00', { medfee: 20_000_00, fulamt: 2_000_01, fund: 15_000_00 })
  t.equal(over.burden.annual_threshold_crossed, true, '5,000.00 达到 and 自费 one fen over 10 %')
  t.same(over.alerts.map((a: any) => a.kind), ['annual_burden'])
  t.match(over.alerts[0].message, '000_c13c6dfe42a59df5.txt 四(三)1')
  await admitAs(b, 'A3', 3)
  const under = await settleFinal(b, 'A3', 'A3-F', '2026-11-25 10:00:00', { medfee: 20_000_00, fulamt: 4_000_00, fund: 15_000_01 })
  t.equal(under.burden.annual_threshold_crossed, false, '4,999.99 has not reached 5,000')
})

t.test('Guangxi: a patient not on the list is measured against 10,000 以上 (≥)', async (t) => {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['out_of_poverty'])])
  await admitAs(b, 'N1', 9)
  const r = await settleFinal(b, 'N1', 'N1-F', '2026-11-25 10:00:00', { medfee: 30_000_00, fund: 20_000_00 })
  t.equal(r.burden.ytd_psn_part_amt, 10000)
  t.equal(r.burden.annual_threshold_crossed, true)
  t.equal(r.burden.annual_threshold.amount, 10000)
})

t.test('Shanxi\'s year: 超过 0.6 万元 — 6,000.00 is not over, 6,000.01 is', async (t) => {
  const b = await region(t, 'shanxi', [listed(1, ['minimum_living']), listed(2, ['minimum_living'])])
  await admitAs(b, 'X1', 1)
  const at = await settleFinal(b, 'X1', 'X1-F', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 4_000_00 })
  t.equal(at.burden.ytd_psn_part_amt, 6000)
  t.equal(at.burden.annual_threshold_crossed, false)
  await admitAs(b, 'X2', 2)
  const over = await settleFinal(b, 'X2', 'X2-F', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 3_999_99 })
  t.equal(over.burden.annual_threshold_crossed, true)
  t.match(over.alerts[0].message, '001_1e1915f0a19a8352.txt 三')
})

t.test('Zhejiang\'s 预警值 is the hospital\'s local setting, compared as 超过', async (t) => {
  const b = await region(t, 'zhejiang-quzhou', [listed(1, ['minimum_living']), listed(2, ['minimum_living'])], { annual_burden_fen: 800_000 })
  await admitAs(b, 'Z1', 1)
  t.equal((await settleFinal(b, 'Z1', 'Z1-F', '2026-11-25 10:00:00', { medfee: 20_000_00, fund: 12_000_00 })).burden.annual_threshold_crossed, false)
  await admitAs(b, 'Z2', 2)
  t.equal((await settleFinal(b, 'Z2', 'Z2-F', '2026-11-25 10:00:00', { medfee: 20_000_00, fund: 11_999_99 })).burden.annual_threshold_crossed, true)
})

t.test('the year starts from the registry\'s figure at its ytd_as_of, adds only later settlements, and starts again in January', async (t) => {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['out_of_poverty'])])
  await admitAs(b, 'Y0', 1, { begntime: '2026-04-28 09:00:00' })
  const key = b.store.stays.get('Y0')!.person_key
  // Settled here in May: the registry's figure as of June already counts it.
  await settleFinal(b, 'Y0', 'Y0-F', '2026-05-01 10:00:00', { medfee: 8_000_00, fund: 4_000_00 })
  b.store.burden.setYtd(key, { psn_part_fen: 3_000_00, medfee_fen: 10_000_00, fulamt_fen: 1_000_00, as_of: '2026-06-30 23:59:59' })
  await admitAs(b, 'Y1', 1)
  const b1 = await settleFinal(b, 'Y1', 'Y1-F', '2026-11-25 10:00:00', { medfee: 4_000_00, fulamt: 500_00, fund: 2_000_01 })
  t.equal(b1.burden.ytd_as_of, '2026-06-30 23:59:59')
  t.equal(b1.burden.ytd_psn_part_amt, 4999.99, 'registry 3,000 + 1,999.99; May\'s 4,000 not twice')
  t.equal(b1.burden.ytd_medfee_sumamt, 14000)
  t.equal(b1.burden.annual_threshold_crossed, false)
  await admitAs(b, 'Y2', 1, { begntime: '2026-11-27 09:00:00' })
  const b2 = await settleFinal(b, 'Y2', 'Y2-F', '2026-11-28 10:00:00', { medfee: 100_00, fund: 99_99 })
  t.equal(b2.burden.ytd_psn_part_amt, 5000)
  t.equal(b2.burden.annual_threshold_crossed, true, '5,000.00 with 自费 1,500 of 14,100 (10.6 %)')
  t.equal(openAlerts(b, 'annual_burden'), 1)
  await admitAs(b, 'Y3', 1, { begntime: '2026-12-30 09:00:00' })
  const b3 = await settleFinal(b, 'Y3', 'Y3-F', '2027-01-03 10:00:00', { medfee: 1_000_00, fund: 0 })
  t.equal(b3.burden.ytd_year, 2027)
  t.equal(b3.burden.ytd_as_of, null, 'the registry\'s 2026 figure does not count for 2027')
  t.equal(b3.burden.ytd_psn_part_amt, 1000)
  t.equal(b3.burden.annual_threshold_crossed, false)
  t.equal(openAlerts(b, 'annual_burden'), 1, 'one alert per person and year')
  // The settlement that took the year over is cancelled (2305): the year is back under, the alert withdrawn.
  await b.del('/v1/admissions/Y2/settlements/Y2-F')
  t.equal(openAlerts(b, 'annual_burden'), 0)
  const crossing = b.store.db.prepare('SELECT withdrawn_at FROM burden_crossing WHERE year = 2026').get() as any
  t.not(crossing.withdrawn_at, null)
})

t.test('Shandong\'s 再救助: 70 % of the year\'s in-policy residual above 5,000, at most 20,000, said per stay as the increase it causes', async (t) => {
  const b = await region(t, 'shandong-wenshang', [listed(1, ['registered_poor'])])
  const stays: Array<[string, string, { medfee: number, fund: number, fulamt?: number }, number, number]> = [
    // [stay, setl_time, figures, this stay's 再救助, the year's]
    ['R1', '2026-03-01 10:00:00', { medfee: 10_000_00, fund: 6_000_00 }, 0, 0], // residual 4,000: below
    ['R2', '2026-04-01 10:00:00', { medfee: 2_000_00, fund: 1_000_00 }, 0, 0], // 5,000: at the line, nothing above it
    ['R3', '2026-05-01 10:00:00', { medfee: 2_300_00, fulamt: 300_00, fund: 1_000_00 }, 700, 700], // 全自费 300 is outside the policy range
    ['R4', '2026-06-01 10:00:00', { medfee: 50_000_00, fund: 10_000_00 }, 19_300, 20_000], // 46,000 → 28,700, capped
    ['R5', '2026-07-01 10:00:00', { medfee: 2_000_00, fund: 1_000_00 }, 0, 20_000]
  ]
  for (const [id, time, f, stay, year] of stays) {
    await admitAs(b, id, 1, { begntime: '2026-02-20 09:00:00' })
    const r = await settleFinal(b, id, `${id}-F`, time, f)
    t.equal(r.burden.reassist_est_amt, stay, `${id}: this stay adds ${stay}`)
    t.equal(r.burden.reassist_ytd_amt, year, `${id}: the year's is ${year}`)
  }
  const r1 = await b.get('/v1/admissions/R1')
  t.equal(r1.json.burden.reassist_est_amt, 0, 'a stay\'s increase is computed in the order the year happened')
})

t.test('Guangxi has no 再救助: the figure is null, not 0', async (t) => {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['out_of_poverty'])])
  await admitAs(b, 'G1', 1)
  t.equal((await settleFinal(b, 'G1', 'G1-F', '2026-11-25 10:00:00', { medfee: 50_000_00, fund: 10_000_00 })).burden.reassist_est_amt, null)
})
