// In a real browser: under HTTPS with the generated certificate the staff page signs in with its
// Secure cookie, and /docs renders, over HTTPS and over plain HTTP, with the security headers on and
// no Content-Security-Policy violation.
import t from 'tap'
import { join } from 'node:path'
import { build, tempDir, SETUP } from './helper.ts'
import { chromium } from 'playwright-core'
import { CHROMIUM, launchBrowser, openPage, signIn, wardRecords } from './staff-fixture.ts'
import { makeCertificate } from '../agent/cli/tls.ts'

/**
 * Swagger UI sets a few inline styles that its own policy (@fastify/swagger-ui's staticCSP, in place
 * before helmet came) does not allow; the page renders regardless. Everything else counts.
 */
function cspProblems (problems: string[]): string[] {
  return problems.filter((p) => !(/Applying inline style violates the following Content Security Policy directive 'style-src 'self' https:'/.test(p)))
}

t.test('over HTTPS the staff page signs in with a Secure cookie and /docs renders, without a CSP violation', async (t) => {
  const dir = tempDir(t)
  const made = await makeCertificate(['localhost', '127.0.0.1'], join(dir, 'tls'), 30)
  const b = await build(t, { records: wardRecords, env: { FANGPIN_TLS_CERT: made.certFile, FANGPIN_TLS_KEY: made.keyFile } })
  await b.app.rules.addStaff(SETUP, { name: '王会计', role: 'billing', password: 'a long enough password' })
  const browser = await launchBrowser(t)
  // The browser does not know the self-signed certificate: accept it, as staff do the first time.
  const secure = await browser.newContext({ ignoreHTTPSErrors: true })
  t.teardown(() => secure.close())
  const tab = await secure.newPage()
  tab.setDefaultTimeout(10_000)
  const problems: string[] = []
  tab.on('console', (msg) => { if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`) })
  tab.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  await signIn(tab, b.url, '王会计', 'a long enough password')
  const cookie = (await secure.cookies(b.url)).find((c) => c.name === 'fangpin_session')
  t.equal(cookie?.secure, true, 'the session cookie is Secure')
  t.equal(cookie?.httpOnly, true)
  t.same(problems, [], 'the staff page: no console error or CSP violation')
  await tab.goto(`${b.url}/docs/`)
  await tab.locator('.swagger-ui .info .title').filter({ hasText: 'fangpin agent' }).waitFor()
  t.same(cspProblems(problems), [], '/docs: no console error or CSP violation beyond swagger-ui\'s own inline styles')
})

t.test('over plain HTTP on a LAN name /docs renders (its policy does not ask for https sub-resources)', async (t) => {
  const b = await build(t, { records: wardRecords, env: { FANGPIN_HOST: '0.0.0.0', FANGPIN_ALLOW_PLAINTEXT: 'true' } })
  // A LAN host name (Chromium never upgrades requests to localhost or 127.0.0.1), resolved by the
  // browser itself to this machine's loopback: nothing leaves it.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--host-resolver-rules=MAP his-agent.hospital.test 127.0.0.1'] })
  t.teardown(() => browser.close())
  const { page, problems } = await openPage(t, browser)
  const url = b.url.replace('127.0.0.1', 'his-agent.hospital.test')
  await page.goto(`${url}/docs/`)
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'fangpin agent' }).waitFor()
  await page.locator('.opblock-summary-path').first().waitFor()
  t.ok(await page.locator('.opblock-summary-path', { hasText: '/v1/admissions' }).count() > 0, 'the operations are listed')
  t.same(cspProblems(problems), [], 'no console error or CSP violation beyond swagger-ui\'s own inline styles')
})
