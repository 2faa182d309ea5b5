// An HIS may correct an admission (2403 入院信息变更), the medical type included, and a stay
// corrected to 单病种 is exempt from the 90 % rule (000 五(二)2 除外单病种付费病例). The correction is
// accepted, but it must not silence the discharge gate unseen: a correction that makes a monitored
// stay exempt (or no longer exempt) raises an alert naming the change and the status before it, and
// the gate warns until someone has acknowledged it.
import type { LoadedProfile } from '../../profile/profile.ts'
import type { Store } from '../store/store.ts'
import type { StayRow } from '../store/stays.ts'
import type { AlertRow } from '../store/alerts.ts'
import { amountsOf, flagsOf } from './stay.ts'
import { limits, status, sharePct, hospitalBorneFen, type SpendingStatus } from './spending.ts'
import { borneText, clauses, exemptionLabel, shareText, who } from './voice.ts'
import { yuan } from './money.ts'

const STATUS_LABEL: Record<SpendingStatus, string> = { ok: '正常', warning: '预警', breach: '超标', exempt: '豁免', not_monitored: '不在监测范围', no_limit: '无比例上限' }

const FIELD_LABEL = { med_type: '医疗类别', dise_codg: '按病种编码' } as const

type Field = keyof typeof FIELD_LABEL

/** Admission fields a correction is audited with, before and after. */
const AUDITED = ['begntime', 'med_type', 'dise_codg', 'adm_dept_codg', 'adm_dept_name', 'treat_first_pay_later'] as const

export interface StatusBefore {
  status: SpendingStatus
  out_of_catalog_pct: string
  hospital_borne_amt: number | null
}

export interface CorrectionDetail {
  changes: Array<{ field: Field, before: string | null, after: string | null }>
  before: StatusBefore
  after: { status: SpendingStatus }
  /** the sentence the discharge gate gives as its reason */
  gate_message: string
}

function statusOf (profile: LoadedProfile, row: StayRow): { st: SpendingStatus, text: string, borneFen: number | null, figures: StatusBefore } {
  const l = limits(profile)
  const a = amountsOf(row)
  const flags = flagsOf(row)
  const st = status(a, flags, l)
  const pct = sharePct(a, l)
  const borne = st === 'breach' ? hospitalBorneFen(a, l) : (l?.hospitalBears === true ? 0 : null)
  let text: string
  if (st === 'breach') text = `超标（${clauses(shareText(pct), borneText(borne, true))}）`
  else if (st === 'exempt') text = `豁免（${exemptionLabel(flags.exemption)}，${shareText(pct)}）`
  else text = `${STATUS_LABEL[st]}（${shareText(pct)}）`
  return { st, text, borneFen: borne, figures: { status: st, out_of_catalog_pct: pct, hospital_borne_amt: borne === null ? null : yuan(borne) } }
}

/** What a correction changed, field by field, for the audit row. */
export function auditedChanges (profile: LoadedProfile, before: StayRow, after: StayRow): Record<string, { before: unknown, after: unknown }> {
  const changes: Record<string, { before: unknown, after: unknown }> = {}
  for (const f of AUDITED) {
    if (before[f] !== after[f]) changes[f] = { before: before[f], after: after[f] }
  }
  const st = [statusOf(profile, before).st, statusOf(profile, after).st]
  if (st[0] !== st[1]) changes.status = { before: st[0], after: st[1] }
  return changes
}

/**
 * Called in the correction's transaction with the stay before and after it. Raises the
 * `admission_corrected` alert when the correction changed whether a monitored stay is exempt; a
 * previous correction's alert is superseded (resolved), so an acknowledged one never hides a new
 * change. Returns the alert, or null when the correction changed nothing about exemption.
 */
export function noteCorrection (store: Store, profile: LoadedProfile, before: StayRow, after: StayRow): AlertRow | null {
  if (after.monitored !== 1) return null
  const was = statusOf(profile, before)
  const now = statusOf(profile, after)
  if ((flagsOf(before).exemption !== null) === (flagsOf(after).exemption !== null)) return null
  const changes = (Object.keys(FIELD_LABEL) as Field[])
    .filter((f) => (before[f] ?? null) !== (after[f] ?? null))
    .map((f) => ({ field: f, before: before[f] ?? null, after: after[f] ?? null }))
  const what = changes.length > 0
    ? changes.map((c) => `${FIELD_LABEL[c.field]} ${c.before ?? '无'} → ${c.after ?? '无'}`).join('，')
    : `单病种认定 ${flagsOf(before).exemption !== null ? '是 → 否' : '否 → 是'}`
  const wasShort = was.st === 'breach'
    ? `超标：${clauses(shareText(was.figures.out_of_catalog_pct), borneText(was.borneFen, true))}`
    : `${STATUS_LABEL[was.st]}：${shareText(was.figures.out_of_catalog_pct)}`
  const detail: CorrectionDetail = {
    changes,
    before: was.figures,
    after: { status: now.st },
    gate_message: `入院信息已更正（${what}），更正前为${wasShort}；请核实更正属实后再办理出院`
  }
  store.alerts.resolve('admission_corrected', after.mdtrt_id)
  store.alerts.raise({
    kind: 'admission_corrected',
    level: 'warning',
    mdtrt_id: after.mdtrt_id,
    message: `${who(after)}：入院信息被更正（${what}），费用状态由${was.text}变为${now.text}；请核实更正是否属实`,
    detail
  })
  return store.alerts.forStay(after.mdtrt_id).find((x) => x.kind === 'admission_corrected' && x.resolved_at === null) ?? null
}

/** The open, unacknowledged correction alert of a stay, as the discharge gate's reason. */
export function correctionReason (alerts: AlertRow[]): string | null {
  const open = alerts.find((x) => x.kind === 'admission_corrected' && x.resolved_at === null && x.acknowledged_at === null)
  if (open === undefined) return null
  try {
    return (JSON.parse(open.detail ?? '{}') as Partial<CorrectionDetail>).gate_message ?? open.message
  } catch {
    return open.message
  }
}
