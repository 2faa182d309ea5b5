// The monthly burden list (000 四(一)3 按月报送; 000 四(三)1 纳入高额医疗费用负担监测; 001 三): the
// people whose year is over their region's threshold as of the month's end (those who crossed in
// the month marked), and the stays settled in the month below the region's reimbursement targets
// (000 四(三)3–4: check that every benefit was applied). Names masked, ID numbers never; producing it
// is audited, as it lists patients.
import { actorName, type Actor, type RulesContext } from './context.ts'
import { FangpinValidation } from '../errors.ts'
import { burdenOf } from './stay-burden.ts'
import { yuan } from './money.ts'
import type { TargetCheck } from './burden.ts'

export interface OverThresholdLine {
  mdtrt_id: string
  name_masked: string | null
  adm_dept_name: string | null
  year: number
  crossed_at: string
  crossed_this_month: boolean
  ytd_psn_part_amt: number
  ytd_medfee_sumamt: number
  ytd_out_of_catalog_ratio: number | null
  threshold_amt: number | null
  registry_as_of: string | null
}

export interface BelowTargetLine {
  mdtrt_id: string
  name_masked: string | null
  adm_dept_name: string | null
  setl_time: string
  medfee_sumamt: number
  fund_pay_sumamt: number
  psn_part_amt: number
  targets: TargetCheck[]
}

export interface BurdenReport {
  month: string
  hospital_name: string | null
  region_name: string
  over_threshold: OverThresholdLine[]
  below_target: BelowTargetLine[]
}

interface CrossingFigures { ytd_psn_part_fen?: number, ytd_medfee_fen?: number, ytd_out_fen?: number, threshold?: { amount?: number }, registry_as_of?: string | null }

/** 'YYYY-MM' → [first day, first day of the next month) as local wall-clock text. */
export function monthRange (month: string): [string, string] {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month)
  if (m === null) throw new FangpinValidation(`month must be YYYY-MM (e.g. 2026-11), got ${JSON.stringify(month).slice(0, 20)}`)
  const y = Number(m[1])
  const mo = Number(m[2])
  const next = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`
  return [`${month}-01 00:00:00`, `${next}-01 00:00:00`]
}

export async function burdenReport (ctx: RulesContext, actor: Actor, month: string): Promise<BurdenReport> {
  const { store, profile } = ctx
  const [from, to] = monthRange(month)
  const year = Number(month.slice(0, 4))
  const over = store.burden.crossingsUntil(year, to).map((c): OverThresholdLine => {
    const f = JSON.parse(c.figures) as CrossingFigures
    const stay = store.stays.get(c.mdtrt_id)
    const medfee = f.ytd_medfee_fen ?? 0
    return {
      mdtrt_id: c.mdtrt_id,
      name_masked: stay?.name_masked ?? null,
      adm_dept_name: stay?.adm_dept_name ?? null,
      year: c.year,
      crossed_at: c.crossed_at,
      crossed_this_month: c.crossed_at >= from,
      ytd_psn_part_amt: yuan(f.ytd_psn_part_fen ?? 0),
      ytd_medfee_sumamt: yuan(medfee),
      ytd_out_of_catalog_ratio: medfee > 0 && f.ytd_out_fen !== undefined ? Math.floor(f.ytd_out_fen * 10_000 / medfee) / 10_000 : null,
      threshold_amt: f.threshold?.amount ?? null,
      registry_as_of: f.registry_as_of ?? null
    }
  })
  const seen = new Set<string>()
  const below: BelowTargetLine[] = []
  for (const s of store.settlements.finalsBetween(from, to)) {
    if (seen.has(s.mdtrt_id)) continue
    seen.add(s.mdtrt_id)
    const stay = store.stays.get(s.mdtrt_id)
    if (stay === undefined) continue
    const b = burdenOf(ctx, stay)?.burden
    if (b === undefined || !b.targets.some((t) => t.met === false)) continue
    below.push({ mdtrt_id: stay.mdtrt_id, name_masked: stay.name_masked, adm_dept_name: stay.adm_dept_name, setl_time: s.setl_time, medfee_sumamt: b.medfee_sumamt, fund_pay_sumamt: b.fund_pay_sumamt, psn_part_amt: b.psn_part_amt, targets: b.targets })
  }
  await store.write(() => store.audit.write({ client: actorName(actor), action: 'report.burden', detail: { month, over_threshold: over.length, below_target: below.length } }))
  return { month, hospital_name: profile.hospitalName, region_name: profile.name, over_threshold: over, below_target: below }
}
