// Settlements in (2303 pre-settlement, 2304 settlement, 2305 cancel) and the checks the policies ask
// of them: the stay's reimbursement against the region's targets (000 一; 002 二), the person's year
// against its threshold (000 四(三)1; 001 三), 再救助 where the region grants it (004 三(三)).
// Idempotent on setl_id: the same settlement again gets the same answer; the same setl_id with other
// figures is a conflict. A pre-settlement is replaced by the next one (and by the final one). A final
// settlement may arrive before the HIS records the discharge (2402): HIS order varies; it is accepted
// and noted.
import type { Store } from '../store/store.ts'
import type { StayRow } from '../store/stays.ts'
import type { SettlementRow } from '../store/settlements.ts'
import type { LoadedProfile } from '../../profile/profile.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'
import { FangpinConflict, FangpinNotFound } from '../errors.ts'
import { openStay, trimId } from './stay.ts'
import { readSettlement, type SetlInfo, type SetlType } from './settlement-input.ts'
import { yearFigures, type Burden } from './burden.ts'
import { burdenOf, mainDiagCategory, stayCategories } from './stay-burden.ts'
import { alertView, type AlertView } from './alert.ts'
import { card, who, burdenSummaryText, targetMissedText, annualText, reassistText, type Card } from './voice.ts'

export interface SettlementRequest {
  setl_type: SetlType
  setlinfo: SetlInfo
}

export interface SettlementResult {
  mdtrt_id: string
  setl_id: string
  setl_type: SetlType
  /** the same settlement was received before: nothing changed */
  replayed: boolean
  /** what the agent noticed about this settlement (a final one before the discharge …) */
  notes: string[]
  burden: Burden | null
  alerts: AlertView[]
  cards: Card[]
}

const BURDEN_KINDS = ['reimbursement_low', 'annual_burden'] as const

/**
 * Brings the stay's reimbursement alert and the person's annual alert in line with the final
 * settlements as they are now. Called in the write that changed them.
 */
function refreshBurdenAlerts (ctx: RulesContext, row: StayRow, b: ReturnType<typeof burdenOf>): void {
  const { store, profile } = ctx
  const burden = b?.burden ?? null
  // The targets are about what was paid: a pre-settlement previews them in its cards, only a final
  // one raises the alert (000 四(三)3–4: check that every benefit was applied).
  const missed = burden?.setl_type === 'final' ? burden.targets.filter((t) => t.met === false) : []
  if (missed.length > 0) {
    store.alerts.raise({
      kind: 'reimbursement_low',
      level: 'warning',
      mdtrt_id: row.mdtrt_id,
      message: `${who(row)}：${missed.map(targetMissedText).join('；')}；请核查各项待遇（大病保险、医疗救助等）是否已足额享受`,
      detail: { targets: missed, medfee_sumamt: burden!.medfee_sumamt, fund_pay_sumamt: burden!.fund_pay_sumamt, psn_part_amt: burden!.psn_part_amt }
    })
  } else {
    store.alerts.resolve('reimbursement_low', row.mdtrt_id)
  }
  noteYear(store, profile, ctx, row)
}

/** One annual_burden alert per person and year; withdrawn (and resolved) if the year goes back under. */
function noteYear (store: Store, profile: LoadedProfile, ctx: RulesContext, row: StayRow): void {
  const finals = store.settlements.forStay(row.mdtrt_id).filter((s) => s.setl_type === 'final')
  const years = [...new Set(finals.map((s) => s.year))]
  const categories = stayCategories(ctx, row)
  for (const year of years) {
    const y = yearFigures(profile, categories, store.settlements.personYear(row.person_key, year), store.burden.ytd(row.person_key), year, null)
    const crossing = store.burden.crossing(row.person_key, year)
    if (y.crossed && y.threshold !== null) {
      if (crossing !== undefined && crossing.withdrawn_at === null) continue
      // The crossing is this stay's: its settlement took the year over (or back over) the line.
      const last = finals.filter((f) => f.year === year && f.cancelled_at === null).at(-1) ?? finals.at(-1)!
      const figures = { year, ytd_psn_part_fen: y.ytd.psn_part_fen, ytd_medfee_fen: y.ytd.medfee_fen, ytd_out_fen: y.ytd.out_fen, threshold: y.threshold, registry_as_of: y.reg?.as_of ?? null }
      const outRatio = y.ytd.ratioKnown && y.ytd.medfee_fen > 0 ? y.ytd.out_fen / y.ytd.medfee_fen : null
      const mdtrtId = row.mdtrt_id
      store.alerts.raise({
        kind: 'annual_burden',
        level: 'warning',
        mdtrt_id: mdtrtId,
        message: `${who(row)}：${annualText(year, y.ytd.psn_part_fen, y.threshold, outRatio)}，已达到年度负担预警线；请纳入高额医疗费用负担监测名单，按月报送（${y.threshold.source}）`,
        detail: figures
      })
      const alertId = store.alerts.openOne('annual_burden', mdtrtId)?.id ?? null
      if (crossing === undefined) store.burden.recordCrossing({ person_key: row.person_key, year, mdtrt_id: mdtrtId, crossed_at: last.setl_time, alert_id: alertId, figures })
      else store.burden.restore(row.person_key, year, figures, alertId)
    } else if (crossing !== undefined && crossing.withdrawn_at === null) {
      store.burden.withdraw(row.person_key, year, new Date().toISOString())
      store.alerts.resolve('annual_burden', crossing.mdtrt_id)
    }
  }
}

function cardsOf (profile: LoadedProfile, b: Burden | null, notes: string[]): Card[] {
  const cards: Card[] = notes.map((n) => card('info', n))
  if (b === null) return cards
  cards.push(card('info', burdenSummaryText(b)))
  for (const t of b.targets.filter((x) => x.met === false)) cards.push(card('warning', `${b.setl_type === 'pre' ? '预结算' : ''}${targetMissedText(t)}；请核查各项待遇是否已足额享受`))
  if (b.annual_threshold_crossed && b.annual_threshold !== null) {
    cards.push(card('warning', `${annualText(b.ytd_year, Math.round(b.ytd_psn_part_amt * 100), b.annual_threshold, b.ytd_out_of_catalog_ratio)}，已达到年度负担预警线`))
  }
  if (b.reassist_est_amt !== null && b.reassist_est_amt > 0) {
    cards.push(card('info', reassistText(Math.round(b.reassist_est_amt * 100), Math.round((b.reassist_ytd_amt ?? 0) * 100), profile.benefits.reassistance?.source ?? '')))
  }
  return cards
}

function answer (ctx: RulesContext, row: StayRow, s: SettlementRow, replayed: boolean, notes: string[]): SettlementResult {
  const b = burdenOf(ctx, row)
  const alerts = BURDEN_KINDS.map((k) => ctx.store.alerts.openOne(k, row.mdtrt_id)).filter((a) => a !== undefined).map(alertView)
  return { mdtrt_id: row.mdtrt_id, setl_id: s.setl_id, setl_type: s.setl_type, replayed, notes, burden: b?.burden ?? null, alerts, cards: cardsOf(ctx.profile, b?.burden ?? null, notes) }
}

export async function recordSettlement (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string, body: SettlementRequest): Promise<SettlementResult> {
  const { store, settings } = ctx
  // Everything that can be checked without the database is checked before the write.
  const input = readSettlement(body.setlinfo, settings.tz)
  const client = actorName(actor)
  return await store.write((): SettlementResult => {
    const row = openStay(store, trimId(mdtrtIdRaw))
    const existing = store.settlements.get(input.setl_id)
    if (existing !== undefined) {
      if (existing.mdtrt_id !== row.mdtrt_id) throw new FangpinConflict(`setl_id ${input.setl_id} was received for admission ${existing.mdtrt_id}; a settlement belongs to one stay`)
      if (existing.setl_type !== body.setl_type || existing.content_hash !== input.content_hash) {
        throw new FangpinConflict(`setl_id ${input.setl_id} was already received with other figures; a corrected settlement has a new setl_id (cancel the old one with DELETE, 2305)`)
      }
      if (existing.cancel_reason === 'cancelled') throw new FangpinConflict(`setl_id ${input.setl_id} was cancelled (2305); a new settlement has a new setl_id`)
      return answer(ctx, row, existing, true, [])
    }
    const notes: string[] = []
    const beforeDischarge = body.setl_type === 'final' && row.status === 'open'
    if (beforeDischarge) notes.push('已收到结算（2304），本次住院尚未办理出院登记（2402）；已记录，出院登记后费用监测结束')
    const clinical = store.stays.clinical(row.mdtrt_id)!
    const now = new Date().toISOString()
    store.settlements.insert({
      ...input,
      mdtrt_id: row.mdtrt_id,
      person_key: row.person_key,
      setl_type: body.setl_type,
      main_diag: mainDiagCategory(JSON.parse(clinical.diagnoses) as Array<{ diag_code: string, maindiag_flag?: string | null }>),
      drg_codg: clinical.drg_codg,
      monitored: row.monitored,
      before_discharge: beforeDischarge ? 1 : 0,
      client
    }, now)
    // The newest pre-settlement is the stay's preview; a final settlement ends the previews.
    store.settlements.supersedePre(row.mdtrt_id, body.setl_type === 'pre' ? input.setl_id : '', now)
    store.audit.write({ client, action: 'settlement.record', subject_key: row.person_key, mdtrt_id: row.mdtrt_id, decision: body.setl_type, detail: { setl_id: input.setl_id, before_discharge: beforeDischarge } })
    refreshBurdenAlerts(ctx, row, burdenOf(ctx, row))
    return answer(ctx, row, store.settlements.get(input.setl_id)!, false, notes)
  })
}

/** 2305: the platform cancelled a settlement. The row is kept, cancelled; the figures follow. */
export async function cancelSettlement (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string, setlIdRaw: string): Promise<SettlementResult> {
  const { store } = ctx
  const client = actorName(actor)
  const setlId = setlIdRaw.trim()
  return await store.write((): SettlementResult => {
    const row = openStay(store, trimId(mdtrtIdRaw))
    const s = store.settlements.get(setlId)
    if (s === undefined || s.mdtrt_id !== row.mdtrt_id) throw new FangpinNotFound(`admission ${row.mdtrt_id} has no settlement ${setlId}`)
    if (s.cancelled_at !== null) return answer(ctx, row, s, true, [])
    store.settlements.cancel(setlId, new Date().toISOString())
    store.audit.write({ client, action: 'settlement.cancel', subject_key: row.person_key, mdtrt_id: row.mdtrt_id, decision: s.setl_type, detail: { setl_id: setlId } })
    refreshBurdenAlerts(ctx, row, burdenOf(ctx, row))
    return answer(ctx, row, store.settlements.get(setlId)!, false, [])
  })
}
