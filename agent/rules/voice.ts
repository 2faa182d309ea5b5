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
  /** CDS Hooks suggestions (catalog alternatives), with the selection behaviour the spec requires beside them */
  suggestions?: CardSuggestion[]
  selectionBehavior?: 'at-most-one' | 'any'
}

/** A CDS Hooks suggestion: a label, an id for feedback, and what accepting it would change. */
export interface CardSuggestion {
  label: string
  uuid: string
  isRecommended?: boolean
  actions: Array<{ type: 'update', description: string }>
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

// ---------------------------------------------------------------------------------------------
// The catalog's sentences: lines the catalog could not place, and what to use instead (002 三(二):
// steer patients to 集采中选, 国家谈判 and 目录内 drugs).

const CATALOG_LEVEL: Record<string, string> = { '01': '甲类', '02': '乙类', '03': '丙类' }
const ITEM_TYPE: Record<string, string> = { drug: '药品', herb: '中药饮片', service: '医疗服务项目', material: '医用耗材' }

export function levelLabel (lv: string | null): string {
  return lv === null ? '未定等级' : CATALOG_LEVEL[lv] ?? lv
}

export function itemTypeLabel (type: string | null): string {
  return type === null ? '项目' : ITEM_TYPE[type] ?? '项目'
}

/** An item as staff name it: 注射用头孢曲松钠（X…） */
export function itemName (name: string | null, code: string | null): string {
  const n = name ?? code ?? '未命名项目'
  return code !== null && name !== null ? `${n}（${code}）` : n
}

/** The marks of an in-catalog product, in the order 002 三(二) steers to: 集采中选，国家谈判，基本药物，甲类，限价1.20元 */
export function productTags (p: { vbp: boolean, nego: boolean, bas: boolean, chrgitm_lv: string | null, price_cap_fen: number | null }): string {
  const tags: string[] = []
  if (p.vbp) tags.push('集采中选')
  if (p.nego) tags.push('国家谈判')
  if (p.bas) tags.push('基本药物')
  tags.push(levelLabel(p.chrgitm_lv))
  if (p.price_cap_fen !== null) tags.push(`限价${yuanText(p.price_cap_fen)}元`)
  return tags.join('，')
}

/** 未对照项目: items the catalog could not place, counted out of catalog. */
export function unmappedCard (items: Array<{ name: string | null, code: string | null }>, total: number): Card {
  const shown = items.slice(0, 3).map((i) => itemName(i.name, i.code)).join('、')
  const more = total > 3 ? `等${total}项` : ''
  return card('warning', `${total}项费用未能在医保目录中找到（未对照项目），已按目录外费用计算：${shown}${more}`,
    '这些项目没有收费项目等级，也不能经医保目录编码或院内编码对照在医保目录中找到。请信息科核对医保对照关系或更新医保目录；核对后由HIS重新上传时写明收费项目等级。')
}

export interface SuggestionView {
  med_list_codg: string
  name: string | null
  chrgitm_lv: string | null
  price_cap_fen: number | null
  vbp: boolean
  nego: boolean
  bas: boolean
}

/** 可改用目录内同通用名、同剂型药品 */
export function alternativesText (original: string, first: SuggestionView, count: number): string {
  return `${original}为目录外药品，可改用目录内同通用名、同剂型药品：${first.name ?? first.med_list_codg}（${productTags(first)}）${count > 1 ? `等${count}种` : ''}`
}

export function suggestionLabel (s: SuggestionView): string {
  return `改用${s.name ?? s.med_list_codg}（${productTags(s)}）`
}

export function suggestionAction (original: string, s: SuggestionView): string {
  return `将${original}改为${s.name ?? s.med_list_codg}（医保目录编码${s.med_list_codg}，${levelLabel(s.chrgitm_lv)}）`
}

export function noAlternativeText (original: string): string {
  return `${original}为目录外药品，医保目录内没有同通用名、同剂型的药品，不提供替代建议`
}

export function noGenericText (original: string): string {
  return `${original}为目录外药品，但医保目录未写明其通用名或剂型，不提供替代建议`
}

/** Services and materials: the catalog has no generic name to match by, and nothing is guessed. */
export function notADrugText (original: string, type: string | null): string {
  return `${original}为${itemTypeLabel(type)}，医保目录不按通用名归类，不自动提供替代项目；请对照医保目录选择目录内项目`
}

export function notInCatalogText (original: string): string {
  return `${original}未在医保目录中找到，无法提供替代建议`
}

/** 收费项目等级与医保目录不一致 (staff page) */
export function driftText (hisLv: string, catalogLv: string): string {
  return `HIS上传为${levelLabel(hisLv)}，医保目录为${levelLabel(catalogLv)}；已按HIS等级计算`
}
