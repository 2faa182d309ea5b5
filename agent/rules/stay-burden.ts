// A stay's burden as the rules see it: the stay's identities (at admission, or the list's now for a
// stay watched since an update), its settlements and the person's year. Shared by the settlement rule
// and the stay's views.
import type { StayRow } from '../store/stays.ts'
import type { SettlementRow } from '../store/settlements.ts'
import type { RulesContext } from './context.ts'
import { stayBurden, type Burden } from './burden.ts'
import { decide, storedDecision, type Decision } from './eligibility.ts'
import { yuan } from './money.ts'
import { nowLocal } from '../../base/local-time.ts'

/** The first three characters of the stay's main diagnosis (I63.900 → I63): the estimate's history key. */
export function mainDiagCategory (list: Array<{ diag_code: string, maindiag_flag?: string | null }>): string | null {
  const main = list.find((d) => d.maindiag_flag === '1') ?? list[0]
  if (main === undefined) return null
  const code = main.diag_code.trim().toUpperCase().replace(/[^A-Z0-9]/g, '')
  return /^[A-Z][0-9]{2}/.test(code) ? code.slice(0, 3) : null
}

/** The categories of the stay's identities: at admission, or the list's now for a stay watched since an update. */
export function stayCategories (ctx: RulesContext, row: StayRow): string[] {
  const answer = storedDecision(ctx.profile, JSON.parse(row.response) as Partial<Decision>)
  let identities = answer.identities ?? []
  if (identities.length === 0 && row.monitored === 1) {
    const { state, person } = ctx.store.list.lookup(row.person_key)
    identities = decide({ profile: ctx.profile, person, state, at: nowLocal(ctx.settings.tz), staleHours: Number.POSITIVE_INFINITY }).identities
  }
  return identities.map((i) => i.category)
}

/** The stay's burden now, from its settlements. */
export function burdenOf (ctx: RulesContext, row: StayRow): ReturnType<typeof stayBurden> {
  const { store, profile } = ctx
  return stayBurden({
    profile,
    categories: stayCategories(ctx, row),
    staySettlements: store.settlements.forStay(row.mdtrt_id),
    mdtrtId: row.mdtrt_id,
    personYear: (year) => store.settlements.personYear(row.person_key, year),
    registry: store.burden.ytd(row.person_key)
  })
}

export interface SettlementView {
  setl_id: string
  setl_type: 'pre' | 'final'
  setl_time: string
  medfee_sumamt: number
  fund_pay_sumamt: number
  psn_part_amt: number
  fulamt_ownpay_amt: number
  hosp_part_amt: number
  /** received before the discharge was recorded (2304 before 2402) */
  before_discharge: boolean
  /** cancelled: by the platform (2305), or replaced: a pre-settlement superseded by a later one */
  cancel_reason: 'cancelled' | 'replaced' | null
  cancelled_at: string | null
}

export function settlementView (s: SettlementRow): SettlementView {
  return {
    setl_id: s.setl_id,
    setl_type: s.setl_type,
    setl_time: s.setl_time,
    medfee_sumamt: yuan(s.medfee_fen),
    fund_pay_sumamt: yuan(s.fund_fen),
    psn_part_amt: yuan(s.psn_part_fen),
    fulamt_ownpay_amt: yuan(s.fulamt_fen),
    hosp_part_amt: yuan(s.hosp_part_fen),
    before_discharge: s.before_discharge === 1,
    cancel_reason: s.cancel_reason as SettlementView['cancel_reason'],
    cancelled_at: s.cancelled_at
  }
}

/** What a stay's views show of its settlements: the burden now and every settlement received. */
export function stayBurdenView (ctx: RulesContext, row: StayRow): { burden: Burden | null, settlements: SettlementView[] } {
  return { burden: burdenOf(ctx, row)?.burden ?? null, settlements: ctx.store.settlements.forStay(row.mdtrt_id).map(settlementView) }
}
