// The admission notice over the agent (HIS token and staff session), and the stay's burden on the
// staff page, in a real browser: the 个人负担与结算 section, 打印告知书 opening the notice under the
// agent's CSP, and the 年度负担 panel; the PDF's text read back with pdftotext.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SETUP, tempDir } from './helper.ts'
import { region, admitAs, listed, patient, spend } from './region-fixture.ts'
import { settleFinal } from './settlement-fixture.ts'
import { launchBrowser, openPage, signIn } from './staff-fixture.ts'

const PASSWORD = 'correct-horse-9'
const STROKE = [{ diag_code: 'I63.900', diag_name: '脑梗死', maindiag_flag: '1' }]
const browser = await launchBrowser(t)

async function guangxiWard (t: Parameters<typeof region>[0]) {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['marginal_at_risk']), listed(2, ['marginal_at_risk'])])
  for (let i = 1; i <= 5; i++) {
    await admitAs(b, `H${i}`, 1, { diseinfo: STROKE, begntime: '2026-10-01 08:00:00' })
    await settleFinal(b, `H${i}`, `H${i}-F`, '2026-10-05 10:00:00', { medfee: 13_000_00, fund: 9_750_00 })
  }
  await admitAs(b, 'ZY9', 2, { diseinfo: STROKE, psn_name: '韦小宝', adm_dept_name: '神经内科' })
  await spend(b, 'ZY9', 10_000_00, 500_00)
  await settleFinal(b, 'ZY9', 'ZY9-F', '2026-11-28 10:00:00', { medfee: 10_000_00, fulamt: 500_00, fund: 8_000_00 })
  return b
}

t.test('the HIS gets the notice as a page under the CSP and as a PDF whose text reads back; both audited', async (t) => {
  const b = await guangxiWard(t)
  const page = await b.get('/v1/admissions/ZY9/notice')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), 'text/html')
  t.match(page.headers.get('content-security-policy'), "style-src 'self'")
  t.equal(page.headers.get('cache-control'), 'no-store')
  t.match(page.text, '韦*宝')
  t.match(page.text, 'ZY9')
  t.match(page.text, '3,250.00', 'the estimate: the median of five stays of I63')
  t.match(page.text, '/assets/notice.css')
  t.notOk(page.text.includes(patient(2)), 'no ID number')
  const css = await fetch(b.url + '/assets/notice.css')
  t.equal(css.status, 200)
  t.match(css.headers.get('content-type'), 'text/css')

  const pdf = await fetch(b.url + '/v1/admissions/ZY9/notice.pdf', { headers: { authorization: `Bearer ${b.token}` } })
  t.equal(pdf.status, 200)
  t.equal(pdf.headers.get('content-type'), 'application/pdf')
  const bytes = Buffer.from(await pdf.arrayBuffer())
  t.equal(bytes.subarray(0, 5).toString(), '%PDF-')
  const file = join(tempDir(t), 'n.pdf')
  writeFileSync(file, bytes)
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' })
  t.match(text, '先诊疗后付费')
  t.match(text, '3,250.00')
  t.match(text, '签字')
  t.notMatch(text, /\d{17}[\dX]/, 'no ID number')
  t.equal(execFileSync('pdfinfo', [file], { encoding: 'utf8' }).match(/Pages:\s+(\d+)/)?.[1], '1')

  t.equal((await b.get('/v1/admissions/NOPE/notice')).status, 404)
  t.equal((await fetch(b.url + '/v1/admissions/ZY9/notice')).status, 401)
  const audits = b.store.db.prepare("SELECT client, mdtrt_id FROM audit WHERE action = 'notice.print'").all()
  t.same(audits, [{ client: 'test-his', mdtrt_id: 'ZY9' }, { client: 'test-his', mdtrt_id: 'ZY9' }])
})

t.test('on the staff page a stay shows its burden and settlements, 打印告知书 opens the notice, and 年度负担 lists the month', async (t) => {
  const b = await guangxiWard(t)
  await b.app.rules.addStaff(SETUP, { name: '结算员小王', role: 'billing', password: PASSWORD })
  const { page, context, problems } = await openPage(t, browser)
  await signIn(page, b.url, '结算员小王', PASSWORD)
  await page.locator('#inpatient-rows tr[data-mdtrt-id="ZY9"] [data-action="open-detail"]').click()
  const section = page.locator('[data-role="burden"]')
  await section.waitFor()
  t.match(await section.locator('[data-role="estimate"]').innerText(), '约 3,250.00 元（按本院近一年同类诊断（I63）5例住院的个人负担中位数估算）')
  t.match(await section.locator('[data-role="psn-part"]').innerText(), '2,000.00 元')
  t.match(await section.innerText(), '住院合规费用报销比例')
  t.match(await section.innerText(), '未达目标')
  t.same(await section.locator('[data-role="settlements"] tbody tr td').first().innerText(), 'ZY9-F')

  const [notice] = await Promise.all([context.waitForEvent('page'), section.locator('[data-role="print-notice"]').click()])
  const violations: string[] = []
  notice.on('console', (m) => { if (m.type() === 'error') violations.push(m.text()) })
  await notice.waitForLoadState('load')
  const body = await notice.locator('body').innerText()
  t.match(body, '先诊疗后付费住院告知书')
  t.match(body, '韦*宝')
  t.match(body, '超出部分由医院承担', 'Guangxi: the hospital bears the excess (000 五(二)2)')
  t.same(violations, [])
  await notice.close()

  await page.locator('#detail-close').click()
  await page.locator('#burden-section summary').click()
  await page.locator('#burden-month').fill('2026-11')
  const below = page.locator('[data-role="below-target"] tbody tr')
  await below.first().waitFor()
  t.match(await below.first().innerText(), 'ZY9')
  t.match(await page.locator('#burden-xlsx').getAttribute('href') ?? '', '/staff/api/reports/burden.xlsx?month=2026-11')
  t.same(problems, [])
})
