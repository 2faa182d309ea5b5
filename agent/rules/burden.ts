// The patient's own burden, from the platform's settlement answers: the stay's ratios against the
// region's targets, the person's year against its threshold, and 再救助 where the region grants it.
// Every number here is the region profile's (benefits.targets, burden.annual, benefits.reassistance);
// this file only does the arithmetic, exactly, on fen and basis points.
//
// The year (000 四(三)1 年内; 001 三 年度累计; 004 三(三) 一个医疗年度) is the calendar year of the
// settlement time. A person's year-to-date = what the registry says they had paid by its ytd_as_of in
// that year + this hospital's final settlements after ytd_as_of in the same year (or all of the
// year's, when the registry says nothing for that year).
//
// 再救助 (004 三(三)): "经基本医保、大病保险、医疗救助、医疗机构减免、医疗商业补充保险「五重保障」报销后
// 剩余个人承担的部分，政策范围内超过5000元以上的部分按照70%的比例给予再救助，年度累计救助限额不超过2万元".
// The in-policy part of what remains is psn_part_amt − fulamt_ownpay_amt − overlmt_selfpay −
// preselfpay_amt: psn_part_amt is what is left after the funds (fund_pay_sumamt: basic insurance,
// 大病保险, 医疗救助 …) and the hospital's reduction (hosp_part_amt), and the three parts taken out are
// outside the policy range (全自费, 超限价, 乙类先行自付). Equivalently inscp_scp_amt − fund_pay_sumamt −
// hosp_part_amt. Commercial supplementary insurance pays later, outside the platform: the estimate is
// an upper bound, and says so. From the registry's figures the in-policy residual is estimated as
// ytd_psn_part_amt − ytd_fulamt_ownpay_amt (it gives no 超限价 or 先行自付).
import type { Comparison, LoadedProfile, TargetSpec } from '../../profile/profile.ts'
import type { SettlementRow, SettlementAmounts } from '../store/settlements.ts'
import type { PersonYtd } from '../store/burden.ts'
import { yuan } from './money.ts'

const BP = 10_000n

export interface TargetCheck {
  measure: TargetSpec['measure']
  /** the target as a share (0.9 = 90 %) */
  target: number
  comparison: TargetSpec['comparison']
  /** the stay's value, null when its denominator is zero */
  value: number | null
  /** null when the value cannot be computed */
  met: boolean | null
  source: string
}

export interface AnnualThreshold {
  amount: number
  comparison: Comparison
  out_of_catalog_share: { share: number, comparison: Comparison } | null
  source: string
}

export interface Burden {
  /** where the stay's figures come from: its final settlements, or its latest pre-settlement */
  setl_type: 'pre' | 'final'
  medfee_sumamt: number
  fund_pay_sumamt: number
  psn_part_amt: number
  fulamt_ownpay_amt: number
  inscp_scp_amt: number
  /** funds paid ÷ inscp_scp_amt: the in-policy reimbursement ratio (住院合规费用报销比例) */
  reimbursement_ratio: number | null
  /** funds paid ÷ medfee_sumamt: 综合保障率 */
  protection_ratio: number | null
  /** psn_part_amt ÷ medfee_sumamt: 个人负担率 */
  psn_part_ratio: number | null
  targets: TargetCheck[]
  ytd_year: number
  /** the registry's 统计截至 that the year's figure starts from, or null */
  ytd_as_of: string | null
  ytd_psn_part_amt: number
  ytd_medfee_sumamt: number
  ytd_out_of_catalog_ratio: number | null
  annual_threshold: AnnualThreshold | null
  annual_threshold_crossed: boolean
  /** 再救助 this stay adds (004 三(三)), or null where the region has none for the person */
  reassist_est_amt: number | null
  /** 再救助 of the person's year so far, or null */
  reassist_ytd_amt: number | null
}

/** The fen figures behind a Burden, for the checks and the sentences. */
export interface BurdenFigures {
  stay: SettlementAmounts
  ytd: { psn_part_fen: number, medfee_fen: number, out_fen: number, ratioKnown: boolean }
  annualFen: number | null
  reassistStayFen: number | null
  reassistYearFen: number | null
}

function sumRows (rows: SettlementAmounts[]): SettlementAmounts {
  const out = { medfee_fen: 0, fulamt_fen: 0, overlmt_fen: 0, preselfpay_fen: 0, inscp_fen: 0, hifp_fen: 0, hifmi_fen: 0, hifob_fen: 0, hifes_fen: 0, cvlserv_fen: 0, maf_fen: 0, oth_fen: 0, fund_fen: 0, psn_part_fen: 0, acct_fen: 0, psn_cash_fen: 0, hosp_part_fen: 0 }
  for (const r of rows) for (const k of Object.keys(out) as Array<keyof SettlementAmounts>) out[k] += r[k]
  return out
}

/** A ratio rounded down to 4 decimals (a ratio just under a target never reads as the target). */
function ratio (part: number, whole: number): number | null {
  if (whole <= 0) return null
  return Number(BigInt(part) * BP / BigInt(whole)) / 10_000
}

function bp (share: number): bigint {
  return BigInt(Math.round(share * 10_000))
}

/** part / whole against a share, exactly: part·10⁴ vs whole·share_bp. */
function compareShare (part: number, whole: number, share: number, c: TargetSpec['comparison']): boolean {
  const l = BigInt(part) * BP
  const r = BigInt(whole) * bp(share)
  return c === '>=' ? l >= r : c === '>' ? l > r : c === '<=' ? l <= r : l < r
}

function compareFen (value: number, threshold: number, c: Comparison): boolean {
  return c === '>=' ? value >= threshold : value > threshold
}

/** The in-policy residual of a settlement (see the header): never below zero. */
export function residualFen (s: SettlementAmounts): number {
  return Math.max(0, s.psn_part_fen - s.fulamt_fen - s.overlmt_fen - s.preselfpay_fen)
}

/** 再救助 of a year's residual: rate × the part above the threshold, capped, rounded half up to the fen. */
export function reassistFen (residual: number, r: { rate: number, threshold_fen: number, annual_cap_fen: number }): number {
  const above = residual - r.threshold_fen
  if (above <= 0) return 0
  const amount = Number((BigInt(above) * bp(r.rate) + BP / 2n) / BP)
  return Math.min(r.annual_cap_fen, amount)
}

/** A registry as_of that counts for `year`: one within that year. */
function registryFor (ytd: PersonYtd | undefined, year: number): PersonYtd | null {
  if (ytd === undefined) return null
  return Number(ytd.as_of.slice(0, 4)) === year ? ytd : null
}

export interface BurdenInput {
  profile: LoadedProfile
  /** the categories of the stay's identities (empty: not on the list) */
  categories: string[]
  /** the stay's settlements (any state) */
  staySettlements: SettlementRow[]
  mdtrtId: string
  /** the person's final, uncancelled settlements of the stay's year, oldest first */
  personYear: (year: number) => SettlementRow[]
  registry: PersonYtd | undefined
}

function outFen (profile: LoadedProfile, s: { fulamt_fen: number, overlmt_fen: number }): number {
  // 自费 as the region counts it out of catalog: 全自费, and 超限价 where the profile says so.
  return s.fulamt_fen + (profile.overlmtCountsAsOutOfCatalog ? s.overlmt_fen : 0)
}

export interface YearFigures {
  reg: PersonYtd | null
  /** the hospital's final settlements of the year that count (after the registry's as_of) */
  yearRows: SettlementRow[]
  ytd: BurdenFigures['ytd']
  rule: LoadedProfile['burden']['annual'][number] | undefined
  annualFen: number | null
  threshold: AnnualThreshold | null
  crossed: boolean
}

/**
 * A person's year: the registry's figures up to its as_of, then this hospital's final settlements
 * after it; a pending pre-settlement is counted as if it were final (what the year will be). Then the
 * annual rule that covers the person (a listed category's, else the one for everybody else) and
 * whether the year is over it, compared as the text writes it.
 */
export function yearFigures (profile: LoadedProfile, categories: string[], personYear: SettlementRow[], registry: PersonYtd | undefined, year: number, pending: SettlementRow | null): YearFigures {
  const reg = registryFor(registry, year)
  const has = (ids: string[] | undefined): boolean => ids === undefined || ids.some((c) => categories.includes(c))
  const yearRows = personYear.filter((s) => reg === null || s.setl_time > reg.as_of)
  const counted = pending === null ? yearRows : [...yearRows, pending]
  const local = sumRows(counted)
  const ytd = {
    psn_part_fen: (reg?.psn_part_fen ?? 0) + local.psn_part_fen,
    medfee_fen: (reg?.medfee_fen ?? 0) + local.medfee_fen,
    out_fen: (reg?.fulamt_fen ?? 0) + counted.reduce((n, s) => n + outFen(profile, s), 0),
    ratioKnown: reg === null || (reg.medfee_fen !== null && reg.fulamt_fen !== null)
  }
  const rule = profile.burden.annual.find((a) => a.population === 'listed' && categories.length > 0 && has(a.categories)) ??
    (categories.length === 0 ? profile.burden.annual.find((a) => a.population === 'others') : undefined)
  const annualFen = rule === undefined ? null : rule.threshold.amount_fen ?? (rule.threshold.local_key === 'annual_burden_fen' ? profile.local.annual_burden_fen ?? null : null)
  let crossed = false
  let threshold: AnnualThreshold | null = null
  if (rule !== undefined && annualFen !== null) {
    const share = rule.out_of_catalog_share ?? null
    threshold = { amount: yuan(annualFen), comparison: rule.threshold.comparison, out_of_catalog_share: share, source: rule.source ?? '' }
    crossed = compareFen(ytd.psn_part_fen, annualFen, rule.threshold.comparison) &&
      (share === null || (ytd.ratioKnown && ytd.medfee_fen > 0 && compareShare(ytd.out_fen, ytd.medfee_fen, share.share, share.comparison)))
  }
  return { reg, yearRows, ytd, rule, annualFen, threshold, crossed }
}

/** The burden of a stay from its settlements, or null when it has none. */
export function stayBurden (input: BurdenInput): { burden: Burden, figures: BurdenFigures } | null {
  const { profile, categories } = input
  const active = input.staySettlements.filter((s) => s.cancelled_at === null)
  const finals = active.filter((s) => s.setl_type === 'final')
  const pre = active.filter((s) => s.setl_type === 'pre').at(-1)
  if (finals.length === 0 && pre === undefined) return null
  const base = finals.length > 0 ? finals : [pre!]
  const stay = sumRows(base)
  const setlType = finals.length > 0 ? 'final' : 'pre'
  const year = Number(base.at(-1)!.setl_time.slice(0, 4))
  const has = (ids: string[] | undefined): boolean => ids === undefined || ids.some((c) => categories.includes(c))

  const rows = input.personYear(year)
  const y = yearFigures(profile, categories, rows, input.registry, year, setlType === 'pre' ? pre! : null)
  const { reg, yearRows, ytd, annualFen, threshold, crossed } = y

  const targets: TargetCheck[] = profile.benefits.targets
    .filter((t) => (t.scope ?? 'inpatient') === 'inpatient' && has(t.categories))
    .map((t) => {
      const [part, whole] = t.measure === 'reimbursement_ratio' ? [stay.fund_fen, stay.inscp_fen] : t.measure === 'protection_ratio' ? [stay.fund_fen, stay.medfee_fen] : [stay.psn_part_fen, stay.medfee_fen]
      return { measure: t.measure, target: t.value, comparison: t.comparison, value: ratio(part, whole), met: whole > 0 ? compareShare(part, whole, t.value, t.comparison) : null, source: t.source ?? '' }
    })

  // 再救助, in the order the year happened: what the year had before this stay, then this stay.
  let reassistStay: number | null = null
  let reassistYear: number | null = null
  const r = profile.benefits.reassistance
  if (r !== null && has(r.categories)) {
    const regResidual = reg === null || reg.psn_part_fen === null ? 0 : Math.max(0, reg.psn_part_fen - (reg.fulamt_fen ?? 0))
    const first = base[0].setl_time
    const others = yearRows.filter((s) => s.mdtrt_id !== input.mdtrtId)
    const before = regResidual + others.filter((s) => s.setl_time < first).reduce((n, s) => n + residualFen(s), 0)
    // A settlement the registry already counted (settled before its as_of) is in its figure.
    const mine = base.filter((s) => reg === null || s.setl_time > reg.as_of).reduce((n, s) => n + residualFen(s), 0)
    const after = regResidual + others.reduce((n, s) => n + residualFen(s), 0) + mine
    reassistStay = reassistFen(before + mine, r) - reassistFen(before, r)
    reassistYear = reassistFen(after, r)
  }

  return {
    burden: {
      setl_type: setlType,
      medfee_sumamt: yuan(stay.medfee_fen),
      fund_pay_sumamt: yuan(stay.fund_fen),
      psn_part_amt: yuan(stay.psn_part_fen),
      fulamt_ownpay_amt: yuan(stay.fulamt_fen),
      inscp_scp_amt: yuan(stay.inscp_fen),
      reimbursement_ratio: ratio(stay.fund_fen, stay.inscp_fen),
      protection_ratio: ratio(stay.fund_fen, stay.medfee_fen),
      psn_part_ratio: ratio(stay.psn_part_fen, stay.medfee_fen),
      targets,
      ytd_year: year,
      ytd_as_of: reg?.as_of ?? null,
      ytd_psn_part_amt: yuan(ytd.psn_part_fen),
      ytd_medfee_sumamt: yuan(ytd.medfee_fen),
      ytd_out_of_catalog_ratio: ytd.ratioKnown ? ratio(ytd.out_fen, ytd.medfee_fen) : null,
      annual_threshold: threshold,
      annual_threshold_crossed: crossed,
      reassist_est_amt: reassistStay === null ? null : yuan(reassistStay),
      reassist_ytd_amt: reassistYear === null ? null : yuan(reassistYear)
    },
    figures: { stay, ytd, annualFen, reassistStayFen: reassistStay, reassistYearFen: reassistYear }
  }
}
