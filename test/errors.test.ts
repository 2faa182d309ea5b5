// The error catalogue is a contract with HIS vendors, pinned here the way Fastify pins its own error
// codes: adding, renaming or re-numbering a code must be a deliberate change to this file, to
// agent/errors.ts and to docs/errors.md together.
import t from 'tap'
import net from 'node:net'
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Ajv } from 'ajv'
import * as errors from '../agent/errors.ts'
import { CATALOGUE, CODE, errorBody, isFangpinCode, withDetails, type FangpinCode } from '../agent/errors.ts'
import { build, ROOT } from './helper.ts'
import { POOR } from './charge-fixture.ts'

const EXPECTED: Record<string, number> = {
  FANGPIN_VALIDATION: 400,
  FANGPIN_INVALID_CERTNO: 400,
  FANGPIN_MALFORMED_JSON: 400,
  FANGPIN_BAD_REQUEST: 400,
  FANGPIN_UNAUTHORIZED: 401,
  FANGPIN_SIGNIN_FAILED: 401,
  FANGPIN_FORBIDDEN: 403,
  FANGPIN_NOT_FOUND: 404,
  FANGPIN_METHOD_NOT_ALLOWED: 405,
  FANGPIN_REQUEST_TIMEOUT: 408,
  FANGPIN_CONFLICT: 409,
  FANGPIN_CHARGE_CONFLICT: 409,
  FANGPIN_STAY_CLOSED: 409,
  FANGPIN_BODY_TOO_LARGE: 413,
  FANGPIN_UNSUPPORTED_MEDIA_TYPE: 415,
  FANGPIN_TOO_MANY_ATTEMPTS: 429,
  FANGPIN_HEADERS_TOO_LARGE: 431,
  FANGPIN_INTERNAL: 500,
  FANGPIN_LIST_NOT_LOADED: 503,
  FANGPIN_STORAGE_UNAVAILABLE: 503,
  FANGPIN_NOTICE_FONT_MISSING: 503
}

const codes = Object.keys(CATALOGUE) as FangpinCode[]

/** Fangpin + the code in PascalCase: FANGPIN_INVALID_CERTNO is FangpinInvalidCertno. */
function constructorName (code: string): string {
  return 'Fangpin' + code.replace(/^FANGPIN_/, '').toLowerCase().split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('')
}

const constructors = Object.entries(errors).filter(([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error) as Array<[string, new (message: string) => Error & { code: string, statusCode: number }]>

t.test('the catalogue holds exactly these 21 codes with these statuses', async (t) => {
  t.equal(codes.length, 21)
  t.same(codes, Object.keys(EXPECTED), 'the list, in its order')
  t.same(Object.fromEntries(codes.map((c) => [c, CATALOGUE[c].status])), EXPECTED, 'each code\'s status')
})

t.test('every status is a 4xx or a 5xx, and only the agent\'s own faults are a 5xx', async (t) => {
  for (const code of codes) {
    const { status } = CATALOGUE[code]
    t.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`)
  }
  t.same(codes.filter((c) => CATALOGUE[c].status >= 500), ['FANGPIN_INTERNAL', 'FANGPIN_LIST_NOT_LOADED', 'FANGPIN_STORAGE_UNAVAILABLE', 'FANGPIN_NOTICE_FONT_MISSING'])
})

t.test('every code has a one-line meaning that ends with a full stop', async (t) => {
  for (const code of codes) {
    t.match(CATALOGUE[code].meaning, /^[^\n|]{10,200}\.$/, code)
  }
})

t.test('CODE names each code as itself, and only catalogue codes are recognised as the agent\'s', async (t) => {
  t.same(Object.keys(CODE), codes)
  for (const code of codes) t.equal(CODE[code], code)
  t.ok(Object.isFrozen(CODE))
  t.ok(isFangpinCode('FANGPIN_STAY_CLOSED'))
  for (const other of ['FANGPIN_NETWORK', 'FANGPIN_TZ', 'FST_ERR_BAD_URL', 'toString', '__proto__', '', undefined, 409]) {
    t.notOk(isFangpinCode(other), String(other))
  }
})

t.test('every constructor makes an error with its code, the catalogue\'s status and the given message, and is named after its code', async (t) => {
  t.ok(constructors.length >= 17, `${constructors.length} constructors`)
  for (const [name, Make] of constructors) {
    const err = new Make('the message as given')
    t.ok(isFangpinCode(err.code), `${name} makes a catalogue code (${err.code})`)
    t.equal(name, constructorName(err.code), `${err.code} is made by ${constructorName(err.code)}`)
    t.equal(err.statusCode, CATALOGUE[err.code as FangpinCode].status, `${name} has the status of ${err.code}`)
    t.equal(err.message, 'the message as given', `${name} keeps the message as written`)
    t.ok(err instanceof Error)
  }
  // The names the rest of the code imports.
  for (const name of ['FangpinUnauthorized', 'FangpinForbidden', 'FangpinInvalidCertno', 'FangpinValidation', 'FangpinConflict', 'FangpinNotFound',
    'FangpinChargeConflict', 'FangpinStayClosed', 'FangpinSigninFailed', 'FangpinTooManyAttempts', 'FangpinListNotLoaded', 'FangpinStorageUnavailable',
    'FangpinBadRequest', 'FangpinHeadersTooLarge', 'FangpinRequestTimeout', 'FangpinMalformedJson', 'FangpinUnsupportedMediaType',
    'FangpinNoticeFontMissing']) {
    t.ok(constructors.some(([n]) => n === name), `${name} is exported`)
  }
  t.equal(new Set(constructors.map(([, Make]) => new Make('x').code)).size, constructors.length, 'no code has two constructors')
})

t.test('errorBody builds the standard error shape, which the published error schema accepts', async (t) => {
  t.same(errorBody(CODE.FANGPIN_NOT_FOUND, 'no alert 7'), { error: { code: 'FANGPIN_NOT_FOUND', message: 'no alert 7', details: [] } })
  const details = [{ field: 'certno', reason: 'bad_check_digit', message: '校验位错误' }]
  const body = errorBody(CODE.FANGPIN_INVALID_CERTNO, 'certno is not a valid resident ID number', details)
  t.same(body, { error: { code: 'FANGPIN_INVALID_CERTNO', message: 'certno is not a valid resident ID number', details } })
  t.same(errorBody(CODE.FANGPIN_VALIDATION, 'x', undefined).error.details, [], 'details left out are an empty array')
  t.equal(JSON.stringify(errorBody(CODE.FANGPIN_CONFLICT, 'm', [])), '{"error":{"code":"FANGPIN_CONFLICT","message":"m","details":[]}}', 'the keys in the documented order')
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'error.schema.json'), 'utf8')) as Record<string, unknown>
  const validate = new Ajv({ strict: false }).compile(schema)
  t.ok(validate(body), JSON.stringify(validate.errors))
  const detailed = withDetails(new errors.FangpinValidation('endtime is before begntime'), [{ field: 'endtime', reason: 'before_admission' }])
  t.same(errorBody(detailed.code, detailed.message, detailed.details).error.details, [{ field: 'endtime', reason: 'before_admission' }])
})

t.test('docs/errors.md documents each code with its status and the catalogue\'s meaning word for word, and no other code', async (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8')
  const rows = new Map<string, string[]>()
  for (const line of doc.split('\n')) {
    const m = /^\| `(FANGPIN_[A-Z_]+)` \|(.*)\|$/.exec(line)
    if (m !== null) {
      t.notOk(rows.has(m[1]), `${m[1]} has one row`)
      rows.set(m[1], m[2].split(' | ').map((cell) => cell.trim()))
    }
  }
  t.same([...rows.keys()], codes, 'the table lists the catalogue, in its order')
  for (const code of codes) {
    const cells = rows.get(code)
    if (cells === undefined) continue
    t.equal(cells.length, 3, `${code}: status, meaning, what to do`)
    t.equal(cells[0], String(CATALOGUE[code].status), `${code}: status`)
    t.equal(cells[1], CATALOGUE[code].meaning, `${code}: meaning`)
    t.ok((cells[2] ?? '').length > 10, `${code}: says what the caller should do`)
  }
  t.match(doc, /`FANGPIN_NETWORK`/, 'the staff page\'s own code is explained')
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  t.match(readme, /Errors are always[\s\S]{0,2000}\(docs\/errors\.md\)/, 'the README\'s error paragraph links the list')
})

function agentSources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return agentSources(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

t.test('no source file in agent/ but errors.ts makes an error code or spells one as a string', async (t) => {
  const errorsFile = join(ROOT, 'agent', 'errors.ts')
  const files = agentSources(join(ROOT, 'agent')).filter((f) => f !== errorsFile)
  t.ok(files.length > 20, `${files.length} files read`)
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const where = relative(ROOT, file)
    t.notMatch(text, /@fastify\/error/, `${where} makes no error constructor`)
    const spelt = [...text.matchAll(/['"`](FANGPIN_[A-Z_]+)['"`]/g)].map((m) => m[1]).filter((c) => isFangpinCode(c))
    t.same(spelt, [], `${where} refers to codes through the catalogue`)
  }
})

/** Raw bytes to the agent; the answer as read until it closes the connection. */
function rawTcp (url: string, bytes: string): Promise<{ status: number, body: string }> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: split < 0 ? '' : text.slice(split + 4) })
    })
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')))
    socket.end(bytes)
  })
}

t.test('every way a request fails on a real server answers a catalogue code with its status in the standard body', async (t) => {
  // No list loaded: a well-formed admission reaches the rule and is refused with a 503 of the catalogue.
  const b = await build(t)
  const admission = { mdtrt_id: 'ZY-ERR-1', certno: POOR, begntime: '2024-05-01 08:00:00' }
  const answers: Array<[string, { status: number, json: any }, FangpinCode]> = [
    ['an unknown route (the not-found handler)', await b.get('/v1/nothing-here'), 'FANGPIN_NOT_FOUND'],
    ['a URL that cannot be decoded (frameworkErrors)', await b.post('/v1/%E0%A4%A', admission), 'FANGPIN_BAD_REQUEST'],
    ['a body that is not JSON (the JSON reader)', await b.post('/v1/admissions', '{"mdtrt_id": '), 'FANGPIN_MALFORMED_JSON'],
    ['a body in GBK (the JSON reader)', await b.post('/v1/admissions', admission, { 'content-type': 'application/json; charset=gbk' }), 'FANGPIN_UNSUPPORTED_MEDIA_TYPE'],
    ['a form instead of JSON (Fastify\'s own refusal)', await b.post('/v1/admissions', 'certno=1', { 'content-type': 'application/x-www-form-urlencoded' }), 'FANGPIN_UNSUPPORTED_MEDIA_TYPE'],
    ['a missing field (schema validation)', await b.post('/v1/admissions', { certno: POOR }), 'FANGPIN_VALIDATION'],
    ['a token the agent does not know', await b.post('/v1/admissions', admission, { authorization: 'Bearer nonsense' }), 'FANGPIN_UNAUTHORIZED'],
    ['no list loaded (a rule\'s 503)', await b.post('/v1/admissions', admission), 'FANGPIN_LIST_NOT_LOADED']
  ]
  const parsed = await rawTcp(b.url, 'POST /v1/eligibility HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}')
  answers.push(['a request the HTTP parser refuses (clientErrorHandler)', { status: parsed.status, json: JSON.parse(parsed.body) }, 'FANGPIN_BAD_REQUEST'])
  for (const [what, res, code] of answers) {
    t.equal(res.json?.error?.code, code, what)
    t.equal(res.status, CATALOGUE[code].status, `${what}: the status of ${code}`)
    t.same(Object.keys(res.json ?? {}), ['error'], `${what}: the body holds the error only`)
    t.same(Object.keys(res.json?.error ?? {}), ['code', 'message', 'details'], `${what}: code, message, details`)
    t.type(res.json?.error?.message, 'string')
    t.ok(Array.isArray(res.json?.error?.details), `${what}: details is an array`)
  }
})
