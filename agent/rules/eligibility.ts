// The admission decision: may this patient be treated first and pay later (先诊疗后付费)?
// Policy: 000 四(二)3 and 五(一)1 — identify at admission (入院登记即识别) and grant 先诊疗后付费;
// 001 四 — several identities: 待遇就高不就低; 004 一(三)2 — an identity counts from its start to
// its end (death ends it in that month), so windows are evaluated at the admission time, not "now".
import type { LoadedProfile } from '../../profile/profile.ts'
import { matchSevereDiseases, type SevereDiseaseMatch } from '../../profile/severe-disease.ts'
import type { ListPerson, ListState, StoredIdentity } from '../store/list.ts'
import { datePart } from '../../base/local-time.ts'
import { card, type Card } from './voice.ts'

export type { Card, Indicator } from './voice.ts'

export interface IdentityView {
  category: string
  label: string
  begntime: string
  endtime: string | null
  source: string | null
  treat_first_pay_later: boolean
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
    treat_first_pay_later: def?.treat_first_pay_later === true
  }
}

function priority (profile: LoadedProfile, category: string): number {
  return profile.categoryById.get(category)?.priority ?? Number.NEGATIVE_INFINITY
}

export function decide (input: DecisionInput): Decision {
  const { profile, person, state, at } = input
  const list = listView(state, input.staleHours, input.now)
  const cards: Card[] = []
  if (list.demo) {
    cards.push(card('critical', '当前为内置演示名单（合成数据），结果不得用于真实患者；请导入本县名单或配置名单同步'))
  }
  if (list.stale) {
    cards.push(card('warning', `困难群众名单已${Math.floor(list.age_hours ?? 0)}小时未更新（超过${input.staleHours}小时），结果可能不是最新，请人工核实身份`))
  }

  const all = (person?.identities ?? []).map((i) => view(profile, i))
  const valid = (person?.identities ?? []).filter((i) => validAt(i, at)).map((i) => view(profile, i))
  valid.sort((a, b) => priority(profile, b.category) - priority(profile, a.category))
  const qualifying = valid.filter((i) => i.treat_first_pay_later)
  const medType = input.med_type ?? null
  const excluded = medType === null ? undefined : profile.treat_first_pay_later.excluded_med_types.find((m) => m.code === medType)
  const grant = qualifying.length > 0 && excluded === undefined
  // 就高不就低 (001 四): the patient is treated under the highest identity that carries the benefit;
  // only when none does is the highest identity of all the primary one.
  const primary = qualifying[0] ?? valid[0] ?? null

  if (person === null) {
    cards.push(card('info', `未在困难群众名单中（名单版本${list.version ?? '无'}），不享受先诊疗后付费；如患者持有认定材料，请联系医保窗口核实`))
  } else if (valid.length === 0) {
    for (const i of all) {
      if (i.begntime > at) {
        cards.push(card('warning', `${i.label}身份自${datePart(i.begntime)}起生效，入院时（${datePart(at)}）尚未生效，本次住院不享受先诊疗后付费；如身份已获批，请联系医保窗口核实`))
      } else if (i.endtime !== null && i.endtime < at) {
        cards.push(card('warning', `${i.label}身份已于${datePart(i.endtime)}终止，入院时（${datePart(at)}）已不在有效期内，本次住院不享受先诊疗后付费`))
      }
    }
  } else if (excluded !== undefined) {
    cards.push(card('warning', `${primary!.label}，但医疗类别${excluded.code}（${excluded.label}）按本地区规定不适用先诊疗后付费`))
  } else if (grant) {
    const top = primary!
    const others = valid.filter((i) => i !== top).map((i) => i.label)
    const multi = others.length > 0 ? `；另有身份：${others.join('、')}，按就高不就低以${top.label}享受待遇` : ''
    cards.push(card('info', `${top.label}：可享受先诊疗后付费，入院无需缴纳押金${multi}`))
  } else {
    const labels = valid.map((i) => i.label).join('、')
    cards.push(card('info', `${labels}不在本地区先诊疗后付费范围内，按普通患者办理入院`))
  }

  const severe = matchSevereDiseases(profile, input.diagnoses ?? [], input.procedures ?? [])
  if (severe.length > 0) {
    const what = severe.map((m) => `${m.label}（${m.codes.join('、')}）`).join('；')
    cards.push(card(grant ? 'warning' : 'info', `入院诊断属重病范围：${what}；请优先使用医保目录内药品和项目，关注个人负担`))
  }

  return {
    treat_first_pay_later: grant,
    identities: valid,
    primary_identity: primary,
    severe_disease: severe,
    list,
    cards
  }
}
