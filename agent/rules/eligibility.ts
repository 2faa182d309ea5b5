// The admission decision: may this patient be treated first and pay later (先诊疗后付费), and is
// the stay settled 一站式? Which categories get what is the region profile's: Guangxi 000 四(二)3 and
// 五(一)1 grant 先诊疗后付费 at admission in county hospitals; the other four texts do not speak of it,
// so there it is a local setting, and while that is missing nobody is granted it and the answer says
// why. Identities are evaluated at the admission time, not "now": 000 四(二)3 identifies the patient
// at admission registration (入院登记即识别). Several identities: the highest by the profile's
// priority is primary — 待遇就高不就低 is Shanxi's rule (001 四); elsewhere the profile says the order
// is a product choice (priority_basis).
import type { LoadedProfile } from '../../profile/profile.ts'
import { matchSevereDiseases, type SevereDiseaseMatch } from '../../profile/severe-disease.ts'
import type { ListPerson, ListState, StoredIdentity } from '../store/list.ts'
import { decisionCards, type Card } from './voice.ts'

export type { Card, Indicator } from './voice.ts'

export interface IdentityView {
  category: string
  label: string
  begntime: string
  endtime: string | null
  source: string | null
  treat_first_pay_later: boolean
  one_stop_settlement: boolean
}

export interface ListView {
  version: string | null
  loaded_at: string | null
  age_hours: number | null
  stale: boolean
  demo: boolean
}

export interface Decision {
  treat_first_pay_later: boolean
  /** 一站式结算: basic insurance, 大病保险 and 医疗救助 settled in one bill, for any valid identity that has it */
  one_stop_settlement: boolean
  identities: IdentityView[]
  primary_identity: IdentityView | null
  severe_disease: SevereDiseaseMatch[]
  list: ListView
  cards: Card[]
}

export interface DecisionInput {
  profile: LoadedProfile
  person: ListPerson | null
  state: ListState
  /** local wall-clock time the decision is for (admission time) */
  at: string
  med_type?: string | null
  diagnoses?: Array<{ diag_code: string, diag_name?: string | null }>
  procedures?: Array<{ oprn_oprt_code: string, oprn_oprt_name?: string | null }>
  staleHours: number
  now?: Date
}

export function listView (state: ListState, staleHours: number, now: Date = new Date()): ListView {
  const since = state.data_as_of ?? state.loaded_at
  const age = since === null ? null : Math.max(0, (now.getTime() - Date.parse(since)) / 3_600_000)
  return {
    version: state.version,
    loaded_at: state.loaded_at,
    age_hours: age === null ? null : Math.round(age * 10) / 10,
    stale: age !== null && age > staleHours,
    demo: state.demo
  }
}

export function validAt (identity: StoredIdentity, at: string): boolean {
  return identity.begntime <= at && (identity.endtime === null || at <= identity.endtime)
}

function view (profile: LoadedProfile, identity: StoredIdentity): IdentityView {
  const def = profile.categoryById.get(identity.category)
  return {
    category: identity.category,
    // A category the current profile no longer knows (the list was loaded under another profile)
    // is shown by its id and never qualifies: better a deposit question than a wrong waiver.
    label: def?.label ?? identity.category,
    begntime: identity.begntime,
    endtime: identity.endtime,
    source: identity.source,
    treat_first_pay_later: def?.treat_first_pay_later === true,
    one_stop_settlement: def?.one_stop_settlement === true
  }
}

/**
 * An answer stored before 一站式结算 was part of it (an HIS retry replays the stored answer): the
 * flag is filled from the profile's categories, the same way a new answer computes it.
 */
export function storedDecision<T extends Partial<Decision>> (profile: LoadedProfile, stored: T): T {
  if (stored.identities === undefined || stored.one_stop_settlement !== undefined) return stored
  const fill = (i: IdentityView): IdentityView => ({ ...i, one_stop_settlement: i.one_stop_settlement ?? profile.categoryById.get(i.category)?.one_stop_settlement === true })
  const identities = stored.identities.map(fill)
  return {
    ...stored,
    identities,
    primary_identity: stored.primary_identity == null ? stored.primary_identity : fill(stored.primary_identity),
    one_stop_settlement: identities.some((i) => i.one_stop_settlement)
  }
}

/**
 * Whether a stay's spending is watched: any identity valid for it whose category the profile
 * monitors (000 五(二)2 applies to 困难群众 in hospital whether or not the identity carries
 * 先诊疗后付费; 002's 低收入农户 is on the list but not a 医疗救助对象, so not watched).
 */
export function monitoredIdentity (profile: LoadedProfile, identities: IdentityView[]): IdentityView | undefined {
  return identities.find((i) => profile.categoryById.get(i.category)?.monitored === true)
}

function priority (profile: LoadedProfile, category: string): number {
  return profile.categoryById.get(category)?.priority ?? Number.NEGATIVE_INFINITY
}

export function decide (input: DecisionInput): Decision {
  const { profile, person, state, at } = input
  const list = listView(state, input.staleHours, input.now)
  const all = (person?.identities ?? []).map((i) => view(profile, i))
  const valid = (person?.identities ?? []).filter((i) => validAt(i, at)).map((i) => view(profile, i))
  valid.sort((a, b) => priority(profile, b.category) - priority(profile, a.category))
  const qualifying = valid.filter((i) => i.treat_first_pay_later)
  const medType = input.med_type ?? null
  const excluded = medType === null ? undefined : profile.treat_first_pay_later.excluded_med_types.find((m) => m.code === medType)
  // Off while the local setting it needs is missing, or outside the county where the text limits it
  // to county hospitals (000 五(一)1): nobody is granted it, and the card says why.
  const off = profile.treatFirstOff
  const grant = off === null && qualifying.length > 0 && excluded === undefined
  // The patient is treated under the highest identity that carries the benefit; only when none does
  // is the highest identity of all the primary one.
  const primary = (off === null ? qualifying[0] : undefined) ?? valid[0] ?? null
  const oneStop = valid.some((i) => i.one_stop_settlement)
  const severe = matchSevereDiseases(profile, input.diagnoses ?? [], input.procedures ?? [])
  const cards = decisionCards({
    list,
    staleHours: input.staleHours,
    listed: person !== null,
    all,
    valid,
    at,
    off,
    excluded: excluded ?? null,
    grant,
    primary,
    oneStop,
    orderFromPolicy: profile.priority_basis.source === 'policy',
    severe
  })

  return {
    treat_first_pay_later: grant,
    one_stop_settlement: oneStop,
    identities: valid,
    primary_identity: primary,
    severe_disease: severe,
    list,
    cards
  }
}
