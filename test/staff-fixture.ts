// The billing staff page's browser tests: a small ward of poor and low-income inpatients in every
// spending state, staff accounts, and Debian's Chromium driven by playwright-core.
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { certno, person, type Built } from './helper.ts'
import { admit, charge, line, POOR, POOR2 } from './charge-fixture.ts'

export const CHROMIUM = process.env.FANGPIN_CHROMIUM ?? '/usr/bin/chromium'

export const P3 = certno('45020619650203003')
export const P4 = certno('45020620150607004')
export const P5 = certno('45020619720809005')
export const P6 = certno('45020619800101006')

export const wardRecords = [
  person(POOR, '张三丰', [['extreme_poverty', '2021-01-01 00:00:00', null]]),
  person(POOR2, '李四', [['minimum_living', '2020-01-01 00:00:00', null]]),
  person(P3, '王五', [['returned_to_poverty', '2022-01-01 00:00:00', null]]),
  person(P4, '赵小六', [['orphan', '2016-01-01 00:00:00', null]]),
  person(P5, '钱七', [['unstable_out_of_poverty', '2021-06-01 00:00:00', null]]),
  person(P6, '孙八', [['minimum_living', '2019-01-01 00:00:00', null]])
]

/** Stay ids of the ward, by the state the seed puts them in. */
export const WARD = {
  breach: 'ZY2026112001',
  warning: 'ZY2026112002',
  ok: 'ZY2026112003',
  small: 'ZY2026112004',
  exempt: 'ZY2026112005',
  /** admitted during a test: its charges raise a live alert */
  live: 'ZY2026112006'
}

/**
 * Five open stays: a breach (21.9 % out of catalog), a warning (8.4 %), two within the rule and a
 * 单病种 stay (exempt). The breach and the warning raise their alerts while seeding.
 */
export async function seedWard (b: Built): Promise<void> {
  await admit(b, WARD.breach, POOR, { psn_name: '张三丰' })
  await admit(b, WARD.warning, POOR2, { psn_name: '李四', adm_dept_codg: 'A05', adm_dept_name: '呼吸内科', begntime: '2026-11-18 14:10:00' })
  await admit(b, WARD.ok, P3, { psn_name: '王五', adm_dept_codg: 'A12', adm_dept_name: '骨科', begntime: '2026-11-15 08:00:00' })
  await admit(b, WARD.small, P4, { psn_name: '赵小六', adm_dept_codg: 'A20', adm_dept_name: '儿科', begntime: '2026-11-21 16:45:00' })
  await admit(b, WARD.exempt, P5, { psn_name: '钱七', med_type: '26', adm_dept_codg: 'A07', adm_dept_name: '神经内科', begntime: '2026-11-19 10:20:00' })
  const batches: Array<[string, Array<Record<string, unknown>>]> = [
    [WARD.breach, [line('B1', 100000, '01'), line('B2', 18000, '03', { med_list_name: '进口人工晶体' }), line('B3', 10000, '03', { med_list_name: '自费营养液' })]],
    [WARD.warning, [line('W1', 400000, '01'), line('W2', 60000, '02'), line('W3', 42000, '03', { med_list_name: '自费耗材' })]],
    [WARD.ok, [line('O1', 300000, '01'), line('O2', 50000, '02'), line('O3', 10000, '03')]],
    [WARD.small, [line('S1', 36000, '01'), line('S2', 1200, '03')]],
    [WARD.exempt, [line('E1', 200000, '01'), line('E2', 60000, '03')]]
  ]
  for (const [id, lines] of batches) {
    const res = await charge(b, id, lines)
    if (res.status !== 200) throw new Error(`charges for ${id} failed: ${res.status} ${res.text}`)
  }
}

/** Debian's Chromium, started once per test file and closed when it ends. */
export async function launchBrowser (t: { teardown: (fn: () => unknown) => void }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: the browser tests drive Debian's chromium — apt-get install -y chromium (.ci/run does it), or set FANGPIN_CHROMIUM to its path`)
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--lang=zh-CN'] })
  t.teardown(() => browser.close())
  return browser
}

export interface StaffPage {
  context: BrowserContext
  page: Page
  /** console errors and CSP violations seen by the page */
  problems: string[]
}

/** A fresh browser profile (own cookies) on a 1366×768 hospital PC screen. */
export async function openPage (t: { teardown: (fn: () => unknown) => void }, browser: Browser): Promise<StaffPage> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (msg) => {
    // A 401 from /staff/api/me before sign-in is expected; Chromium logs every failed load.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`)
  })
  return { context, page, problems }
}

export async function signIn (page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(url + '/')
  await page.locator('#login-name').fill(name)
  await page.locator('#login-password').fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await page.locator('#main').waitFor({ state: 'visible' })
}

/** fetch from inside the page (same origin, the page's cookies): status and JSON body. */
export async function pageFetch (page: Page, path: string, init: { method?: string, body?: unknown } = {}): Promise<{ status: number, json: any }> {
  return await page.evaluate(async ({ path, init }) => {
    const res = await fetch(path, {
      method: init.method ?? 'GET',
      credentials: 'same-origin',
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body)
    })
    const text = await res.text()
    let json: unknown = null
    try { json = JSON.parse(text) } catch {}
    return { status: res.status, json }
  }, { path, init })
}
