// POST /v1/admissions and /v1/eligibility over a real listening server and a real database.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { build, certno, person } from './helper.ts'

const TEZHI = certno('45020619580312001')
const DIBAO_ENDED = certno('45020619700101004')
const LATER = certno('45020619900808008')
const NOBODY = certno('45020619991231999')

const records = [
  person(TEZHI, '张三丰', [['extreme_poverty', '2021-01-01 00:00:00', null], ['out_of_poverty', '2016-12-31 00:00:00', null]]),
  person(DIBAO_ENDED, '李四', [['minimum_living', '2020-01-01 00:00:00', '2026-10-31 23:59:59']]),
  person(LATER, '王五', [['marginal_at_risk', '2026-12-01 00:00:00', null]])
]

const admission = (over: Record<string, unknown> = {}) => ({
  mdtrt_id: 'ZY2026112300001',
  certno: TEZHI,
  psn_name: '张三丰',
  begntime: '2026-11-20 09:30:00',
  med_type: '21',
  adm_dept_codg: 'A03',
  adm_dept_name: '心血管内科',
  diseinfo: [{ diag_code: 'I21.900', diag_name: '急性心肌梗死', maindiag_flag: '1' }],
  ...over
})

t.test('an admission of a qualified person is recorded and answered with the decision', async (t) => {
  const b = await build(t, { records })
  const res = await b.post('/v1/admissions', admission())
  t.equal(res.status, 201)
  t.equal(res.headers.get('fangpin-replayed'), 'false')
  t.equal(res.json.mdtrt_id, 'ZY2026112300001')
  t.equal(res.json.treat_first_pay_later, true)
  t.equal(res.json.primary_identity.category, 'extreme_poverty')
  t.equal(res.json.primary_identity.label, '特困人员')
  t.same(res.json.identities.map((i: any) => i.category), ['extreme_poverty', 'out_of_poverty'])
  t.equal(res.json.list.version, b.store.list.state().version)
  t.equal(res.json.list.stale, false)
  t.equal(res.json.severe_disease[0].codes[0], 'I21.900')
  const row = b.store.admissions.get('ZY2026112300001')
  t.equal(row?.begntime, '2026-11-20 09:30:00')
  t.equal(row?.name_masked, '张*丰')
  t.equal(row?.treat_first_pay_later, 1)
  const audit = b.store.audit.recent(10, 'admission.lookup')
  t.equal(audit.length, 1)
  t.equal(audit[0].client, 'test-his')
  t.equal(audit[0].decision, 'granted')
  t.equal(audit[0].subject_key, b.store.list.keyOf('01', TEZHI).toString('hex'))
})

t.test('the same admission posted again returns the same answer, even after the list changed', async (t) => {
  const b = await build(t, { records })
  const first = await b.post('/v1/admissions', admission())
  await b.store.list.replace([person(NOBODY, '赵六', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'import', label: 'other' })
  const again = await b.post('/v1/admissions', { ...admission(), extra_2401_field: 'ignored', insutype: '390' })
  t.equal(again.status, 200)
  t.equal(again.headers.get('fangpin-replayed'), 'true')
  t.same(again.json, first.json)
  t.equal(b.store.audit.recent(10, 'admission.replay').length, 1)
})

t.test('the same mdtrt_id with another certno is a 409 and changes nothing', async (t) => {
  const b = await build(t, { records })
  await b.post('/v1/admissions', admission())
  const res = await b.post('/v1/admissions', admission({ certno: DIBAO_ENDED }))
  t.equal(res.status, 409)
  t.equal(res.json.error.code, 'FANGPIN_CONFLICT')
  t.ok(b.store.admissions.get('ZY2026112300001')?.person_key.equals(b.store.list.keyOf('01', TEZHI)))
})

t.test('a corrected admission of the same patient is re-decided and stored', async (t) => {
  const b = await build(t, { records })
  await b.post('/v1/admissions', admission())
  const res = await b.post('/v1/admissions', admission({ adm_dept_name: '神经内科', diseinfo: [{ diag_code: 'I63.900', diag_name: '脑梗死' }] }))
  t.equal(res.status, 200)
  t.equal(res.headers.get('fangpin-replayed'), 'false')
  t.equal(res.json.severe_disease[0].codes[0], 'I63.900')
  t.equal(b.store.admissions.get('ZY2026112300001')?.adm_dept_name, '神经内科')
})

t.test('identity windows are judged at begntime: ended before, starting after', async (t) => {
  const b = await build(t, { records })
  const ended = await b.post('/v1/admissions', admission({ mdtrt_id: 'A2', certno: DIBAO_ENDED, begntime: '2026-11-01 00:00:00' }))
  t.equal(ended.json.treat_first_pay_later, false)
  t.ok(ended.json.cards.some((c: any) => c.summary.includes('已于2026-10-31终止')))
  const before = await b.post('/v1/admissions', admission({ mdtrt_id: 'A3', certno: DIBAO_ENDED, begntime: '2026-10-31 22:00:00' }))
  t.equal(before.json.treat_first_pay_later, true, 'the last day of a date-only end still counts')
  const later = await b.post('/v1/admissions', admission({ mdtrt_id: 'A4', certno: LATER, begntime: '2026-11-30 23:59:59' }))
  t.equal(later.json.treat_first_pay_later, false)
  t.ok(later.json.cards.some((c: any) => c.summary.includes('2026-12-01起生效')))
})

t.test('a lower-case x and a 15-digit number find the same person', async (t) => {
  const legacy = certno('45020619580312016')
  const b = await build(t, { records: [person(legacy, '何七', [['orphan', '2020-01-01 00:00:00', null]])] })
  const res = await b.post('/v1/eligibility', { certno: '450206580312016', at: '2026-11-20 10:00:00' })
  t.equal(res.status, 200)
  t.equal(res.json.treat_first_pay_later, true)
  t.equal(res.json.primary_identity.category, 'orphan')
})

t.test('eligibility answers without recording an admission, at now by default', async (t) => {
  const b = await build(t, { records })
  const res = await b.post('/v1/eligibility', { certno: TEZHI })
  t.equal(res.status, 200)
  t.equal(res.json.treat_first_pay_later, true)
  t.equal(res.json.mdtrt_id, undefined)
  t.equal(b.store.admissions.countOpen(), 0)
  t.equal(b.store.audit.recent(10, 'eligibility.lookup').length, 1)
  const nobody = await b.post('/v1/eligibility', { certno: NOBODY, at: '2026-11-20' })
  t.equal(nobody.json.treat_first_pay_later, false)
  t.match(nobody.json.cards[0].summary, '未在困难群众名单中')
})

t.test('a bad ID number is a 400 naming the field and the reason, never "not eligible"', async (t) => {
  const b = await build(t, { records })
  const cases: Array<[string, string]> = [
    ['45020619580312', 'bad_length'],
    [TEZHI.slice(0, 17) + (TEZHI[17] === '1' ? '2' : '1'), 'bad_check_digit'],
    ['45020619580230001' + '0', 'bad_date'],
    ['4502061958031200AB', 'bad_characters']
  ]
  for (const [value, reason] of cases) {
    for (const path of ['/v1/admissions', '/v1/eligibility']) {
      const body = path === '/v1/admissions' ? admission({ mdtrt_id: `bad-${reason}`, certno: value }) : { certno: value }
      const res = await b.post(path, body)
      t.equal(res.status, 400, `${path} ${reason}`)
      t.equal(res.json.error.code, 'FANGPIN_INVALID_CERTNO')
      t.equal(res.json.error.details[0].field, 'certno')
      t.equal(res.json.error.details[0].reason, reason)
    }
  }
  t.equal(b.store.admissions.countOpen(), 0, 'no admission recorded for a bad number')
})

t.test('a missing, malformed, wrong or revoked token is a 401 with the standard error body', async (t) => {
  const b = await build(t, { records })
  const none = await b.post('/v1/eligibility', { certno: TEZHI }, { authorization: '' })
  t.equal(none.status, 401)
  t.equal(none.json.error.code, 'FANGPIN_UNAUTHORIZED')
  t.match(none.headers.get('www-authenticate'), /Bearer/)
  const wrong = await b.post('/v1/eligibility', { certno: TEZHI }, { authorization: 'Bearer fp_aaaaaaaaaaaa_' + 'x'.repeat(43) })
  t.equal(wrong.status, 401)
  const tampered = await b.post('/v1/eligibility', { certno: TEZHI }, { authorization: `Bearer ${b.token.slice(0, -1)}${b.token.endsWith('a') ? 'b' : 'a'}` })
  t.equal(tampered.status, 401)
  const basic = await b.post('/v1/admissions', admission(), { authorization: 'Basic dXNlcjpwYXNz' })
  t.equal(basic.status, 401)
  b.store.tokens.revoke('test-his')
  const revoked = await b.post('/v1/eligibility', { certno: TEZHI })
  t.equal(revoked.status, 401)
  t.equal(b.store.admissions.countOpen(), 0)
})

t.test('malformed bodies are 4xx with the standard error body and the process keeps serving', async (t) => {
  const b = await build(t, { records })
  const cases: Array<[string, unknown, Record<string, string>, number, string]> = [
    ['not JSON', '{"mdtrt_id": ', {}, 400, 'FANGPIN_MALFORMED_JSON'],
    ['empty JSON body', '', { 'content-type': 'application/json' }, 400, 'FANGPIN_MALFORMED_JSON'],
    ['an array', [1, 2], {}, 400, 'FANGPIN_VALIDATION'],
    ['missing certno', { mdtrt_id: 'x' }, {}, 400, 'FANGPIN_VALIDATION'],
    ['number certno', { mdtrt_id: 'x', certno: 450206195803120010 }, {}, 400, 'FANGPIN_VALIDATION'],
    ['number med_type', admission({ med_type: 21 }), {}, 400, 'FANGPIN_VALIDATION'],
    ['bad begntime format', admission({ begntime: '20/11/2026' }), {}, 400, 'FANGPIN_VALIDATION'],
    ['impossible begntime', admission({ begntime: '2026-02-30 10:00:00' }), {}, 400, 'FANGPIN_VALIDATION'],
    ['diseinfo not an array', admission({ diseinfo: { diag_code: 'C34' } }), {}, 400, 'FANGPIN_VALIDATION'],
    ['huge mdtrt_id', admission({ mdtrt_id: 'x'.repeat(1000) }), {}, 400, 'FANGPIN_VALIDATION'],
    ['wrong content type', 'certno=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'FANGPIN_UNSUPPORTED_MEDIA_TYPE'],
    ['prototype pollution', '{"mdtrt_id":"p","certno":"1","__proto__":{"x":1}}', {}, 400, 'FANGPIN_MALFORMED_JSON'],
    ['oversized body', { ...admission(), padding: 'x'.repeat(3 * 1024 * 1024) }, {}, 413, 'FANGPIN_BODY_TOO_LARGE']
  ]
  for (const [name, body, headers, status, code] of cases) {
    const res = await b.post('/v1/admissions', body, headers)
    t.equal(res.status, status, name)
    t.equal(res.json?.error?.code, code, `${name}: ${res.text.slice(0, 200)}`)
    t.type(res.json?.error?.message, 'string')
  }
  const validation = await b.post('/v1/admissions', { mdtrt_id: 'x' })
  t.equal(validation.json.error.details[0].field, 'certno')
  t.equal(validation.json.error.details[0].reason, 'required')
  const strict = await b.post('/v1/eligibility', { certno: TEZHI, surprise: 1 })
  t.equal(strict.status, 400, 'unknown fields are refused where the contract is strict')
  t.equal(strict.json.error.details[0].field, 'surprise')
  const deep = '{"certno":' + '['.repeat(5000) + ']'.repeat(5000) + '}'
  t.equal((await b.post('/v1/eligibility', deep)).status, 400, 'deep nesting')
  const after = await b.post('/v1/eligibility', { certno: TEZHI })
  t.equal(after.status, 200, 'still serving')
  t.equal(b.store.admissions.countOpen(), 0)
})

t.test('an unknown route is a 404 in the standard error body', async (t) => {
  const b = await build(t, { records })
  const res = await b.get('/v1/nothing-here')
  t.equal(res.status, 404)
  t.equal(res.json.error.code, 'FANGPIN_NOT_FOUND')
})

t.test('no plaintext ID number or full name reaches the database files or the log', async (t) => {
  const b = await build(t, { records })
  await b.post('/v1/admissions', admission())
  await b.post('/v1/eligibility', { certno: DIBAO_ENDED })
  await b.post('/v1/admissions', admission({ mdtrt_id: 'bad', certno: TEZHI.slice(0, 17) + (TEZHI[17] === '1' ? '2' : '1') }))
  b.store.db.pragma('wal_checkpoint(TRUNCATE)')
  for (const f of readdirSync(b.config.dataDir)) {
    const bytes = readFileSync(join(b.config.dataDir, f)).toString('latin1')
    for (const n of [TEZHI, DIBAO_ENDED, LATER]) t.notOk(bytes.includes(n), `${f} has no ${n.slice(0, 6)}…`)
    const utf8 = readFileSync(join(b.config.dataDir, f)).toString('utf8')
    t.notOk(utf8.includes('张三丰'), `${f} has no full name`)
  }
  const log = b.logs.join('')
  t.ok(log.length > 0, 'the server did log')
  for (const n of [TEZHI, DIBAO_ENDED]) t.notOk(log.includes(n), 'log has no ID number')
  t.notOk(log.includes(b.token), 'log has no token')
})
