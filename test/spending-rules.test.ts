// The money and ratio arithmetic on its own: exact decimals to fen, the 90 % rule's boundaries,
// headroom and the amount the hospital bears, checked against brute force.
import t from 'tap'
import fc from 'fast-check'
import { parseDecimal, toFen, productMatches, canonicalDecimal, yuanText } from '../agent/rules/money.ts'
import { limits, status, headroomFen, hospitalBorneFen, overLimit, sharePct, totals } from '../agent/rules/spending.ts'
import { loadProfile } from '../profile/profile.ts'

const l = limits(loadProfile('guangxi-liuzhou'))!
// The same 10 % written as 达到 (a '>=' rule, as an agreement may write it) and borne by nobody.
const reaching = { ...l, breachWhen: '>=' as const, hospitalBears: false, source: 'agreement' as const, specialCaseApproval: false }

t.test('yuan in any common spelling becomes exact fen', async (t) => {
  const fen = (v: unknown) => { const d = parseDecimal(v); return d === null ? null : toFen(d) }
  t.equal(fen(12.3), 1230n)
  t.equal(fen('12.30'), 1230n)
  t.equal(fen(' -0.01 '), -1n)
  t.equal(fen(0.1 + 0.2), 30n, 'float noise of a serialised double')
  t.equal(fen(1.005), null, 'a third decimal of real money is refused')
  t.equal(fen('1.0000001'), 100n)
  t.equal(fen('1.00001'), null)
  for (const bad of ['', 'NaN', 'Infinity', '1e5', '0x10', '１２', '1,000.00', null, true, [], {}]) t.equal(fen(bad), null, JSON.stringify(bad))
  t.equal(canonicalDecimal(parseDecimal('010.500')!), '10.5')
  t.equal(canonicalDecimal(parseDecimal('-0.050')!), '-0.05')
  t.equal(yuanText(-1234), '-12.34')
})

t.test('cnt × pric is compared exactly within 0.01 yuan', async (t) => {
  const d = (s: string) => parseDecimal(s)!
  t.ok(productMatches(d('3'), d('3.3333'), 1000n, 1n))
  t.ok(productMatches(d('0.5'), d('0.03'), 2n, 1n), '0.015 is within 0.01 of 0.02')
  t.notOk(productMatches(d('2'), d('10'), 1000n, 1n))
  t.ok(productMatches(d('-2'), d('150'), -30000n, 1n))
})

t.test('the limit and the warning level are exact boundaries', async (t) => {
  const flags = { monitored: true, exemption: null }
  t.equal(status({ medfee_fen: 1000, in_fen: 900, out_fen: 100 }, flags, l), 'warning', 'exactly 10 % is within (90%以上)')
  t.equal(status({ medfee_fen: 1001, in_fen: 900, out_fen: 101 }, flags, l), 'breach')
  t.equal(status({ medfee_fen: 1000, in_fen: 921, out_fen: 79 }, flags, l), 'ok')
  t.equal(status({ medfee_fen: 1000, in_fen: 920, out_fen: 80 }, flags, l), 'warning', '8 % reaches the warning level')
  t.equal(status({ medfee_fen: 0, in_fen: 0, out_fen: 0 }, flags, l), 'ok')
  t.equal(status({ medfee_fen: 1000, in_fen: 0, out_fen: 1000 }, { monitored: true, exemption: 'special_case' }, l), 'exempt')
  t.equal(status({ medfee_fen: 1000, in_fen: 0, out_fen: 1000 }, { monitored: false, exemption: null }, l), 'not_monitored')
  t.equal(sharePct({ medfee_fen: 100000, in_fen: 89990, out_fen: 10010 }, l), '10.01', 'a crossing is never shown as 10.0%')
  t.equal(totals({ medfee_fen: 0, in_fen: 0, out_fen: 0 }, l).in_catalog_ratio, null)
})

t.test('a rule written as 达到 (>=) breaks at exactly the limit; one written as 超过 (>) does not', async (t) => {
  const flags = { monitored: true, exemption: null }
  const exactly = { medfee_fen: 1000, in_fen: 900, out_fen: 100 }
  t.equal(status(exactly, flags, l), 'warning')
  t.equal(status(exactly, flags, reaching), 'breach')
  t.equal(status({ medfee_fen: 1000, in_fen: 901, out_fen: 99 }, flags, reaching), 'warning')
  t.equal(status({ medfee_fen: 1000, in_fen: 1000, out_fen: 0 }, flags, { ...reaching, limitBp: 0n, warnBp: 0n }), 'ok', 'nothing out of catalog never breaks a rule')
})

t.test('with no limit a monitored stay is no_limit, with no headroom and nothing borne', async (t) => {
  const a = { medfee_fen: 1000, in_fen: 100, out_fen: 900 }
  t.equal(status(a, { monitored: true, exemption: null }, null), 'no_limit')
  t.equal(status(a, { monitored: false, exemption: null }, null), 'not_monitored')
  t.equal(totals(a, null).headroom_amt, null)
  t.equal(totals(a, null).out_of_catalog_ratio, 0.9)
  t.equal(hospitalBorneFen(a, null), null)
  t.equal(hospitalBorneFen(a, reaching), null, 'a limit nobody bears has no hospital-borne amount')
  t.equal(sharePct(a, null), '90.0')
})

t.test('headroom is the largest extra out-of-catalog amount that stays within the limit', async (t) => {
  for (const rule of [l, reaching]) {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (inFen, outFen) => {
      const a = { medfee_fen: inFen + outFen, in_fen: inFen, out_fen: outFen }
      const h = headroomFen(a, rule)
      const after = (x: number) => ({ medfee_fen: a.medfee_fen + x, in_fen: inFen, out_fen: outFen + x })
      if (overLimit(a, rule)) return h === 0
      return !overLimit(after(h), rule) && overLimit(after(h + 1), rule)
    }), { numRuns: 2000 })
  }
  t.pass('checked 2,000 random stays under each comparison')
})

t.test('the hospital bears the out-of-catalog amount above 10 % of the total, rounded up to the fen', async (t) => {
  t.equal(hospitalBorneFen({ medfee_fen: 150000, in_fen: 100000, out_fen: 50000 }, l), 35000)
  t.equal(hospitalBorneFen({ medfee_fen: 1001, in_fen: 900, out_fen: 101 }, l), 1, '0.9 fen is borne as 1 fen')
  t.equal(hospitalBorneFen({ medfee_fen: 1000, in_fen: 900, out_fen: 100 }, l), 0)
  fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (inFen, outFen) => {
    const a = { medfee_fen: inFen + outFen, in_fen: inFen, out_fen: outFen }
    const borne = hospitalBorneFen(a, l)!
    // What is left out of catalog after the hospital bears its part is within 10 % of the total.
    return borne >= 0 && (outFen - borne) * 10 <= a.medfee_fen && (borne === 0 || (outFen - borne + 1) * 10 > a.medfee_fen)
  }), { numRuns: 2000 })
})
