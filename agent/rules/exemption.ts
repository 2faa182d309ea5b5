// Recording a special case approved by the health or insurance department (000 五(二)2: 属于特殊
// 病例无法达到规定比例，需报当地卫生健康、医保部门审批). The stay becomes exempt from the in-catalog
// rule and its spending alerts are resolved. Audited: this is a decision about who bears the cost.
// Only where the region's rule has such an approval: elsewhere it would be Guangxi's rule borrowed.
import { actorName, type Actor, type RulesContext } from './context.ts'
import type { ExemptionRow } from '../store/exemptions.ts'
import { FangpinConflict, FangpinValidation, withDetails } from '../errors.ts'
import { amountsOf, flagsOf, refreshAlerts, openStay, requireOpen, trimId } from './stay.ts'
import { limits, status, totals, type SpendingStatus, type Totals } from './spending.ts'

export interface ExemptionRequest {
  kind: 'special_case'
  approval_no: string
  approved_by: string
  reason: string
}

export interface ExemptionResult {
  mdtrt_id: string
  created: boolean
  exemption: ExemptionRow
  status: SpendingStatus
  totals: Totals
}

export async function recordExemption (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string, body: ExemptionRequest): Promise<ExemptionResult> {
  const { store, profile } = ctx
  const by = actorName(actor)
  const fields = { approval_no: body.approval_no.trim(), approved_by: body.approved_by.trim(), reason: body.reason.trim() }
  for (const [field, value] of Object.entries(fields)) {
    if (value === '') throw withDetails(new FangpinValidation(`${field} is blank`), [{ field, reason: 'minLength', message: 'must not be blank' }])
  }
  if (profile.spendingRule?.specialCaseApproval !== true) {
    throw new FangpinConflict(`the ${profile.id} profile has no special-case approval: its policy text does not exempt approved cases from a spending limit (see GET /v1/profile)`)
  }
  return await store.write(() => {
    const row = openStay(store, trimId(mdtrtIdRaw))
    // A discharged stay's figures are final: an approval that came too late is a matter for the
    // insurance office, not a change to the record.
    requireOpen(row)
    const { row: exemption, created } = store.exemptions.record({ mdtrt_id: row.mdtrt_id, kind: body.kind, ...fields, recorded_by: by })
    if (created) {
      store.audit.write({ client: by, action: 'exemption.record', subject_key: row.person_key, mdtrt_id: row.mdtrt_id, decision: body.kind, detail: { approval_no: fields.approval_no, approved_by: fields.approved_by } })
    }
    const after = store.stays.get(row.mdtrt_id)!
    refreshAlerts(store, profile, after)
    const l = limits(profile)
    return { mdtrt_id: row.mdtrt_id, created, exemption, status: status(amountsOf(after), flagsOf(after), l), totals: totals(amountsOf(after), l) }
  })
}
