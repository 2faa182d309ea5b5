// One voice: the sentences staff and the HIS read — cards, alert messages, gate reasons — are
// built here, from numbers (fen, basis points) formatted only at this edge. The same visit is
// 住院号 everywhere, and the hospital-borne amount is said one way: exact at discharge, an
// estimate before.
import type { StayListRow } from '../store/stays.ts'
import { datePart } from '../../base/local-time.ts'
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

/** 恶性肿瘤（C34.900）；慢性肾功能不全的肾透析（N18.500、39.95） */
export function severeDiseaseText (matches: Array<{ label: string, codes: string[] }>): string {
  return matches.map((m) => `${m.label}（${m.codes.join('、')}）`).join('；')
}

/** 目录外费用占比12.3% */
export function shareText (pct: string): string {
  return `目录外费用占比${pct}%`
}

/** 10%上限, 协议约定的10%上限, 本院设定的10%上限: where the number comes from, said with it. */
export function limitName (l: Limits): string {
  const where = l.source === 'agreement' ? '协议约定的' : l.source === 'local' ? '本院设定的' : ''
  return `${where}${percent(l.limitBp)}%上限`
}

/** 目录外费用占比12.3%，超过10%上限 ('>=' rules: 达到) */
export function overLimitText (pct: string, l: Limits): string {
  return `${shareText(pct)}，${l.breachWhen === '>' ? '超过' : '达到'}${limitName(l)}`
}

/** 目录外费用占比8.5%，已达预警线8%（上限10%） */
export function nearLimitText (pct: string, l: Limits): string {
  return `${shareText(pct)}，已达预警线${percent(l.warnBp)}%（${limitName(l)}）`
}

/**
 * What the hospital bears of the out-of-catalog spending beyond the limit (000 五(二)2 超出部分由医疗
 * 机构自行承担): exact once the stay is discharged, an estimate while it goes on. Said only where the
 * region's text makes the hospital bear it; elsewhere there is nothing to say.
 */
export function borneText (fen: number | null, final: boolean): string | null {
  if (fen === null) return null
  return final ? `超出部分${yuanText(fen)}元由医院承担` : `超出部分约${yuanText(fen)}元将由医院承担`
}

/** The sentences of a breach, joined with the Chinese comma: the null ones left out. */
export function clauses (...parts: Array<string | null>): string {
  return parts.filter((p): p is string => p !== null && p !== '').join('，')
}

/** What staff can do about a breach: change the orders, and where the text allows, ask for approval. */
export function breachAdvice (l: Limits): string {
  return l.specialCaseApproval ? '请调整医嘱或报卫健、医保部门审批特殊病例' : '请调整医嘱，减少目录外项目'
}

/** 还可使用目录外费用123.45元 */
export function headroomText (fen: number): string {
  return `还可使用目录外费用${yuanText(fen)}元`
}

/** 单病种付费病例，不受目录内费用占比90%的限制 */
export function notLimitedText (exemption: string | null, l: Limits | null): string {
  if (l === null) return `${exemptionLabel(exemption)}，不受目录外费用占比限制`
  return l.source === 'policy'
    ? `${exemptionLabel(exemption)}，不受目录内费用占比${percent(l.inCatalogMinBp)}%的限制`
    : `${exemptionLabel(exemption)}，不受目录外费用${limitName(l)}的限制`
}

// ---------------------------------------------------------------------------------------------
// The admission decision's sentences

export interface DecisionFacts {
  list: { demo: boolean, stale: boolean, age_hours: number | null, version: string | null }
  staleHours: number
  /** the person is on the list at all */
  listed: boolean
  all: Array<{ label: string, begntime: string, endtime: string | null }>
  valid: Array<{ label: string }>
  at: string
  /** why nobody is granted 先诊疗后付费 here (a local setting missing, outside the county), or null */
  off: string | null
  excluded: { code: string, label: string } | null
  grant: boolean
  primary: { label: string } | null
  oneStop: boolean
  /** whether the order of several identities is the region's text's (001 四) or the product's */
  orderFromPolicy: boolean
  severe: Array<{ label: string, codes: string[] }>
}

/** The cards of an admission or eligibility answer: the list's state, the decision, serious diseases. */
export function decisionCards (f: DecisionFacts): Card[] {
  const cards: Card[] = []
  if (f.list.demo) cards.push(card('critical', '当前为内置演示名单（合成数据），结果不得用于真实患者；请导入本县名单或配置名单同步'))
  if (f.list.stale) cards.push(card('warning', `困难群众名单已${Math.floor(f.list.age_hours ?? 0)}小时未更新（超过${f.staleHours}小时），结果可能不是最新，请人工核实身份`))
  const oneStopNote = f.oneStop ? '，出院时一站式结算' : ''
  if (!f.listed) {
    cards.push(card('info', `未在困难群众名单中（名单版本${f.list.version ?? '无'}），不享受先诊疗后付费；如患者持有认定材料，请联系医保窗口核实`))
  } else if (f.valid.length === 0) {
    for (const i of f.all) {
      if (i.begntime > f.at) {
        cards.push(card('warning', `${i.label}身份自${datePart(i.begntime)}起生效，入院时（${datePart(f.at)}）尚未生效，本次住院不享受先诊疗后付费；如身份已获批，请联系医保窗口核实`))
      } else if (i.endtime !== null && i.endtime < f.at) {
        cards.push(card('warning', `${i.label}身份已于${datePart(i.endtime)}终止，入院时（${datePart(f.at)}）已不在有效期内，本次住院不享受先诊疗后付费`))
      }
    }
  } else if (f.off !== null) {
    cards.push(card('warning', `${f.valid.map((i) => i.label).join('、')}：${f.off}；是否免收押金请按本院规定办理${oneStopNote}`))
  } else if (f.excluded !== null) {
    cards.push(card('warning', `${f.primary!.label}，但医疗类别${f.excluded.code}（${f.excluded.label}）按本地区规定不适用先诊疗后付费${oneStopNote}`))
  } else if (f.grant) {
    const top = f.primary!
    const others = f.valid.filter((i) => i !== top).map((i) => i.label)
    const order = f.orderFromPolicy ? '按就高不就低' : '按系统设定的身份顺序'
    const multi = others.length > 0 ? `；另有身份：${others.join('、')}，${order}以${top.label}享受待遇` : ''
    cards.push(card('info', `${top.label}：可享受先诊疗后付费，入院无需缴纳押金${oneStopNote}${multi}`))
  } else {
    cards.push(card('info', `${f.valid.map((i) => i.label).join('、')}不在本地区先诊疗后付费范围内，按普通患者办理入院${oneStopNote}`))
  }
  if (f.severe.length > 0) {
    cards.push(card(f.grant ? 'warning' : 'info', `入院诊断属重病范围：${severeDiseaseText(f.severe)}；请优先使用医保目录内药品和项目，关注个人负担`))
  }
  return cards
}

// ---------------------------------------------------------------------------------------------
// The in-catalog rule's sentences (000 五(二)2 and the regions' own rules, see spending.ts)

/** Cards for the HIS after a charge batch or a cancellation: the state the stay is in now. */
export function stayCards (a: Amounts, st: SpendingStatus, flags: StayFlags, l: Limits | null): Card[] {
  if (st === 'not_monitored' || st === 'no_limit' || a.medfee_fen <= 0) return []
  if (st === 'exempt' || l === null) return [card('info', notLimitedText(flags.exemption, l))]
  const pct = sharePct(a, l)
  // Below the minimum total one item swings the share: say it, but do not alarm (profile
  // spending.min_alert_total_fen).
  if (a.medfee_fen < l.minAlertFen && st !== 'ok') {
    return [card('info', `${shareText(pct)}（总费用${yuanText(a.medfee_fen)}元，较小，占比仅供参考）；出院前目录外费用不得${l.breachWhen === '>' ? '超过' : '达到'}总费用的${percent(l.limitBp)}%`)]
  }
  if (st === 'breach') {
    return [card('critical', clauses(`目录外费用占比已达${pct}%，${l.breachWhen === '>' ? '超过' : '达到'}${limitName(l)}`, borneText(hospitalBorneFen(a, l), false)) + `；${breachAdvice(l)}`)]
  }
  if (st === 'warning') return [card('warning', `${nearLimitText(pct, l)}，${headroomText(headroomFen(a, l))}`)]
  return []
}

/** Cards for an order precheck: what the stay would become if the proposed lines were charged. */
export function precheckCards (after: Amounts, proposedOutFen: number, proposedLines: number, st: SpendingStatus, flags: StayFlags, l: Limits | null, off: string | null): Card[] {
  if (st === 'not_monitored') return [card('info', '患者本次住院不在困难群众费用监测范围内，不受目录内费用占比限制')]
  if (st === 'exempt') return [card('info', `${exemptionLabel(flags.exemption)}，不受${l === null || l.source === 'policy' ? '目录内' : '目录外'}费用占比限制`)]
  const pct = sharePct(after, l)
  const what = proposedOutFen <= 0
    ? '所开项目均为目录内费用，'
    : proposedLines === 1 ? '该项目为目录外费用，' : `所开项目含目录外费用${yuanText(proposedOutFen)}元，`
  if (l === null) return [card('info', `${what}开具后目录外占比${pct}%；${off ?? '本地区未规定目录外费用占比上限'}`)]
  if (st === 'breach') {
    const borne = borneText(hospitalBorneFen(after, l), false)
    const advice = l.specialCaseApproval ? '请考虑目录内替代项目，确需使用的请报卫健、医保部门审批特殊病例。' : '请考虑目录内替代项目。'
    return [card('critical', `${what}开具后目录外占比将达${pct}%，${l.breachWhen === '>' ? '超过' : '达到'}${limitName(l)}`, borne === null ? advice : `${borne}；${advice}`)]
  }
  if (st === 'warning') return [card('warning', `${what}开具后目录外占比将达${pct}%，超过预警线${percent(l.warnBp)}%（${limitName(l)}），${headroomText(headroomFen(after, l))}`)]
  return [card('info', `${what}开具后目录外占比${pct}%，${headroomText(headroomFen(after, l))}`)]
}

/** The message of a stay's spending alert, for the staff page. */
export function spendingAlertMessage (kind: 'spending_breach' | 'spending_warning', row: Pick<StayListRow, 'mdtrt_id' | 'adm_dept_name' | 'name_masked'>, a: Amounts, l: Limits): string {
  const pct = sharePct(a, l)
  return kind === 'spending_breach'
    ? `${who(row)}：${clauses(overLimitText(pct, l), borneText(hospitalBorneFen(a, l), false))}，请及时干预`
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

// ---------------------------------------------------------------------------------------------
// The patient's own burden (settlements, the year, 再救助, the admission estimate)

const MEASURE_LABEL: Record<string, string> = {
  reimbursement_ratio: '住院合规费用报销比例',
  protection_ratio: '医疗费用综合保障率',
  psn_part_ratio: '医疗费用个人负担率'
}

const COMPARE_LABEL: Record<string, string> = { '>=': '不低于', '>': '高于', '<=': '不高于', '<': '低于' }

/** A share as staff read it: 0.8523 → "85.23". */
export function shareOf (ratio: number): string {
  return percent(BigInt(Math.round(ratio * 10_000)))
}

/** 住院合规费用报销比例85.2%，未达到不低于90%的目标（000_c13c6dfe42a59df5.txt 一） */
export function targetMissedText (t: { measure: string, target: number, comparison: string, value: number | null, source: string }): string {
  return `${MEASURE_LABEL[t.measure] ?? t.measure}${t.value === null ? '无法计算' : shareOf(t.value) + '%'}，未达到${COMPARE_LABEL[t.comparison] ?? t.comparison}${shareOf(t.target)}%的目标${t.source === '' ? '' : `（${t.source}）`}`
}

/** 个人负担1,234.50元，占医疗费用12.3%；基金支付8,765.50元 */
export function burdenSummaryText (b: { psn_part_amt: number, psn_part_ratio: number | null, fund_pay_sumamt: number, setl_type: 'pre' | 'final' }): string {
  const share = b.psn_part_ratio === null ? '' : `，占医疗费用${shareOf(b.psn_part_ratio)}%`
  return `${b.setl_type === 'pre' ? '预结算：' : ''}个人负担${yuanText(Math.round(b.psn_part_amt * 100))}元${share}；基金支付${yuanText(Math.round(b.fund_pay_sumamt * 100))}元`
}

/** 2026年累计个人负担5,200.00元（达到5,000元（含）以上，且自费占比12.3%超过10%） */
export function annualText (year: number, ytdFen: number, t: { amount: number, comparison: string, out_of_catalog_share: { share: number, comparison: string } | null }, outRatio: number | null): string {
  const amount = `${yuanText(Math.round(t.amount * 100))}元`
  const first = t.comparison === '>=' ? `达到${amount}（含）以上` : `超过${amount}`
  const second = t.out_of_catalog_share === null
    ? ''
    : `，且自费占比${outRatio === null ? '未知' : shareOf(outRatio) + '%'}${t.out_of_catalog_share.comparison === '>=' ? '达到' : '超过'}${shareOf(t.out_of_catalog_share.share)}%`
  return `${year}年累计个人负担${yuanText(ytdFen)}元（${first}${second}）`
}

/** 预计本次住院可增加再救助1,400.00元（本年累计1,400.00元） */
export function reassistText (stayFen: number, yearFen: number, source: string): string {
  return `预计本次住院可增加再救助${yuanText(stayFen)}元（本年累计${yuanText(yearFen)}元，${source}；未计商业补充保险，以医保部门核定为准）`
}

/** How an estimate was made, in one phrase: 按本院 DRG 病组支付标准（病组 ES31，参照 12 例结算）估算 */
export function estimateBasisText (e: { basis: 'tariff' | 'history' | null, sample_size: number, basis_code: string | null }): string {
  if (e.basis === 'tariff') return `按本院DRG病组支付标准（病组${e.basis_code ?? ''}，个人负担比例参照${e.sample_size}例结算）估算`
  if (e.basis === 'history') return `按本院近一年同类诊断（${e.basis_code ?? ''}）${e.sample_size}例住院的个人负担中位数估算`
  return '入院时暂无法预估'
}

/** The admission card of an estimate; with `reached`, the region's threshold it reaches. */
export function estimateCard (e: { psn_part_amt: number | null, medfee_sumamt: number | null, basis: 'tariff' | 'history' | null, sample_size: number, basis_code: string | null }, reached: { threshold: { amount_fen: number | null, comparison: string }, source?: string } | null): Card {
  const amount = `预估本次住院个人负担约${yuanText(Math.round((e.psn_part_amt ?? 0) * 100))}元`
  const detail = `${estimateBasisText(e)}；实际金额以结算为准`
  if (reached === null) return card('info', amount, detail)
  const line = `${yuanText(reached.threshold.amount_fen ?? 0)}元${reached.threshold.comparison === '>=' ? '以上' : ''}`
  return card('warning', `${amount}，达到${line}：请向患者及家属告知预估费用，并加强费用管控${reached.source === undefined ? '' : `（${reached.source}）`}`, detail)
}

/** The admission_estimate alert's message for staff. */
export function estimateAlertText (row: Pick<StayListRow, 'mdtrt_id' | 'adm_dept_name' | 'name_masked'>, e: { psn_part_amt: number | null, basis: 'tariff' | 'history' | null, sample_size: number, basis_code: string | null }, rule: { threshold: { amount_fen: number | null, comparison: string }, source?: string }): string {
  return `${who(row)}：预估本次住院个人负担约${yuanText(Math.round((e.psn_part_amt ?? 0) * 100))}元（${estimateBasisText(e)}），达到${yuanText(rule.threshold.amount_fen ?? 0)}元${rule.threshold.comparison === '>=' ? '以上' : ''}；请告知患者及家属预估费用，纳入重点监测${rule.source === undefined ? '' : `（${rule.source}）`}`
}
