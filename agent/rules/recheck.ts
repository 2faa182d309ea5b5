// After the list changes, at start and every hour, every open admission is looked at again. 民政
// approvals after the 5th of a month take effect that month (policy 000 四(四)3), so a patient
// admitted without the waiver may have become entitled during the stay: staff must be told to
// return the deposit. The decision for a stay is the one made at admission (000 四(二)3
// 入院登记即识别): a patient whose identity ended since keeps this stay's waiver, but billing should
// know.
import { decide, monitoredIdentity } from './eligibility.ts'
import { nowLocal } from '../../base/local-time.ts'
import { refreshAlerts } from './stay.ts'
import { who } from './voice.ts'
import type { RulesContext } from './context.ts'

export interface RecheckResult { started: number, ended: number, monitored: number }

export async function recheckOpenAdmissions (ctx: RulesContext, seq: number | null): Promise<RecheckResult> {
  const { store, profile } = ctx
  const now = nowLocal(ctx.settings.tz)
  const result = { started: 0, ended: 0, monitored: 0 }
  for (const a of store.stays.openForRecheck()) {
    const { state, person } = store.list.lookup(a.person_key)
    const base = { profile, person, state, med_type: a.med_type, staleHours: Number.POSITIVE_INFINITY }
    const atAdmission = decide({ ...base, at: a.begntime })
    const atNow = decide({ ...base, at: now })
    // On the list during the stay: the 90 % rule applies to the whole stay, its earlier charges
    // included, and the alerts follow at once.
    const identity = a.monitored === 0 ? monitoredIdentity(profile, [...atAdmission.identities, ...atNow.identities]) : undefined
    // One stay at a time, each committed on its own: a big hospital has hundreds of open stays,
    // and lookups go on in between.
    await store.write(() => {
      if (a.treat_first_pay_later === 0 && (atAdmission.treat_first_pay_later || atNow.treat_first_pay_later)) {
        const label = (atAdmission.primary_identity ?? atNow.primary_identity)?.label ?? ''
        store.alerts.raise({
          kind: 'identity_started',
          level: 'warning',
          mdtrt_id: a.mdtrt_id,
          message: `${who(a)}：${label}身份已生效，可享受先诊疗后付费，请退还押金`,
          detail: { list_seq: seq, valid_at_admission: atAdmission.treat_first_pay_later }
        })
        result.started++
      } else if (a.treat_first_pay_later === 1 && !atNow.treat_first_pay_later) {
        store.alerts.raise({
          kind: 'identity_ended',
          level: 'info',
          mdtrt_id: a.mdtrt_id,
          message: `${who(a)}：名单更新后身份已不在有效期内；本次住院入院时已认定，按入院时身份继续办理`,
          detail: { list_seq: seq }
        })
        result.ended++
      }
      if (identity !== undefined && store.stays.startMonitoring(a.mdtrt_id, (atAdmission.primary_identity ?? atNow.primary_identity ?? identity).category)) {
        refreshAlerts(store, profile, store.stays.get(a.mdtrt_id)!)
        result.monitored++
      }
    })
  }
  return result
}
