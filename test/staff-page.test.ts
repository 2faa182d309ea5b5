// The billing staff page in a real browser (Debian's Chromium through playwright-core) against a
// real listening agent and database: sign-in, the worst-first list, a stay's detail and exemption,
// live alerts pushed over SSE while the HIS posts charges, acknowledgement, sign-out, the split
// between HIS tokens and staff sessions, the admin section, keyboard use.
import t from 'tap'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { build, ROOT, SETUP } from './helper.ts'
import { admit, charge, line } from './charge-fixture.ts'
import { WARD, P6, wardRecords, seedWard, launchBrowser, openPage, signIn, pageFetch } from './staff-fixture.ts'

const PASSWORD = 'correct-horse-9'

const browser = await launchBrowser(t)

/** The seeded ward and a billing account, 结算员小李. */
async function wardWithBilling (t: Parameters<typeof build>[0]): Promise<Awaited<ReturnType<typeof build>>> {
  const b = await build(t, { records: wardRecords })
  await seedWard(b)
  await b.app.rules.addStaff(SETUP, { name: '结算员小李', role: 'billing', password: PASSWORD })
  return b
}

t.test('billing staff sign in, see the breach first in red, record an exemption, get a live alert, acknowledge it and sign out', async (t) => {
  const b = await wardWithBilling(t)
  const { page, problems } = await openPage(t, browser)

  await page.goto(b.url + '/')
  await page.locator('#login-view').waitFor({ state: 'visible' })
  t.ok(await page.locator('#main').isHidden(), 'nothing but the sign-in form before signing in')
  await signIn(page, b.url, '结算员小李', PASSWORD)
  t.equal(await page.locator('#user-name').textContent(), '结算员小李', 'the signed-in name is in the header')
  t.ok(await page.getByRole('button', { name: '退出' }).isVisible(), 'a sign-out button')

  // Worst first, as the server sorts: the breach on top, red.
  const rows = page.locator('#inpatient-rows tr')
  await rows.first().waitFor()
  t.equal(await rows.count(), 5, 'the five open monitored stays')
  const first = rows.first()
  t.equal(await first.getAttribute('data-mdtrt-id'), WARD.breach)
  t.equal(await first.getAttribute('data-status'), 'breach')
  t.equal(await rows.nth(1).getAttribute('data-status'), 'warning', 'then the warning')
  t.equal(await rows.last().getAttribute('data-status'), 'exempt', 'the 单病种 stay last')
  const barColour = await first.locator('[data-role="bar"]').evaluate((el) => getComputedStyle(el).backgroundColor)
  const [r, g, bl] = (barColour.match(/\d+/g) ?? []).map(Number)
  t.ok(r > 150 && g < 100 && bl < 100, `the breach bar is red (${barColour})`)
  const firstText = await first.innerText()
  t.match(firstText, '超标')
  t.match(firstText, '张*', 'the name as masked by the server')
  t.match(firstText, '1,280.00', 'total in yuan with two decimals')
  t.match(firstText, '11-20 09:30', 'admission time')
  t.match(firstText, '78.12%', 'in-catalog share, as the server rounds it (down)')
  t.match(firstText, '特困人员')
  t.equal(await page.locator('#danger-banner').isVisible(), false, 'no red banner for a fresh, real list')
  t.match(await page.locator('#list-info').innerText(), '名单版本', 'the list version in the header')

  // The screenshot the README shows: the list at 1366×768.
  const shotDir = join(ROOT, '.tap', 'screenshots')
  mkdirSync(shotDir, { recursive: true })
  await page.locator('#alert-list li').first().waitFor()
  await page.screenshot({ path: join(shotDir, 'staff-list.png') })
  // The README's copy changes with every run (alert times): refresh it only when asked.
  if (process.env.FANGPIN_UPDATE_SCREENSHOT === '1') {
    mkdirSync(join(ROOT, 'docs'), { recursive: true })
    copyFileSync(join(shotDir, 'staff-list.png'), join(ROOT, 'docs', 'staff-page.png'))
  }

  // Filters: by status, by department, by 住院号.
  await page.locator('#filter-status').selectOption('warning')
  t.same(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-mdtrt-id'))), [WARD.warning], 'status filter')
  await page.locator('#filter-status').selectOption('')
  await page.locator('#filter-dept').selectOption('骨科')
  t.same(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-mdtrt-id'))), [WARD.ok], 'department filter')
  await page.locator('#filter-dept').selectOption('')
  await page.locator('#filter-q').fill('2004')
  t.same(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-mdtrt-id'))), [WARD.small], 'search by 住院号')
  await page.locator('#filter-q').fill('')
  t.equal(await rows.count(), 5)

  // The breach's detail: totals, the items driving the share (largest first), the gate.
  await first.getByRole('button', { name: /详情/ }).click()
  const dialog = page.locator('#detail-dialog')
  await dialog.locator('[data-role="gate"]').waitFor()
  t.equal(await dialog.locator('[data-role="gate"]').getAttribute('data-decision'), 'block')
  t.match(await dialog.locator('[data-role="gate"]').innerText(), '超过10%上限', 'the gate\'s reason')
  t.match(await dialog.locator('[data-role="gate"]').innerText(), '医院承担金额', 'the amount the hospital bears')
  t.match(await dialog.innerText(), '拦截')
  const items = await dialog.locator('[data-role="top-items"] tbody tr td:first-child').allInnerTexts()
  t.same(items, ['进口人工晶体', '自费营养液'], 'out-of-catalog items, largest first')
  await page.screenshot({ path: join(shotDir, 'staff-detail.png') })

  // A special case approved by the 卫健局: recorded from the form, the stay turns 豁免.
  await dialog.getByLabel('审批号').fill('柳卫医〔2026〕17号')
  await dialog.getByLabel('审批单位').fill('县卫生健康局')
  await dialog.getByLabel('理由').fill('多发伤，需使用目录外特殊材料，经专家组论证')
  await dialog.getByRole('button', { name: '提交' }).click()
  await dialog.locator('#detail-body[data-status="exempt"]').waitFor()
  t.match(await dialog.locator('[data-role="exemptions"]').innerText(), '柳卫医〔2026〕17号', 'the approval is listed')
  t.match(await dialog.locator('[data-role="exemptions"]').innerText(), '结算员小李', 'recorded under the staff member\'s name')
  t.equal(await dialog.locator('[data-role="gate"]').getAttribute('data-decision'), 'ok', 'the gate lets the exempt stay go')
  await page.keyboard.press('Escape')
  await dialog.waitFor({ state: 'hidden' })
  const exemptRow = page.locator(`#inpatient-rows tr[data-mdtrt-id="${WARD.breach}"]`)
  await page.locator(`#inpatient-rows tr[data-mdtrt-id="${WARD.breach}"][data-status="exempt"]`).waitFor()
  t.match(await exemptRow.innerText(), '豁免', 'the row shows 豁免')
  t.equal(await rows.first().getAttribute('data-status'), 'warning', 'the warning is now the worst')

  // The HIS admits another patient and posts charges over the limit while the page is open.
  const urlBefore = page.url()
  await page.evaluate(() => { (window as any).__notReloaded = true })
  await page.locator('#live-state[data-state="open"]').waitFor()
  await admit(b, WARD.live, P6, { psn_name: '孙八', adm_dept_codg: 'A03', adm_dept_name: '心血管内科', begntime: '2026-11-22 07:40:00' })
  const posted = await charge(b, WARD.live, [line('L1', 90000, '01'), line('L2', 25000, '03', { med_list_name: '自费靶向药' })])
  t.equal(posted.json.status, 'breach')
  const live = page.locator(`#alert-list li[data-mdtrt-id="${WARD.live}"][data-kind="spending_breach"]`)
  await live.waitFor({ timeout: 8000 })
  t.equal(await live.getAttribute('data-new'), 'true', 'the new alert is highlighted')
  t.match(await live.getAttribute('class') ?? '', /is-new/)
  t.equal(await page.locator('#alert-list li').first().getAttribute('data-mdtrt-id'), WARD.live, 'at the top of the list')
  t.match(await live.innerText(), '目录外费用占比', 'the alert\'s message')
  t.match(await live.innerText(), '严重', 'its level')
  await page.locator(`#inpatient-rows tr[data-mdtrt-id="${WARD.live}"][data-status="breach"]`).waitFor({ timeout: 5000 })
  t.equal(await rows.first().getAttribute('data-mdtrt-id'), WARD.live, 'the new breach row is on top without a reload')
  t.equal(await page.evaluate(() => (window as any).__notReloaded), true, 'the page was not reloaded')
  t.equal(page.url(), urlBefore)

  // Acknowledge it with a click.
  const alertId = await live.getAttribute('data-alert-id')
  await page.screenshot({ path: join(shotDir, 'staff-live-alert.png') })
  await live.getByRole('button', { name: /确认/ }).click()
  await page.locator(`#alert-list li[data-alert-id="${alertId}"][data-state="acknowledged"]`).waitFor()
  t.match(await live.innerText(), '已确认（结算员小李', 'acknowledged by name')
  const open = await pageFetch(page, '/staff/api/alerts?state=open')
  t.notOk(open.json.alerts.some((a: any) => String(a.id) === alertId), 'no longer among the open alerts')

  // Sign out: back to the sign-in form, and the session is gone.
  await page.getByRole('button', { name: '退出' }).click()
  await page.locator('#login-view').waitFor({ state: 'visible' })
  t.ok(await page.locator('#main').isHidden())
  t.equal(await page.locator('#inpatient-rows tr').count(), 0, 'no patient data left in the page')
  t.equal((await pageFetch(page, '/staff/api/me')).status, 401, 'GET /staff/api/me is 401 after signing out')
  t.same(problems, [], 'no script errors and no CSP violations')
})

t.test('a wrong password is refused', async (t) => {
  const b = await build(t, { records: wardRecords })
  await b.app.rules.addStaff(SETUP, { name: '结算员小李', role: 'billing', password: PASSWORD })
  const { page, problems } = await openPage(t, browser)
  await page.goto(b.url + '/login')
  await page.locator('#login-name').fill('结算员小李')
  await page.locator('#login-password').fill('wrong-password')
  await page.getByRole('button', { name: '登录' }).click()
  const error = page.locator('#login-error')
  await error.waitFor({ state: 'visible' })
  t.match(await error.textContent(), '姓名或密码错误')
  t.ok(await page.locator('#login-view').isVisible(), 'still on the sign-in view')
  t.ok(await page.locator('#main').isHidden())
  t.equal(await page.locator('#login-password').inputValue(), '', 'the password field is cleared')
  t.equal((await pageFetch(page, '/staff/api/me')).status, 401, 'no session')

  // Five failures for a name: the next attempt, even with the right password, waits.
  for (let i = 0; i < 4; i++) {
    t.equal((await pageFetch(page, '/staff/api/login', { method: 'POST', body: { name: '结算员小李', password: `guess-${i}` } })).status, 401)
  }
  await page.locator('#login-password').fill(PASSWORD)
  await page.getByRole('button', { name: '登录' }).click()
  await page.locator('#login-error', { hasText: '登录失败次数过多' }).waitFor()
  t.pass('the server\'s too-many-attempts message is shown')
  t.ok(await page.locator('#main').isHidden(), 'still signed out')
  t.same(problems, [])
})

t.test('an HIS token cannot read staff data and a staff session cannot call the HIS API', async (t) => {
  const b = await wardWithBilling(t)
  for (const token of [b.token, b.adminToken]) {
    const res = await b.get('/staff/api/inpatients', { authorization: `Bearer ${token}` })
    t.equal(res.status, 401, 'a bearer token is not a staff session')
    t.notOk(res.text.includes(WARD.breach), 'and no stay leaks')
  }
  t.equal((await b.get('/staff/api/events', { authorization: `Bearer ${b.token}` })).status, 401, 'nor opens the alert stream')

  const { page } = await openPage(t, browser)
  await signIn(page, b.url, '结算员小李', PASSWORD)
  t.equal((await pageFetch(page, '/staff/api/inpatients')).status, 200, 'the session reads the staff API')
  t.equal((await pageFetch(page, '/v1/inpatients')).status, 401, 'but not the HIS API')
  t.equal((await pageFetch(page, `/v1/admissions/${WARD.breach}`)).status, 401)
  t.equal((await pageFetch(page, '/v1/alerts')).status, 401)

  // The session ends on the server (idle expiry, a disabled user): the page goes back to sign-in.
  b.store.db.prepare('DELETE FROM staff_session').run()
  await page.getByRole('button', { name: '刷新' }).click()
  await page.locator('#login-view').waitFor({ state: 'visible' })
  t.match(await page.locator('#login-error').textContent(), '登录已失效', 'with a word on why')
  t.equal(await page.locator('#inpatient-rows tr').count(), 0, 'and the list is gone from the page')
})

t.test('an admin sees the admin section and a billing user does not', async (t) => {
  const b = await build(t, { records: wardRecords })
  await b.app.rules.addStaff(SETUP, { name: '信息科老王', role: 'admin', password: PASSWORD })
  await b.app.rules.addStaff(SETUP, { name: '结算员小李', role: 'billing', password: PASSWORD })

  const admin = await openPage(t, browser)
  await signIn(admin.page, b.url, '信息科老王', PASSWORD)
  const section = admin.page.locator('#admin-section')
  await section.waitFor({ state: 'visible' })
  await admin.page.locator('#token-rows tr').first().waitFor()
  t.match(await admin.page.locator('#token-rows').innerText(), 'test-his', 'the HIS tokens are listed')
  await admin.page.locator('#user-rows tr').nth(1).waitFor()
  const users = await admin.page.locator('#user-rows').innerText()
  t.match(users, '结算员小李', 'and the staff users')
  t.match(users, '信息科老王')

  mkdirSync(join(ROOT, '.tap', 'screenshots'), { recursive: true })

  // A new token is shown once.
  await admin.page.getByLabel('名称').fill('HIS-住院结算')
  await admin.page.getByRole('button', { name: '新建令牌' }).click()
  await admin.page.locator('#new-token').waitFor({ state: 'visible' })
  t.match(await admin.page.locator('#new-token-value').inputValue(), /^fp_/, 'the new token, to copy')
  t.match(await admin.page.locator('#new-token').innerText(), '只显示这一次')
  await admin.page.locator('#token-rows tr', { hasText: 'HIS-住院结算' }).waitFor()

  // A staff account added from the page.
  await admin.page.locator('#user-new-name').fill('结算员小张')
  await admin.page.locator('#user-new-password').fill('another-pass-7')
  await admin.page.getByRole('button', { name: '添加账号' }).click()
  await admin.page.locator('#user-rows tr[data-user-name="结算员小张"]').waitFor()

  // Sync without a registry: the server's message is shown.
  await admin.page.getByRole('button', { name: '立即同步' }).click()
  await admin.page.locator('#sync-result', { hasText: '未配置' }).waitFor()
  await admin.page.screenshot({ path: join(ROOT, '.tap', 'screenshots', 'staff-admin.png'), fullPage: true })
  t.same(admin.problems, [])

  const billing = await openPage(t, browser)
  await signIn(billing.page, b.url, '结算员小李', PASSWORD)
  await billing.page.locator('#inpatient-rows').waitFor({ state: 'attached' })
  t.ok(await billing.page.locator('#admin-section').isHidden(), 'no admin section for billing staff')
  t.equal(await billing.page.locator('#token-rows tr').count(), 0, 'and no tokens in the page')
  t.equal((await pageFetch(billing.page, '/staff/api/tokens')).status, 403, 'the API refuses them too')
})

t.test('a keyboard alone signs in, opens a stay and closes it with Esc', async (t) => {
  const b = await wardWithBilling(t)
  const { page, problems } = await openPage(t, browser)
  await page.goto(b.url + '/')
  await page.locator('#login-view').waitFor({ state: 'visible' })
  await page.waitForFunction(() => document.activeElement?.id === 'login-name')
  t.pass('the name field has the focus')
  await page.keyboard.type('结算员小李')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'login-password', 'Tab goes to the password')
  await page.keyboard.type(PASSWORD)
  await page.keyboard.press('Enter')
  await page.locator('#main').waitFor({ state: 'visible' })
  await page.locator('#inpatient-rows tr').first().waitFor()

  // Tab through the filters to the first row's 详情 button, Enter opens the stay, Esc closes it.
  let reached = false
  for (let i = 0; i < 25 && !reached; i++) {
    await page.keyboard.press('Tab')
    reached = await page.evaluate((id) => {
      const el = document.activeElement as HTMLElement | null
      return el?.dataset.action === 'open-detail' && el.dataset.mdtrtId === id
    }, WARD.breach)
  }
  t.ok(reached, 'the first row\'s 详情 button is reachable with Tab')
  const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)
  t.not(focusVisible, 'none', 'the focused button shows a focus outline')
  await page.keyboard.press('Enter')
  await page.locator('#detail-dialog [data-role="gate"]').waitFor()
  await page.keyboard.press('Escape')
  await page.locator('#detail-dialog').waitFor({ state: 'hidden' })
  t.equal(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.mdtrtId), WARD.breach, 'focus returns to the row')
  t.same(problems, [])
})
