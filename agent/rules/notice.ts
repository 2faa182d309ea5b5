// The admission notice's facts (告知书, 000 四(二)3: 告知预估的医疗费用情况): what the patient and family
// are told at admission, as plain data. The rules build it from the stored admission and the region's
// profile; rendering it (HTML, PDF) is agent/notice's, which the routes and the command line call.
// Printing a notice shows a patient's stay: it is audited like viewing the stay.
import { actorName, type Actor, type RulesContext } from './context.ts'
import { openStay, trimId } from './stay.ts'
import { storedDecision, type Decision } from './eligibility.ts'
import { NO_ESTIMATE, type Estimate } from './estimate.ts'
import { estimateBasisText } from './voice.ts'
import { nowLocal } from '../../base/local-time.ts'

/** The shape agent/notice renders (agent/notice/notice-data.ts NoticeData), built without importing it. */
export interface AdmissionNotice {
  hospital_name: string | null
  region_name: string
  mdtrt_id: string
  name_masked: string | null
  adm_dept_name: string | null
  begntime: string
  identities: string[]
  treat_first_pay_later: boolean
  treat_first_text: string
  one_stop_settlement: boolean
  estimate: null | { psn_part_amt: number, medfee_sumamt: number | null, basis: 'tariff' | 'history', basis_text: string, sample_size: number }
  spending_limit: null | { share: number, breach_when: '>' | '>=', hospital_bears_excess: boolean, source: 'policy' | 'agreement' | 'local' }
  special_note: string | null
  printed_at: string
}

function treatFirstText (d: Decision): string {
  const label = d.primary_identity?.label ?? d.identities[0]?.label
  if (d.treat_first_pay_later) return `您属于${label ?? '困难群众'}，本次住院可先诊疗后付费：入院时无需缴纳住院押金，出院时只需结清个人应付部分`
  if (d.identities.length === 0) return '入院时未在困难群众名单中查到您的有效身份，本次按常规办理入院；如有证明材料，请交经办人员核实'
  return `您属于${label ?? '困难群众'}；本地区政策对该身份或本次住院未规定先诊疗后付费，本次按常规办理入院`
}

export async function admissionNotice (ctx: RulesContext, actor: Actor, mdtrtIdRaw: string): Promise<AdmissionNotice> {
  const { store, profile } = ctx
  const row = openStay(store, trimId(mdtrtIdRaw))
  const stored = JSON.parse(row.response) as Partial<Decision> & { estimate?: Estimate }
  const d = storedDecision(profile, stored) as Decision
  const e = stored.estimate ?? NO_ESTIMATE
  const rule = profile.spendingRule
  const limit = rule === null || row.monitored !== 1 ? null : { share: rule.limitShare, breach_when: rule.breachWhen, hospital_bears_excess: rule.hospitalBears, source: rule.source }
  let special: string | null = null
  if (limit !== null && row.single_disease === 1) special = '本次住院按单病种付费，不受目录外费用比例限制'
  else if (limit !== null && row.exemption_kind !== null) special = '本次住院经医保部门审批为特殊病例，目录外费用比例按审批意见执行'
  const notice: AdmissionNotice = {
    hospital_name: profile.hospitalName,
    region_name: profile.name,
    mdtrt_id: row.mdtrt_id,
    name_masked: row.name_masked,
    adm_dept_name: row.adm_dept_name,
    begntime: row.begntime,
    identities: d.identities.map((i) => i.label),
    treat_first_pay_later: d.treat_first_pay_later,
    treat_first_text: treatFirstText(d),
    one_stop_settlement: d.one_stop_settlement === true,
    estimate: e.basis === null || e.psn_part_amt === null
      ? null
      : { psn_part_amt: e.psn_part_amt, medfee_sumamt: e.medfee_sumamt, basis: e.basis, basis_text: estimateBasisText(e), sample_size: e.sample_size },
    spending_limit: limit,
    special_note: special,
    printed_at: nowLocal(ctx.settings.tz).slice(0, 16)
  }
  await store.write(() => store.audit.write({ client: actorName(actor), action: 'notice.print', subject_key: row.person_key, mdtrt_id: row.mdtrt_id }))
  return notice
}
