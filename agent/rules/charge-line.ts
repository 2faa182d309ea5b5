// One 2301 fee line as the HIS sends it, checked and turned into exact fen with its in/out-of-
// catalog split. The schema has already checked the shapes; here are the checks a schema cannot
// make: money that is real money, a split that adds up, cnt × pric that matches the amount.
import { createHash } from 'node:crypto'
import type { LoadedProfile } from '../../profile/profile.ts'
import type { NewChargeLine } from '../store/charges.ts'
import { FangpinValidation, withDetails, type ErrorDetail } from '../errors.ts'
import { parseDecimal, toFen, productMatches, canonicalDecimal, type Decimal } from './money.ts'
import { hisTime } from './subject.ts'

export interface FeeDetail {
  feedetl_sn?: string
  init_feedetl_sn?: string | null
  fee_ocur_time: string
  med_list_codg?: string
  medins_list_codg?: string
  med_list_name?: string
  det_item_fee_sumamt: number | string
  cnt: number | string
  pric: number | string
  chrgitm_lv?: string
  fulamt_ownpay_amt?: number | string | null
  overlmt_amt?: number | string | null
  preselfpay_amt?: number | string | null
  inscp_scp_amt?: number | string | null
}

/**
 * A checked line: as the store keeps it, except that a precheck line may have no feedetl_sn, and a
 * refund without its own split or level (out_fen null) takes its original's proportion.
 */
export type ChargeLine = Omit<NewChargeLine, 'feedetl_sn' | 'out_fen'> & { feedetl_sn: string | null, out_fen: number | null }

// 1 亿元 per line is beyond any real charge; the bound keeps a stay's sums far inside 2^53 fen.
const MAX_LINE_FEN = 10_000_000_000n
const MAX_QUANTITY = 100_000_000n
// 2301: cnt × pric must match det_item_fee_sumamt to the fen-rounding of the HIS (0.01 yuan).
const PRODUCT_TOLERANCE_FEN = 1n

const OUT_OF_CATALOG_LEVEL = '03'

function fail (index: number, field: string, reason: string, message: string): never {
  const where = `feedetail[${index}].${field}`
  // The field as a path, like the schema's own errors (diseinfo/0/diag_code): one style for the HIS.
  const detail: ErrorDetail = { field: `feedetail/${index}/${field}`, reason, message, line: index }
  throw withDetails(new FangpinValidation(`${where}: ${message}`), [detail])
}

function blankToNull (v: string | null | undefined): string | null {
  if (v === undefined || v === null) return null
  const t = v.trim()
  return t === '' ? null : t
}

function decimal (index: number, field: string, value: unknown): Decimal {
  const d = parseDecimal(value)
  if (d === null) fail(index, field, 'not_a_decimal', `must be a decimal number of yuan (e.g. 12.50), got ${JSON.stringify(value)?.slice(0, 40)}`)
  return d
}

function fen (index: number, field: string, value: unknown): bigint {
  const f = toFen(decimal(index, field, value))
  if (f === null) fail(index, field, 'not_fen', 'must be yuan with at most two decimal places')
  if (f > MAX_LINE_FEN || f < -MAX_LINE_FEN) fail(index, field, 'too_large', 'is larger than any single charge (100,000,000 yuan)')
  return f
}

function optionalFen (index: number, field: string, value: unknown): bigint | null {
  if (value === undefined || value === null || value === '') return null
  return fen(index, field, value)
}

/**
 * Checks one line and computes its out-of-catalog amount. `requireSn`: charges need a feedetl_sn;
 * an order precheck does not (nothing is stored). `levelFromCatalog`: an insurance catalog is
 * loaded, so a line without level and split is accepted with out_fen null, for the catalog to
 * classify (rules/catalog.ts); without a catalog such a line is the caller's error, as always.
 */
export function readChargeLine (raw: FeeDetail, index: number, profile: LoadedProfile, tz: string, requireSn: boolean, levelFromCatalog = false): ChargeLine {
  const sn = blankToNull(raw.feedetl_sn)
  if (sn === null && requireSn) fail(index, 'feedetl_sn', 'required', 'is required and must not be blank')
  const initSn = blankToNull(raw.init_feedetl_sn)
  let feeTime: string
  try {
    feeTime = hisTime(raw.fee_ocur_time, 'fee_ocur_time', tz)
  } catch {
    fail(index, 'fee_ocur_time', 'bad_date', `must be a real local time YYYY-MM-DD HH:mm:ss, got ${JSON.stringify(raw.fee_ocur_time).slice(0, 40)}`)
  }

  const amount = fen(index, 'det_item_fee_sumamt', raw.det_item_fee_sumamt)
  const cnt = decimal(index, 'cnt', raw.cnt)
  const pric = decimal(index, 'pric', raw.pric)
  if (cnt.units * 1n > MAX_QUANTITY * 10n ** BigInt(cnt.scale) || -cnt.units > MAX_QUANTITY * 10n ** BigInt(cnt.scale)) fail(index, 'cnt', 'too_large', 'is larger than any real quantity')
  if (pric.units < 0n) fail(index, 'pric', 'negative', 'must not be negative: a refund has a negative cnt')
  if (pric.units > MAX_LINE_FEN * 10n ** BigInt(pric.scale) / 100n) fail(index, 'pric', 'too_large', 'is larger than any single charge')
  if (!productMatches(cnt, pric, amount, PRODUCT_TOLERANCE_FEN)) {
    fail(index, 'det_item_fee_sumamt', 'amount_mismatch', `does not match cnt × pric (${canonicalDecimal(cnt)} × ${canonicalDecimal(pric)}) within 0.01 yuan`)
  }
  const refund = amount < 0n || cnt.units < 0n
  if (refund && initSn === null) fail(index, 'init_feedetl_sn', 'required', 'a refund line (negative cnt) must name the line it refunds')
  if (refund && initSn !== null && initSn === sn) fail(index, 'init_feedetl_sn', 'self_reference', 'a refund line cannot refund itself')

  const parts = {
    fulamt: optionalFen(index, 'fulamt_ownpay_amt', raw.fulamt_ownpay_amt),
    overlmt: optionalFen(index, 'overlmt_amt', raw.overlmt_amt),
    preselfpay: optionalFen(index, 'preselfpay_amt', raw.preselfpay_amt),
    inscp: optionalFen(index, 'inscp_scp_amt', raw.inscp_scp_amt)
  }
  const hasSplit = Object.values(parts).some((p) => p !== null)
  let split: ChargeLine['split'] = null
  let out: bigint | null
  if (hasSplit) {
    const names: Record<keyof typeof parts, string> = { fulamt: 'fulamt_ownpay_amt', overlmt: 'overlmt_amt', preselfpay: 'preselfpay_amt', inscp: 'inscp_scp_amt' }
    let sum = 0n
    for (const [k, v] of Object.entries(parts) as Array<[keyof typeof parts, bigint | null]>) {
      const value = v ?? 0n
      // A part of a charge runs the same way as the charge: a refund returns each part.
      if ((amount >= 0n && value < 0n) || (amount < 0n && value > 0n)) fail(index, names[k], 'sign', 'must have the same sign as det_item_fee_sumamt')
      sum += value
    }
    if (sum !== amount) {
      fail(index, 'fulamt_ownpay_amt', 'split_mismatch', `fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt = ${fmt(sum)} does not add up to det_item_fee_sumamt ${fmt(amount)}`)
    }
    split = { fulamt: Number(parts.fulamt ?? 0n), overlmt: Number(parts.overlmt ?? 0n), preselfpay: Number(parts.preselfpay ?? 0n), inscp: Number(parts.inscp ?? 0n) }
    // 全自费 is outside the catalog; whether 超限价 counts is the region's rule (profile).
    out = (parts.fulamt ?? 0n) + (profile.overlmtCountsAsOutOfCatalog ? (parts.overlmt ?? 0n) : 0n)
  } else {
    const level = chargeLevel(index, raw.chrgitm_lv)
    if (level === null) {
      if (!refund && !levelFromCatalog) fail(index, 'chrgitm_lv', 'required', 'is required when the line has no fulamt_ownpay_amt split (01 甲类, 02 乙类, 03 丙类/全自费)')
      out = null
    } else {
      out = level === OUT_OF_CATALOG_LEVEL ? amount : 0n
    }
  }

  const line: Omit<ChargeLine, 'content_hash'> = {
    feedetl_sn: sn,
    init_feedetl_sn: refund ? initSn : null,
    fee_ocur_time: feeTime,
    med_list_codg: blankToNull(raw.med_list_codg),
    medins_list_codg: blankToNull(raw.medins_list_codg),
    med_list_name: blankToNull(raw.med_list_name),
    chrgitm_lv: chargeLevel(index, raw.chrgitm_lv),
    cnt: canonicalDecimal(cnt),
    pric: canonicalDecimal(pric),
    amount_fen: Number(amount),
    out_fen: out === null ? null : Number(out),
    split
  }
  return { ...line, content_hash: createHash('sha256').update(JSON.stringify(line)).digest('base64url').slice(0, 22) }
}

// 01 甲类 and 02 乙类 are inside the catalog, 03 丙类/全自费 outside. An export that lost the leading
// zero is read back; any other value is refused: guessing "in catalog" would hide spending the
// hospital may have to bear.
const LEVELS: Record<string, string> = { '01': '01', '02': '02', '03': '03', 1: '01', 2: '02', 3: '03' }

function chargeLevel (index: number, value: string | undefined): string | null {
  const text = blankToNull(value)
  if (text === null) return null
  const level = LEVELS[text]
  if (level === undefined) fail(index, 'chrgitm_lv', 'unknown_level', `must be 01 (甲类), 02 (乙类) or 03 (丙类/全自费), got ${JSON.stringify(text).slice(0, 20)}`)
  return level
}

function fmt (f: bigint): string {
  const neg = f < 0n
  const a = neg ? -f : f
  return `${neg ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}`
}
