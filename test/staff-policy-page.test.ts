// The staff page's 本地政策 panel and the region's own words on the page, in a real browser: a
// Zhejiang hospital on its agreement share sees the agreement's limit and no hospital-borne amount;
// a Shanxi hospital that has not written its local settings sees a red line naming them and the
// rules that are off.
import t from 'tap'
import { SETUP } from './helper.ts'
import { region, admitAs, listed, spend } from './region-fixture.ts'
import { launchBrowser, openPage, signIn } from './staff-fixture.ts'

const PASSWORD = 'correct-horse-9'
const browser = await launchBrowser(t)

t.test('a Zhejiang agreement hospital: the panel shows who gets what with clauses; a breach shows no hospital-borne amount', async (t) => {
  const b = await region(t, 'zhejiang-quzhou', [listed(1, ['minimum_living'])], {
    treat_first_pay_later: ['minimum_living'], one_stop_settlement: ['minimum_living'], out_of_catalog_max: 0.1, annual_burden_fen: 2_000_000
  })
  await admitAs(b, 'ZJ1', 1)
  await spend(b, 'ZJ1', 10_000_00, 2_000_00)
  await b.app.rules.addStaff(SETUP, { name: '结算员小王', role: 'billing', password: PASSWORD })
  const { page, problems } = await openPage(t, browser)
  await page.goto(b.url + '/')
  await signIn(page, b.url, '结算员小王', PASSWORD)

  const panel = page.locator('#policy-section')
  await panel.locator('summary').click()
  await panel.locator('[data-role="policy-categories"] tbody tr').first().waitFor()
  t.match(await page.locator('#policy-region').innerText(), '浙江省衢州市・测试县人民医院')
  const row = panel.locator('[data-category="minimum_living"]')
  t.same(await row.locator('td').allInnerTexts(), ['低保对象', '是', '是', '是'])
  t.same(await panel.locator('[data-category="low_income_farmer"] td').allInnerTexts(), ['低收入农户', '否', '否', '否'])
  const rules = await panel.locator('[data-role="policy-rule"]').allInnerTexts()
  t.ok(rules.some((r) => r.includes('超过10%即超标（医保协议约定，本地设置）')), 'the agreement limit, said as the agreement\'s')
  t.ok(rules.some((r) => r.includes('依据：002_0d2281d7bbc70ae8.txt 二')), 'a rule with its clause')
  t.equal(await panel.locator('[data-role="policy-missing"]').count(), 0, 'nothing missing')

  await page.locator('#inpatient-rows tr[data-mdtrt-id="ZJ1"] [data-action="open-detail"]').click()
  const gate = page.locator('[data-role="gate"]')
  await gate.waitFor()
  t.match(await gate.innerText(), '超过协议约定的10%上限')
  t.equal(await page.locator('[data-role="hospital-borne"]').count(), 0, 'no hospital-borne line where 002 puts nothing on the hospital')
  t.match(await page.locator('[data-role="limit-label"]').innerText(), '目录外不超过协议约定的 10%')
  t.notMatch(await page.locator('#detail-body').innerText(), '医院承担')
  t.same(problems, [])
})

t.test('a Shanxi hospital without local settings: a red line names them, and the panel marks the rules off', async (t) => {
  const b = await region(t, 'shanxi', [listed(1, ['minimum_living'])])
  await admitAs(b, 'SX1', 1)
  await spend(b, 'SX1', 10_000_00, 5_000_00)
  await b.app.rules.addStaff(SETUP, { name: '结算员小赵', role: 'billing', password: PASSWORD })
  const { page, problems } = await openPage(t, browser)
  await page.goto(b.url + '/')
  await signIn(page, b.url, '结算员小赵', PASSWORD)
  const banner = page.locator('#danger-banner')
  await banner.waitFor({ state: 'visible' })
  t.match(await banner.innerText(), '本院本地设置缺少 2 项，相关规则暂停：local.treat_first_pay_later、local.one_stop_city_opt_in')
  const row = page.locator('#inpatient-rows tr[data-mdtrt-id="SX1"]')
  await row.waitFor()
  t.equal(await row.getAttribute('data-status'), 'no_limit')
  t.match(await row.innerText(), '无比例上限')
  t.match(await row.innerText(), '不限')
  await page.locator('#policy-section summary').click()
  const off = await page.locator('[data-role="policy-rule"][data-state="off"]').allInnerTexts()
  t.ok(off.some((r) => r.includes('本地区政策文件未规定先诊疗后付费对象')))
  t.ok(off.some((r) => r.includes('本地区政策未规定住院目录外费用占比上限')))
  t.equal(await page.locator('[data-role="policy-missing"] li').count(), 2)
  const alert = page.locator('#alert-list li', { hasText: '本地设置缺项' })
  await alert.first().waitFor()
  t.same(problems, [])
})
