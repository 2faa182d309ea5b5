// The shape every list reader produces (xlsx, csv, registry ndjson), and the checks that are the
// same whatever the file looked like: ID numbers, certificate types, category names, identity
// windows. Keeping them in one place is what makes a county's xlsx and the registry's ndjson of
// the same people give the same records.
import { checkCharacter, normaliseCertno, normaliseOtherCertno } from '../identity/certno.ts'
import type { CertnoProblem } from '../identity/certno.ts'
import { resolveCategory } from '../profile/profile.ts'
import type { CategoryDef, LoadedProfile } from '../profile/profile.ts'

export interface IdentityRecord {
  /** canonical id from the profile */
  category: string
  /** local 'YYYY-MM-DD HH:mm:ss' */
  begntime: string
  /** local, date-only end → 23:59:59; null = open-ended */
  endtime: string | null
  source: string | null
}

export interface ListRecord {
  op: 'upsert' | 'delete'
  /** normalised: 18 chars for type 01 */
  certno: string
  /** default '01' */
  psn_cert_type: string
  psn_name: string | null
  identities: IdentityRecord[]
  /** 年度累计个人负担 in fen, registry files only (the first format; ytd below supersedes it) */
  ytd_oop?: number
  /** the registry's year-to-date figures with their 统计截至 (lists/ytd.ts) */
  ytd?: ListYtd
}

export interface RowProblem {
  /** 1-based row number as the user sees it in Excel / line number in the file; 0 = the file as a whole */
  row: number
  /** the header text as in the file, or field name for ndjson */
  column: string
  value?: string
  /** Chinese, clear: 证件号码校验位错误：应为X */
  reason: string
}

export interface ReadResult {
  format: 'xlsx' | 'csv' | 'ndjson'
  /** good data only, one record per (psn_cert_type, certno) */
  records: ListRecord[]
  problems: RowProblem[]
  /** data rows read (blank rows, title and header rows not counted) */
  rows: number
  goodRows: number
  badRows: number
}

export interface ReadOptions {
  profile: LoadedProfile
  /** default DEFAULT_TZ (base/local-time.ts) */
  tz?: string
  onProgress?: (rowsDone: number, rowsTotal: number | undefined) => void
}

/** Thrown when a file cannot be read as a list at all (wrong format, corrupt, encrypted). */
import type { ListYtd } from './ytd.ts'

export class ListFileError extends Error {
  override name = 'ListFileError'
}

export { RESIDENT_ID, toHalfWidth, normaliseCertType, parseCertType, unknownCertTypeReason } from '../identity/cert-type.ts'
import { RESIDENT_ID, toHalfWidth } from '../identity/cert-type.ts'

const CERTNO_REASONS: Record<CertnoProblem, (raw: string) => string> = {
  bad_length: (raw) => `长度错误：应为18位（或15位旧号码），实际为${raw.length}位`,
  bad_characters: () => '含非法字符：只能是数字，最后一位可为X',
  bad_check_digit: (raw) => `校验位错误：应为${checkCharacter(raw.slice(0, 17))}`,
  bad_date: () => '出生日期无效'
}

export type CertnoCheck = { ok: true, certno: string } | { ok: false, reason: string }

/**
 * Normalises an ID number of the given certificate type. Resident IDs get the full GB 11643
 * check (a 15-digit legacy number is widened to 18); other types are only trimmed and
 * upper-cased, because passports and permits have no check character to verify.
 */
export function checkCertno (certType: string, input: string, today?: Date): CertnoCheck {
  const raw = toHalfWidth(input).replace(/\s/g, '').toUpperCase()
  if (raw === '') return { ok: false, reason: '缺少证件号码' }
  if (certType !== RESIDENT_ID) return { ok: true, certno: normaliseOtherCertno(raw) }
  const r = normaliseCertno(raw, today)
  if (r.ok) return { ok: true, certno: r.certno }
  return { ok: false, reason: CERTNO_REASONS[r.reason](raw) }
}

/**
 * Names as counties type them: two-character names padded with blanks to line up with
 * three-character ones (张　三), stray blanks at either end. Blanks between Chinese characters
 * go; blanks inside Latin-script names (foreign residents) are kept, collapsed to one.
 */
export function normaliseName (raw: string): string | null {
  if (/^[\u3400-\u9FFF]+$/.test(raw)) return raw
  let s = raw.replace(/[\s\u3000]+/g, ' ').trim()
  s = s.replace(/([\u3400-\u9FFF\uF900-\uFAFF·]) (?=[\u3400-\u9FFF\uF900-\uFAFF·])/g, '$1')
  return s === '' ? null : s
}

/** The accepted category labels, short enough for one line of a report. */
export function categoryHint (profile: LoadedProfile): string {
  return profile.categories.map((c) => c.label).join('、') + '（也可用本地代码）'
}

// A county writes several identities of one person into one cell: 低保、脱贫人口 / 低保,脱贫人口.
const CATEGORY_SEPARATORS = /[、，,；;/／\s\u3000]+/

/**
 * Resolves a category cell to profile categories. The whole text is tried first, so an alias
 * that itself contains a separator (a profile may list 特困/孤儿 as one local name) still works.
 */
export function resolveCategories (profile: LoadedProfile, raw: string): { found: CategoryDef[], unknown: string[] } {
  const whole = raw.trim()
  if (whole === '') return { found: [], unknown: [] }
  const direct = resolveCategory(profile, whole)
  if (direct !== undefined) return { found: [direct], unknown: [] }
  const found: CategoryDef[] = []
  const unknown: string[] = []
  for (const part of whole.split(CATEGORY_SEPARATORS)) {
    if (part === '') continue
    const def = resolveCategory(profile, part)
    if (def === undefined) unknown.push(part)
    else if (!found.includes(def)) found.push(def)
  }
  return { found, unknown }
}

export function unknownCategoryReason (profile: LoadedProfile, value: string): string {
  return `无法识别的人员类别「${value}」；可用：${categoryHint(profile)}`
}

function sameIdentity (a: IdentityRecord, b: IdentityRecord): boolean {
  return a.category === b.category && a.begntime === b.begntime && a.endtime === b.endtime && a.source === b.source
}

/** Adds identities to a record, leaving out exact repeats (the same person listed twice in one export). */
export function addIdentities (record: ListRecord, identities: IdentityRecord[]): void {
  for (const id of identities) {
    if (!record.identities.some((x) => sameIdentity(x, id))) record.identities.push(id)
  }
}

export function recordKey (certType: string, certno: string): string {
  return certType + '\u0000' + certno
}
