// Recording an admission (2401) and answering it. The answer is computed once and stored with the
// admission: a retry of the same request gets the same answer even if the list changed since, and
// a different certno under the same mdtrt_id is refused (two patients on one visit id is an HIS bug).
import { keyedMac } from '../../identity/subject-key.ts'
import { maskName } from '../../identity/name.ts'
import { FangpinConflict, FangpinListNotLoaded } from '../errors.ts'
import { decide, monitoredIdentity, storedDecision, type Decision } from './eligibility.ts'
import { normaliseSubject, hisTime, certTypeOf, checkVisitId } from './subject.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'
import { isSingleDisease, refreshAlerts, trimId } from './stay.ts'
import { noteCorrection, auditedChanges } from './admission-correction.ts'
import { estimateStay, estimateReaches, NO_ESTIMATE, type Estimate } from './estimate.ts'
import { mainDiagCategory } from './stay-burden.ts'
import { estimateCard, estimateAlertText } from './voice.ts'

export interface AdmissionRequest {
  mdtrt_id: string
  certno: string
  psn_cert_type: string
  psn_name?: string
  begntime?: string
  med_type?: string
  dise_codg?: string
  dise_name?: string
  adm_dept_codg?: string
  adm_dept_name?: string
  diseinfo?: Array<{ diag_code: string, diag_name?: string, maindiag_flag?: string }>
  oprninfo?: Array<{ oprn_oprt_code: string, oprn_oprt_name?: string }>
  /** the stay's DRG group or pre-grouping (the estimate's tariff basis) */
  drg_codg?: string
}

export type AdmissionAnswer = Decision & { mdtrt_id: string, estimate: Estimate }

/** An answer stored before the estimate existed says it had none. */
export function storedAdmission (profile: Parameters<typeof storedDecision>[0], stored: Partial<AdmissionAnswer>): AdmissionAnswer {
  const d = storedDecision(profile, stored) as AdmissionAnswer
  return d.estimate === undefined ? { ...d, estimate: NO_ESTIMATE } : d
}

export interface AdmissionOutcome {
  answer: AdmissionAnswer
  /** 'created' | 'replayed' (same request again) | 'updated' (same patient, corrected details) */
  outcome: 'created' | 'replayed' | 'updated'
}

/** Key order must not change the MAC: HIS vendors serialise fields in any order. */
function canonical (value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']'
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical((value as Record<string, unknown>)[k])).join(',') + '}'
  }
  return JSON.stringify(value)
}

export async function recordAdmission (ctx: RulesContext, actor: Actor, request: AdmissionRequest): Promise<AdmissionOutcome> {
  // HIS columns are often fixed-width: ' ZY001 ' and 'ZY001' are the same visit. A certificate
  // type that lost its leading zero in some export on the way is still its code.
  const body = { ...request, mdtrt_id: trimId(request.mdtrt_id), psn_cert_type: certTypeOf(request.psn_cert_type) }
  checkVisitId(body.mdtrt_id)
  // Requests for the same mdtrt_id in flight at once (an HIS retrying before the first answer) are
  // taken one after the other, so the second sees the first one's stored admission.
  return await ctx.serial(`admission:${body.mdtrt_id}`, async () => await admitOnce(ctx, actor, body))
}

async function admitOnce (ctx: RulesContext, actor: Actor, body: AdmissionRequest): Promise<AdmissionOutcome> {
  const { store, profile, settings } = ctx
  const client = actorName(actor)
  const certType = body.psn_cert_type
  const certno = normaliseSubject(body.certno, certType)
  const begntime = hisTime(body.begntime, 'begntime', settings.tz)
  const pk = store.list.keyOf(certType, certno)
  // Only the fields the agent uses take part in the MAC; the HIS may resend its 2401 with other
  // fields changed (a phone number) and that is the same admission.
  const relevant = {
    mdtrt_id: body.mdtrt_id,
    certno,
    psn_cert_type: certType,
    psn_name: body.psn_name ?? null,
    begntime: body.begntime ?? null,
    med_type: body.med_type ?? null,
    adm_dept_codg: body.adm_dept_codg ?? null,
    adm_dept_name: body.adm_dept_name ?? null,
    diseinfo: (body.diseinfo ?? []).map((d) => ({ diag_code: d.diag_code, diag_name: d.diag_name ?? null, maindiag_flag: d.maindiag_flag ?? null })),
    oprninfo: (body.oprninfo ?? []).map((o) => ({ oprn_oprt_code: o.oprn_oprt_code, oprn_oprt_name: o.oprn_oprt_name ?? null })),
    // Only when sent: admissions recorded before the field existed keep their MAC.
    ...(body.dise_codg !== undefined ? { dise_codg: body.dise_codg } : {}),
    ...(body.drg_codg !== undefined ? { drg_codg: body.drg_codg } : {})
  }
  const mac = keyedMac(store.subjectKey, canonical(relevant))

  const { state, person } = store.list.lookup(pk)
  if (state.active_gen === null) {
    throw new FangpinListNotLoaded('no identity list is loaded yet: import one (fangpin import) or configure the registry; ask the patient for documents meanwhile')
  }
  const decision = decide({
    profile,
    person,
    state,
    at: begntime,
    med_type: body.med_type,
    diagnoses: body.diseinfo,
    procedures: body.oprninfo,
    staleHours: settings.staleHours
  })
  const drgCodg = body.drg_codg?.trim() === '' ? null : body.drg_codg?.trim().toUpperCase() ?? null
  const diagnosesJson = JSON.stringify(relevant.diseinfo)
  const mainDiag = mainDiagCategory(relevant.diseinfo)
  // Only a stay the HIS says something about can be estimated: most admissions read nothing more.
  const estimate = drgCodg === null && mainDiag === null ? NO_ESTIMATE : estimateStay(store, { drg_codg: drgCodg, mainDiag, begntime })
  const reaches = estimateReaches(profile, estimate, decision.identities)
  const estimateCards = estimate.basis === null ? [] : [estimateCard(estimate, reaches ? profile.burden.stay_estimate : null)]
  const answer: AdmissionAnswer = { mdtrt_id: body.mdtrt_id, ...decision, cards: [...decision.cards, ...estimateCards], estimate }
  const row = {
    mdtrt_id: body.mdtrt_id,
    person_key: pk,
    psn_cert_type: certType,
    name_masked: maskName(body.psn_name) ?? person?.name_masked ?? null,
    begntime,
    med_type: body.med_type ?? null,
    dise_codg: body.dise_codg?.trim() === '' ? null : body.dise_codg?.trim() ?? null,
    adm_dept_codg: body.adm_dept_codg ?? null,
    adm_dept_name: body.adm_dept_name ?? null,
    diagnoses: diagnosesJson,
    drg_codg: drgCodg,
    procedures: JSON.stringify(relevant.oprninfo),
    request_mac: mac,
    response: JSON.stringify(answer),
    treat_first_pay_later: decision.treat_first_pay_later ? 1 : 0,
    primary_category: decision.primary_identity?.category ?? null,
    list_version: state.version,
    client
  }
  const audit = (action: string): void => store.audit.write({
    client,
    action,
    subject_key: pk,
    mdtrt_id: body.mdtrt_id,
    decision: decision.treat_first_pay_later ? 'granted' : 'not_granted',
    detail: { list_version: state.version, primary: decision.primary_identity?.category ?? null }
  })

  // Nearly every admission is new: insert first (the unique mdtrt_id decides) and read the stored
  // one only when the visit id is taken — a retry, a correction, or an HIS bug. The answer goes out
  // only once the admission and its audit row are committed.
  // The spending side of the stay: watched when the patient has an identity valid at admission
  // whose category the profile monitors, whether or not it carries 先诊疗后付费.
  const stay = {
    mdtrt_id: body.mdtrt_id,
    monitored: monitoredIdentity(profile, decision.identities) !== undefined,
    primary_category: decision.primary_identity?.category ?? null,
    single_disease: isSingleDisease(profile, row.med_type, row.dise_codg),
    // A correction with new diagnoses (2403) matches them again: the stay carries what matches now.
    severe_disease: decision.severe_disease
  }
  const inserted = await store.write(() => {
    if (!store.admissions.insertIfAbsent(row)) return false
    store.stays.upsert(stay)
    audit('admission.lookup')
    if (reaches) raiseEstimateAlert(store, profile, row, estimate)
    return true
  })
  if (inserted) return { answer, outcome: 'created' }

  const existing = store.admissions.key(body.mdtrt_id)!
  if (!existing.person_key.equals(pk) || existing.psn_cert_type !== certType) {
    await store.write(() => store.audit.write({ client, action: 'admission.conflict', subject_key: pk, mdtrt_id: body.mdtrt_id, decision: 'refused' }))
    throw new FangpinConflict(`mdtrt_id ${body.mdtrt_id} is already recorded for another person; a visit id belongs to one patient`)
  }
  if (existing.request_mac === mac) {
    const stored = storedAdmission(profile, JSON.parse(store.admissions.storedResponse(body.mdtrt_id) ?? '{}') as AdmissionAnswer)
    await store.write(() => store.audit.write({ client, action: 'admission.replay', subject_key: pk, mdtrt_id: body.mdtrt_id, decision: stored.treat_first_pay_later ? 'granted' : 'not_granted' }))
    return { answer: stored, outcome: 'replayed' }
  }
  if (existing.status !== 'open') {
    throw new FangpinConflict(`admission ${body.mdtrt_id} is already discharged and cannot be changed`)
  }
  await store.write(() => {
    const before = store.stays.get(body.mdtrt_id)!
    store.admissions.update(row)
    store.stays.upsert(stay)
    const after = store.stays.get(body.mdtrt_id)!
    refreshAlerts(store, profile, after)
    // A correction may make a breached stay exempt (医疗类别 → 单病种): accepted, but staff are told
    // what it changed and what the stay was before, and the audit row keeps both sides.
    noteCorrection(store, profile, before, after)
    // A correction (new diagnoses, a DRG group) may change the estimate: the alert follows it.
    if (reaches) raiseEstimateAlert(store, profile, row, estimate)
    else store.alerts.resolve('admission_estimate', row.mdtrt_id)
    store.audit.write({
      client,
      action: 'admission.update',
      subject_key: pk,
      mdtrt_id: body.mdtrt_id,
      decision: decision.treat_first_pay_later ? 'granted' : 'not_granted',
      detail: { list_version: state.version, primary: decision.primary_identity?.category ?? null, changes: auditedChanges(profile, before, after) }
    })
  })
  return { answer, outcome: 'updated' }
}

function raiseEstimateAlert (store: RulesContext['store'], profile: RulesContext['profile'], row: { mdtrt_id: string, adm_dept_name: string | null, name_masked: string | null }, e: Estimate): void {
  const rule = profile.burden.stay_estimate!
  store.alerts.raise({
    kind: 'admission_estimate',
    level: 'warning',
    mdtrt_id: row.mdtrt_id,
    message: estimateAlertText(row, e, rule),
    detail: { estimate: e, threshold_fen: rule.threshold.amount_fen, source: rule.source ?? null }
  })
}

export interface EligibilityRequest {
  certno: string
  psn_cert_type: string
  at?: string
  med_type?: string
}

export async function checkEligibility (ctx: RulesContext, actor: Actor, request: EligibilityRequest): Promise<Decision> {
  const body = { ...request, psn_cert_type: certTypeOf(request.psn_cert_type) }
  const { store, profile, settings } = ctx
  const certno = normaliseSubject(body.certno, body.psn_cert_type)
  const at = hisTime(body.at, 'at', settings.tz)
  const pk = store.list.keyOf(body.psn_cert_type, certno)
  const { state, person } = store.list.lookup(pk)
  if (state.active_gen === null) {
    throw new FangpinListNotLoaded('no identity list is loaded yet: import one (fangpin import) or configure the registry')
  }
  const decision = decide({ profile, person, state, at, med_type: body.med_type, staleHours: settings.staleHours })
  // The lookup's audit row is committed before the answer (a killed agent keeps it) but the answer
  // does not wait for its fsync: it reaches the disk with the next one, at most 50 ms later. Only a
  // power cut in that window can lose it; an admission (a promise to the HIS) always waits.
  await store.write(() => store.audit.write({ client: actorName(actor), action: 'eligibility.lookup', subject_key: pk, decision: decision.treat_first_pay_later ? 'granted' : 'not_granted', detail: { at } }), { durable: false, oneStatement: true })
  return decision
}
