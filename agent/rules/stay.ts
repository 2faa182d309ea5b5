// A stay as the spending monitor sees it: its totals, whether the 90 % rule applies, its status,
// and the alerts that follow from a change. Every writer (charges, cancellations, exemptions, a
// list update, an admission correction, discharge) calls refreshAlerts inside its transaction, so
// the alerts always match the totals that were committed with them.
import type { LoadedProfile } from '../../profile/profile.ts'
import type { Store } from '../store/store.ts'
import type { RulesContext } from './context.ts'
import { stayBurdenView, type SettlementView } from './stay-burden.ts'
import type { Burden } from './burden.ts'
import { NO_ESTIMATE, type Estimate } from './estimate.ts'
import type { StayListRow, StayRow } from '../store/stays.ts'
import type { AlertRow } from '../store/alerts.ts'
import { limits, status, totals, type Amounts, type StayFlags, type SpendingStatus, type Totals } from './spending.ts'
import { spendingAlertMessage } from './voice.ts'
import { yuan } from './money.ts'
import { alertView, type AlertView } from './alert.ts'
import { datePart, nowLocal } from '../../base/local-time.ts'
import { FangpinNotFound, FangpinStayClosed } from '../errors.ts'
import { decide, storedDecision, type IdentityView, type Decision } from './eligibility.ts'
import type { OutOfCatalogItem } from '../store/charges.ts'
import type { ExemptionRow } from '../store/exemptions.ts'
import { unmappedView, type UnmappedView } from './catalog.ts'
import type { SevereDiseaseMatch } from '../../profile/severe-disease.ts'

/** HIS columns are often fixed-width: ' ZY001 ' and 'ZY001' are the same visit. */
export function trimId (id: string): string {
  return id.replace(/^[\s\u3000]+|[\s\u3000]+$/g, '')
}

export function openStay (store: Store, mdtrtId: string): StayRow {
  const row = store.stays.get(mdtrtId)
  if (row === undefined) throw new FangpinNotFound(`no admission ${mdtrtId} is recorded: post the admission (POST /v1/admissions) first`)
  return row
}

export function requireOpen (row: StayRow): void {
  if (row.status !== 'open') throw new FangpinStayClosed(`admission ${row.mdtrt_id} is discharged (${row.endtime ?? ''}); its charges are final`)
}

export function amountsOf (row: Pick<StayListRow, 'medfee_fen' | 'in_catalog_fen' | 'out_catalog_fen'>): Amounts {
  return { medfee_fen: row.medfee_fen, in_fen: row.in_catalog_fen, out_fen: row.out_catalog_fen }
}

export function flagsOf (row: Pick<StayListRow, 'monitored' | 'single_disease' | 'exemption_kind'>): StayFlags {
  return {
    monitored: row.monitored === 1,
    exemption: row.exemption_kind ?? (row.single_disease === 1 ? 'single_disease' : null)
  }
}

/**
 * 000 五(二)2 除外单病种付费病例: only a stay paid as 单病种 is exempt — a medical type the profile's
 * local settings list as 单病种 (national 26; some provinces 2102 or 22), or a 病种 code the region
 * pays by and the hospital listed. Any other 病种编码 exempts nothing: an HIS that copies the
 * diagnosis into dise_codg must not take every stay out of the rule. Where the region's rule has no
 * 单病种 exemption (or there is no rule), nothing is exempt as 单病种.
 */
export function isSingleDisease (profile: LoadedProfile, medType: string | null | undefined, diseCodg: string | null | undefined): boolean {
  const sd = profile.spendingRule?.singleDisease ?? null
  if (sd === null) return false
  const type = medType?.trim() ?? ''
  const code = diseCodg?.trim().toUpperCase() ?? ''
  return (type !== '' && sd.medTypes.includes(type)) || (code !== '' && sd.diseCodes.some((c) => c.trim().toUpperCase() === code))
}

/** How staff recognise a stay in an alert: department, masked name, visit id. */
/**
 * Brings the stay's spending alerts in line with its current totals: one open alert per level,
 * a warning escalated to a breach, both resolved when the share recovers, the stay is exempt or
 * discharged. During the stay nothing new is raised below the profile's minimum total (early
 * small bills swing the share). Returns the alerts this change created.
 */
export function refreshAlerts (store: Store, profile: LoadedProfile, row: StayListRow): AlertRow[] {
  const l = limits(profile)
  const a = amountsOf(row)
  const st: SpendingStatus = row.status === 'discharged' ? 'ok' : status(a, flagsOf(row), l)
  const created: AlertRow[] = []
  const figures = { in_catalog_ratio: totals(a, l).in_catalog_ratio, medfee_fen: a.medfee_fen, out_catalog_fen: a.out_fen }
  const bigEnough = l !== null && a.medfee_fen >= l.minAlertFen
  // Below the minimum total nothing new is raised, but a stay that already has a spending alert
  // keeps one: escalating or easing it must never leave a breach with no alert at all.
  const raising = bigEnough || openSpendingAlert(store, row.mdtrt_id)
  if (st === 'breach' && l !== null) {
    if (raising) {
      const r = store.alerts.raiseSpending({
        kind: 'spending_breach',
        mdtrt_id: row.mdtrt_id,
        message: spendingAlertMessage('spending_breach', row, a, l),
        figures
      })
      if (r.created) created.push(r.row)
    }
    store.alerts.resolve('spending_warning', row.mdtrt_id)
  } else if (st === 'warning' && l !== null) {
    if (raising) {
      const r = store.alerts.raiseSpending({
        kind: 'spending_warning',
        mdtrt_id: row.mdtrt_id,
        message: spendingAlertMessage('spending_warning', row, a, l),
        figures
      })
      if (r.created) created.push(r.row)
    }
    store.alerts.resolve('spending_breach', row.mdtrt_id)
  } else {
    store.alerts.resolve('spending_warning', row.mdtrt_id)
    store.alerts.resolve('spending_breach', row.mdtrt_id)
  }
  return created
}

function openSpendingAlert (store: Store, mdtrtId: string): boolean {
  return store.alerts.forStay(mdtrtId).some((x) => x.kind.startsWith('spending_') && x.resolved_at === null)
}

export interface InpatientView {
  mdtrt_id: string
  name_masked: string | null
  adm_dept_codg: string | null
  adm_dept_name: string | null
  begntime: string
  days: number
  primary_identity: { category: string, label: string } | null
  monitored_reason: string | null
  exemption: string | null
  totals: Totals
  status: SpendingStatus
}

const ORDER: Record<SpendingStatus, number> = { breach: 0, warning: 1, ok: 2, no_limit: 3, exempt: 4, not_monitored: 5 }

/** Days in hospital as billing counts them: calendar days since admission, at least one. */
export function stayDays (begntime: string, until: string): number {
  const from = Date.parse(datePart(begntime) + 'T00:00:00Z')
  const to = Date.parse(datePart(until) + 'T00:00:00Z')
  return Math.max(1, Math.round((to - from) / 86_400_000))
}

export function inpatientView (profile: LoadedProfile, row: StayListRow, now: string): InpatientView {
  const l = limits(profile)
  const a = amountsOf(row)
  const flags = flagsOf(row)
  const category = row.primary_category
  return {
    mdtrt_id: row.mdtrt_id,
    name_masked: row.name_masked,
    adm_dept_codg: row.adm_dept_codg,
    adm_dept_name: row.adm_dept_name,
    begntime: row.begntime,
    days: stayDays(row.begntime, row.endtime ?? now),
    primary_identity: category === null ? null : { category, label: profile.categoryById.get(category)?.label ?? category },
    monitored_reason: row.monitored_reason,
    exemption: flags.exemption,
    totals: totals(a, l),
    status: status(a, flags, l)
  }
}

export interface StatusCounts { breach: number, warning: number, ok: number, no_limit: number, exempt: number }

/** Open monitored stays by status, from the running totals alone (no views built). */
export function statusCounts (ctx: RulesContext): StatusCounts {
  const { store, profile } = ctx
  const l = limits(profile)
  const counts: StatusCounts = { breach: 0, warning: 0, ok: 0, no_limit: 0, exempt: 0 }
  for (const row of store.stays.open()) {
    const st = status(amountsOf(row), flagsOf(row), l)
    if (st !== 'not_monitored') counts[st]++
  }
  return counts
}

/**
 * Open stays, worst first: breaches, then warnings (each by out-of-catalog share, highest first),
 * then the rest. Stays of patients not on the list are left out unless asked for by status.
 */
export function inpatients (ctx: RulesContext, filter: { status?: SpendingStatus, dept?: string }): InpatientView[] {
  const { store, profile } = ctx
  const now = nowLocal(ctx.settings.tz)
  // [share, view] pairs: sorting by a number kept beside the view, not copied into it.
  const keyed: Array<[number, InpatientView]> = []
  for (const row of store.stays.open()) {
    if (filter.dept !== undefined && row.adm_dept_codg !== filter.dept && row.adm_dept_name !== filter.dept) continue
    const v = inpatientView(profile, row, now)
    if (filter.status === undefined ? v.status === 'not_monitored' : v.status !== filter.status) continue
    keyed.push([row.medfee_fen > 0 ? row.out_catalog_fen / row.medfee_fen : 0, v])
  }
  keyed.sort(([sx, x], [sy, y]) => ORDER[x.status] - ORDER[y.status] || sy - sx || (x.begntime < y.begntime ? -1 : x.begntime > y.begntime ? 1 : 0))
  return keyed.map((k) => k[1])
}

export interface StayDetail extends InpatientView {
  state: 'open' | 'discharged'
  endtime: string | null
  med_type: string | null
  treat_first_pay_later: boolean
  identities: IdentityView[]
  severe_disease: SevereDiseaseMatch[]
  monitored: boolean
  monitored_since: string | null
  line_count: number
  exemptions: ExemptionRow[]
  top_out_of_catalog: Array<{ med_list_codg: string | null, medins_list_codg: string | null, med_list_name: string | null, out_of_catalog_amt: number, amount: number, lines: number }>
  alerts: AlertView[]
  discharge: { dscg_way: string | null, discharged_at: string | null } | null
  /** the patient's own burden from the stay's settlements (2303/2304), null before the first */
  burden: Burden | null
  settlements: SettlementView[]
  /** the estimate made at admission (basis null when none could be made) */
  estimate: Estimate
  /** 未对照项目: lines the insurance catalog could not place, counted out of catalog */
  unmapped_items: UnmappedView[]
}

function itemView (i: OutOfCatalogItem): StayDetail['top_out_of_catalog'][number] {
  return { med_list_codg: i.med_list_codg, medins_list_codg: i.medins_list_codg, med_list_name: i.med_list_name, out_of_catalog_amt: yuan(i.out_fen), amount: yuan(i.amount_fen), lines: i.lines }
}

export function stayDetail (ctx: RulesContext, mdtrtId: string): StayDetail {
  const { store, profile } = ctx
  const row = openStay(store, trimId(mdtrtId))
  const now = nowLocal(ctx.settings.tz)
  const answer = storedDecision(profile, JSON.parse(row.response) as Partial<Decision>)
  let identities = answer.identities ?? []
  if (identities.length === 0 && row.monitored === 1) {
    // Qualified during the stay: show the identities the list has now.
    const { state, person } = store.list.lookup(row.person_key)
    identities = decide({ profile, person, state, at: now, staleHours: Number.POSITIVE_INFINITY }).identities
  }
  return {
    ...inpatientView(profile, row, now),
    state: row.status,
    endtime: row.endtime,
    med_type: row.med_type,
    treat_first_pay_later: row.treat_first_pay_later === 1,
    identities,
    severe_disease: JSON.parse(row.severe_disease) as SevereDiseaseMatch[],
    monitored: row.monitored === 1,
    monitored_since: row.monitored_since,
    line_count: row.line_count,
    exemptions: store.exemptions.forStay(row.mdtrt_id),
    top_out_of_catalog: store.charges.topOutOfCatalog(row.mdtrt_id).map(itemView),
    alerts: store.alerts.forStay(row.mdtrt_id).map(alertView),
    discharge: row.status === 'discharged' ? { dscg_way: row.dscg_way, discharged_at: row.discharged_at } : null,
    ...stayBurdenView(ctx, row),
    estimate: (answer as Partial<{ estimate: Estimate }>).estimate ?? NO_ESTIMATE,
    unmapped_items: store.charges.unmapped(row.mdtrt_id).map(unmappedView)
  }
}
