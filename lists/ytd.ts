// What the registry says a person had paid so far in the year (000 四(三)1 年内累计; 001 三 年度累计),
// carried beside the person on the list: 年度累计个人负担 (ytd_psn_part_amt), 年度累计医疗费用
// (ytd_medfee_sumamt), 年度累计自费 (ytd_fulamt_ownpay_amt), as of 统计截至 (ytd_as_of). Amounts are
// yuan with at most two decimals, kept as fen. A figure without its 统计截至 cannot be placed in the
// year (the agent adds only its own settlements after it) and is refused, not guessed.
import { parseLocalTime } from '../base/local-time.ts'

export interface ListYtd {
  psn_part_fen: number | null
  medfee_fen: number | null
  fulamt_fen: number | null
  /** local wall-clock; a date-only 统计截至 is the end of that day */
  as_of: string
}

export type YtdField = 'ytd_psn_part_amt' | 'ytd_medfee_sumamt' | 'ytd_fulamt_ownpay_amt' | 'ytd_as_of'

export interface YtdProblem { field: YtdField, reason: string, value: string }

// 1 亿元 a year is beyond any real person's medical spending.
const MAX_FEN = 10_000_000_000

function fen (text: string): number | null | undefined {
  const t = text.replace(/[,，\s]/g, '')
  if (t === '') return null
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(t)
  if (m === null) return undefined
  const f = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
  return f > MAX_FEN ? undefined : f
}

/** Reads the four texts (blank: absent); none given → no figure. */
export function readYtd (texts: Record<YtdField, string>, tz?: string): { ytd?: ListYtd, problems: YtdProblem[] } {
  const problems: YtdProblem[] = []
  const amounts: Array<[YtdField, 'psn_part_fen' | 'medfee_fen' | 'fulamt_fen']> = [['ytd_psn_part_amt', 'psn_part_fen'], ['ytd_medfee_sumamt', 'medfee_fen'], ['ytd_fulamt_ownpay_amt', 'fulamt_fen']]
  const out: Omit<ListYtd, 'as_of'> = { psn_part_fen: null, medfee_fen: null, fulamt_fen: null }
  let any = false
  for (const [field, key] of amounts) {
    const v = fen(texts[field])
    if (v === undefined) problems.push({ field, reason: '金额应为不小于0的数字（元，最多两位小数）', value: texts[field] })
    else if (v !== null) { out[key] = v; any = true }
  }
  const asOfText = texts.ytd_as_of.trim()
  if (!any && problems.length === 0) return { problems }
  if (asOfText === '') {
    problems.push({ field: 'ytd_as_of', reason: '有年度累计金额但缺少统计截至日期：没有截至日期无法与本院结算衔接', value: '' })
    return { problems }
  }
  const asOf = parseLocalTime(asOfText, { endOfDay: true, tz })
  if (asOf === null) problems.push({ field: 'ytd_as_of', reason: '统计截至日期无效，可写作2026-10-31', value: asOfText })
  if (problems.length > 0 || asOf === null) return { problems }
  if (out.medfee_fen !== null && out.psn_part_fen !== null && out.psn_part_fen > out.medfee_fen) {
    return { problems: [{ field: 'ytd_psn_part_amt', reason: '年度累计个人负担大于年度累计医疗费用', value: texts.ytd_psn_part_amt }] }
  }
  return { ytd: { ...out, as_of: asOf }, problems }
}

export function sameYtd (a: ListYtd | undefined, b: ListYtd | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.psn_part_fen === b.psn_part_fen && a.medfee_fen === b.medfee_fen && a.fulamt_fen === b.fulamt_fen && a.as_of === b.as_of)
}

/** Fen as the registry publishes it: yuan with two decimals. */
export function yuanText (f: number): string {
  return `${Math.floor(f / 100)}.${String(f % 100).padStart(2, '0')}`
}
