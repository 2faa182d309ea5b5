// The staff page's 目录查询 box, the catalog drift list and a stay's 未对照项目, in Debian's
// Chromium against a real agent, under the page's strict CSP.
import t from 'tap'
import { build, SETUP } from './helper.ts'
import { admit, charge, line, records } from './charge-fixture.ts'
import { launchBrowser, openPage, signIn, pageFetch } from './staff-fixture.ts'
import { ceftriaxone, item, loadCatalog, mapping, vbp } from './catalog-fixture.ts'

const browser = await launchBrowser(t)
const STAY = 'ZY2026112201'

t.test('billing staff look the catalog up by name or hospital code, see the drift list and a stay\'s 未对照项目', async (t) => {
  const b = await build(t, { records })
  await b.app.rules.addStaff(SETUP, { name: '结算员小王', role: 'billing', password: 'correct-horse-9' })
  await loadCatalog(b.store, {
    items: [
      ceftriaxone('XA5', { lv: '02', price_cap_fen: 300 }),
      ceftriaxone('XA4', { lv: '01', nego: true, lmt_used: true }),
      ceftriaxone('XORIG', { lv: '03', name: '进口注射用头孢曲松钠' }),
      item('XD', { lv: '01', name: '阿莫西林胶囊' })
    ],
    mappings: [mapping('H-0042', 'XA4')],
    vbp: [vbp('XA5')]
  })
  await admit(b, STAY)
  const lines = [line('L1', 200000, '01', { med_list_codg: 'XA4' }), line('L2', 3000, '03', { med_list_codg: 'XD', med_list_name: '阿莫西林胶囊' })]
  const unknown = line('L3', 4500, '01', { med_list_codg: 'XNOWHERE', med_list_name: '院内自制膏方' })
  delete unknown.chrgitm_lv
  t.equal((await charge(b, STAY, [...lines, unknown])).status, 200)

  const { page, problems } = await openPage(t, browser)
  await page.goto(b.url + '/')
  t.equal((await pageFetch(page, '/staff/api/catalog/search?q=abc')).status, 401, 'the staff catalog API needs a sign-in')
  await signIn(page, b.url, '结算员小王', 'correct-horse-9')
  await page.locator('#catalog-info').filter({ hasText: '目录版本' }).waitFor()
  t.match(await page.locator('#catalog-info').innerText(), /4 个编码.*区划 450206/)

  await page.getByLabel('关键词').fill('头孢曲松')
  await page.locator('#catalog-form').getByRole('button', { name: '查询' }).click()
  await page.locator('#catalog-rows tr').first().waitFor()
  t.same(await page.locator('#catalog-rows tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-code')).sort()), ['XA4', 'XA5', 'XORIG'])
  const xa5 = page.locator('#catalog-rows tr[data-code="XA5"]')
  t.match(await xa5.innerText(), /集采中选/)
  t.match(await xa5.innerText(), /乙类/)
  t.match(await xa5.innerText(), /3\.00/, 'the price cap in yuan')
  t.match(await page.locator('#catalog-rows tr[data-code="XA4"]').innerText(), /国家谈判[\s\S]*限制使用/)
  t.equal(await page.locator('#catalog-rows tr[data-code="XORIG"]').getAttribute('data-level'), '03')
  t.match(await page.locator('#catalog-summary').innerText(), '找到 3 项')

  await page.getByLabel('关键词').fill('H-0042')
  await page.locator('#catalog-form').getByRole('button', { name: '查询' }).click()
  await page.locator('#catalog-summary').filter({ hasText: '找到 1 项' }).waitFor()
  t.same(await page.locator('#catalog-rows tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-code'))), ['XA4'], 'a hospital code is found through the mapping')

  await page.getByLabel('关键词').fill('没有这个')
  await page.keyboard.press('Enter')
  await page.locator('#catalog-summary').filter({ hasText: '未找到' }).waitFor()
  t.ok(await page.locator('#catalog-table').isHidden(), 'no table for nothing found')

  const drift = page.locator('#drift-box')
  t.ok(await drift.isVisible(), 'the drift list is shown when there is drift')
  await drift.locator('summary').click()
  t.match(await drift.locator('summary').innerText(), '（1）')
  t.match(await drift.locator('tr[data-code="XD"]').innerText(), /阿莫西林胶囊[\s\S]*丙类[\s\S]*甲类/)

  await page.locator(`#inpatient-rows tr[data-mdtrt-id="${STAY}"]`).getByRole('button', { name: /详情/ }).click()
  const table = page.locator('#detail-dialog [data-role="unmapped-items"]')
  await table.waitFor()
  t.match(await page.locator('#detail-dialog').innerText(), '未对照项目')
  t.same(await table.locator('tbody tr td:first-child').allInnerTexts(), ['院内自制膏方'])
  t.match(await table.locator('tbody tr').innerText(), /XNOWHERE[\s\S]*45\.00/)
  t.same(problems, [], 'no script errors or CSP violations')
})
