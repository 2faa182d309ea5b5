// A stay's out-of-catalog share against the region's limit, when the region has one.
// Guangxi (000_c13c6dfe42a59df5.txt 一, 五(二)2): in-catalog spending ≥ 90 % of the stay's total,
// the excess borne by the hospital (除外单病种付费病例), special cases approved by the health and
// insurance departments. Zhejiang (002 三(五)) puts the self-pay share into the hospital's agreement;
// Anhui (003 五) only asks to lower it; Shanxi (001) and Shandong (004) have no such rule. The limit,
// its comparison and whether anyone bears an excess come from the profile (SpendingRule): with no
// rule a monitored stay is 'no_limit' — its figures are kept, nothing is judged against a number.
//
// All comparisons are exact integer arithmetic on fen and basis points: under '>' a stay at exactly
// the limit is within it (Guangxi: 90%以上 includes 90 %), one fen more out of catalog is not.
import type { Comparison, LoadedProfile } from '../../profile/profile.ts'
import { yuan } from './money.ts'

export type SpendingStatus = 'ok' | 'warning' | 'breach' | 'exempt' | 'not_monitored' | 'no_limit'

export interface Amounts {
  medfee_fen: number
  in_fen: number
  out_fen: number
}

export interface Totals {
  medfee_sumamt: number
  in_catalog_amt: number
  out_of_catalog_amt: number
  in_catalog_ratio: number | null
  out_of_catalog_ratio: number | null
  headroom_amt: number | null
}

export interface StayFlags {
  monitored: boolean
  /** 'single_disease' | 'special_case' | null */
  exemption: string | null
}

const BP = 10_000n

export interface Limits {
  /** out-of-catalog share allowed, in basis points (1000 = 10 %) */
  limitBp: bigint
  /** out-of-catalog share that warns, in basis points (800 = 8 %) */
  warnBp: bigint
  /** the minimum in-catalog share, in basis points (9000 = 90 %) */
  inCatalogMinBp: bigint
  minAlertFen: number
  /** '>': exactly at the limit is within it; '>=': reaching the limit breaks it */
  breachWhen: Comparison
  /** whether the hospital bears the excess: otherwise nothing says it does */
  hospitalBears: boolean
  /** where the number comes from: the region's text, the hospital's agreement, the hospital itself */
  source: 'policy' | 'agreement' | 'local'
  /** whether staff may ask for a special-case approval (000 五(二)2) */
  specialCaseApproval: boolean
}

/** The limit in basis points, or null when the region has no rule or its local threshold is missing. */
export function limits (profile: LoadedProfile): Limits | null {
  const r = profile.spendingRule
  if (r === null) return null
  const limitBp = BigInt(Math.round(r.limitShare * 10_000))
  const warnBp = limitBp - BigInt(Math.round(r.warningMargin * 10_000))
  return {
    limitBp,
    warnBp: warnBp < 0n ? 0n : warnBp,
    inCatalogMinBp: BP - limitBp,
    minAlertFen: r.minAlertFen,
    breachWhen: r.breachWhen,
    hospitalBears: r.hospitalBears,
    source: r.source,
    specialCaseApproval: r.specialCaseApproval
  }
}

/** The stay's share breaks the limit, exactly, with the comparison the text writes. */
export function overLimit (a: Amounts, l: Limits): boolean {
  if (a.medfee_fen <= 0 || a.out_fen <= 0) return false
  const out = BigInt(a.out_fen) * BP
  const cap = BigInt(a.medfee_fen) * l.limitBp
  return l.breachWhen === '>' ? out > cap : out >= cap
}

export function atWarning (a: Amounts, l: Limits): boolean {
  return a.medfee_fen > 0 && a.out_fen > 0 && BigInt(a.out_fen) * BP >= BigInt(a.medfee_fen) * l.warnBp
}

/**
 * Extra out-of-catalog spending the stay can take with in-catalog spending unchanged: the largest x
 * with (out + x) / (total + x) still within the limit (≤ under '>', < under '>=').
 */
export function headroomFen (a: Amounts, l: Limits): number {
  const num = BigInt(a.medfee_fen) * l.limitBp - BigInt(a.out_fen) * BP
  const den = BP - l.limitBp
  if (num <= 0n || den <= 0n) return 0
  if (l.breachWhen === '>') return Number(num / den)
  return Number((num + den - 1n) / den - 1n)
}

/**
 * The out-of-catalog amount beyond the limit's share of the total (000 五(二)2 超出部分由医疗机构
 * 自行承担), rounded up to the fen; null where the hospital bears nothing.
 */
export function hospitalBorneFen (a: Amounts, l: Limits | null): number | null {
  if (l === null || !l.hospitalBears) return null
  const num = BigInt(a.out_fen) * BP - BigInt(a.medfee_fen) * l.limitBp
  if (num <= 0n) return 0
  return Number((num + BP - 1n) / BP)
}

export function status (a: Amounts, flags: StayFlags, l: Limits | null): SpendingStatus {
  if (!flags.monitored) return 'not_monitored'
  if (flags.exemption !== null) return 'exempt'
  if (l === null) return 'no_limit'
  if (overLimit(a, l)) return 'breach'
  if (atWarning(a, l)) return 'warning'
  return 'ok'
}

/** A ratio rounded down to 4 decimals: a stay just under 90 % must never read as 0.9. */
function ratio (part: number, whole: number, up: boolean): number | null {
  if (whole <= 0) return null
  const scaled = BigInt(part) * BP
  const q = scaled / BigInt(whole)
  const exact = q * BigInt(whole) === scaled
  return Number(up && !exact ? q + 1n : q) / 10_000
}

export function totals (a: Amounts, l: Limits | null): Totals {
  return {
    medfee_sumamt: yuan(a.medfee_fen),
    in_catalog_amt: yuan(a.in_fen),
    out_of_catalog_amt: yuan(a.out_fen),
    in_catalog_ratio: ratio(a.in_fen, a.medfee_fen, false),
    out_of_catalog_ratio: ratio(a.out_fen, a.medfee_fen, true),
    headroom_amt: l === null ? null : yuan(headroomFen(a, l))
  }
}

/** The out-of-catalog share as staff read it: one decimal, two when one would hide a crossing. */
export function sharePct (a: Amounts, l: Limits | null): string {
  if (a.medfee_fen <= 0) return '0'
  const tenths = (BigInt(a.out_fen) * 1000n + BigInt(a.medfee_fen) / 2n) / BigInt(a.medfee_fen)
  let text = `${tenths / 10n}.${tenths % 10n}`
  if (l !== null && overLimit(a, l) && tenths <= l.limitBp / 10n) {
    const hundredths = (BigInt(a.out_fen) * 10_000n + BigInt(a.medfee_fen) - 1n) / BigInt(a.medfee_fen)
    text = `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`
  }
  return text
}
