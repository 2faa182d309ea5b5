// The estimate at admission (000 四(二)2): from the hospital's DRG payment table and its own final
// settlements (tariff), or the median of a year of same-diagnosis stays (history), or none — never a
// made-up number; and Guangxi's 5,000 以上 for the three 监测对象 at its boundary.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { region, admitAs, listed } from './region-fixture.ts'
import { settleFinal } from './settlement-fixture.ts'
import { fangpin, tempDir, type Built } from './helper.ts'
import { readTariffFile } from '../lists/read-tariff.ts'

const GX = 'guangxi-liuzhou'
const STROKE = [{ diag_code: 'I63.900', diag_name: '脑梗死', maindiag_flag: '1' }]

/** n earlier stays with main diagnosis I63, settled with these personal shares (fen). */
async function strokeHistory (b: Built, shares: number[], setlTime = '2026-10-01 10:00:00', prefix = 'H'): Promise<void> {
  let i = 0
  for (const psn of shares) {
    const id = `${prefix}${++i}`
    await admitAs(b, id, 1, { diseinfo: STROKE, begntime: `${setlTime.slice(0, 10)} 08:00:00` })
    await settleFinal(b, id, `${id}-F`, setlTime, { medfee: psn * 4, fund: psn * 3 })
  }
}

t.test('history: the median personal share of a year of same-category stays, from five of them', async (t) => {
  const b = await region(t, GX, [listed(1, ['extreme_poverty']), listed(2, ['extreme_poverty'])])
  await strokeHistory(b, [1_000_00, 3_000_00, 2_000_00, 5_000_00])
  const four = await admitAs(b, 'N1', 2, { diseinfo: [{ diag_code: 'I63.001', maindiag_flag: '1' }] })
  t.same(four.estimate, { psn_part_amt: null, medfee_sumamt: null, basis: null, sample_size: 0, basis_code: null }, 'four stays are not enough')
  t.notOk(four.cards.some((c: any) => c.summary.includes('预估')))
  await strokeHistory(b, [4_000_00], '2026-10-02 10:00:00', 'K')
  const five = await admitAs(b, 'N2', 2, { diseinfo: [{ diag_code: 'I63.001', maindiag_flag: '1' }] })
  t.same(five.estimate, { psn_part_amt: 3000, medfee_sumamt: 12000, basis: 'history', sample_size: 5, basis_code: 'I63' })
  t.ok(five.cards.some((c: any) => c.summary === '预估本次住院个人负担约3000.00元' && c.detail.includes('近一年同类诊断（I63）5例')))
  const other = await admitAs(b, 'N3', 2, { diseinfo: [{ diag_code: 'J18.900', maindiag_flag: '1' }] })
  t.equal(other.estimate.basis, null, 'another diagnosis category has no history')
  const stay = await b.get('/v1/admissions/N2')
  t.same(stay.json.estimate, five.estimate, 'the stay keeps its estimate')
})

t.test('history counts only the last 365 days', async (t) => {
  const b = await region(t, GX, [listed(1, ['extreme_poverty']), listed(2, ['extreme_poverty'])])
  await strokeHistory(b, [1_000_00, 1_000_00, 1_000_00, 1_000_00], '2026-10-01 10:00:00')
  await strokeHistory(b, [9_000_00], '2025-11-19 10:00:00', 'OLD')
  const a = await admitAs(b, 'N1', 2, { diseinfo: STROKE, begntime: '2026-11-20 09:30:00' })
  t.equal(a.estimate.basis, null, 'a stay settled 366 days before the admission is not in the year')
})

t.test('tariff: the group\'s 支付标准 times the personal share of this hospital\'s settlements of that group, else of all watched stays', async (t) => {
  const b = await region(t, GX, [listed(1, ['extreme_poverty']), listed(2, ['extreme_poverty'])])
  await b.app.rules.replaceTariffs({ kind: 'operator', user: 'test' }, [
    { drg_codg: 'ES31', drg_name: '呼吸系统感染', pay_std_fen: 8_000_00, base_points: null, point_value: null },
    { drg_codg: 'BR21', drg_name: '脑缺血性疾患', pay_std_fen: 20_000_00, base_points: null, point_value: null }
  ], 'test.csv')
  const none = await admitAs(b, 'N0', 2, { drg_codg: 'ES31' })
  t.equal(none.estimate.basis, null, 'a table but no settlement yet: no share to apply, no estimate')
  await admitAs(b, 'E1', 1, { drg_codg: 'ES31' })
  await settleFinal(b, 'E1', 'E1-F', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 8_500_00 })
  await admitAs(b, 'E2', 1, { drg_codg: 'es31 ' })
  await settleFinal(b, 'E2', 'E2-F', '2026-11-25 11:00:00', { medfee: 6_000_00, fund: 5_100_00 })
  const a = await admitAs(b, 'N1', 2, { drg_codg: 'ES31', diseinfo: STROKE })
  t.same(a.estimate, { psn_part_amt: 1200, medfee_sumamt: 8000, basis: 'tariff', sample_size: 2, basis_code: 'ES31' }, '8,000 × 2,400 ÷ 16,000')
  const fallback = await admitAs(b, 'N2', 2, { drg_codg: 'BR21' })
  t.same(fallback.estimate, { psn_part_amt: 3000, medfee_sumamt: 20000, basis: 'tariff', sample_size: 2, basis_code: 'BR21' }, 'no BR21 settlement: the share of all watched stays')
  const unknown = await admitAs(b, 'N3', 2, { drg_codg: 'ZZ99' })
  t.equal(unknown.estimate.basis, null, 'a group not in the table has no tariff')
})

t.test('Guangxi 四(二)2: a 监测对象\'s estimate 5,000 以上 (≥) is a warning card and an admission_estimate alert; other categories are not', async (t) => {
  const b = await region(t, GX, [listed(1, ['extreme_poverty']), listed(2, ['marginal_at_risk']), listed(3, ['extreme_poverty']), listed(4, ['marginal_at_risk'])])
  await strokeHistory(b, [5_000_00, 5_000_00, 5_000_00, 5_000_00, 5_000_00])
  const at = await admitAs(b, 'M1', 2, { diseinfo: STROKE })
  t.equal(at.estimate.psn_part_amt, 5000)
  const warning = at.cards.find((c: any) => c.indicator === 'warning' && c.summary.includes('预估'))
  t.match(warning.summary, '达到5000.00元以上')
  t.match(warning.summary, '000_c13c6dfe42a59df5.txt 四(二)2')
  const alert = b.store.db.prepare("SELECT mdtrt_id, message FROM alert WHERE kind = 'admission_estimate'").all() as any[]
  t.same(alert.map((a) => a.mdtrt_id), ['M1'])
  const tk = await admitAs(b, 'M2', 3, { diseinfo: STROKE })
  t.notOk(tk.cards.some((c: any) => c.indicator === 'warning' && c.summary.includes('预估')), '特困 is not one of the three 监测对象 of 四(二)2')
  t.equal((b.store.db.prepare("SELECT count(*) AS n FROM alert WHERE kind = 'admission_estimate'").get() as any).n, 1)
})

t.test('Guangxi 四(二)2: 4,999.99 has not reached 5,000', async (t) => {
  const b = await region(t, GX, [listed(1, ['extreme_poverty']), listed(2, ['marginal_at_risk'])])
  await strokeHistory(b, [4_999_99, 4_999_99, 4_999_99, 4_999_99, 4_999_99])
  const a = await admitAs(b, 'M1', 2, { diseinfo: STROKE })
  t.equal(a.estimate.psn_part_amt, 4999.99)
  t.notOk(a.cards.some((c: any) => c.indicator === 'warning' && c.summary.includes('预估')))
  t.equal((b.store.db.prepare("SELECT count(*) AS n FROM alert WHERE kind = 'admission_estimate'").get() as any).n, 0)
})

t.test('fangpin tariff import reads 支付标准, or 基准点数 × 点值, and refuses a table with a bad row as a whole', async (t) => {
  const dir = tempDir(t)
  const good = join(dir, 'drg.csv')
  writeFileSync(good, '2026年柳州市DRG病组支付标准\n病组编码,病组名称,支付标准（元）\nES31,呼吸系统感染,"8,000.00"\nBR21,脑缺血性疾患,20000\n')
  const points = join(dir, 'points.csv')
  writeFileSync(points, '病组编码,病组名称,基准点数\nGB11,消化道大手术,152.5\n')
  const bad = join(dir, 'bad.csv')
  writeFileSync(bad, '病组编码,支付标准\nES31,8000\nES31,9000\nXX1,abc\n')
  const env = { FANGPIN_DATA_DIR: join(dir, 'data') }
  const ok = await fangpin(['tariff', 'import', good], env)
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, 'imported 2 DRG groups from drg.csv')
  const viaPoints = await readTariffFile(points, { pointValue: '10.5' })
  t.same(viaPoints.rows, [{ drg_codg: 'GB11', drg_name: '消化道大手术', pay_std_fen: 1_601_25, base_points: '152.5', point_value: '10.5' }])
  const noValue = await readTariffFile(points)
  t.match(noValue.problems[0].reason, '没有点值')
  const refused = await fangpin(['tariff', 'import', bad], env)
  t.equal(refused.code, 2)
  t.match(refused.stderr, '病组编码重复')
  t.match(refused.stderr, '支付标准应为大于0的金额')
  t.match(refused.stderr, 'nothing imported')
  const { openStore } = await import('../agent/store/store.ts')
  const store = openStore(env.FANGPIN_DATA_DIR)
  t.teardown(() => store.close())
  t.equal(store.tariffs.count(), 2, 'the table imported before is still the one in force')
  t.equal(store.tariffs.get('ES31')?.pay_std_fen, 8_000_00)
})

t.test('the estimate\'s reads on the admission path use their indexes (EXPLAIN QUERY PLAN)', async (t) => {
  const b = await region(t, GX, [listed(1, ['extreme_poverty'])])
  const repo = b.store.settlements as unknown as Record<string, { source: string }>
  const plan = (name: string, params: unknown[]): string => (b.store.db.prepare(`EXPLAIN QUERY PLAN ${repo[name].source}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ')
  const history = plan('historyStmt', ['I63', '2025-11-20 00:00:00'])
  t.match(history, /SEARCH settlement USING INDEX settlement_diag \(main_diag=\? AND setl_time>\?\)/)
  // The ORDER BY sorts only the rows the index found: a year of one diagnosis category, not the table.
  t.notMatch(history, /SCAN settlement/, 'never a scan of all settlements')
  t.match(plan('groupShareStmt', ['ES31']), /SEARCH settlement USING INDEX settlement_drg \(drg_codg=\?\)/)
  t.match(plan('personYearStmt', [Buffer.alloc(32), 2026]), /SEARCH settlement USING INDEX settlement_person_year/)
})
