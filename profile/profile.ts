// A region profile: how one region names its identity categories, which of them qualify for
// 先诊疗后付费, the spending thresholds and the serious-disease code lists. The numbers are the
// region's policy, not the code's: each shipped profile cites its source document.
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { schemaFile } from '../base/paths.ts'

export interface CategoryDef {
  /** canonical id, e.g. extreme_poverty */
  id: string
  /** Chinese label shown to staff, e.g. 特困人员 */
  label: string
  /** other names and local codes seen in county exports (7131, 特困供养人员 …) */
  aliases: string[]
  /** higher wins for 多重身份就高不就低 */
  priority: number
  /** whether this identity alone qualifies for 先诊疗后付费 in this region */
  treat_first_pay_later: boolean
}

export interface MedTypeDef { code: string, label: string }

export interface SevereDiseaseGroup {
  id: string
  label: string
  /** ICD-10 codes: '3-char range' (C00-C97), or a prefix (N18.5, A15.000x016) */
  codes: string[]
  /** when set, a matching code also needs the diagnosis name to contain one of these */
  name_contains?: string[]
  /** when set, another diagnosis of the same stay must match one of these prefixes (N18.5 needs Z49 dialysis) */
  requires_any?: string[]
  /** ICD-9-CM-3 procedure prefixes that put a stay in this group (heart and intracranial surgery) */
  procedures?: string[]
  source?: string
}

export interface Profile {
  id: string
  name: string
  region: string
  sources: string[]
  categories: CategoryDef[]
  treat_first_pay_later: {
    excluded_med_types: MedTypeDef[]
  }
  spending: {
    in_catalog_min: number
    warning_out_of_catalog_share: number
    min_alert_total_fen: number
    overlmt_counts_as_out_of_catalog: boolean
    single_disease_med_types: string[]
  }
  burden: {
    annual_monitored_fen: number
    annual_other_fen: number
    stay_estimate_alert_fen: number
  }
  severe_diseases: SevereDiseaseGroup[]
}

export interface LoadedProfile extends Profile {
  /** lookup by id, label, alias, case- and width-insensitive */
  categoryIndex: Map<string, CategoryDef>
  categoryById: Map<string, CategoryDef>
}

const here = dirname(fileURLToPath(import.meta.url))
export const PROFILES_DIR = resolve(here, 'profiles')
export const PROFILE_SCHEMA_FILE = schemaFile('profile')

export class ProfileError extends Error {}

/** The profile used when FANGPIN_PROFILE is not set (the product's first region). */
export const DEFAULT_PROFILE = 'guangxi-liuzhou'

/** Full-width letters and digits to ASCII, blanks removed: county exports mix both. */
export function normaliseLabel (s: string): string {
  return s
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/[\s\u3000]/g, '')
    .toLowerCase()
}

type SchemaError = { instancePath: string, message?: string, params?: Record<string, unknown> }
let validator: ((data: unknown) => boolean) & { errors?: SchemaError[] | null } | undefined
function validate (data: unknown): string[] {
  if (validator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    validator = ajv.compile(JSON.parse(readFileSync(PROFILE_SCHEMA_FILE, 'utf8')))
  }
  if (validator(data)) return []
  return (validator.errors ?? []).map((e) => {
    // Ajv names an unknown or missing field only in params: without it a misspelt key reads
    // "/spending must NOT have additional properties" and the author cannot tell which one.
    const field = e.params?.additionalProperty ?? e.params?.missingProperty
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${typeof field === 'string' ? ` (${field})` : ''}`
  })
}

export function indexProfile (profile: Profile): LoadedProfile {
  const categoryIndex = new Map<string, CategoryDef>()
  const categoryById = new Map<string, CategoryDef>()
  for (const c of profile.categories) {
    // A repeated id would silently replace the first definition (its priority, its switch).
    if (categoryById.has(c.id)) throw new ProfileError(`profile ${profile.id}: category ${c.id} is listed twice`)
    categoryById.set(c.id, c)
    for (const name of [c.id, c.label, ...c.aliases]) {
      const key = normaliseLabel(name)
      const clash = categoryIndex.get(key)
      if (clash !== undefined && clash.id !== c.id) {
        throw new ProfileError(`profile ${profile.id}: alias "${name}" names both ${clash.id} and ${c.id}`)
      }
      categoryIndex.set(key, c)
    }
  }
  checkSevereDiseases(profile)
  return { ...profile, categoryIndex, categoryById }
}

// What the schema cannot say about the serious-disease groups, checked at load so a bad profile
// fails at start rather than on the first admission.
function checkSevereDiseases (profile: Profile): void {
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

/**
 * Loads a profile by id (a file shipped in profile/profiles) or by path, validates it against
 * schemas/profile.schema.json and indexes its category names.
 */
export function loadProfile (idOrPath: string): LoadedProfile {
  const shipped = join(PROFILES_DIR, `${idOrPath}.json`)
  const file = /^[a-z0-9-]+$/.test(idOrPath) && existsSync(shipped) ? shipped : resolve(idOrPath)
  if (!existsSync(file)) {
    throw new ProfileError(`unknown profile "${idOrPath}": not a shipped profile (${shippedProfiles().join(', ')}) and no such file`)
  }
  let data: unknown
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ProfileError(`profile ${file} is not valid JSON: ${(err as Error).message}`)
  }
  const problems = validate(data)
  if (problems.length > 0) {
    throw new ProfileError(`profile ${file} does not match schemas/profile.schema.json: ${problems.join('; ')}`)
  }
  return indexProfile(data as Profile)
}

export function shippedProfiles (): string[] {
  return ['guangxi-liuzhou', 'shanxi']
}

/** The canonical category named by an id, a Chinese label, an alias or a local code; undefined if unknown. */
export function resolveCategory (profile: LoadedProfile, raw: string): CategoryDef | undefined {
  return profile.categoryIndex.get(normaliseLabel(raw))
}
