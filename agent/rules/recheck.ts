// After the list changes, every open admission is looked at again. 民政 approvals after the 5th of
// a month take effect that month (policy 000 四(四)3), so a patient admitted without the waiver may
// have become entitled during the stay: staff must be told to return the deposit. One whose
// identity ended keeps the waiver for this stay (004 一(三)2 keeps benefits up to the end), but
// billing should know.
import type { Store } from '../store/store.ts'
import type { LoadedProfile } from '../../profile/profile.ts'
import { decide } from './eligibility.ts'
import { nowLocal } from '../../base/local-time.ts'
import { refreshAlerts } from './stay.ts'

interface OpenAdmission {
  mdtrt_id: string
  person_key: Buffer
  begntime: string
  med_type: string | null
  treat_first_pay_later: number
  name_masked: string | null
  adm_dept_name: string | null
  monitored: number
}

export interface RecheckResult { started: number, ended: number, monitored: number }

export async function recheckOpenAdmissions (store: Store, profile: LoadedProfile, tz: string, seq: number | null): Promise<RecheckResult> {
  const open = store.db.prepare(`SELECT a.mdtrt_id, a.person_key, a.begntime, a.med_type, a.treat_first_pay_later, a.name_masked, a.adm_dept_name,
    s.monitored FROM admission a JOIN stay s ON s.mdtrt_id = a.mdtrt_id WHERE a.status = 'open'`).all() as OpenAdmission[]
  const now = nowLocal(tz)
  const result = { started: 0, ended: 0, monitored: 0 }
  const who = (a: OpenAdmission): string => `${a.adm_dept_name ?? ''} ${a.name_masked ?? ''}（就诊ID ${a.mdtrt_id}）`.trim()
  for (const a of open) {
    const { state, person } = store.list.lookup(a.person_key)
    const base = { profile, person, state, med_type: a.med_type, staleHours: Number.POSITIVE_INFINITY }
    const atAdmission = decide({ ...base, at: a.begntime })
    const atNow = decide({ ...base, at: now })
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
    if (a.monitored === 0) {
      // On the list during the stay: the 90 % rule applies to the whole stay, its earlier charges
      // included, and the alerts follow at once.
      const identity = [...atAdmission.identities, ...atNow.identities].find((i) => profile.categoryById.has(i.category))
      if (identity !== undefined) {
        store.db.transaction(() => {
          if (store.stays.startMonitoring(a.mdtrt_id, (atAdmission.primary_identity ?? atNow.primary_identity ?? identity).category)) {
            refreshAlerts(store, profile, store.stays.get(a.mdtrt_id)!)
            result.monitored++
          }
        }).immediate()
      }
    }
    // A big hospital has hundreds of open stays: let lookups in between.
    await new Promise((resolve) => setImmediate(resolve))
  }
  return result
}
