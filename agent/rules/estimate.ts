// The estimate of a stay's personal burden at admission (000 四(二)2 "预估单次住院个人医疗费用负担";
// 四(二)3 告知预估的医疗费用情况). Never a made-up number: either a basis this hospital's own data gives,
// with its sample size, or no estimate.
//   tariff  — the HIS sent the stay's DRG group (or pre-grouping) and the hospital imported its payment
//             table: the expected total is the group's 支付标准, and the personal share of it is the
//             share this hospital's final settlements of that group had (or, with none yet, of all
//             watched stays): psn_part = pay_std × Σpsn_part ÷ Σmedfee.
//   history — otherwise, the median personal share of this hospital's final settlements in the last
//             365 days whose stay had the same main diagnosis category (three characters), from 5 of them.
import type { Store } from '../store/store.ts'
import type { LoadedProfile } from '../../profile/profile.ts'
import type { IdentityView } from './eligibility.ts'
import { yuan } from './money.ts'

export interface Estimate {
  /** yuan; null with no estimate */
  psn_part_amt: number | null
  medfee_sumamt: number | null
  basis: 'tariff' | 'history' | null
  /** the settlements the estimate rests on */
  sample_size: number
  /** the DRG group or main diagnosis category it was made for */
  basis_code: string | null
}

export const NO_ESTIMATE: Estimate = { psn_part_amt: null, medfee_sumamt: null, basis: null, sample_size: 0, basis_code: null }

/** At least this many settlements of a diagnosis category make a median worth saying (the rule). */
export const HISTORY_MIN = 5

function median (sorted: number[]): number {
  const mid = sorted.length >> 1
  // An even count: the mean of the two middle values, rounded half up to the fen.
  return sorted.length % 2 === 1 ? sorted[mid] : Math.floor((sorted[mid - 1] + sorted[mid] + 1) / 2)
}

/** 365 days before a local wall-clock time, as local wall-clock text (calendar arithmetic only). */
function yearBefore (at: string): string {
  const d = new Date(`${at.slice(0, 10)}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() - 365)
  return `${d.toISOString().slice(0, 10)}${at.slice(10)}`
}

export function estimateStay (store: Store, input: { drg_codg: string | null, mainDiag: string | null, begntime: string }): Estimate {
  if (input.drg_codg !== null) {
    const tariff = store.tariffs.get(input.drg_codg)
    if (tariff !== undefined) {
      let sums = store.settlements.groupSums(input.drg_codg)
      if (sums.count === 0 || sums.medfee_fen === 0) sums = store.settlements.monitoredSums()
      if (sums.count > 0 && sums.medfee_fen > 0) {
        const psn = Number((BigInt(tariff.pay_std_fen) * BigInt(sums.psn_part_fen) * 2n + BigInt(sums.medfee_fen)) / (2n * BigInt(sums.medfee_fen)))
        return { psn_part_amt: yuan(psn), medfee_sumamt: yuan(tariff.pay_std_fen), basis: 'tariff', sample_size: sums.count, basis_code: input.drg_codg }
      }
    }
  }
  if (input.mainDiag !== null) {
    const rows = store.settlements.history(input.mainDiag, yearBefore(input.begntime))
    if (rows.length >= HISTORY_MIN) {
      const medfee = rows.map((r) => r.medfee_fen).sort((a, b) => a - b)
      return { psn_part_amt: yuan(median(rows.map((r) => r.psn_part_fen))), medfee_sumamt: yuan(median(medfee)), basis: 'history', sample_size: rows.length, basis_code: input.mainDiag }
    }
  }
  return NO_ESTIMATE
}

/**
 * Whether the estimate reaches the region's threshold for one of the patient's categories (Guangxi
 * 000 四(二)2: the three 监测对象, 5,000 yuan 以上): staff are told at admission so the family is told.
 */
export function estimateReaches (profile: LoadedProfile, e: Estimate, identities: IdentityView[]): boolean {
  const rule = profile.burden.stay_estimate
  if (rule === null || e.psn_part_amt === null) return false
  if (!identities.some((i) => rule.categories.includes(i.category))) return false
  const fen = Math.round(e.psn_part_amt * 100)
  const line = rule.threshold.amount_fen
  if (line === null || line === undefined) return false
  return rule.threshold.comparison === '>=' ? fen >= line : fen > line
}
