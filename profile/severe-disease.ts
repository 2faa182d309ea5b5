// Serious-disease flags (000 附件1 重病范围), at admission and again with the diagnoses the HIS sends later. The code lists live in the region
// profile; this module only matches. It runs on every admission, so each profile is compiled once
// into an index keyed by ICD-10 category (3 characters) and ICD-9-CM-3 category (2 digits).
import { normaliseLabel, ProfileError, type SevereDiseaseGroup } from './profile.ts'

/** What the matcher needs of a profile. */
interface Profile { id: string, severe_diseases: SevereDiseaseGroup[] }

export interface DiagnosisInput { diag_code: string, diag_name?: string | null }
export interface ProcedureInput { oprn_oprt_code: string, oprn_oprt_name?: string | null }
export interface SevereDiseaseMatch { group: string, label: string, codes: string[] }

interface DiagEntry {
  group: number
  /** normalised prefix; '' when the entry covers the whole category (a range or a bare category) */
  prefix: string
  /** matches only when the diagnosis name contains one of the group's name_contains */
  needsName: boolean
}

interface ProcEntry { group: number, prefix: string }

interface CompiledGroup {
  def: SevereDiseaseGroup
  needles: string[]
  /** category → prefixes ('' = whole category) that satisfy requires_any; null when the group has none */
  requires: Map<string, string[]> | null
  /** normalised procedure prefixes that satisfy requires_any too (dialysis recorded as a procedure) */
  requiresProcedures: string[]
}

interface Compiled {
  groups: CompiledGroup[]
  diag: Map<string, DiagEntry[]>
  proc: Map<string, ProcEntry[]>
}

const cache = new WeakMap<Profile, Compiled>()

/**
 * HIS systems send `C34.900x001`, `c34.900X001`, `C34900X001` or `A01.000x005+J17.0*` for the same
 * thing: compare without the dot, upper-cased, on the first code of a dagger/asterisk pair.
 */
export function normaliseCode (raw: string): string {
  const first = raw.trim().split(/[+*†‡\s]/, 1)[0]
  return first.replace(/\./g, '').toUpperCase()
}

const RANGE = /^([A-Z][0-9]{2})-([A-Z][0-9]{2})$/
const CATEGORY = /^[A-Z][0-9]{2}$/

// A range of 3-character categories, inclusive: C00-C97 → C00, C01 … C97 (across letters too).
function expandRange (from: string, to: string, where: string): string[] {
  if (from > to) throw new ProfileError(`${where}: range ${from}-${to} runs backwards`)
  const out: string[] = []
  for (let l = from.charCodeAt(0); l <= to.charCodeAt(0); l++) {
    const lo = l === from.charCodeAt(0) ? Number(from.slice(1)) : 0
    const hi = l === to.charCodeAt(0) ? Number(to.slice(1)) : 99
    for (let n = lo; n <= hi; n++) out.push(String.fromCharCode(l) + String(n).padStart(2, '0'))
  }
  return out
}

/** category → prefixes; a whole category is the empty prefix. */
function icdTargets (code: string, where: string): Array<{ category: string, prefix: string, broad: boolean }> {
  const c = code.trim().toUpperCase()
  const range = RANGE.exec(c)
  if (range !== null) return expandRange(range[1], range[2], where).map((category) => ({ category, prefix: '', broad: true }))
  const norm = normaliseCode(c)
  if (!/^[A-Z][0-9]{2}/.test(norm)) throw new ProfileError(`${where}: "${code}" is not an ICD-10 code or range`)
  const category = norm.slice(0, 3)
  return [{ category, prefix: norm.length > 3 ? norm : '', broad: CATEGORY.test(c) }]
}

function push<T> (map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

function compile (profile: Profile): Compiled {
  const groups: CompiledGroup[] = []
  const diag = new Map<string, DiagEntry[]>()
  const proc = new Map<string, ProcEntry[]>()
  const seen = new Set<string>()
  profile.severe_diseases.forEach((def, group) => {
    const where = `profile ${profile.id}: severe disease group ${def.id}`
    if (seen.has(def.id)) throw new ProfileError(`${where} is listed twice`)
    seen.add(def.id)
    const needles = (def.name_contains ?? []).map(normaliseLabel).filter((s) => s !== '')
    let requires: Map<string, string[]> | null = null
    if (def.requires_any !== undefined && def.requires_any.length > 0) {
      requires = new Map()
      for (const code of def.requires_any) {
        for (const t of icdTargets(code, where)) push(requires, t.category, t.prefix)
      }
    }
    const requiresProcedures = (def.requires_any_procedures ?? []).map((code) => {
      const norm = normaliseCode(code)
      if (!/^[0-9]{2}/.test(norm)) throw new ProfileError(`${where}: "${code}" is not an ICD-9-CM-3 procedure code`)
      return norm
    })
    groups.push({ def, needles, requires, requiresProcedures })
    for (const code of def.codes) {
      // A range or a bare category is too wide on its own when the group names what to look for
      // (A15-A19 is all tuberculosis, only 耐多药 counts); a longer prefix was picked on purpose.
      for (const t of icdTargets(code, where)) push(diag, t.category, { group, prefix: t.prefix, needsName: t.broad && needles.length > 0 })
    }
    for (const code of def.procedures ?? []) {
      const norm = normaliseCode(code)
      if (!/^[0-9]{2}/.test(norm)) throw new ProfileError(`${where}: "${code}" is not an ICD-9-CM-3 procedure code`)
      push(proc, norm.slice(0, 2), { group, prefix: norm })
    }
  })
  return { groups, diag, proc }
}

function compiled (profile: Profile): Compiled {
  let c = cache.get(profile)
  if (c === undefined) {
    c = compile(profile)
    cache.set(profile, c)
  }
  return c
}

function matchesAny (targets: Map<string, string[]>, norm: string): boolean {
  const prefixes = targets.get(norm.slice(0, 3))
  return prefixes !== undefined && prefixes.some((p) => norm.startsWith(p))
}

/**
 * The serious-disease groups an admission falls in, in profile order, each with the input codes
 * (as given, without repeats) that put it there. Unknown or malformed codes simply match nothing:
 * the flag is advice to staff and must never turn an admission into an error.
 */
export function matchSevereDiseases (profile: Profile, diagnoses: DiagnosisInput[], procedures: ProcedureInput[] = []): SevereDiseaseMatch[] {
  const c = compiled(profile)
  if (c.groups.length === 0) return []
  const diags = diagnoses
    .filter((d) => typeof d?.diag_code === 'string')
    .map((d) => ({ raw: d.diag_code, norm: normaliseCode(d.diag_code), name: d.diag_name }))
  const procs = procedures
    .filter((p) => typeof p?.oprn_oprt_code === 'string')
    .map((p) => ({ raw: p.oprn_oprt_code, norm: normaliseCode(p.oprn_oprt_code) }))
  const hits = new Map<number, string[]>()
  const hit = (group: number, raw: string): void => {
    const list = hits.get(group)
    if (list === undefined) hits.set(group, [raw])
    else if (!list.includes(raw)) list.push(raw)
  }
  // requires_any is a property of the whole admission: computed once per group, only when needed.
  const requiresMet = new Map<number, boolean>()
  const requirementMet = (group: number): boolean => {
    const req = c.groups[group].requires
    if (req === null) return true
    let met = requiresMet.get(group)
    if (met === undefined) {
      const viaProcedure = c.groups[group].requiresProcedures
      met = diags.some((d) => matchesAny(req, d.norm)) || procs.some((p) => viaProcedure.some((prefix) => p.norm.startsWith(prefix)))
      requiresMet.set(group, met)
    }
    return met
  }

  for (const d of diags) {
    const entries = c.diag.get(d.norm.slice(0, 3))
    if (entries === undefined) continue
    let name: string | undefined
    const matched = new Set<number>()
    for (const e of entries) {
      if (matched.has(e.group) || !d.norm.startsWith(e.prefix)) continue
      if (e.needsName) {
        if (typeof d.name !== 'string') continue
        name ??= normaliseLabel(d.name)
        const n = name
        if (!c.groups[e.group].needles.some((needle) => n.includes(needle))) continue
      }
      if (!requirementMet(e.group)) continue
      matched.add(e.group)
      hit(e.group, d.raw)
    }
  }

  for (const p of procs) {
    for (const e of c.proc.get(p.norm.slice(0, 2)) ?? []) {
      if (p.norm.startsWith(e.prefix)) hit(e.group, p.raw)
    }
  }

  const out: SevereDiseaseMatch[] = []
  c.groups.forEach((g, i) => {
    const codes = hits.get(i)
    if (codes !== undefined) out.push({ group: g.def.id, label: g.def.label, codes })
  })
  return out
}
