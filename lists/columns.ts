// Recognising the header of a county list. Every county, and every department within one
// (民政, 乡村振兴, 医保), titles its columns a little differently, puts one or two title rows
// above the header, and marks required columns with notes like "（必填）" or "*". Matching is
// exact after that clean-up, so 户主姓名 or 户主身份证号 (the household head's, not the person's)
// are never taken for the person's own name or number.
import { toHalfWidth } from './list-record.ts'

export type ListField = 'psn_name' | 'certno' | 'psn_cert_type' | 'category' | 'begntime' | 'endtime' | 'source' |
  'ytd_psn_part_amt' | 'ytd_medfee_sumamt' | 'ytd_fulamt_ownpay_amt' | 'ytd_as_of'

/** Accepted header texts per field; the first is the one named in messages. */
export const HEADER_NAMES: Record<ListField, readonly string[]> = {
  psn_name: ['姓名', '人员姓名', '名称'],
  certno: ['证件号码', '身份证号', '身份证号码', '公民身份号码', '证件号', '身份证件号码', '公民身份证号码'],
  psn_cert_type: ['证件类型'],
  category: ['人员类别', '身份类别', '救助身份', '人员身份', '身份类型'],
  begntime: ['身份生效时间', '认定时间', '开始时间', '生效时间', '纳入时间', '认定日期', '开始日期', '生效日期', '纳入日期'],
  endtime: ['身份终止时间', '退出时间', '结束时间', '终止时间', '退出日期', '结束日期', '终止日期'],
  source: ['发证部门', '来源', '认定部门', '数据来源'],
  // The year's figures as 医保 passes them on (000 四(三)1): optional, all for one person alike.
  ytd_psn_part_amt: ['年度累计个人负担', '年度个人负担', '累计个人负担'],
  ytd_medfee_sumamt: ['年度累计医疗费用', '年度医疗费用', '累计医疗费用'],
  ytd_fulamt_ownpay_amt: ['年度累计自费', '年度累计自费费用', '累计自费'],
  ytd_as_of: ['统计截至', '统计截止', '统计截至日期', '统计截止日期', '累计截至']
}

/** Columns a list cannot do without: the key, what the person is, and since when. */
export const REQUIRED_FIELDS: readonly ListField[] = ['certno', 'category', 'begntime']

const BY_NAME = new Map<string, ListField>()
for (const [field, names] of Object.entries(HEADER_NAMES) as Array<[ListField, readonly string[]]>) {
  for (const n of names) BY_NAME.set(n, field)
}

/**
 * Header text reduced to what identifies the column: blanks (姓　名 is spaced out to line up),
 * line breaks inside the cell, required-markers (*姓名) and a trailing note or unit in
 * brackets (证件号码（必填）, 认定时间(年月日)) removed.
 */
export function normaliseHeader (text: string): string {
  let s = toHalfWidth(text).replace(/\s/g, '')
  s = s.replace(/^[*※]+|[*※]+$/g, '')
  let prev
  do {
    prev = s
    s = s.replace(/[(\[【<《][^()[\]【】<>《》]*[)\]】>》]$/, '').replace(/[*※:：]+$/, '')
  } while (s !== prev)
  return s.replace(/^[*※]+/, '')
}

export function recogniseHeader (text: string): ListField | undefined {
  return BY_NAME.get(normaliseHeader(text))
}

export interface ColumnRef {
  /** 0-based index into the row's cells */
  index: number
  /** the header text as it stands in the file, for messages */
  header: string
}

export type ColumnMap = Partial<Record<ListField, ColumnRef>>

/** Fields recognised in one row; when a field appears twice the leftmost column wins. */
export function mapColumns (cells: readonly string[]): ColumnMap {
  const map: ColumnMap = {}
  cells.forEach((text, index) => {
    const field = recogniseHeader(text)
    if (field !== undefined && map[field] === undefined) map[field] = { index, header: text.trim() }
  })
  return map
}

export interface HeaderCandidate {
  /** position in the list of rows given to findHeader */
  at: number
  /** how many rows the header takes (2 when a group header sits above the field names) */
  span: number
  map: ColumnMap
}

function countFields (map: ColumnMap): number {
  return Object.keys(map).length
}

const ID_LIKE = /^\d{15}(\d{2}[\dXx])?$/

/**
 * Finds the header among the first rows of a sheet: the first row naming both the person and
 * the ID number; failing that, one naming the ID number and the category (some registries
 * leave names out). A second header row under it is merged in when it names fields the first
 * lacks — two-level headers (身份信息 over 人员类别 | 认定时间) come out of Excel like that, with
 * 姓名 and 身份证号 merged down through both rows.
 * Returns undefined when no row qualifies; `bestGuess` is then the row most like a header, for
 * the error message.
 */
export function findHeader (rows: ReadonlyArray<readonly string[]>): { header?: HeaderCandidate, bestGuess?: HeaderCandidate } {
  const maps = rows.map(mapColumns)
  let at = maps.findIndex((m) => m.psn_name !== undefined && m.certno !== undefined)
  if (at < 0) at = maps.findIndex((m) => m.certno !== undefined && m.category !== undefined)
  if (at < 0) {
    let best: HeaderCandidate | undefined
    maps.forEach((map, i) => {
      if (countFields(map) > 0 && (best === undefined || countFields(map) > countFields(best.map))) best = { at: i, span: 1, map }
    })
    return { bestGuess: best }
  }
  const map: ColumnMap = { ...maps[at] }
  let span = 1
  const next = maps[at + 1]
  if (next !== undefined && !rows[at + 1].some((c) => ID_LIKE.test(c.trim()))) {
    let added = false
    for (const [field, ref] of Object.entries(next) as Array<[ListField, ColumnRef]>) {
      const taken = Object.values(map).some((r) => r.index === ref.index)
      if (map[field] === undefined && !taken) {
        map[field] = ref
        added = true
      }
    }
    if (added) span = 2
  }
  return { header: { at, span, map } }
}

export const FIELD_LABELS: Record<ListField, string> = {
  psn_name: '姓名',
  certno: '证件号码',
  psn_cert_type: '证件类型',
  category: '人员类别',
  begntime: '身份生效时间',
  endtime: '身份终止时间',
  source: '发证部门',
  ytd_psn_part_amt: '年度累计个人负担',
  ytd_medfee_sumamt: '年度累计医疗费用',
  ytd_fulamt_ownpay_amt: '年度累计自费',
  ytd_as_of: '统计截至'
}

export function missingColumnReason (field: ListField): string {
  return `未找到${FIELD_LABELS[field]}列；可用的列名：${HEADER_NAMES[field].join('、')}`
}

/** Whether a problem's column holds ID numbers, so reports can mask the value. */
export function isCertnoColumn (column: string): boolean {
  return column === 'certno' || recogniseHeader(column) === 'certno'
}

/** Whether a problem's column holds names. */
export function isNameColumn (column: string): boolean {
  return column === 'psn_name' || recogniseHeader(column) === 'psn_name'
}
