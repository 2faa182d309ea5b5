// A staff member opening a stay on the page: the stay, its discharge gate, and an audit row saying
// who looked at whose stay (viewing a patient's record is an action the hospital must be able to
// account for).
import { actorName, type Actor, type RulesContext } from './context.ts'
import { stayDetail, openStay, type StayDetail } from './stay.ts'
import { gateOf, type DischargeCheck } from './discharge.ts'

export async function viewStay (ctx: RulesContext, actor: Actor, mdtrtId: string): Promise<{ stay: StayDetail, gate: DischargeCheck }> {
  const stay = stayDetail(ctx, mdtrtId)
  const row = openStay(ctx.store, stay.mdtrt_id)
  const result = { stay, gate: gateOf(ctx, row) }
  await ctx.store.write(() => ctx.store.audit.write({ client: actorName(actor), action: 'staff.view_stay', mdtrt_id: stay.mdtrt_id, subject_key: row.person_key }))
  return result
}
