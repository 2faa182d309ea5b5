// The discharge gate (before 2402) and the discharge itself. Block when a monitored, non-exempt
// stay is over a limit whose excess the hospital bears, whatever its size: at discharge the share is
// final and the excess is the hospital's loss (000 五(二)2). Over a limit nobody bears (an agreement
// share, 002 三(五); the hospital's own, 003 五) the gate warns: the text gives no consequence at
// discharge, so the product does not stop one. Warn at the warning level, and when a deposit is
// still to be returned to a patient who qualified during the stay. Where no limit applies the gate
// says so.
import type { StayRow } from '../store/stays.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'
import { card, shareText, overLimitText, nearLimitText, borneText, notLimitedText, exemptionLabel, limitName, clauses, type Card } from './voice.ts'
import { FangpinStayClosed, FangpinValidation, withDetails } from '../errors.ts'
import { amountsOf, flagsOf, refreshAlerts, openStay, trimId } from './stay.ts'
import { limits, status, totals, sharePct, hospitalBorneFen, type SpendingStatus, type Totals } from './spending.ts'
import { yuan } from './money.ts'
import { hisTime } from './subject.ts'
import { correctionReason } from './admission-correction.ts'
import { matchSevereDiseases, type SevereDiseaseMatch, type DiagnosisInput, type ProcedureInput } from '../../profile/severe-disease.ts'
import { severeDiseaseText } from './voice.ts'

export type GateDecision = 'ok' | 'warn' | 'block'

export interface Reason { code: string, message: string }

export interface DischargeCheck {
  mdtrt_id: string
  /** 000 附件1 groups matched on the admission's diagnoses and operations and on the discharge's */
  severe_disease: SevereDiseaseMatch[]
  decision: GateDecision
  status: SpendingStatus
  totals: Totals
  /** null where the hospital bears nothing (no rule, or the region's text puts no excess on it) */
  hospital_borne_amt: number | null
  reasons: Reason[]
  cards: Card[]
}

export function gate (ctx: RulesContext, row: StayRow): DischargeCheck {
  const l = limits(ctx.profile)
  const a = amountsOf(row)
  const flags = flagsOf(row)
  const st = status(a, flags, l)
  const reasons: Reason[] = []
  const cards: Card[] = []
  let decision: GateDecision = 'ok'
  let borne: number | null = null
  const pct = sharePct(a, l)
  const alerts = ctx.store.alerts.forStay(row.mdtrt_id)
  const corrected = correctionReason(alerts)
  if (l !== null && l.hospitalBears) borne = 0
  if (st === 'not_monitored') {
    reasons.push({ code: 'not_monitored', message: '患者本次住院不在困难群众名单内，不受目录内费用占比限制' })
  } else if (st === 'exempt') {
    const label = exemptionLabel(flags.exemption)
    reasons.push({ code: flags.exemption ?? 'exempt', message: notLimitedText(flags.exemption, l) })
    // Not "可以出院结算" while a correction that made the stay exempt waits to be looked at.
    cards.push(card('info', `${label}，${shareText(pct)}，不受限制${corrected === null ? '，可以出院结算' : ''}`))
  } else if (st === 'no_limit' || l === null) {
    reasons.push({ code: 'no_limit', message: `${shareText(pct)}；${ctx.profile.spendingOff ?? '本地区未规定目录外费用占比上限'}` })
  } else if (st === 'breach') {
    borne = hospitalBorneFen(a, l)
    decision = l.hospitalBears ? 'block' : 'warn'
    const message = clauses(overLimitText(pct, l), borneText(borne, true))
    reasons.push({ code: 'over_limit', message })
    cards.push(card(l.hospitalBears ? 'critical' : 'warning', l.hospitalBears
      ? `${message}；${l.specialCaseApproval ? '请核查目录外项目，或报卫健、医保部门审批特殊病例后再办理出院' : '请核查目录外项目后再办理出院'}`
      : `${message}；请核对目录外项目后办理出院`))
  } else if (st === 'warning') {
    decision = 'warn'
    const message = nearLimitText(pct, l)
    reasons.push({ code: 'near_limit', message })
    cards.push(card('warning', `${message}，请核对费用后办理出院`))
  } else {
    reasons.push({ code: 'within_limit', message: `${shareText(pct)}，在${limitName(l).replace(/上限$/, '')}以内` })
  }
  // An admission corrected into (or out of) 单病种 changed what this gate says: until someone has
  // looked at the correction, discharge is not "ok" on its word alone.
  if (corrected !== null) {
    if (decision === 'ok') decision = 'warn'
    reasons.push({ code: 'admission_corrected', message: corrected })
    cards.push(card('warning', corrected))
  }
  // A patient who became entitled during the stay paid a deposit nobody has returned yet.
  const refund = alerts.find((x) => x.kind === 'identity_started' && x.resolved_at === null && x.acknowledged_at === null)
  if (refund !== undefined) {
    if (decision === 'ok') decision = 'warn'
    reasons.push({ code: 'deposit_refund', message: refund.message })
    cards.push(card('warning', refund.message))
  }
  return { mdtrt_id: row.mdtrt_id, severe_disease: JSON.parse(row.severe_disease) as SevereDiseaseMatch[], decision, status: st, totals: totals(a, l), hospital_borne_amt: borne === null ? null : yuan(borne), reasons, cards }
}

/** The gate for a stay: a discharged stay answers with its final figures, as they were at discharge. */
export function gateOf (ctx: RulesContext, row: StayRow): DischargeCheck {
  if (row.status === 'discharged' && row.final !== null) return finalOf(row)
  return gate(ctx, row)
}

/** The answer kept at discharge; one kept before serious diseases were part of it gets the stay's. */
function finalOf (row: StayRow): DischargeCheck {
  const final = JSON.parse(row.final!) as DischargeCheck
  return { ...final, severe_disease: final.severe_disease ?? JSON.parse(row.severe_disease) }
}

export function dischargeCheck (ctx: RulesContext, mdtrtId: string): DischargeCheck {
  return gateOf(ctx, openStay(ctx.store, trimId(mdtrtId)))
}

export interface DischargeRequest {
  endtime?: string
  dscg_way?: string
  /** 2402 出院诊断 and operations: serious diseases are matched on them too */
  diseinfo?: DiagnosisInput[]
  oprninfo?: ProcedureInput[]
}

export type DischargeResult = DischargeCheck & { state: 'discharged', endtime: string, dscg_way: string | null, replayed: boolean }

export async function discharge (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string, body: DischargeRequest): Promise<DischargeResult> {
  const { store, profile, settings } = ctx
  const endtime = hisTime(body.endtime, 'endtime', settings.tz)
  const dscgWay = body.dscg_way?.trim() === '' ? null : body.dscg_way?.trim() ?? null
  return await store.write((): DischargeResult => {
    const row = openStay(store, trimId(mdtrtIdRaw))
    if (row.status === 'discharged') {
      // The same discharge again (an HIS retry) gets the same answer; another one is a conflict.
      if ((body.endtime === undefined || row.endtime === endtime) && (body.dscg_way === undefined || row.dscg_way === dscgWay) && row.final !== null) {
        return { ...finalOf(row), state: 'discharged' as const, endtime: row.endtime!, dscg_way: row.dscg_way, replayed: true }
      }
      throw new FangpinStayClosed(`admission ${row.mdtrt_id} was already discharged at ${row.endtime ?? ''}`)
    }
    if (endtime < row.begntime) {
      throw withDetails(new FangpinValidation(`endtime ${endtime} is before the admission time ${row.begntime}`), [{ field: 'endtime', reason: 'before_admission', message: 'must not be before begntime' }])
    }
    // 000 附件1 is matched on every diagnosis the HIS sends: the discharge's with the admission's.
    const clinical = body.diseinfo !== undefined || body.oprninfo !== undefined ? { diseinfo: body.diseinfo ?? [], oprninfo: body.oprninfo ?? [] } : null
    const before = JSON.parse(row.severe_disease) as SevereDiseaseMatch[]
    let severe = before
    if (clinical !== null) {
      const adm = store.stays.clinical(row.mdtrt_id)!
      severe = matchSevereDiseases(profile,
        [...(JSON.parse(adm.diagnoses) as DiagnosisInput[]), ...clinical.diseinfo],
        [...(JSON.parse(adm.procedures) as ProcedureInput[]), ...clinical.oprninfo])
    }
    const gated = gate(ctx, { ...row, severe_disease: JSON.stringify(severe) })
    const added = severe.filter((m) => !before.some((b) => b.group === m.group))
    const final: DischargeCheck = added.length === 0 ? gated : { ...gated, cards: [...gated.cards, card('info', `出院诊断属重病范围：${severeDiseaseText(added)}`)] }
    store.stays.discharge(row.mdtrt_id, { endtime, dscg_way: dscgWay, final, clinical, severe_disease: severe })
    store.audit.write({ client: actorName(actor), action: 'admission.discharge', subject_key: row.person_key, mdtrt_id: row.mdtrt_id, decision: final.decision, detail: { hospital_borne_amt: final.hospital_borne_amt } })
    refreshAlerts(store, profile, store.stays.get(row.mdtrt_id)!)
    return { ...final, state: 'discharged' as const, endtime, dscg_way: dscgWay, replayed: false }
  })
}
