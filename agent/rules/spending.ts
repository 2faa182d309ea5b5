// The 90 % in-catalog rule for poor and low-income inpatients.
// Policy 000_c13c6dfe42a59df5.txt 五(二)2: in a designated hospital, spending inside the insurance
// catalog must be ≥ 90 % of the stay's total; the excess is borne by the hospital (except 单病种
// cases); when self-pay passes 10 % staff must intervene; special cases that cannot reach the share
// need approval from the health or insurance department. The numbers come from the region profile.
//
// All comparisons are exact integer arithmetic on fen and basis points: a stay at exactly 90.00 %
// is within the rule (90%以上 includes 90 %), one fen more out of catalog is not.
import type { LoadedProfile } from '../../profile/profile.ts'
import { yuan } from './money.ts'

export type SpendingStatus = 'ok' | 'warning' | 'breach' | 'exempt' | 'not_monitored'

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
  headroom_amt: number
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
}

export function limits (profile: LoadedProfile): Limits {
  const s = profile.spending
  const limitBp = BP - BigInt(Math.round(s.in_catalog_min * 10_000))
  const warnBp = BigInt(Math.round(s.warning_out_of_catalog_share * 10_000))
  return { limitBp, warnBp, inCatalogMinBp: BP - limitBp, minAlertFen: s.min_alert_total_fen }
}

/** The stay's share over the limit (out / total > limit), exactly. */
export function overLimit (a: Amounts, l: Limits): boolean {
  return a.medfee_fen > 0 && BigInt(a.out_fen) * BP > BigInt(a.medfee_fen) * l.limitBp
}

export function atWarning (a: Amounts, l: Limits): boolean {
  return a.medfee_fen > 0 && BigInt(a.out_fen) * BP >= BigInt(a.medfee_fen) * l.warnBp
}

/**
 * Extra out-of-catalog spending that would bring the share exactly to the limit with in-catalog
 * spending unchanged: the largest x with (out + x) / (total + x) ≤ limit.
 */
export function headroomFen (a: Amounts, l: Limits): number {
  const num = BigInt(a.medfee_fen) * l.limitBp - BigInt(a.out_fen) * BP
  if (num <= 0n) return 0
  return Number(num / (BP - l.limitBp))
}

/** The out-of-catalog amount beyond the limit's share of the total (超出部分由医疗机构自行承担), rounded up to the fen. */
export function hospitalBorneFen (a: Amounts, l: Limits): number {
  const num = BigInt(a.out_fen) * BP - BigInt(a.medfee_fen) * l.limitBp
  if (num <= 0n) return 0
  return Number((num + BP - 1n) / BP)
}

export function status (a: Amounts, flags: StayFlags, l: Limits): SpendingStatus {
  if (!flags.monitored) return 'not_monitored'
  if (flags.exemption !== null) return 'exempt'
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

export function totals (a: Amounts, l: Limits): Totals {
  return {
    medfee_sumamt: yuan(a.medfee_fen),
    in_catalog_amt: yuan(a.in_fen),
    out_of_catalog_amt: yuan(a.out_fen),
    in_catalog_ratio: ratio(a.in_fen, a.medfee_fen, false),
    out_of_catalog_ratio: ratio(a.out_fen, a.medfee_fen, true),
    headroom_amt: yuan(headroomFen(a, l))
  }
}

/** The out-of-catalog share as staff read it: one decimal, two when one would hide a crossing. */
export function sharePct (a: Amounts, l: Limits): string {
  if (a.medfee_fen <= 0) return '0'
  const tenths = (BigInt(a.out_fen) * 1000n + BigInt(a.medfee_fen) / 2n) / BigInt(a.medfee_fen)
  let text = `${tenths / 10n}.${tenths % 10n}`
  const limitTenths = l.limitBp / 10n
  if (overLimit(a, l) && tenths <= limitTenths) {
    const hundredths = (BigInt(a.out_fen) * 10_000n + BigInt(a.medfee_fen) - 1n) / BigInt(a.medfee_fen)
    text = `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`
  }
  return text
}
