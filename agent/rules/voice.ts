// One voice: the sentences staff and the HIS read — cards, alert messages, gate reasons — are
// built here, from numbers (fen, basis points) formatted only at this edge. The same visit is
// 住院号 everywhere, and the hospital-borne amount is said one way: exact at discharge, an
// estimate before.
import type { StayListRow } from '../store/stays.ts'
import { yuanText } from './money.ts'
import { sharePct, hospitalBorneFen, headroomFen, type Amounts, type Limits, type SpendingStatus, type StayFlags } from './spending.ts'

export type Indicator = 'info' | 'warning' | 'critical'

export interface Card {
  indicator: Indicator
  summary: string
  detail?: string
}

/** CDS Hooks summaries are one line for the HIS's alert box: at most 140 characters. */
export function card (indicator: Indicator, summary: string, detail?: string): Card {
  const chars = Array.from(summary)
  const c: Card = { indicator, summary: chars.length > 140 ? chars.slice(0, 139).join('') + '…' : summary }
  if (detail !== undefined) c.detail = detail
  return c
}

/** The stay as staff find it on the ward: department, masked name, 住院号. */
export function who (row: Pick<StayListRow, 'mdtrt_id' | 'adm_dept_name' | 'name_masked'>): string {
  return `${row.adm_dept_name ?? ''} ${row.name_masked ?? ''}（住院号 ${row.mdtrt_id}）`.trim()
}

/** Basis points as a percentage for people: 1000 → "10", 850 → "8.5", 1234 → "12.34". */
export function percent (bp: bigint): string {
  const whole = bp / 100n
  const frac = bp % 100n
  return frac === 0n ? whole.toString() : `${whole}.${frac.toString().padStart(2, '0').replace(/0$/, '')}`
}

export const EXEMPTION_LABEL: Record<string, string> = {
  single_disease: '单病种付费病例',
  special_case: '已获卫生健康、医保部门审批的特殊病例'
}

export function exemptionLabel (kind: string | null): string {
  return EXEMPTION_LABEL[kind ?? ''] ?? '豁免病例'
}

/** 目录外费用占比12.3% */
export function shareText (pct: string): string {
  return `目录外费用占比${pct}%`
}

/** 目录外费用占比12.3%，超过10%上限 */
export function overLimitText (pct: string, limitBp: bigint): string {
  return `${shareText(pct)}，超过${percent(limitBp)}%上限`
}

/** 目录外费用占比8.5%，已达预警线8%（上限10%） */
export function nearLimitText (pct: string, warnBp: bigint, limitBp: bigint): string {
  return `${shareText(pct)}，已达预警线${percent(warnBp)}%（上限${percent(limitBp)}%）`
}

/**
 * What the hospital bears of the out-of-catalog spending beyond the limit (000 五(二)2 超出部分由医疗
 * 机构自行承担): exact once the stay is discharged, an estimate while it goes on.
 */
export function borneText (fen: number, final: boolean): string {
  return final ? `超出部分${yuanText(fen)}元由医院承担` : `超出部分约${yuanText(fen)}元将由医院承担`
}

/** 还可使用目录外费用123.45元 */
export function headroomText (fen: number): string {
  return `还可使用目录外费用${yuanText(fen)}元`
}

/** 单病种付费病例，不受目录内费用占比90%的限制 (inCatalogMinBp: the rule's minimum in-catalog share) */
export function notLimitedText (exemption: string | null, inCatalogMinBp: bigint): string {
  return `${exemptionLabel(exemption)}，不受目录内费用占比${percent(inCatalogMinBp)}%的限制`
}

// ---------------------------------------------------------------------------------------------
// The in-catalog rule's sentences (000 五(二)2)

/** Cards for the HIS after a charge batch or a cancellation: the state the stay is in now. */
export function stayCards (a: Amounts, st: SpendingStatus, flags: StayFlags, l: Limits): Card[] {
  if (st === 'not_monitored' || a.medfee_fen <= 0) return []
  if (st === 'exempt') return [card('info', notLimitedText(flags.exemption, l.inCatalogMinBp))]
  const pct = sharePct(a, l)
  // Below the minimum total one item swings the share: say it, but do not alarm (profile
  // spending.min_alert_total_fen).
  if (a.medfee_fen < l.minAlertFen && st !== 'ok') {
    return [card('info', `${shareText(pct)}（总费用${yuanText(a.medfee_fen)}元，较小，占比仅供参考）；出院前目录外费用不得超过总费用的${percent(l.limitBp)}%`)]
  }
  if (st === 'breach') {
    return [card('critical', `目录外费用占比已达${pct}%，超过${percent(l.limitBp)}%上限，${borneText(hospitalBorneFen(a, l), false)}；请调整医嘱或报卫健、医保部门审批特殊病例`)]
  }
  if (st === 'warning') return [card('warning', `${nearLimitText(pct, l.warnBp, l.limitBp)}，${headroomText(headroomFen(a, l))}`)]
  return []
}

/** Cards for an order precheck: what the stay would become if the proposed lines were charged. */
export function precheckCards (after: Amounts, proposedOutFen: number, proposedLines: number, st: SpendingStatus, flags: StayFlags, l: Limits): Card[] {
  if (st === 'not_monitored') return [card('info', '患者本次住院不在困难群众费用监测范围内，不受目录内费用占比限制')]
  if (st === 'exempt') return [card('info', `${exemptionLabel(flags.exemption)}，不受目录内费用占比限制`)]
  const pct = sharePct(after, l)
  const what = proposedOutFen <= 0
    ? '所开项目均为目录内费用，'
    : proposedLines === 1 ? '该项目为目录外费用，' : `所开项目含目录外费用${yuanText(proposedOutFen)}元，`
  if (st === 'breach') {
    return [card('critical', `${what}开具后目录外占比将达${pct}%，超过${percent(l.limitBp)}%上限`, `${borneText(hospitalBorneFen(after, l), false)}；请考虑目录内替代项目，确需使用的请报卫健、医保部门审批特殊病例。`)]
  }
  if (st === 'warning') return [card('warning', `${what}开具后目录外占比将达${pct}%，超过预警线${percent(l.warnBp)}%（上限${percent(l.limitBp)}%），${headroomText(headroomFen(after, l))}`)]
  return [card('info', `${what}开具后目录外占比${pct}%，${headroomText(headroomFen(after, l))}`)]
}

/** The message of a stay's spending alert, for the staff page. */
export function spendingAlertMessage (kind: 'spending_breach' | 'spending_warning', row: Pick<StayListRow, 'mdtrt_id' | 'adm_dept_name' | 'name_masked'>, a: Amounts, l: Limits): string {
  const pct = sharePct(a, l)
  return kind === 'spending_breach'
    ? `${who(row)}：${overLimitText(pct, l.limitBp)}，${borneText(hospitalBorneFen(a, l), false)}，请及时干预`
    : `${who(row)}：${shareText(pct)}，已达预警线${percent(l.warnBp)}%，${headroomText(headroomFen(a, l))}`
}
