// One platform settlement answer (2303 pre-settlement or 2304 settlement output `setlinfo`) as the
// HIS forwards it, checked and turned into exact fen. The fields are the platform's, unchanged; others
// are accepted and ignored. The parts must add up the way the platform's do — within 0.01 yuan, the
// platform's own rounding of each fund's share:
//   medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt     (医疗费总额 = 基金 + 个人 + 医院负担)
//   medfee_sumamt = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt
//                                                                      (全自费 + 超限价 + 先行自付 + 符合政策范围)
//   fund_pay_sumamt = hifp_pay + hifmi_pay + hifob_pay + hifes_pay + cvlserv_pay + maf_pay + oth_pay
//   psn_part_amt = acct_pay + psn_cash_pay                             (个人账户 + 个人现金; acct_mulaid_pay,
//                                                                       共济支付, may stand beside them)
// hosp_part_amt is 0 when absent. A settlement that does not add up is a 400 naming the field: figures
// that do not add up would make every ratio after them wrong.
import { createHash } from 'node:crypto'
import { FangpinValidation, withDetails } from '../errors.ts'
import { parseDecimal, toFen } from './money.ts'
import { hisTime } from './subject.ts'
import type { SettlementAmounts } from '../store/settlements.ts'

export type SetlType = 'pre' | 'final'

export type SetlInfo = Record<string, unknown> & { setl_id: string, setl_time: string }

export interface SettlementInput extends SettlementAmounts {
  setl_id: string
  setl_time: string
  year: number
  /** a hash of the amounts and time as read: a retry with other figures is a conflict */
  content_hash: string
}

// The platform's field for each amount kept, required or defaulting to 0.
const FIELDS: Array<[keyof SettlementAmounts, string, boolean]> = [
  ['medfee_fen', 'medfee_sumamt', true],
  ['fulamt_fen', 'fulamt_ownpay_amt', true],
  ['overlmt_fen', 'overlmt_selfpay', false],
  ['preselfpay_fen', 'preselfpay_amt', false],
  ['inscp_fen', 'inscp_scp_amt', true],
  ['hifp_fen', 'hifp_pay', false],
  ['hifmi_fen', 'hifmi_pay', false],
  ['hifob_fen', 'hifob_pay', false],
  ['hifes_fen', 'hifes_pay', false],
  ['cvlserv_fen', 'cvlserv_pay', false],
  ['maf_fen', 'maf_pay', false],
  ['oth_fen', 'oth_pay', false],
  ['fund_fen', 'fund_pay_sumamt', true],
  ['psn_part_fen', 'psn_part_amt', true],
  ['acct_fen', 'acct_pay', false],
  ['psn_cash_fen', 'psn_cash_pay', false],
  ['hosp_part_fen', 'hosp_part_amt', false]
]

// 1 亿元 for one stay's settlement is beyond any real bill; sums of a person's year stay far inside 2^53.
const MAX_FEN = 10_000_000_000n
/** 0.01 yuan: each fund's share is rounded to the fen by the platform. */
const TOLERANCE_FEN = 1n

function fail (field: string, reason: string, message: string): never {
  throw withDetails(new FangpinValidation(`setlinfo.${field}: ${message}`), [{ field: `setlinfo/${field}`, reason, message }])
}

function amount (raw: SetlInfo, field: string, required: boolean): bigint {
  const value = raw[field]
  if (value === undefined || value === null || value === '') {
    if (required) fail(field, 'required', 'is required')
    return 0n
  }
  const d = parseDecimal(value)
  if (d === null) fail(field, 'not_a_decimal', `must be a decimal number of yuan (e.g. 1234.50), got ${JSON.stringify(value)?.slice(0, 40)}`)
  const f = toFen(d)
  if (f === null) fail(field, 'not_fen', 'must be yuan with at most two decimal places')
  if (f < 0n) fail(field, 'negative', 'must not be negative: a settlement is undone with DELETE (2305), not with negative amounts')
  if (f > MAX_FEN) fail(field, 'too_large', 'is larger than any real settlement (100,000,000 yuan)')
  return f
}

function yuan (f: bigint): string {
  return `${f / 100n}.${(f % 100n).toString().padStart(2, '0')}`
}

function within (a: bigint, b: bigint): boolean {
  const d = a - b
  return d <= TOLERANCE_FEN && d >= -TOLERANCE_FEN
}

export function readSettlement (raw: SetlInfo, tz: string): SettlementInput {
  const setlId = typeof raw.setl_id === 'string' ? raw.setl_id.trim() : ''
  if (setlId === '') fail('setl_id', 'required', 'is required and must not be blank')
  let setlTime: string
  try {
    setlTime = hisTime(raw.setl_time, 'setl_time', tz)
  } catch {
    fail('setl_time', 'bad_date', `must be a real local time YYYY-MM-DD HH:mm:ss, got ${JSON.stringify(raw.setl_time)?.slice(0, 40)}`)
  }
  const f: Partial<Record<keyof SettlementAmounts, bigint>> = {}
  for (const [key, field, required] of FIELDS) f[key] = amount(raw, field, required)
  const a = f as Record<keyof SettlementAmounts, bigint>

  const parts = a.fund_fen + a.psn_part_fen + a.hosp_part_fen
  if (!within(parts, a.medfee_fen)) {
    fail('psn_part_amt', 'sum_mismatch', `fund_pay_sumamt + psn_part_amt + hosp_part_amt = ${yuan(parts)} does not add up to medfee_sumamt ${yuan(a.medfee_fen)} (within 0.01)`)
  }
  const split = a.fulamt_fen + a.overlmt_fen + a.preselfpay_fen + a.inscp_fen
  if (!within(split, a.medfee_fen)) {
    fail('inscp_scp_amt', 'split_mismatch', `fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt = ${yuan(split)} does not add up to medfee_sumamt ${yuan(a.medfee_fen)} (within 0.01)`)
  }
  const funds = a.hifp_fen + a.hifmi_fen + a.hifob_fen + a.hifes_fen + a.cvlserv_fen + a.maf_fen + a.oth_fen
  // Only when the HIS sent the funds one by one: some forward the total alone.
  const fundsSent = ['hifp_pay', 'hifmi_pay', 'hifob_pay', 'hifes_pay', 'cvlserv_pay', 'maf_pay', 'oth_pay'].some((k) => raw[k] !== undefined && raw[k] !== null && raw[k] !== '')
  if (fundsSent && !within(funds, a.fund_fen)) {
    fail('fund_pay_sumamt', 'fund_mismatch', `hifp_pay + hifmi_pay + hifob_pay + hifes_pay + cvlserv_pay + maf_pay + oth_pay = ${yuan(funds)} does not add up to fund_pay_sumamt ${yuan(a.fund_fen)} (within 0.01)`)
  }
  const paidSent = (raw.acct_pay !== undefined && raw.acct_pay !== null) || (raw.psn_cash_pay !== undefined && raw.psn_cash_pay !== null)
  if (paidSent) {
    const paid = a.acct_fen + a.psn_cash_fen
    const mulaid = raw.acct_mulaid_pay === undefined || raw.acct_mulaid_pay === null || raw.acct_mulaid_pay === '' ? 0n : amount(raw, 'acct_mulaid_pay', false)
    if (!within(paid, a.psn_part_fen) && !within(paid + mulaid, a.psn_part_fen)) {
      fail('psn_part_amt', 'paid_mismatch', `acct_pay + psn_cash_pay = ${yuan(paid)} does not add up to psn_part_amt ${yuan(a.psn_part_fen)} (within 0.01)`)
    }
  }
  const amounts = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, Number(v)])) as unknown as SettlementAmounts
  const contentHash = createHash('sha256').update(JSON.stringify([setlTime, FIELDS.map(([k]) => amounts[k])])).digest('base64url').slice(0, 22)
  return { setl_id: setlId, setl_time: setlTime, year: Number(setlTime.slice(0, 4)), ...amounts, content_hash: contentHash }
}
