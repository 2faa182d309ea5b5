// The discharge gate (before 2402) and the discharge itself. Block when a monitored, non-exempt
// stay is over the limit, whatever its size: at discharge the share is final and the hospital
// bears the excess (000 五(二)2). Warn at the warning level, and when a deposit is still to be
// returned to a patient who qualified during the stay.
import type { StayRow } from '../store/stays.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'
import { card, shareText, overLimitText, nearLimitText, borneText, notLimitedText, exemptionLabel, percent, type Card } from './voice.ts'
import { FangpinStayClosed, FangpinValidation, withDetails } from '../errors.ts'
import { amountsOf, flagsOf, refreshAlerts, openStay, trimId } from './stay.ts'
import { limits, status, totals, sharePct, hospitalBorneFen, type SpendingStatus, type Totals } from './spending.ts'
import { yuan } from './money.ts'
import { hisTime } from './subject.ts'
import { correctionReason } from './admission-correction.ts'

export type GateDecision = 'ok' | 'warn' | 'block'

export interface Reason { code: string, message: string }

export interface DischargeCheck {
  mdtrt_id: string
  decision: GateDecision
  status: SpendingStatus
  totals: Totals
  hospital_borne_amt: number
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
  let borne = 0
  const pct = sharePct(a, l)
  const alerts = ctx.store.alerts.forStay(row.mdtrt_id)
  const corrected = correctionReason(alerts)
  if (st === 'not_monitored') {
    reasons.push({ code: 'not_monitored', message: '患者本次住院不在困难群众名单内，不受目录内费用占比限制' })
  } else if (st === 'exempt') {
    const label = exemptionLabel(flags.exemption)
    reasons.push({ code: flags.exemption ?? 'exempt', message: notLimitedText(flags.exemption, l.inCatalogMinBp) })
    // Not "可以出院结算" while a correction that made the stay exempt waits to be looked at.
    cards.push(card('info', `${label}，${shareText(pct)}，不受限制${corrected === null ? '，可以出院结算' : ''}`))
  } else if (st === 'breach') {
    decision = 'block'
    borne = hospitalBorneFen(a, l)
    const message = `${overLimitText(pct, l.limitBp)}，${borneText(borne, true)}`
    reasons.push({ code: 'over_limit', message })
    cards.push(card('critical', `${message}；请核查目录外项目，或报卫健、医保部门审批特殊病例后再办理出院`))
  } else if (st === 'warning') {
    decision = 'warn'
    const message = nearLimitText(pct, l.warnBp, l.limitBp)
    reasons.push({ code: 'near_limit', message })
    cards.push(card('warning', `${message}，请核对费用后办理出院`))
  } else {
    reasons.push({ code: 'within_limit', message: `${shareText(pct)}，在${percent(l.limitBp)}%以内` })
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
  return { mdtrt_id: row.mdtrt_id, decision, status: st, totals: totals(a, l), hospital_borne_amt: yuan(borne), reasons, cards }
}

/** The gate for a stay: a discharged stay answers with its final figures, as they were at discharge. */
export function gateOf (ctx: RulesContext, row: StayRow): DischargeCheck {
  if (row.status === 'discharged' && row.final !== null) return JSON.parse(row.final) as DischargeCheck
  return gate(ctx, row)
}

export function dischargeCheck (ctx: RulesContext, mdtrtId: string): DischargeCheck {
  return gateOf(ctx, openStay(ctx.store, trimId(mdtrtId)))
}

export interface DischargeRequest {
  endtime?: string
  dscg_way?: string
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
        return { ...(JSON.parse(row.final) as DischargeCheck), state: 'discharged' as const, endtime: row.endtime!, dscg_way: row.dscg_way, replayed: true }
      }
      throw new FangpinStayClosed(`admission ${row.mdtrt_id} was already discharged at ${row.endtime ?? ''}`)
    }
    if (endtime < row.begntime) {
      throw withDetails(new FangpinValidation(`endtime ${endtime} is before the admission time ${row.begntime}`), [{ field: 'endtime', reason: 'before_admission', message: 'must not be before begntime' }])
    }
    const final = gate(ctx, row)
    store.stays.discharge(row.mdtrt_id, { endtime, dscg_way: dscgWay, final })
    store.audit.write({ client: actorName(actor), action: 'admission.discharge', subject_key: row.person_key, mdtrt_id: row.mdtrt_id, decision: final.decision, detail: { hospital_borne_amt: final.hospital_borne_amt } })
    refreshAlerts(store, profile, store.stays.get(row.mdtrt_id)!)
    return { ...final, state: 'discharged' as const, endtime, dscg_way: dscgWay, replayed: false }
  })
}
