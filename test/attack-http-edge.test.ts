// The HTTP edge under attack: how a path is spelt, what a header carries, what the parser refuses,
// and what a caller may claim. Each case is a reproduction from the hardening issue (#9).
import t, { type Test } from 'tap'
import http from 'node:http'
import net from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, certno, tempDir, type Built, SETUP } from './helper.ts'
import { records, admit, charge, line, POOR, POOR2 } from './charge-fixture.ts'
import { LOG_SERIALIZERS, clientErrorHandler } from '../agent/app.ts'
import { parseCertType } from '../identity/cert-type.ts'
import { readListFile } from '../lists/read-list.ts'

const FOREIGN = 'http://127.0.0.1:9999'
// 15 or more digits in a row, not the fraction of a number (pino's responseTime has 16 decimals).
const NUMBER = /(?<![\d.])\d{15}/

interface RawAnswer { status: number, headers: http.IncomingHttpHeaders, text: string, json: any }

/** A request whose path goes out exactly as written (fetch would normalise some spellings). */
function raw (b: Built, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<RawAnswer> {
  const u = new URL(b.url)
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request({
      host: u.hostname,
      port: u.port,
      method,
      path,
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => {
        let json: any
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode!, headers: res.headers, text, json })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

async function staffBuild (t: Parameters<typeof build>[0]): Promise<Built> {
  const b = await build(t, { records })
  await b.app.rules.addStaff(SETUP, { name: '王会计', role: 'billing', password: 'correct horse 1' })
  await b.app.rules.addStaff(SETUP, { name: 'admin', role: 'admin', password: 'admin password 1' })
  return b
}

async function signIn (b: Built, name: string, password: string): Promise<string> {
  const res = await fetch(b.url + '/staff/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) })
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`)
  return res.headers.get('set-cookie')!.split(';')[0]
}

function isForbidden (t: Test, res: RawAnswer, what: string): void {
  t.equal(res.status, 403, `${what}: 403`)
  t.equal(res.json?.error?.code, 'FANGPIN_FORBIDDEN', `${what}: FANGPIN_FORBIDDEN`)
}

t.test('a state-changing staff call from another origin is refused however its path is spelt', async (t) => {
  const b = await staffBuild(t)
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 20000, '03')])
  const cookie = await signIn(b, 'admin', 'admin password 1')
  const id = b.store.alerts.since(0)[0].id
  const victim = b.store.tokens.create('victim-his', 'his')
  const tid = victim.info.id
  const foreign = { cookie, origin: FOREIGN }

  // Every segment encoded in turn, upper- and lower-case hex, and all at once.
  const ack = [
    `/%73taff/api/alerts/${id}/ack`,
    `/staff/%61pi/alerts/${id}/ack`,
    `/staff/api/%61lerts/${id}/ack`,
    `/staff/api/a%6Certs/${id}/ack`,
    `/staff/api/a%6certs/${id}/ack`,
    `/staff/api/alerts/%3${String(id)[0]}${String(id).slice(1)}/ack`,
    `/staff/api/alerts/${id}/%61ck`,
    `/%73%74%61%66%66/%61%70%69/%61%6C%65%72%74%73/${id}/%61%63%6B`,
    `/staff/api/alerts/${id}/ack?x=%2F`
  ]
  for (const path of ack) isForbidden(t, await raw(b, 'POST', path, foreign), path)
  // A capital S is another path (routes are case-sensitive): no route, nothing done.
  const capital = await raw(b, 'POST', `/%53taff/api/alerts/${id}/ack`, foreign)
  t.not(capital.status, 200)
  t.equal(b.store.alerts.get(id)!.acknowledged_at, null, 'the alert is still unacknowledged')

  for (const path of [`/%73taff/api/tokens/${tid}/revoke`, `/staff/%61pi/tokens/${tid}/revoke`, `/staff/api/%74okens/${tid}/revoke`, `/staff/api/tokens/${tid}/%72evoke`]) {
    isForbidden(t, await raw(b, 'POST', path, foreign), path)
  }
  t.equal(b.store.tokens.list().find((x) => x.id === tid)!.revoked_at, null, 'the token is not revoked')
  t.equal((await b.get('/v1/alerts', { authorization: `Bearer ${victim.token}` })).status, 200, 'and still works')

  isForbidden(t, await raw(b, 'POST', '/staff/api/%75sers', foreign, { name: 'intruder', role: 'admin', password: 'intruder password 1' }), 'users')
  t.notOk(b.store.staff.list().some((u) => u.name === 'intruder'), 'no account was created')
  isForbidden(t, await raw(b, 'POST', '/staff/api/tokens', { ...foreign }, { name: 'stolen', role: 'admin' }), 'token create')
  isForbidden(t, await raw(b, 'POST', '/staff/api/%74okens', foreign, { name: 'stolen', role: 'admin' }), 'token create, encoded')
  t.notOk(b.store.tokens.list().some((x) => x.name === 'stolen'), 'no token was created')
  isForbidden(t, await raw(b, 'POST', '/staff/api/stays/ZY1/%65xemptions', foreign, { approval_no: 'X1', approved_by: '卫健局', reason: 'forged' }), 'exemptions')
  t.equal(b.store.db.prepare('SELECT COUNT(*) FROM exemption').pluck().get(), 0, 'no exemption was recorded')
  isForbidden(t, await raw(b, 'POST', '/staff/api/%73ync', foreign), 'sync')
  isForbidden(t, await raw(b, 'POST', '/%73taff/api/logout', foreign), 'logout')
  t.equal((await b.get('/staff/api/me', { cookie, authorization: '' })).status, 200, 'the session was not ended')
  const login = await raw(b, 'POST', '/staff/api/%6Cogin', { origin: FOREIGN }, { name: 'admin', password: 'admin password 1' })
  isForbidden(t, login, 'login')
  t.equal(login.headers['set-cookie'], undefined, 'no session cookie for another origin')

  // The page itself (same origin) and clients that send no Origin keep working, whatever the spelling.
  const same = await raw(b, 'POST', `/%73taff/api/alerts/${id}/ack`, { cookie, origin: b.url })
  t.equal(same.status, 200)
  t.equal(same.json.acknowledged_by, 'admin')
  const noOrigin = await raw(b, 'POST', `/staff/api/tokens/${tid}/%72evoke`, { cookie })
  t.equal(noOrigin.status, 200)
  t.equal(noOrigin.json.revoked, true)
})

t.test('a certificate type is normalised when unambiguous and refused otherwise, never a silent "not eligible"', async (t) => {
  const b = await build(t, { records })
  for (const spelling of ['01', '1', '001', '0001', '０１', '１', ' 01 ', '居民身份证', '居民身份证（户口簿）']) {
    const res = await b.post('/v1/eligibility', { certno: POOR, psn_cert_type: spelling })
    t.equal(res.status, 200, `${JSON.stringify(spelling)}: ${res.text}`)
    t.equal(res.json.treat_first_pay_later, true, `${JSON.stringify(spelling)} finds the listed person`)
  }
  for (const spelling of ['O1', 'o1', '0l', 'A1', '0', '00', '100', '18', '护照', 'x'.repeat(10)]) {
    const res = await b.post('/v1/eligibility', { certno: POOR, psn_cert_type: spelling })
    t.equal(res.status, 400, `${JSON.stringify(spelling)} is refused`)
    t.equal(res.json?.error?.code, 'FANGPIN_VALIDATION')
    const detail = res.json?.error?.details?.find((d: any) => d.field === 'psn_cert_type')
    t.ok(detail, `${JSON.stringify(spelling)}: the error names psn_cert_type`)
    t.equal(detail?.reason, 'unknown_cert_type')
    t.match(res.json?.error?.message, /01.*08.*99/, 'the message lists the accepted codes')
  }
  const letterO = await b.post('/v1/eligibility', { certno: POOR, psn_cert_type: 'O1' })
  t.match(letterO.json?.error?.message, /"01"/, 'a letter O is taken for what it is, and 01 is suggested')

  // An admission with such a spelling is the listed person, monitored.
  const admitted = await b.post('/v1/admissions', { mdtrt_id: 'CT-1', certno: POOR, psn_cert_type: '001', psn_name: '张三丰', begntime: '2026-11-20 09:30:00', med_type: '21' })
  t.equal(admitted.status, 201)
  t.equal(admitted.json.treat_first_pay_later, true)
  t.equal(b.store.stays.get('CT-1')!.monitored, 1, 'the stay is monitored')
  t.equal(b.store.admissions.get('CT-1')!.psn_cert_type, '01')
  const refused = await b.post('/v1/admissions', { mdtrt_id: 'CT-2', certno: POOR, psn_cert_type: 'O1', begntime: '2026-11-20 09:30:00' })
  t.equal(refused.status, 400)
  t.ok(refused.json?.error?.details?.some((d: any) => d.field === 'psn_cert_type'))
  t.equal(b.store.admissions.get('CT-2'), undefined, 'nothing was stored')
})

t.test('the certificate-type code list follows the national platform and keeps other types', async (t) => {
  t.same(parseCertType('08'), { ok: true, code: '08' })
  t.same(parseCertType('8'), { ok: true, code: '08' })
  t.same(parseCertType('090'), { ok: true, code: '90' })
  t.same(parseCertType('17'), { ok: true, code: '17' })
  t.same(parseCertType('外国人护照'), { ok: true, code: '08' })
  t.same(parseCertType('社会保障卡'), { ok: true, code: '90' })
  t.same(parseCertType(''), { ok: true, code: '01' })
  t.equal(parseCertType('护照').ok, false, 'a passport could be 08 or 16')
})

t.test('a list file keys 001 as 01 and reports an unknown certificate type as a row problem', async (t) => {
  const { loadProfile } = await import('../profile/profile.ts')
  const profile = loadProfile('guangxi-liuzhou')
  const dir = tempDir(t)
  const file = join(dir, 'list.csv')
  const A = certno('45020619580312001')
  const B = certno('45020619600101002')
  const C = certno('45020619700505003')
  writeFileSync(file, [
    '姓名,证件类型,证件号码,人员类别,认定时间',
    `张三,001,${A},特困人员,2026-03-01`,
    `李四,１,${B},低保对象,2026-03-01`,
    `王五,O1,${C},低保对象,2026-03-01`,
    'JOHN SMITH,护照,E1234567,低保对象,2026-03-01'
  ].join('\n'))
  const res = await readListFile(file, { profile })
  t.same(res.records.map((r) => [r.certno, r.psn_cert_type]), [[A, '01'], [B, '01']])
  const typeProblems = res.problems.filter((p) => p.column === '证件类型')
  t.same(typeProblems.map((p) => p.row), [4, 5], 'the O1 and 护照 rows are reported, not keyed')
  t.match(typeProblems[0]?.reason, /01/)
})

t.test('a request id is taken only when it is short and carries no ID number or name', async (t) => {
  const b = await build(t, { records })
  const before = b.logs.length
  // As curl sends it: the name as raw UTF-8 bytes (Node's own client refuses to).
  const leak = await rawTcp(b, Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: 450206195001011007-张三丰\r\nConnection: close\r\n\r\n'))
  t.equal(leak.status, 200)
  const big = await raw(b, 'GET', '/healthz', { 'x-request-id': 'a'.repeat(15_000) })
  t.equal(big.status, 200)
  const digits = await raw(b, 'GET', '/healthz', { 'x-request-id': 'his-450206195001011007' })
  t.equal(digits.status, 200)
  const good = await raw(b, 'GET', '/healthz', { 'x-request-id': 'his-20261120.0931:A7' })
  t.equal(good.status, 200)
  const lines = b.logs.slice(before)
  t.ok(lines.length >= 8, 'the requests were logged')
  const all = lines.join('')
  t.notMatch(all, NUMBER, 'no ID number in the log')
  for (const form of ['张三丰', Buffer.from('张三丰').toString('latin1'), JSON.stringify(Buffer.from('张三丰').toString('latin1')).slice(1, -1)]) {
    t.notOk(all.includes(form), 'no name in the log, in any decoding')
  }
  t.ok(lines.every((l) => l.length < 600), `every line stays short (longest ${Math.max(...lines.map((l) => l.length))})`)
  t.ok(all.includes('"reqId":"his-20261120.0931:A7"'), 'a well-formed request id is kept for tracing')
})

t.test('an ID number spelt with percent-escapes in a path is masked in the log, and a bad escape does not throw', async (t) => {
  const b = await build(t, { records })
  const before = b.logs.length
  const encoded = [...'450206195001011007'].map((c) => '%' + c.charCodeAt(0).toString(16)).join('')
  for (const path of [`/v1/admissions/${encoded}`, `/v1/admissions/4502061950%30101100%37/charges`, `/v1/admissions/${encoded}%ZZ`, `/v1/admissions/%E0%A4%A${encoded}`]) {
    const res = await raw(b, 'GET', path)
    t.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`)
  }
  const all = b.logs.slice(before).join('')
  t.notMatch(all, /(%3\d){6}/i, 'no escaped digit run in the log')
  t.notMatch(all, NUMBER, 'no ID number in the log')
  t.notOk(all.includes('01011007'), 'not even most of it')
  const serialize = LOG_SERIALIZERS.req
  for (const url of ['%', '%E0%A4%A', '/a%ZZ%', '/%C0%AF', `/x/${encoded}?certno=450206195001011007`]) {
    const out = serialize({ method: 'GET', url })
    t.notMatch(out.url, /\d{15}|(%3\d){6}/, `${url} is masked`)
  }
  t.ok(serialize({ method: 'GET', url: '/v1/' + 'a'.repeat(20_000) }).url.length <= 300, 'a huge path is cut short')
  t.equal(serialize({ method: 'GET', url: '/v1/admissions/%E4%BD%8F%E9%99%A2%E5%8F%B7-001' }).url, '/v1/admissions/住院号-001', 'an ordinary visit id stays readable')
})

t.test('an mdtrt_id that is a valid resident ID number is refused, saying why', async (t) => {
  const b = await build(t, { records })
  const legacy15 = '450206500101100'
  for (const id of [POOR, POOR.slice(0, 17) + POOR.slice(17).toLowerCase(), ` ${POOR} `, legacy15, certno('45020619990101123').replace(/X$/, 'x')]) {
    const res = await b.post('/v1/admissions', { mdtrt_id: id, certno: POOR, begntime: '2026-11-20 09:30:00' })
    t.equal(res.status, 400, `${id} is refused`)
    t.equal(res.json?.error?.code, 'FANGPIN_VALIDATION')
    const detail = res.json?.error?.details?.find((d: any) => d.field === 'mdtrt_id')
    t.equal(detail?.reason, 'looks_like_certno')
    t.match(res.json?.error?.message, /ID number/)
    t.notOk(res.text.includes(id.trim()), 'the answer does not repeat the number')
  }
  t.equal(b.store.db.prepare('SELECT COUNT(*) FROM admission').pluck().get(), 0, 'nothing was stored')
  // Long numeric visit ids that are not ID numbers stay accepted.
  for (const id of ['202611200000012345', certno('45020619580312001').slice(0, 17) + (certno('45020619580312001').endsWith('0') ? '1' : '0'), '100000260101001']) {
    const res = await b.post('/v1/admissions', { mdtrt_id: id, certno: POOR, begntime: '2026-11-20 09:30:00' })
    t.equal(res.status, 201, `${id} is an ordinary visit id`)
  }
})

t.test('a visit id with a lone surrogate is refused and nothing is stored', async (t) => {
  const b = await build(t, { records })
  for (const id of ['LS\\ud800', '\\udc00', 'A\\udbff\\u0041', 'ZY\\ud83d']) {
    const body = `{"mdtrt_id":"${id}","certno":"${POOR}","begntime":"2026-11-20 09:30:00"}`
    const res = await b.post('/v1/admissions', body)
    t.equal(res.status, 400, `${id} is refused`)
    t.equal(res.json?.error?.code, 'FANGPIN_VALIDATION')
    t.ok(res.json?.error?.details?.some((d: any) => d.field === 'mdtrt_id'), 'the error names mdtrt_id')
  }
  t.equal(b.store.db.prepare('SELECT COUNT(*) FROM admission').pluck().get(), 0)
  t.equal(b.store.db.prepare('SELECT COUNT(*) FROM stay').pluck().get(), 0)
  // A surrogate pair (an emoji) is one character and stays accepted.
  const pair = await b.post('/v1/admissions', `{"mdtrt_id":"ZY\\ud83d\\ude00","certno":"${POOR}"}`)
  t.equal(pair.status, 201)
  // A visit id in a path with a control character is a caller error naming mdtrt_id, not a 404.
  const path = await raw(b, 'GET', '/v1/admissions/ZY%0A1', { authorization: `Bearer ${b.token}` })
  t.equal(path.status, 400)
  t.ok(path.json?.error?.details?.some((d: any) => d.field === 'mdtrt_id'))
})

/** Writes raw bytes to the agent and reads until it closes the connection. */
function rawTcp (b: Built, bytes: string | Buffer): Promise<{ head: string, status: number, headers: Record<string, string>, body: string }> {
  const u = new URL(b.url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const head = split < 0 ? text : text.slice(0, split)
      const [statusLine, ...headerLines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const h of headerLines) {
        const i = h.indexOf(':')
        if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim()
      }
      resolve({ head, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: split < 0 ? '' : text.slice(split + 4) })
    })
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')))
    socket.end(bytes)
  })
}

t.test('request smuggling and oversized headers get the standard error body and a closed connection', async (t) => {
  const b = await build(t, { records })
  const cases: Array<[string, string | Buffer, number, string]> = [
    ['Content-Length and Transfer-Encoding together', `POST /v1/eligibility HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'FANGPIN_BAD_REQUEST'],
    ['two Content-Length headers that differ', 'POST /v1/eligibility HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}', 400, 'FANGPIN_BAD_REQUEST'],
    ['an invalid chunk size', 'POST /v1/eligibility HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'FANGPIN_BAD_REQUEST'],
    ['a control character in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n', 400, 'FANGPIN_BAD_REQUEST'],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, 'FANGPIN_BAD_REQUEST'],
    ['headers larger than the server accepts', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'FANGPIN_HEADERS_TOO_LARGE']
  ]
  for (const [what, bytes, status, code] of cases) {
    const res = await rawTcp(b, bytes)
    t.equal(res.status, status, `${what}: ${status}`)
    t.match(res.headers['content-type'] ?? '', /^application\/json/, `${what}: JSON`)
    t.equal(res.headers.connection, 'close', `${what}: Connection: close`)
    let json: any
    try { json = JSON.parse(res.body) } catch { json = undefined }
    t.equal(json?.error?.code, code, `${what}: ${code}`)
    t.type(json?.error?.message, 'string')
    t.same(json?.error?.details, [])
    t.equal(Buffer.byteLength(res.body), Number(res.headers['content-length']), `${what}: the length is right`)
    t.notMatch(res.body, /\bat .*\(|node:internal|HPE_/, `${what}: no stack or parser internals`)
    t.notMatch(res.body, /healthz/, `${what}: the smuggled request was not answered`)
  }
  t.equal((await fetch(b.url + '/healthz')).status, 200, 'the agent still answers')
})

t.test('a client timeout gets the standard body too', async (t) => {
  const written: string[] = []
  let destroyed = false
  const socket = { writable: true, destroyed: false, write: (s: string) => { written.push(s) }, destroy: () => { destroyed = true } }
  const logged: unknown[] = []
  clientErrorHandler.call({ log: { debug: (o: unknown) => logged.push(o) } } as any, Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket as any)
  t.ok(destroyed)
  const text = written.join('')
  t.match(text, /^HTTP\/1\.1 408 /)
  t.match(text, /\r\nConnection: close\r\n/)
  t.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code, 'FANGPIN_REQUEST_TIMEOUT')
  // A socket already answered or gone is left alone.
  const gone = { writable: false, destroyed: true, write: () => { t.fail('wrote to a destroyed socket') }, destroy: () => {} }
  clientErrorHandler.call({ log: { debug: () => {} } } as any, Object.assign(new Error('reset'), { code: 'ECONNRESET' }), gone as any)
})

t.test('an HIS acknowledgement records the token, and a name in the body only as a note', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 20000, '03')])
  const id = res.json.alerts[0].id
  const ack = await b.post(`/v1/alerts/${id}/ack`, { acknowledged_by: '院长' })
  t.equal(ack.status, 200)
  t.equal(ack.json.acknowledged_by, 'test-his', 'the token name, not the name the caller claims')
  t.equal(b.store.alerts.get(id)!.acknowledged_by, 'test-his')
  const audit = b.store.audit.recent(5, 'alert.ack')[0]
  t.equal(audit.client, 'test-his')
  t.same(JSON.parse(audit.detail!), { alert: id, by: 'test-his', named: '院长' })
  // Without a name the token name is recorded and no note is kept.
  await admit(b, 'ZY2', POOR2)
  const second = (await charge(b, 'ZY2', [line('1', 100000, '01'), line('2', 20000, '03')])).json.alerts[0].id
  const plain = await b.post(`/v1/alerts/${second as number}/ack`, {})
  t.equal(plain.status, 200)
  t.equal(plain.json.acknowledged_by, 'test-his')
  t.same(JSON.parse(b.store.audit.recent(5, 'alert.ack')[0].detail!), { alert: second, by: 'test-his' })
})

t.test('a registry record keys 1 as 01 and refuses a type outside the list', async (t) => {
  const { checkRegistryRecord } = await import('../lists/read-ndjson.ts')
  const { loadProfile } = await import('../profile/profile.ts')
  const profile = loadProfile('guangxi-liuzhou')
  const identities = [{ category: '低保', begntime: '2026-03-01' }]
  const padded = checkRegistryRecord({ op: 'upsert', certno: POOR, psn_cert_type: '1', identities }, 1, { profile })
  t.same(padded.problems, [])
  t.equal(padded.record?.psn_cert_type, '01')
  const foreign = checkRegistryRecord({ op: 'upsert', certno: 'E1234567', psn_cert_type: '008', identities }, 2, { profile })
  t.equal(foreign.record?.psn_cert_type, '08')
  const unknown = checkRegistryRecord({ op: 'upsert', certno: 'E1234567', psn_cert_type: 'A1', identities }, 3, { profile })
  t.equal(unknown.record, undefined, 'not keyed under a type nobody can look up')
  t.same(unknown.problems.map((p) => p.column), ['psn_cert_type'])
})
