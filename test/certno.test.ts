import t from 'tap'
import fc from 'fast-check'
import { normaliseCertno, checkCharacter } from '../identity/certno.ts'

const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''))
const birth = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10).replace(/-/g, ''))
const valid18 = fc.tuple(digits(6), birth, digits(3)).map(([a, b, s]) => a + b + s).map((f) => f + checkCharacter(f))

t.test('every number with a correct MOD 11-2 check character and a real birth date is accepted', async (t) => {
  fc.assert(fc.property(valid18, (n) => {
    const r = normaliseCertno(n)
    return r.ok && r.certno === n && !r.converted
  }), { numRuns: 2000 })
})

t.test('changing any one character of a valid number is caught', async (t) => {
  fc.assert(fc.property(valid18, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 9 }), (n, pos, delta) => {
    const chars = n.split('')
    const c = chars[pos]
    chars[pos] = pos === 17
      ? '0123456789X'[('0123456789X'.indexOf(c) + delta) % 11]
      : String((Number(c) + delta) % 10)
    const r = normaliseCertno(chars.join(''))
    // MOD 11-2 detects every single-character substitution; a changed birth digit may instead make the date invalid.
    return !r.ok && (r.reason === 'bad_check_digit' || r.reason === 'bad_date')
  }), { numRuns: 2000 })
})

t.test('a lower-case x check character is accepted and upper-cased', async (t) => {
  // find a number whose check character is X
  let first17 = ''
  for (let i = 0; ; i++) {
    first17 = '45020619800101' + String(i).padStart(3, '0')
    if (checkCharacter(first17) === 'X') break
  }
  const r = normaliseCertno(first17 + 'x')
  t.ok(r.ok)
  if (r.ok) t.equal(r.certno, first17 + 'X')
})

t.test('a 15-digit legacy number is converted to 18 digits with the 19 century and a check character', async (t) => {
  const r = normaliseCertno('450206580312016')
  t.ok(r.ok)
  if (r.ok) {
    t.equal(r.certno, '45020619580312016' + checkCharacter('45020619580312016'))
    t.equal(r.birthDate, '1958-03-12')
    t.equal(r.converted, true)
  }
  const bad = normaliseCertno('450206581332016')
  t.same(bad.ok ? null : bad.reason, 'bad_date', 'month 13 in a legacy number is a bad date')
})

t.test('legacy conversion always yields a number the 18-digit check accepts', async (t) => {
  fc.assert(fc.property(digits(6), fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('1999-12-31T00:00:00Z'), noInvalidDate: true }), digits(3), (a, d, s) => {
    const yymmdd = d.toISOString().slice(2, 10).replace(/-/g, '')
    const r = normaliseCertno(a + yymmdd + s)
    return r.ok && normaliseCertno(r.certno).ok
  }), { numRuns: 500 })
})

t.test('each kind of bad number gets its own reason', async (t) => {
  const good = '45020619580312001' + checkCharacter('45020619580312001')
  const cases: Array<[string, string]> = [
    ['4502061958031200', 'bad_length'],
    [good + '1', 'bad_length'],
    ['', 'bad_length'],
    ['45020619580312001A', 'bad_characters'],
    ['4502061958031200Y1', 'bad_characters'],
    ['45020619580230001' + checkCharacter('45020619580230001'), 'bad_date'],
    ['45020619581301001' + checkCharacter('45020619581301001'), 'bad_date'],
    ['45020621000101001' + checkCharacter('45020621000101001'), 'bad_date'],
    ['45020619000229001' + checkCharacter('45020619000229001'), 'bad_date'],
    [good.slice(0, 17) + (good[17] === '0' ? '1' : '0'), 'bad_check_digit']
  ]
  for (const [input, reason] of cases) {
    const r = normaliseCertno(input)
    t.equal(r.ok ? 'ok' : r.reason, reason, `${input || '(empty)'} → ${reason}`)
  }
  const leap = normaliseCertno('45020620000229001' + checkCharacter('45020620000229001'))
  t.ok(leap.ok, '2000-02-29 is a real date')
})

t.test('blanks and full-width spaces around a number are ignored', async (t) => {
  const good = '45020619580312001' + checkCharacter('45020619580312001')
  const r = normaliseCertno(`\u3000${good.slice(0, 6)} ${good.slice(6)} `)
  t.ok(r.ok)
})
