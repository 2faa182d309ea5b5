// The rules as one object bound to their context: what the routes, the command line and the
// background jobs call. Each entry is one rule; the functions behind them take (ctx, actor, …).
import type { RulesContext, Actor } from './context.ts'
import { recordAdmission, checkEligibility, type AdmissionRequest, type EligibilityRequest } from './admission.ts'
import { applyCharges, cancelCharge, precheck } from './charges.ts'
import type { FeeDetail } from './charge-line.ts'
import { stayDetail, inpatients, statusCounts } from './stay.ts'
import { viewStay } from './stay-view.ts'
import { recordExemption, type ExemptionRequest } from './exemption.ts'
import { dischargeCheck, discharge, type DischargeRequest } from './discharge.ts'
import { listAlerts, acknowledgeAlert, alertsSince, latestAlertId } from './alert.ts'
import { recheckOpenAdmissions } from './recheck.ts'
import { checkListStale, listViewOf } from './list-state.ts'
import { profileView, checkLocalSettings } from './profile-state.ts'
import { recordSettlement, cancelSettlement, type SettlementRequest } from './settlement.ts'
import { replaceTariffs } from './tariff.ts'
import { admissionNotice } from './notice.ts'
import { burdenReport } from './burden-report.ts'
import type { TariffRecord } from '../../lists/read-tariff.ts'
import { signIn, signOut, sessionUser, purgeIdleSessions } from './staff-session.ts'
import {
  createToken, listTokens, revokeToken, listStaff, addStaff, setStaffPassword, disableStaff, unlockStaff,
  recordAction, noteTokenUse, type TokenRole, type StaffRole
} from './accounts.ts'
import type { SpendingStatus } from './spending.ts'
import { catalogStatus, catalogItem, catalogSearch, catalogDrift } from './catalog.ts'

export function createRules (ctx: RulesContext) {
  return {
    ctx,
    // Admission and eligibility (2401)
    recordAdmission: async (actor: Actor, body: AdmissionRequest) => await recordAdmission(ctx, actor, body),
    checkEligibility: async (actor: Actor, body: EligibilityRequest) => await checkEligibility(ctx, actor, body),
    // Charges (2301/2302) and the order precheck
    applyCharges: async (actor: Actor, mdtrtId: string, lines: FeeDetail[]) => await applyCharges(ctx, actor, mdtrtId, lines),
    cancelCharge: async (actor: Actor, mdtrtId: string, sn: string) => await cancelCharge(ctx, actor, mdtrtId, sn),
    precheck: (mdtrtId: string, lines: FeeDetail[]) => precheck(ctx, mdtrtId, lines),
    // Stays, exemptions, the discharge gate and discharge (2402)
    stayDetail: (mdtrtId: string) => stayDetail(ctx, mdtrtId),
    viewStay: async (actor: Actor, mdtrtId: string) => await viewStay(ctx, actor, mdtrtId),
    inpatients: (filter: { status?: SpendingStatus, dept?: string }) => inpatients(ctx, filter),
    statusCounts: () => statusCounts(ctx),
    recordExemption: async (actor: Actor, mdtrtId: string, body: ExemptionRequest) => await recordExemption(ctx, actor, mdtrtId, body),
    dischargeCheck: (mdtrtId: string) => dischargeCheck(ctx, mdtrtId),
    discharge: async (actor: Actor, mdtrtId: string, body: DischargeRequest) => await discharge(ctx, actor, mdtrtId, body),
    // Settlements (2303/2304/2305) and the patient's own burden
    recordSettlement: async (actor: Actor, mdtrtId: string, body: SettlementRequest) => await recordSettlement(ctx, actor, mdtrtId, body),
    cancelSettlement: async (actor: Actor, mdtrtId: string, setlId: string) => await cancelSettlement(ctx, actor, mdtrtId, setlId),
    admissionNotice: async (actor: Actor, mdtrtId: string) => await admissionNotice(ctx, actor, mdtrtId),
    burdenReport: async (actor: Actor, month: string) => await burdenReport(ctx, actor, month),
    replaceTariffs: async (actor: Actor, rows: TariffRecord[], source: string) => await replaceTariffs(ctx, actor, rows, source),
    // Alerts
    listAlerts: (state: 'open' | 'all' | undefined, limit?: number) => listAlerts(ctx, state, limit),
    acknowledgeAlert: async (actor: Actor, id: number, named?: string) => await acknowledgeAlert(ctx, actor, id, named),
    alertsSince: (id: number) => alertsSince(ctx, id),
    latestAlertId: () => latestAlertId(ctx),
    // The list as served
    listView: () => listViewOf(ctx),
    checkListStale: async () => await checkListStale(ctx),
    recheckOpenAdmissions: async (seq: number | null) => await recheckOpenAdmissions(ctx, seq),
    // The region's rules as applied, and the local settings they need
    profileView: () => profileView(ctx),
    checkLocalSettings: async () => await checkLocalSettings(ctx),
    // Staff sessions
    signIn: async (name: string, password: string, ip: string) => await signIn(ctx, name, password, ip),
    signOut: async (token: string) => await signOut(ctx, token),
    sessionUser: (token: string, background: boolean, onTouchError?: (err: unknown) => void) => sessionUser(ctx, token, background, onTouchError),
    purgeIdleSessions: async () => await purgeIdleSessions(ctx),
    // Tokens and staff accounts
    createToken: async (actor: Actor, name: string, role: TokenRole) => await createToken(ctx, actor, name, role),
    listTokens: () => listTokens(ctx),
    revokeToken: async (actor: Actor, idOrName: string, opts?: { byName?: boolean }) => await revokeToken(ctx, actor, idOrName, opts),
    noteTokenUse: async (id: string) => await noteTokenUse(ctx, id),
    listStaff: () => listStaff(ctx),
    addStaff: async (actor: Actor, u: { name: string, role: StaffRole, password: string }) => await addStaff(ctx, actor, u),
    setStaffPassword: async (actor: Actor, name: string, password: string) => await setStaffPassword(ctx, actor, name, password),
    disableStaff: async (actor: Actor, name: string) => await disableStaff(ctx, actor, name),
    unlockStaff: async (actor: Actor, name: string) => await unlockStaff(ctx, actor, name),
    recordAction: async (actor: Actor, action: string, decision?: string | null) => await recordAction(ctx, actor, action, decision),
    // The insurance catalog: what is loaded, an item, a search, items whose HIS level disagrees
    catalogStatus: () => catalogStatus(ctx),
    catalogItem: (code: string) => catalogItem(ctx, code),
    catalogSearch: (q: string, limit?: number) => catalogSearch(ctx, q, limit),
    catalogDrift: (limit?: number) => catalogDrift(ctx, limit)
  }
}

export type Rules = ReturnType<typeof createRules>

export { createContext, actorName, system, type RulesContext, type Actor, type Settings } from './context.ts'
