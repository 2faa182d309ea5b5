// TLS on the LAN: `fangpin tls init` makes a certificate an HIS can pin, the agent serves HTTPS with
// it (a real handshake), plain HTTP off loopback is refused unless asked for and then announced on
// every answer, the staff cookie is Secure under TLS, and every answer carries security headers
// without weakening the staff page's own CSP or breaking /docs.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { build, certno, fangpin, person, tempDir, SETUP } from './helper.ts'
import { serve, httpsCall } from './ops-fixture.ts'
import { loadConfig, ConfigError } from '../agent/config.ts'
import { makeCertificate } from '../agent/cli/tls.ts'

const A = certno('45020619580312001')
const records = [person(A, '张三', [['minimum_living', '2020-01-01 00:00:00', null]])]
/** The command in this process (as bin/fangpin.js runs it): exit code and what it printed. */
async function inProcess (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  const { main } = await import('../agent/cli/main.ts')
  let stdout = ''
  let stderr = ''
  const code = await main(args, { out: { write: (s: string) => { stdout += s } }, err: { write: (s: string) => { stderr += s } }, stdin: process.stdin, env })
  return { code, stdout, stderr }
}

const PAGE_CSP = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

t.test('tls init makes a 0600 key and a certificate for the given names, prints its SHA-256 fingerprint, and will not replace them silently', async (t) => {
  const dir = tempDir(t)
  const out = join(dir, 'tls')
  const made = await inProcess(['tls', 'init', '--host', 'his-agent.hospital.lan', '--host', '10.20.1.15', '--host', '127.0.0.1', '--out', out, '--days', '30'], { FANGPIN_DATA_DIR: join(dir, 'data') })
  t.equal(made.code, 0, made.stderr)
  const cert = readFileSync(join(out, 'tls-cert.pem'), 'utf8')
  const x509 = new X509Certificate(cert)
  t.equal(statSync(join(out, 'tls-key.pem')).mode & 0o777, 0o600, 'the key is readable by its owner only')
  t.equal(x509.subjectAltName, 'DNS:his-agent.hospital.lan, IP Address:10.20.1.15, IP Address:127.0.0.1')
  t.match(made.stdout, `SHA-256 fingerprint: ${x509.fingerprint256}`)
  t.match(made.stdout, `FANGPIN_TLS_CERT=${join(out, 'tls-cert.pem')}`)
  const days = (Date.parse(x509.validTo) - Date.now()) / 86_400_000
  t.ok(days > 29 && days <= 30, `valid for --days 30 (${days.toFixed(2)})`)
  t.ok(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(out, 'tls-key.pem')))), 'the key is the certificate\'s')

  const again = await inProcess(['tls', 'init', '--host', 'other.lan', '--out', out])
  t.equal(again.code, 64)
  t.match(again.stderr, /exists: the HIS may have pinned its certificate\. Pass --force/)
  t.equal(readFileSync(join(out, 'tls-cert.pem'), 'utf8'), cert, 'the pinned certificate is untouched')

  const bad = await inProcess(['tls', 'init', '--host', 'not a host', '--out', join(dir, 'x')])
  t.equal(bad.code, 64)
  t.match(bad.stderr, /--host "not a host" is neither an IP address nor a host name/)
})

t.test('TLS settings are checked at start: both or neither, readable, a certificate, its own key', async (t) => {
  const dir = tempDir(t)
  const one = await makeCertificate(['localhost'], join(dir, 'one'), 10)
  const two = await makeCertificate(['localhost'], join(dir, 'two'), 10)
  const problem = (env: Record<string, string>): string => {
    try { loadConfig(env); return '' } catch (err) { t.type(err, ConfigError); return (err as Error).message }
  }
  t.match(problem({ FANGPIN_TLS_CERT: one.certFile }), /FANGPIN_TLS_CERT is set but FANGPIN_TLS_KEY is not: set both/)
  t.match(problem({ FANGPIN_TLS_KEY: one.keyFile }), /FANGPIN_TLS_KEY is set but FANGPIN_TLS_CERT is not/)
  t.match(problem({ FANGPIN_TLS_CERT: join(dir, 'missing.pem'), FANGPIN_TLS_KEY: one.keyFile }), /FANGPIN_TLS_CERT=".*missing\.pem" cannot be read \(ENOENT\)/)
  t.match(problem({ FANGPIN_TLS_CERT: one.keyFile, FANGPIN_TLS_KEY: one.keyFile }), /FANGPIN_TLS_CERT=.* is not a PEM certificate/)
  t.match(problem({ FANGPIN_TLS_CERT: one.certFile, FANGPIN_TLS_KEY: two.keyFile }), /FANGPIN_TLS_KEY=.* is not the key of the certificate FANGPIN_TLS_CERT=/)
  t.match(problem({ FANGPIN_ALLOW_PLAINTEXT: 'yes please' }), /FANGPIN_ALLOW_PLAINTEXT="yes please" is not valid/)
  const ok = loadConfig({ FANGPIN_TLS_CERT: one.certFile, FANGPIN_TLS_KEY: one.keyFile })
  t.equal(ok.tls?.fingerprint256, one.fingerprint256)
})

t.test('fangpin serve refuses plain HTTP on a LAN address, naming the TLS variables and FANGPIN_ALLOW_PLAINTEXT', async (t) => {
  const dir = tempDir(t)
  const run = await fangpin(['serve'], { FANGPIN_DATA_DIR: dir, FANGPIN_HOST: '0.0.0.0', FANGPIN_PORT: '0' })
  t.equal(run.code, 78)
  t.match(run.stderr, /FANGPIN_HOST="0\.0\.0\.0" serves the hospital LAN over plain HTTP/)
  t.match(run.stderr, /set FANGPIN_TLS_CERT and FANGPIN_TLS_KEY/)
  t.match(run.stderr, /FANGPIN_ALLOW_PLAINTEXT=true/)
})

t.test('the agent serves HTTPS with the generated certificate: a real handshake, the pinned fingerprint, a Secure staff cookie', async (t) => {
  const dir = tempDir(t)
  const made = await makeCertificate(['localhost', '127.0.0.1'], join(dir, 'tls'), 30)
  const ca = readFileSync(made.certFile, 'utf8')
  // The real command, on the LAN address: TLS is what lets it start there.
  const agent = await serve(t, { FANGPIN_DATA_DIR: join(dir, 'data'), FANGPIN_HOST: '0.0.0.0', FANGPIN_TLS_CERT: made.certFile, FANGPIN_TLS_KEY: made.keyFile })
  t.match(agent.url, /^https:\/\//)
  const health = await httpsCall(`${agent.url}/healthz`, ca, { servername: 'localhost' })
  t.equal(health.status, 200)
  t.same(health.json, { status: 'ok' })
  t.equal(health.fingerprint256, made.fingerprint256, 'the server presents the certificate whose fingerprint was printed')
  t.match(String(health.headers['strict-transport-security']), /^max-age=\d+$/, 'HSTS under TLS, without includeSubDomains')
  t.equal(health.headers.warning, undefined, 'no plaintext warning under TLS')

  // By IP address too (the certificate names it).
  const byIp = await httpsCall(`${agent.url}/readyz`, ca)
  t.equal(byIp.json.tls, true)
  t.notMatch(byIp.json.warnings.join(' '), /plaintext/)

  // A client that does not trust this certificate cannot talk to the agent at all.
  const other = await makeCertificate(['localhost'], join(dir, 'other'), 30)
  await t.rejects(httpsCall(`${agent.url}/healthz`, readFileSync(other.certFile, 'utf8'), { servername: 'localhost' }), /self[- ]signed|unable to verify|certificate/i)

  const login = await httpsCall(`${agent.url}/staff/api/login`, ca, { method: 'POST', body: { name: 'demo', password: 'demo-only-password' }, servername: 'localhost' })
  t.equal(login.status, 200, login.text)
  const cookie = String(login.headers['set-cookie'])
  t.match(cookie, /fangpin_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure/, 'the session cookie is Secure over HTTPS')
  agent.child.kill('SIGTERM')
  t.equal((await agent.exited).code, 0)
})

t.test('over plain HTTP the staff cookie is not marked Secure (browsers would drop it)', async (t) => {
  const b = await build(t, { records })
  await b.app.rules.addStaff(SETUP, { name: '王会计', role: 'billing', password: 'a long enough password' })
  const login = await b.post('/staff/api/login', { name: '王会计', password: 'a long enough password' }, { authorization: '' })
  t.equal(login.status, 200)
  t.notMatch(String(login.headers.get('set-cookie')), /Secure/)
})

t.test('with FANGPIN_ALLOW_PLAINTEXT every answer carries a warning header and /readyz is degraded', async (t) => {
  const b = await build(t, { records, env: { FANGPIN_HOST: '0.0.0.0', FANGPIN_ALLOW_PLAINTEXT: 'true' } })
  const expected = '199 fangpin "plaintext HTTP on the hospital LAN: set FANGPIN_TLS_CERT and FANGPIN_TLS_KEY"'
  for (const [path, status] of [['/healthz', 200], ['/readyz', 200], ['/', 200], ['/v1/no-such-route', 404], ['/docs/json', 200]] as const) {
    const res = await b.get(path)
    t.equal(res.status, status, path)
    t.equal(res.headers.get('warning'), expected, `${path} carries the warning`)
  }
  const refused = await b.post('/v1/eligibility', { certno: A }, { authorization: 'Bearer wrong' })
  t.equal(refused.status, 401)
  t.equal(refused.headers.get('warning'), expected, 'errors carry it too')
  const ready = await b.get('/readyz')
  t.equal(ready.json.status, 'degraded')
  t.match(ready.json.warnings.join('\n'), /plaintext HTTP on the hospital LAN \(FANGPIN_ALLOW_PLAINTEXT\)/)
  t.equal(ready.json.tls, false)

  const local = await build(t, { records })
  const quiet = await local.get('/healthz')
  t.equal(quiet.headers.get('warning'), null, 'loopback plain HTTP is not warned about')
  t.equal((await local.get('/readyz')).json.status, 'ready')
})

t.test('security headers on every answer; the staff page keeps its own CSP; /docs keeps working over plain HTTP', async (t) => {
  const b = await build(t, { records })
  const api = await b.post('/v1/eligibility', { certno: A })
  t.equal(api.status, 200)
  t.equal(api.headers.get('content-security-policy'), "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'")
  t.equal(api.headers.get('x-content-type-options'), 'nosniff')
  t.equal(api.headers.get('x-frame-options'), 'DENY')
  t.equal(api.headers.get('referrer-policy'), 'no-referrer')
  t.equal(api.headers.get('cross-origin-resource-policy'), 'same-origin')
  t.equal(api.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP')
  // One CSP header, the page's: two would both apply, and the stricter API one would break the page.
  for (const path of ['/', '/login', '/assets/app.js', '/assets/app.css']) {
    const page = await b.get(path)
    t.equal(page.status, 200)
    t.equal(page.headers.get('content-security-policy'), PAGE_CSP, `${path} has exactly the page's CSP`)
    t.equal(page.headers.get('x-frame-options'), 'DENY')
  }
  const docs = await b.get('/docs/')
  t.equal(docs.status, 200)
  t.match(docs.text, /swagger-ui/)
  const docsCsp = docs.headers.get('content-security-policy') ?? ''
  t.match(docsCsp, /script-src 'self'/)
  t.notMatch(docsCsp, /upgrade-insecure-requests/, 'over plain HTTP the docs page must not ask for https sub-resources')
  t.notMatch(docsCsp, /default-src 'none'/, 'the API policy does not override the docs page')
  for (const asset of ['/docs/static/swagger-ui.css', '/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js']) {
    t.equal((await b.get(asset)).status, 200, asset)
  }
})

t.test('under TLS /docs keeps its upgrade-insecure-requests and an expiring certificate degrades /readyz', async (t) => {
  const dir = tempDir(t)
  const made = await makeCertificate(['localhost'], join(dir, 'tls'), 10)
  const b = await build(t, { records, env: { FANGPIN_TLS_CERT: made.certFile, FANGPIN_TLS_KEY: made.keyFile } })
  t.match(b.url, /^https:/)
  const ca = readFileSync(made.certFile, 'utf8')
  const docs = await httpsCall(`${b.url}/docs/`, ca, { servername: 'localhost' })
  t.equal(docs.status, 200)
  t.match(String(docs.headers['content-security-policy']), /upgrade-insecure-requests/)
  const ready = await httpsCall(`${b.url}/readyz`, ca, { servername: 'localhost' })
  t.equal(ready.json.status, 'degraded', 'a certificate within 30 days of its end is announced')
  t.match(ready.json.warnings.join('\n'), /the TLS certificate .* expires on .*fangpin tls init/)
  const metrics = await httpsCall(`${b.url}/metrics`, ca, { servername: 'localhost', headers: { authorization: `Bearer ${b.token}` } })
  t.match(metrics.text, /^fangpin_tls 1$/m)
  t.match(metrics.text, new RegExp(`^fangpin_tls_cert_expiry_timestamp_seconds ${Math.floor(made.validTo.getTime() / 1000)}$`, 'm'))
})
