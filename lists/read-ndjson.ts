// Registry files: one JSON record per line (NDJSON), usually gzipped, as the publisher tool
// writes snapshots and deltas. A file of a million people is streamed line by line; only the
// records and the set of keys seen are kept.
import { createReadStream, readFileSync } from 'node:fs'
import { readYtd } from './ytd.ts'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'
import { schemaFile } from '../base/paths.ts'
import type { Readable } from 'node:stream'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import { DEFAULT_TZ, parseLocalTime } from '../base/local-time.ts'
import type { LoadedProfile } from '../profile/profile.ts'
import {
  addIdentities, checkCertno, ListFileError, normaliseName, recordKey, resolveCategories,
  RESIDENT_ID, unknownCategoryReason, parseCertType, unknownCertTypeReason
} from './list-record.ts'
import type { IdentityRecord, ListRecord, ReadOptions, ReadResult, RowProblem } from './list-record.ts'

export const REGISTRY_RECORD_SCHEMA_FILE = schemaFile('registry-record')

let validator: ValidateFunction | undefined
function validate (data: unknown): ErrorObject[] {
  if (validator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true })
    validator = ajv.compile(JSON.parse(readFileSync(REGISTRY_RECORD_SCHEMA_FILE, 'utf8')))
  }
  return validator(data) ? [] : validator.errors ?? []
}

/** '/identities/0/begntime' → 'identities[0].begntime', the field name a publisher can search for. */
function fieldName (path: string): string {
  if (path === '') return '整行'
  return path.slice(1).split('/').map((p, i) => /^\d+$/.test(p) ? `[${p}]` : (i === 0 ? p : '.' + p)).join('')
}

function valueAt (data: unknown, path: string): string | undefined {
  let v: unknown = data
  for (const p of path.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[p]
  }
  if (v === undefined) return undefined
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s.length > 80 ? s.slice(0, 80) + '…' : s
}

const TYPE_NAMES: Record<string, string> = { string: '字符串', integer: '整数', number: '数字', array: '数组', object: '对象', null: 'null' }
const TIME_REASON = '时间格式错误：应为YYYY-MM-DD HH:mm:ss、YYYY-MM-DD或带时区的ISO 8601时间'

function schemaProblems (line: number, data: unknown, errors: ErrorObject[]): RowProblem[] {
  const out: RowProblem[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    // if/then only says "the then-branch failed"; the branch's own error says what is wrong.
    if (e.keyword === 'if') continue
    let path = e.instancePath
    let reason: string
    const last = path.split('/').pop() ?? ''
    if (e.keyword === 'required') {
      const prop = String((e.params as { missingProperty: string }).missingProperty)
      path = `${path}/${prop}`
      reason = prop === 'identities' ? '缺少字段identities：upsert记录至少需要一个身份' : `缺少字段${prop}`
    } else if (e.keyword === 'additionalProperties') {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty)
      path = `${path}/${prop}`
      reason = `不允许的字段${prop}`
    } else if ((last === 'begntime' || last === 'endtime') && ['pattern', 'type', 'anyOf'].includes(e.keyword)) {
      reason = TIME_REASON
    } else if (e.keyword === 'type') {
      const t = (e.params as { type: string | string[] }).type
      reason = `类型错误：应为${(Array.isArray(t) ? t : [t]).map((x) => TYPE_NAMES[x] ?? x).join('或')}`
    } else if (e.keyword === 'enum') {
      reason = `取值应为：${((e.params as { allowedValues: unknown[] }).allowedValues).join('、')}`
    } else if (e.keyword === 'minItems') {
      reason = 'upsert记录至少需要一个身份'
    } else if (e.keyword === 'minLength') {
      reason = '不能为空'
    } else if (e.keyword === 'maxLength') {
      reason = '过长'
    } else if (e.keyword === 'minimum') {
      reason = '不能为负数'
    } else if (e.keyword === 'pattern') {
      reason = '格式错误'
    } else {
      reason = `不符合格式：${e.message ?? e.keyword}`
    }
    const column = fieldName(path)
    const key = column + '\u0000' + reason
    if (seen.has(key)) continue
    seen.add(key)
    const value = e.keyword === 'required' ? undefined : valueAt(data, path)
    out.push({ row: line, column, ...(value === undefined ? {} : { value }), reason })
  }
  return out
}

interface RawIdentity { category: string, begntime: string, endtime?: string | null, source?: string | null }
interface RawRecord { op: 'upsert' | 'delete', certno: string, psn_cert_type?: string, psn_name?: string | null, identities?: RawIdentity[], ytd_oop?: number, ytd_psn_part_amt?: number | string, ytd_medfee_sumamt?: number | string, ytd_fulamt_ownpay_amt?: number | string, ytd_as_of?: string }

/**
 * Checks one parsed registry record (schema, ID number, categories, windows) and returns it
 * in the form the store takes. Exported for the sync side, which reads the same records out
 * of downloaded snapshot and delta files.
 */
export function checkRegistryRecord (data: unknown, line: number, opts: { profile: LoadedProfile, tz?: string }): { record?: ListRecord, problems: RowProblem[] } {
  const errors = validate(data)
  if (errors.length > 0) return { problems: schemaProblems(line, data, errors) }
  const raw = data as RawRecord
  const problems: RowProblem[] = []
  // A missing leading zero is restored (1 → 01); a type outside the platform's list would key the
  // person where no lookup can find them, so it is a problem, not a record.
  const type = parseCertType(raw.psn_cert_type ?? RESIDENT_ID)
  const checked = type.ok ? checkCertno(type.code, raw.certno) : undefined
  if (!type.ok) problems.push({ row: line, column: 'psn_cert_type', value: raw.psn_cert_type, reason: unknownCertTypeReason(type) })
  else if (checked !== undefined && !checked.ok) problems.push({ row: line, column: 'certno', value: raw.certno, reason: checked.reason })

  const identities: IdentityRecord[] = []
  const tz = opts.tz ?? DEFAULT_TZ
  ;(raw.identities ?? []).forEach((id, i) => {
    const col = (f: string): string => `identities[${i}].${f}`
    const { found, unknown } = resolveCategories(opts.profile, id.category)
    for (const u of unknown) problems.push({ row: line, column: col('category'), value: id.category, reason: unknownCategoryReason(opts.profile, u) })
    const begin = parseLocalTime(id.begntime, { tz })
    if (begin === null) problems.push({ row: line, column: col('begntime'), value: id.begntime, reason: '时间无效（不存在的日期或时刻）' })
    let end: string | null = null
    if (id.endtime !== undefined && id.endtime !== null) {
      end = parseLocalTime(id.endtime, { tz, endOfDay: true })
      if (end === null) problems.push({ row: line, column: col('endtime'), value: id.endtime, reason: '时间无效（不存在的日期或时刻）' })
      else if (begin !== null && end < begin) problems.push({ row: line, column: col('endtime'), value: id.endtime, reason: `身份终止时间早于生效时间（${begin.slice(0, 10)}）` })
    }
    if (begin === null) return
    const source = id.source === undefined || id.source === null || id.source.trim() === '' ? null : id.source.trim()
    for (const c of found) identities.push({ category: c.id, begntime: begin, endtime: end, source })
  })
  const text = (v: number | string | undefined): string => v === undefined ? '' : String(v)
  const ytd = readYtd({ ytd_psn_part_amt: text(raw.ytd_psn_part_amt), ytd_medfee_sumamt: text(raw.ytd_medfee_sumamt), ytd_fulamt_ownpay_amt: text(raw.ytd_fulamt_ownpay_amt), ytd_as_of: text(raw.ytd_as_of) }, tz)
  for (const p of ytd.problems) problems.push({ row: line, column: p.field, value: p.value, reason: p.reason })
  if (problems.length > 0 || !type.ok || checked === undefined || !checked.ok) return { problems }

  const record: ListRecord = {
    op: raw.op,
    certno: checked.certno,
    psn_cert_type: type.code,
    psn_name: raw.psn_name === undefined || raw.psn_name === null ? null : normaliseName(raw.psn_name),
    identities: []
  }
  addIdentities(record, identities)
  if (raw.ytd_oop !== undefined) record.ytd_oop = raw.ytd_oop
  if (ytd.ytd !== undefined) record.ytd = ytd.ytd
  return { record, problems }
}

async function isGzip (file: string): Promise<boolean> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(2)
    const { bytesRead } = await fh.read(buf, 0, 2, 0)
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b
  } finally {
    await fh.close()
  }
}

const PROGRESS_EVERY = 1000

export async function readNdjson (file: string, opts: ReadOptions): Promise<ReadResult> {
  // By content rather than name: a .gz renamed on download, or a plain file named .gz, both read.
  const gz = await isGzip(file)
  const raw = createReadStream(file)
  const body: Readable = gz ? raw.pipe(createGunzip()) : raw
  let streamError: Error | undefined
  const rl = createInterface({ input: body, crlfDelay: Infinity })
  // A truncated download must not read as a shorter, valid file. The iterator rethrows an
  // error of readline's input, but not of the file stream piped into gunzip: both are watched.
  const fail = (err: Error): void => { streamError ??= err; rl.close() }
  raw.on('error', fail)
  if (gz) body.on('error', fail)

  const records: ListRecord[] = []
  const problems: RowProblem[] = []
  const firstLine = new Map<string, number>()
  let line = 0
  let rows = 0
  let goodRows = 0
  let badRows = 0
  try {
    for await (let text of rl) {
      line++
      if (line === 1 && text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
      if (text.trim() === '') continue
      rows++
      if (opts.onProgress !== undefined && line % PROGRESS_EVERY === 0) opts.onProgress(line, undefined)
      let data: unknown
      try {
        data = JSON.parse(text)
      } catch (err) {
        badRows++
        // V8's message quotes the text around the fault, which may be a name: keep only the position.
        const at = /position (\d+)/.exec((err as Error).message)
        problems.push({ row: line, column: '整行', reason: `不是有效的JSON${at === null ? '' : `（第${Number(at[1]) + 1}个字符附近）`}` })
        continue
      }
      const checked = checkRegistryRecord(data, line, opts)
      if (checked.record === undefined) {
        badRows++
        problems.push(...checked.problems)
        continue
      }
      const key = recordKey(checked.record.psn_cert_type, checked.record.certno)
      const seen = firstLine.get(key)
      if (seen !== undefined) {
        // A snapshot is one record per person; two would make the result depend on line order.
        badRows++
        problems.push({ row: line, column: 'certno', value: checked.record.certno, reason: `证件号码与第${seen}行重复：每人只能有一条记录` })
        continue
      }
      firstLine.set(key, line)
      records.push(checked.record)
      goodRows++
    }
  } catch (err) {
    streamError ??= err as Error
  }
  if (streamError !== undefined) {
    throw new ListFileError(`读取到第${line}行时文件出错${gz ? '（压缩文件可能不完整）' : ''}：${streamError.message}`)
  }
  opts.onProgress?.(line, line)
  return { format: 'ndjson', records, problems, rows, goodRows, badRows }
}
