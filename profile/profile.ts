// A region profile: how one region names its identity categories, which benefits each category has
// (先诊疗后付费, 一站式结算, spending watched), the in-catalog rule of a stay, the burden thresholds,
// the benefit parameters and the serious-disease code lists. The numbers are the region's policy,
// not the code's: each shipped profile cites its source document and clause, and where the text is
// silent the number is a local setting (a hospital's own file that `extends` the shipped profile)
// or a product choice that says so. A rule whose local setting is missing stays off and says so.
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { schemaFile } from '../base/paths.ts'

/** One-stop settlement as the region's text has it for a category. */
export type OneStopRule = 'always' | 'city_opt_in' | 'never' | 'local'

/** A category as the profile file writes it. */
export interface CategorySpec {
  id: string
  label: string
  aliases: string[]
  priority: number
  /** true/false as the text says, or 'local' where it is silent (local.treat_first_pay_later decides) */
  treat_first_pay_later: boolean | 'local'
  one_stop_settlement: OneStopRule
  monitored: boolean
}

/** A category with the local settings applied: what the rules read. */
export interface CategoryDef {
  /** canonical id, e.g. extreme_poverty */
  id: string
  /** Chinese label shown to staff, e.g. 特困人员 */
  label: string
  /** other names and local codes seen in county exports (7131, 特困供养人员 …) */
  aliases: string[]
  /** higher wins for 多重身份就高不就低 */
  priority: number
  /** whether this identity alone gives 先诊疗后付费 here (false while the local setting it needs is missing) */
  treat_first_pay_later: boolean
  /** whether this identity is settled 一站式 (basic insurance, 大病保险 and 医疗救助 in one bill) */
  one_stop_settlement: boolean
  /** whether the spending of this identity's stays is watched */
  monitored: boolean
  /** the category as the region's text has it, before local settings */
  policy: Pick<CategorySpec, 'treat_first_pay_later' | 'one_stop_settlement'>
}

export interface MedTypeDef { code: string, label: string }

export interface SevereDiseaseGroup {
  id: string
  label: string
  /** ICD-10 codes: '3-char range' (C00-C97), or a prefix (N18.5, A15.000x016) */
  codes: string[]
  /** when set, a matching broad code also needs the diagnosis name to contain one of these */
  name_contains?: string[]
  /** when set, another diagnosis of the same stay must match one of these prefixes (N18.5 needs Z49 dialysis) */
  requires_any?: string[]
  /** procedures of the same stay that satisfy requires_any as a diagnosis would (39.95 血液透析) */
  requires_any_procedures?: string[]
  /** ICD-9-CM-3 procedure prefixes that put a stay in this group (heart and intracranial surgery) */
  procedures?: string[]
  source?: string
}

export type Comparison = '>=' | '>'

export interface Threshold { amount_fen: number | null, comparison: Comparison, local_key?: string, source?: string }

export interface AnnualBurdenSpec {
  population: 'listed' | 'others'
  categories?: string[]
  threshold: Threshold
  out_of_catalog_share?: { share: number, comparison: Comparison }
  source?: string
}

export interface TargetSpec {
  measure: 'reimbursement_ratio' | 'protection_ratio' | 'psn_part_ratio'
  scope?: 'inpatient' | 'outpatient_chronic'
  value: number
  comparison: '>=' | '>' | '<=' | '<'
  categories: string[]
  source?: string
}

export interface SpendingSpec {
  limit: { out_of_catalog_share: number | null, breach_when: Comparison, source: 'policy' | 'agreement' | 'local', required?: boolean }
  hospital_bears_excess: boolean
  warning_margin: number
  min_alert_total_fen: number
  overlmt_counts_as_out_of_catalog: boolean
  exempt_single_disease: boolean
  special_case_approval: boolean
}

export interface LocalSettings {
  treat_first_pay_later?: string[]
  one_stop_city_opt_in?: boolean
  one_stop_settlement?: string[]
  out_of_catalog_max?: number
  out_of_catalog_breach_when?: Comparison
  single_disease_med_types?: string[]
  single_disease_dise_codes?: string[]
  in_county?: boolean
  annual_burden_fen?: number
}

/** A profile file as written (schemas/profile.schema.json). */
export interface ProfileSpec {
  id: string
  name: string
  region: string
  sources: string[]
  priority_basis: { source: 'policy' | 'product' }
  /** one short citation (or "local setting" / "product choice") per yes/no rule, for people */
  clauses: { identity_window: string, priority: string, treat_first_pay_later: string, one_stop_settlement: string, spending: string }
  categories: CategorySpec[]
  treat_first_pay_later: { excluded_med_types: MedTypeDef[], scope: 'all' | 'in_county' }
  spending: SpendingSpec | null
  burden: {
    annual: AnnualBurdenSpec[]
    stay_estimate: { categories: string[], threshold: Threshold, source?: string } | null
  }
  benefits: {
    targets: TargetSpec[]
    critical_illness_insurance: { no_deductible: boolean, ratio_bonus_points: number, no_cap: boolean, inpatient_ratio_bonus_points?: number, categories: string[], source?: string } | null
    reassistance: { rate: number, threshold_fen: number, annual_cap_fen: number, categories: string[], source?: string } | null
    assistance_deductible?: { follows_last_year_until_published?: boolean }
    notes?: string[]
  }
  severe_diseases: SevereDiseaseGroup[]
  local: LocalSettings
}

/** The in-catalog rule of a stay with its local settings applied. */
export interface SpendingRule {
  /** the largest out-of-catalog share of a stay's total (0.1 = 10 %) */
  limitShare: number
  /** '>': a share above the limit breaks it (exactly at the limit is within); '>=': at the limit breaks it */
  breachWhen: Comparison
  /** staff are warned from limitShare − warningMargin */
  warningMargin: number
  minAlertFen: number
  /** whether the hospital bears the excess (000 五(二)2); false: nothing says it does */
  hospitalBears: boolean
  source: 'policy' | 'agreement' | 'local'
  /** whether staff may ask the health and insurance departments to approve a special case (000 五(二)2) */
  specialCaseApproval: boolean
  /** the stays exempt as 单病种付费, or null where the text exempts none */
  singleDisease: { medTypes: string[], diseCodes: string[] } | null
}

/** A local setting a rule needs and the hospital has not given: the rule stays off until it is set. */
export interface MissingSetting {
  key: keyof LocalSettings
  /** for staff and IT, Chinese with the setting's name and what stays off */
  message: string
}

export interface LoadedProfile extends Omit<ProfileSpec, 'categories'> {
  categories: CategoryDef[]
  /** lookup by id, label, alias, case- and width-insensitive */
  categoryIndex: Map<string, CategoryDef>
  categoryById: Map<string, CategoryDef>
  /** the in-catalog rule, or null when the region has none or its local threshold is missing */
  spendingRule: SpendingRule | null
  /** why spendingRule is null (a sentence for staff), or null when there is a rule */
  spendingOff: string | null
  /** why nobody is granted 先诊疗后付费 (a sentence for staff), or null */
  treatFirstOff: string | null
  /** whether 超限价 counts as out of catalog where the HIS sends the platform's split */
  overlmtCountsAsOutOfCatalog: boolean
  missingLocal: MissingSetting[]
  /** the file FANGPIN_PROFILE names (a hospital's local settings, or a whole profile); null for a shipped id */
  localFile: string | null
  /** shipped: by id; local: a hospital's local settings extending a shipped profile; file: a whole profile file */
  kind: 'shipped' | 'local' | 'file'
  /** the hospital's name from its own file */
  hospitalName: string | null
}

const here = dirname(fileURLToPath(import.meta.url))
export const PROFILES_DIR = resolve(here, 'profiles')
export const PROFILE_SCHEMA_FILE = schemaFile('profile')
export const PROFILE_LOCAL_SCHEMA_FILE = schemaFile('profile-local')

export class ProfileError extends Error {}

/** The profile used when FANGPIN_PROFILE is not set (the product's first region). */
export const DEFAULT_PROFILE = 'guangxi-liuzhou'

const SHIPPED = ['guangxi-liuzhou', 'shanxi', 'zhejiang-quzhou', 'anhui-yeji', 'shandong-wenshang']

export function shippedProfiles (): string[] {
  return [...SHIPPED]
}

/** Full-width letters and digits to ASCII, blanks removed: county exports mix both. */
export function normaliseLabel (s: string): string {
  return s
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/[\s\u3000]/g, '')
    .toLowerCase()
}

type SchemaError = { instancePath: string, message?: string, params?: Record<string, unknown> }
type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null }
let validators: { profile: Validator, local: Validator } | undefined
function validatorsOf (): { profile: Validator, local: Validator } {
  if (validators === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    ajv.addSchema(JSON.parse(readFileSync(PROFILE_SCHEMA_FILE, 'utf8')))
    ajv.addSchema(JSON.parse(readFileSync(PROFILE_LOCAL_SCHEMA_FILE, 'utf8')))
    validators = { profile: ajv.getSchema('profile') as Validator, local: ajv.getSchema('profile-local') as Validator }
  }
  return validators
}

function problemsOf (v: Validator, data: unknown): string[] {
  if (v(data)) return []
  return (v.errors ?? []).map((e) => {
    // Ajv names an unknown or missing field only in params: without it a misspelt key reads
    // "/spending must NOT have additional properties" and the author cannot tell which one.
    const field = e.params?.additionalProperty ?? e.params?.missingProperty
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${typeof field === 'string' ? ` (${field})` : ''}`
  })
}

function pct (share: number): string {
  return `${Math.round(share * 10_000) / 100}%`
}

/**
 * Applies the local settings to a profile and indexes its category names. Missing local settings
 * are collected, each with what stays off, rather than refused: the agent starts and everything
 * that does not need them works.
 */
export function indexProfile (spec: ProfileSpec, local: LocalSettings = spec.local, localFile: string | null = null, hospitalName: string | null = null, kind: LoadedProfile['kind'] = 'shipped'): LoadedProfile {
  const where = `profile ${spec.id}`
  const missing: MissingSetting[] = []
  const categoryIndex = new Map<string, CategoryDef>()
  const categoryById = new Map<string, CategoryDef>()
  const known = new Set(spec.categories.map((c) => c.id))
  const checkIds = (key: keyof LocalSettings, ids: string[] | undefined): void => {
    for (const id of ids ?? []) {
      if (!known.has(id)) throw new ProfileError(`${where}: local.${key} names "${id}", which is not a category of this profile (${[...known].join(', ')})`)
    }
  }
  checkIds('treat_first_pay_later', local.treat_first_pay_later)
  checkIds('one_stop_settlement', local.one_stop_settlement)

  const needsLocalTreatFirst = spec.categories.some((c) => c.treat_first_pay_later === 'local')
  if (needsLocalTreatFirst && local.treat_first_pay_later === undefined) {
    missing.push({ key: 'treat_first_pay_later', message: '本地区政策文件未规定哪些人员享受先诊疗后付费：请在本地设置 local.treat_first_pay_later 中列出人员类别；设置前不对任何人作先诊疗后付费判定' })
  }
  const needsCityOptIn = spec.categories.some((c) => c.one_stop_settlement === 'city_opt_in')
  if (needsCityOptIn && local.one_stop_city_opt_in === undefined) {
    const who = spec.categories.filter((c) => c.one_stop_settlement === 'city_opt_in').map((c) => c.label).join('、')
    missing.push({ key: 'one_stop_city_opt_in', message: `${who}是否纳入一站式结算由各市决定：请在本地设置 local.one_stop_city_opt_in 中说明本市是否纳入；设置前按未纳入答复` })
  }
  const needsLocalOneStop = spec.categories.some((c) => c.one_stop_settlement === 'local')
  if (needsLocalOneStop && local.one_stop_settlement === undefined) {
    missing.push({ key: 'one_stop_settlement', message: '本地区政策文件未规定哪些人员纳入一站式结算：请在本地设置 local.one_stop_settlement 中列出人员类别；设置前按未纳入答复' })
  }

  const categories: CategoryDef[] = spec.categories.map((c) => {
    const treatFirst = c.treat_first_pay_later === 'local' ? (local.treat_first_pay_later ?? []).includes(c.id) : c.treat_first_pay_later
    const oneStop = c.one_stop_settlement === 'always' ||
      (c.one_stop_settlement === 'city_opt_in' && local.one_stop_city_opt_in === true) ||
      (c.one_stop_settlement === 'local' && (local.one_stop_settlement ?? []).includes(c.id))
    return {
      id: c.id,
      label: c.label,
      aliases: c.aliases,
      priority: c.priority,
      treat_first_pay_later: treatFirst,
      one_stop_settlement: oneStop,
      monitored: c.monitored,
      policy: { treat_first_pay_later: c.treat_first_pay_later, one_stop_settlement: c.one_stop_settlement }
    }
  })
  for (const c of categories) {
    // A repeated id would silently replace the first definition (its priority, its switch).
    if (categoryById.has(c.id)) throw new ProfileError(`${where}: category ${c.id} is listed twice`)
    categoryById.set(c.id, c)
    for (const name of [c.id, c.label, ...c.aliases]) {
      const key = normaliseLabel(name)
      const clash = categoryIndex.get(key)
      if (clash !== undefined && clash.id !== c.id) {
        throw new ProfileError(`${where}: alias "${name}" names both ${clash.id} and ${c.id}`)
      }
      categoryIndex.set(key, c)
    }
  }
  const referenced = [
    ...spec.burden.annual.flatMap((a) => a.categories ?? []),
    ...(spec.burden.stay_estimate?.categories ?? []),
    ...spec.benefits.targets.flatMap((t) => t.categories),
    ...(spec.benefits.critical_illness_insurance?.categories ?? []),
    ...(spec.benefits.reassistance?.categories ?? [])
  ]
  for (const id of referenced) {
    if (!categoryById.has(id)) throw new ProfileError(`${where}: a burden or benefit rule names category "${id}", which the profile does not have`)
  }

  let treatFirstOff: string | null = null
  if (needsLocalTreatFirst && local.treat_first_pay_later === undefined) treatFirstOff = '本地区政策文件未规定先诊疗后付费对象，医院尚未在本地设置中指定，本系统不作先诊疗后付费判定'
  if (spec.treat_first_pay_later.scope === 'in_county') {
    if (local.in_county === undefined) {
      missing.push({ key: 'in_county', message: '先诊疗后付费由县域内定点医疗机构执行（000 五(一)1）：请在本地设置 local.in_county 中说明本院是否县域内医疗机构；设置前不作先诊疗后付费判定' })
      treatFirstOff = '先诊疗后付费由县域内定点医疗机构执行，医院尚未设置是否县域内，本系统不作先诊疗后付费判定'
    } else if (!local.in_county) {
      treatFirstOff = '先诊疗后付费由县域内定点医疗机构执行（000 五(一)1），本院不在县域内，不适用'
    }
  }

  let spendingRule: SpendingRule | null = null
  let spendingOff: string | null = null
  const s = spec.spending
  if (s === null) {
    spendingOff = '本地区政策未规定住院目录外费用占比上限'
  } else {
    const share = s.limit.out_of_catalog_share ?? local.out_of_catalog_max ?? null
    const breachWhen = s.limit.out_of_catalog_share === null ? (local.out_of_catalog_breach_when ?? s.limit.breach_when) : s.limit.breach_when
    if (share === null) {
      const what = s.limit.source === 'agreement' ? '医保协议约定的自费费用占比' : '本院的目录外费用占比上限'
      spendingOff = `${what}尚未在本地设置 local.out_of_catalog_max 中填写，暂不按比例预警`
      if (s.limit.required !== false) missing.push({ key: 'out_of_catalog_max', message: `${what}：请在本地设置 local.out_of_catalog_max 中填写（如 0.1 即 10%）；设置前目录外费用占比规则暂停` })
    } else {
      const medTypes = local.single_disease_med_types ?? []
      const diseCodes = local.single_disease_dise_codes ?? []
      spendingRule = {
        limitShare: share,
        breachWhen,
        warningMargin: s.warning_margin,
        minAlertFen: s.min_alert_total_fen,
        hospitalBears: s.hospital_bears_excess,
        source: s.limit.source,
        specialCaseApproval: s.special_case_approval,
        singleDisease: s.exempt_single_disease ? { medTypes, diseCodes } : null
      }
      if (s.warning_margin > share) throw new ProfileError(`${where}: spending.warning_margin ${pct(s.warning_margin)} is larger than the limit ${pct(share)}`)
    }
  }
  for (const a of spec.burden.annual) {
    if (a.threshold.amount_fen === null && a.threshold.local_key === 'annual_burden_fen' && local.annual_burden_fen === undefined) {
      missing.push({ key: 'annual_burden_fen', message: '年度累计个人负担的预警值文件未规定金额：请在本地设置 local.annual_burden_fen 中填写（分）；设置前不作年度负担预警' })
    }
  }
  checkSevereDiseases(spec)
  return {
    ...spec,
    local,
    categories,
    categoryIndex,
    categoryById,
    spendingRule,
    spendingOff,
    treatFirstOff,
    overlmtCountsAsOutOfCatalog: s?.overlmt_counts_as_out_of_catalog ?? false,
    missingLocal: missing,
    localFile,
    kind,
    hospitalName
  }
}

// What the schema cannot say about the serious-disease groups, checked at load so a bad profile
// fails at start rather than on the first admission.
function checkSevereDiseases (profile: ProfileSpec): void {
  const ids = new Set<string>()
  for (const g of profile.severe_diseases) {
    if (ids.has(g.id)) throw new ProfileError(`profile ${profile.id}: severe disease group ${g.id} is listed twice`)
    ids.add(g.id)
    for (const code of [...g.codes, ...(g.requires_any ?? [])]) {
      const range = /^([A-Z][0-9]{2})-([A-Z][0-9]{2})$/.exec(code)
      if (range !== null && range[1] > range[2]) throw new ProfileError(`profile ${profile.id}: severe disease group ${g.id}: range ${code} runs backwards`)
    }
  }
}

function readJson (file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ProfileError(`profile ${file} is not valid JSON: ${(err as Error).message}`)
  }
}

/** A shipped profile as its file writes it (validated), a fresh copy: for tools and variations. */
export function shippedSpec (id: string): ProfileSpec {
  const file = join(PROFILES_DIR, `${id}.json`)
  if (!SHIPPED.includes(id) || !existsSync(file)) {
    throw new ProfileError(`unknown profile "${id}": not a shipped profile (${SHIPPED.join(', ')})`)
  }
  const data = readJson(file)
  const problems = problemsOf(validatorsOf().profile, data)
  if (problems.length > 0) throw new ProfileError(`profile ${file} does not match schemas/profile.schema.json: ${problems.join('; ')}`)
  return data as ProfileSpec
}

/**
 * Loads a profile by id (a file shipped in profile/profiles), or by the path of a file: a whole
 * profile, or a hospital's local settings that `extends` a shipped one (schemas/profile-local).
 */
export function loadProfile (idOrPath: string): LoadedProfile {
  if (/^[a-z0-9-]+$/.test(idOrPath) && SHIPPED.includes(idOrPath)) return indexProfile(shippedSpec(idOrPath))
  const file = resolve(idOrPath)
  if (!existsSync(file)) {
    throw new ProfileError(`unknown profile "${idOrPath}": not a shipped profile (${SHIPPED.join(', ')}) and no such file`)
  }
  const data = readJson(file)
  if (data !== null && typeof data === 'object' && 'extends' in data) {
    const problems = problemsOf(validatorsOf().local, data)
    if (problems.length > 0) throw new ProfileError(`local settings ${file} do not match schemas/profile-local.schema.json: ${problems.join('; ')}`)
    const own = data as { extends: string, name?: string, local: LocalSettings }
    const base = shippedSpec(own.extends)
    return indexProfile(base, { ...base.local, ...own.local }, file, own.name ?? null, 'local')
  }
  const problems = problemsOf(validatorsOf().profile, data)
  if (problems.length > 0) throw new ProfileError(`profile ${file} does not match schemas/profile.schema.json: ${problems.join('; ')}`)
  return indexProfile(data as ProfileSpec, (data as ProfileSpec).local, file, null, 'file')
}

/** The canonical category named by an id, a Chinese label, an alias or a local code; undefined if unknown. */
export function resolveCategory (profile: LoadedProfile, raw: string): CategoryDef | undefined {
  return profile.categoryIndex.get(normaliseLabel(raw))
}
