// The active rules of a profile in Chinese, each with where it comes from: what `fangpin profile
// show`, GET /v1/profile and the staff page's 本地政策 panel show. Built from the loaded profile (the
// hospital's local settings applied), so what people read is what the agent does — a rule that is
// off for a missing local setting reads as off, with the setting to fill in.
import type { CategoryDef, Comparison, LoadedProfile, MissingSetting, OneStopRule, Threshold } from './profile.ts'

export type RuleTopic = 'identity' | 'treat_first_pay_later' | 'one_stop_settlement' | 'spending' | 'annual_burden' | 'stay_estimate' | 'targets' | 'benefits' | 'severe_diseases' | 'notes'

export const TOPIC_LABEL: Record<RuleTopic, string> = {
  identity: '身份判定',
  treat_first_pay_later: '先诊疗后付费',
  one_stop_settlement: '一站式结算',
  spending: '住院目录外费用',
  annual_burden: '年度个人负担监测',
  stay_estimate: '入院费用预估',
  targets: '待遇目标',
  benefits: '待遇倾斜与救助',
  severe_diseases: '重病范围',
  notes: '其他规定（仅提示）'
}

export interface RuleLine {
  topic: RuleTopic
  /** one sentence for staff and IT */
  text: string
  /** file and clause, or the words saying it is a local setting or a product choice */
  source: string
  /** on: the agent applies it; off: it needs a local setting or the region has none; info: shown, not computed */
  state: 'on' | 'off' | 'info'
}

export interface CategoryLine {
  id: string
  label: string
  priority: number
  treat_first_pay_later: boolean
  one_stop_settlement: boolean
  monitored: boolean
  /** where the 先诊疗后付费 flag comes from: the text, or the hospital's local settings */
  treat_first_pay_later_from: 'policy' | 'local'
  /** the text's one-stop rule for the category, before local settings */
  one_stop_rule: OneStopRule
}

export interface ProfileDescription {
  id: string
  name: string
  region: string
  sources: string[]
  local_file: string | null
  hospital_name: string | null
  categories: CategoryLine[]
  /** the out-of-catalog limit in force, or null (the region has none, or its local setting is missing) */
  spending_limit: { share: number, breach_when: Comparison, hospital_bears_excess: boolean, source: 'policy' | 'agreement' | 'local', special_case_approval: boolean } | null
  rules: RuleLine[]
  missing_local: MissingSetting[]
}

function yuan (fen: number): string {
  return (fen / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })
}

function pct (share: number): string {
  return `${Math.round(share * 10_000) / 100}%`
}

/** 达到5,000元以上 for ≥ (以上/达到), 超过6,000元 for >: the comparison as the text writes it. */
function atLeast (c: Comparison, amount: string): string {
  return c === '>=' ? `达到${amount}（含）以上` : `超过${amount}`
}

function labels (profile: LoadedProfile, ids: string[]): string {
  return ids.map((id) => profile.categoryById.get(id)?.label ?? id).join('、')
}

function names (cats: CategoryDef[]): string {
  return cats.length === 0 ? '无' : cats.map((c) => c.label).join('、')
}

function thresholdText (profile: LoadedProfile, t: Threshold): string | null {
  const fen = t.amount_fen ?? (t.local_key === 'annual_burden_fen' ? profile.local.annual_burden_fen ?? null : null)
  return fen === null ? null : atLeast(t.comparison, `${yuan(fen)}元`)
}

const MEASURE: Record<string, string> = {
  reimbursement_ratio: '住院合规费用报销比例',
  protection_ratio: '医疗费用综合保障率',
  psn_part_ratio: '医疗费用个人负担率'
}

const COMPARE: Record<string, string> = { '>=': '不低于', '>': '高于', '<=': '不高于', '<': '低于' }

function identityRules (p: LoadedProfile): RuleLine[] {
  const order = [...p.categories].sort((a, b) => b.priority - a.priority).map((c) => c.label).join(' > ')
  return [
    { topic: 'identity', text: '按入院时间判定身份是否在有效期内（住院期间生效的身份由每小时的复核发现）', source: p.clauses.identity_window, state: 'on' },
    { topic: 'identity', text: `同时有多个身份时，以下列顺序中最高者为主要身份：${order}`, source: p.clauses.priority, state: 'on' }
  ]
}

function treatFirstRules (p: LoadedProfile): RuleLine[] {
  if (p.treatFirstOff !== null) return [{ topic: 'treat_first_pay_later', text: p.treatFirstOff, source: p.clauses.treat_first_pay_later, state: 'off' }]
  const yes = p.categories.filter((c) => c.treat_first_pay_later)
  const no = p.categories.filter((c) => !c.treat_first_pay_later)
  const lines: RuleLine[] = [{ topic: 'treat_first_pay_later', text: `入院免交押金：${names(yes)}；不享受：${names(no)}`, source: p.clauses.treat_first_pay_later, state: 'on' }]
  if (p.treat_first_pay_later.scope === 'in_county') {
    lines.push({ topic: 'treat_first_pay_later', text: '仅限县域内定点医疗机构；本院已设置为县域内', source: p.clauses.treat_first_pay_later, state: 'on' })
  }
  for (const m of p.treat_first_pay_later.excluded_med_types) {
    lines.push({ topic: 'treat_first_pay_later', text: `医疗类别${m.code}（${m.label}）不适用`, source: p.clauses.treat_first_pay_later, state: 'on' })
  }
  return lines
}

function oneStopRules (p: LoadedProfile): RuleLine[] {
  const yes = p.categories.filter((c) => c.one_stop_settlement)
  const no = p.categories.filter((c) => !c.one_stop_settlement)
  const lines: RuleLine[] = [{ topic: 'one_stop_settlement', text: `基本医保、大病保险、医疗救助一站式结算：${names(yes)}；未纳入：${names(no)}`, source: p.clauses.one_stop_settlement, state: 'on' }]
  const local = p.categories.filter((c) => c.policy.one_stop_settlement === 'local')
  if (local.length > 0 && p.local.one_stop_settlement === undefined) {
    lines.push({ topic: 'one_stop_settlement', text: `${names(local)}是否纳入文件未规定：本地设置 local.one_stop_settlement 未填写，按未纳入答复`, source: p.clauses.one_stop_settlement, state: 'off' })
  }
  const optIn = p.categories.filter((c) => c.policy.one_stop_settlement === 'city_opt_in')
  if (optIn.length > 0) {
    const set = p.local.one_stop_city_opt_in
    lines.push({
      topic: 'one_stop_settlement',
      text: `${names(optIn)}由各市决定是否纳入；${set === undefined ? '本地设置未填写，按未纳入答复' : set ? '本市已纳入' : '本市未纳入'}`,
      source: p.clauses.one_stop_settlement,
      state: set === undefined ? 'off' : 'on'
    })
  }
  return lines
}

function spendingRules (p: LoadedProfile): RuleLine[] {
  const r = p.spendingRule
  const source = p.clauses.spending
  const watched = p.categories.filter((c) => c.monitored)
  if (r === null) {
    const lines: RuleLine[] = [{ topic: 'spending', text: p.spendingOff ?? '本地区未规定住院目录外费用占比上限', source, state: 'off' }]
    if (p.spending !== null || watched.length > 0) {
      lines.push({ topic: 'spending', text: `住院费用照常记录（目录内、目录外金额和占比），供查看和年度负担计算：${names(watched)}`, source: '产品功能', state: 'on' })
    }
    return lines
  }
  const from = r.source === 'agreement' ? '（医保协议约定，本地设置）' : r.source === 'local' ? '（本院自定，本地设置）' : ''
  const lines: RuleLine[] = [
    { topic: 'spending', text: `住院目录外费用占总费用${atLeast(r.breachWhen, pct(r.limitShare))}即超标${from}；监测对象：${names(watched)}`, source, state: 'on' },
    { topic: 'spending', text: `目录外占比达到${pct(r.limitShare - r.warningMargin)}起预警，总费用不足${yuan(r.minAlertFen)}元时只提示不报警`, source: '产品设定：提前预警留出调整医嘱的余地，小额费用占比波动大', state: 'on' },
    r.hospitalBears
      ? { topic: 'spending', text: '超出部分由医院承担；出院审核对超标住院拦截', source, state: 'on' }
      : { topic: 'spending', text: '文件未规定超出部分由医院承担：本系统不计算、不显示医院承担金额；出院审核对超标住院只提醒', source, state: 'on' }
  ]
  if (r.specialCaseApproval) lines.push({ topic: 'spending', text: '达不到比例的特殊病例，报卫生健康、医保部门审批后登记豁免', source, state: 'on' })
  if (r.singleDisease !== null) {
    const { medTypes, diseCodes } = r.singleDisease
    lines.push({
      topic: 'spending',
      text: `单病种付费病例不受比例限制：医疗类别${medTypes.length > 0 ? medTypes.join('、') : '（未设置）'}${diseCodes.length > 0 ? `，或病种编码${diseCodes.join('、')}` : ''}；其他病种编码不豁免`,
      source: `${source}；编码为本地设置 local.single_disease_med_types / single_disease_dise_codes`,
      state: 'on'
    })
  }
  return lines
}

function burdenRules (p: LoadedProfile): RuleLine[] {
  const lines: RuleLine[] = []
  for (const a of p.burden.annual) {
    const who = a.population === 'listed' ? labels(p, a.categories ?? []) : '其他参保居民'
    const amount = thresholdText(p, a.threshold)
    const second = a.out_of_catalog_share === undefined ? '' : `，且自费费用占比${atLeast(a.out_of_catalog_share.comparison, pct(a.out_of_catalog_share.share))}`
    lines.push(amount === null
      ? { topic: 'annual_burden', text: `${who}年度累计个人负担预警值文件未给金额：本地设置 local.annual_burden_fen 未填写，暂不预警`, source: a.source ?? '', state: 'off' }
      : { topic: 'annual_burden', text: `${who}年度累计个人负担${amount}${second}时预警`, source: a.source ?? '', state: 'on' })
  }
  if (lines.length === 0) lines.push({ topic: 'annual_burden', text: '本地区文件未给出年度个人负担的监测金额', source: p.sources.join('、'), state: 'off' })
  const e = p.burden.stay_estimate
  if (e !== null) {
    const amount = thresholdText(p, e.threshold)
    lines.push({ topic: 'stay_estimate', text: `${labels(p, e.categories)}入院时预估本次住院个人负担${amount ?? '（未设置）'}时提醒`, source: e.source ?? '', state: amount === null ? 'off' : 'on' })
  }
  return lines
}

function benefitRules (p: LoadedProfile): RuleLine[] {
  const lines: RuleLine[] = []
  for (const t of p.benefits.targets) {
    const what = t.measure === 'reimbursement_ratio' && t.scope === 'outpatient_chronic' ? '门诊特殊慢性病合规费用报销比例' : MEASURE[t.measure]
    lines.push({ topic: 'targets', text: `${labels(p, t.categories)}：${what}${COMPARE[t.comparison]}${pct(t.value)}`, source: t.source ?? '', state: 'on' })
  }
  const c = p.benefits.critical_illness_insurance
  if (c !== null) {
    const parts = [c.no_deductible ? '大病保险不设起付线' : null, `大病保险各段报销比例提高${c.ratio_bonus_points}个百分点`, c.no_cap ? '取消大病保险最高支付限额' : null,
      c.inpatient_ratio_bonus_points === undefined ? null : `住院报销比例提高${c.inpatient_ratio_bonus_points}个百分点`].filter((x): x is string => x !== null)
    lines.push({ topic: 'benefits', text: `${labels(p, c.categories)}：${parts.join('；')}（由医保平台结算，本系统只作提示）`, source: c.source ?? '', state: 'info' })
  }
  const r = p.benefits.reassistance
  if (r !== null) {
    lines.push({ topic: 'benefits', text: `${labels(p, r.categories)}：年度内政策范围内剩余个人负担超过${yuan(r.threshold_fen)}元的部分按${pct(r.rate)}再救助，年度累计不超过${yuan(r.annual_cap_fen)}元`, source: r.source ?? '', state: 'on' })
  }
  if (p.benefits.assistance_deductible?.follows_last_year_until_published === true) {
    lines.push({ topic: 'benefits', text: '医疗救助起付标准在统计部门公布上年度居民人均可支配收入前，按上一年度标准执行（由医保平台结算，本系统只作提示）', source: p.sources[0], state: 'info' })
  }
  return lines
}

function severeRules (p: LoadedProfile): RuleLine[] {
  if (p.severe_diseases.length === 0) return [{ topic: 'severe_diseases', text: '本地区文件未列重病范围：入院和出院答复不作重病提示', source: p.sources.join('、'), state: 'off' }]
  const groups = p.severe_diseases.map((g) => g.label).join('、')
  const source = [...new Set(p.severe_diseases.map((g) => g.source ?? '').filter((s) => s !== ''))][0] ?? p.sources[0]
  return [{ topic: 'severe_diseases', text: `入院和出院诊断（及手术操作）按重病范围提示：${groups}`, source: source.replace(/：.*$/, ''), state: 'on' }]
}

function noteRules (p: LoadedProfile): RuleLine[] {
  return (p.benefits.notes ?? []).map((n) => {
    const m = /^(\d{3}\s*[一二三四五六七八九十]+(?:\([一二三四五六七八九十]+\))?\d*)[：:]\s*(.*)$/.exec(n)
    return { topic: 'notes' as const, text: m === null ? n : m[2], source: m === null ? p.sources[0] : m[1], state: 'info' as const }
  })
}

export function describeProfile (p: LoadedProfile): ProfileDescription {
  return {
    id: p.id,
    name: p.name,
    region: p.region,
    sources: p.sources,
    local_file: p.localFile,
    hospital_name: p.hospitalName,
    categories: [...p.categories].sort((a, b) => b.priority - a.priority).map((c) => ({
      id: c.id,
      label: c.label,
      priority: c.priority,
      treat_first_pay_later: c.treat_first_pay_later,
      one_stop_settlement: c.one_stop_settlement,
      monitored: c.monitored,
      treat_first_pay_later_from: c.policy.treat_first_pay_later === 'local' ? 'local' : 'policy',
      one_stop_rule: c.policy.one_stop_settlement
    })),
    spending_limit: p.spendingRule === null ? null : { share: p.spendingRule.limitShare, breach_when: p.spendingRule.breachWhen, hospital_bears_excess: p.spendingRule.hospitalBears, source: p.spendingRule.source, special_case_approval: p.spendingRule.specialCaseApproval },
    rules: [...identityRules(p), ...treatFirstRules(p), ...oneStopRules(p), ...spendingRules(p), ...burdenRules(p), ...benefitRules(p), ...severeRules(p), ...noteRules(p)],
    missing_local: p.missingLocal
  }
}

const STATE_MARK = { on: '●', off: '○', info: '·' } as const

/** The description as text for a terminal: topic by topic, each rule with its source. */
export function renderProfileText (d: ProfileDescription): string {
  const out: string[] = []
  out.push(`${d.name}（${d.id}，行政区划 ${d.region}）`)
  out.push(`政策文件：${d.sources.join('、')}`)
  if (d.local_file !== null) out.push(`本地设置：${d.local_file}${d.hospital_name === null ? '' : `（${d.hospital_name}）`}`)
  out.push('')
  out.push('人员类别（按优先顺序）          先诊疗后付费  一站式结算  费用监测')
  for (const c of d.categories) {
    const yn = (b: boolean): string => (b ? '是' : '否')
    out.push(`  ${c.label.padEnd(14, '　')}${yn(c.treat_first_pay_later).padEnd(7, '　')}${yn(c.one_stop_settlement).padEnd(6, '　')}${yn(c.monitored)}`)
  }
  let topic: RuleTopic | null = null
  for (const r of d.rules) {
    if (r.topic !== topic) {
      topic = r.topic
      out.push('')
      out.push(`【${TOPIC_LABEL[topic]}】`)
    }
    out.push(`  ${STATE_MARK[r.state]} ${r.text}`)
    if (r.source !== '') out.push(`      依据：${r.source}`)
  }
  out.push('')
  if (d.missing_local.length === 0) {
    out.push('本地设置：齐全')
  } else {
    out.push(`缺少的本地设置（${d.missing_local.length}项，相关规则暂停）：`)
    for (const m of d.missing_local) out.push(`  - local.${m.key}：${m.message}`)
  }
  out.push('')
  out.push('● 生效  ○ 未生效（缺本地设置或本地区未规定）  · 仅提示')
  return out.join('\n') + '\n'
}
