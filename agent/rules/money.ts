// Money inside the agent is integer fen. The HIS sends yuan as JSON numbers or decimal strings
// (det_item_fee_sumamt 16,2; pric 16,6; cnt 16,4 on the national platform); they are read as exact
// decimals, never through floating-point arithmetic, so a stay's totals are exact sums.

/** An exact decimal: units / 10^scale. */
export interface Decimal {
  units: bigint
  scale: number
}

// Up to 12 integer digits: more than any real charge, few enough that products stay exact.
const DECIMAL = /^([+-])?(\d{1,12})(?:\.(\d{1,20}))?$/

/** Reads a JSON number or a decimal string; null when it is not a plain decimal. */
export function parseDecimal (value: unknown): Decimal | null {
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null
    // String() gives the shortest text that reads back as the same double: 12.3 stays "12.3".
    text = String(value)
  } else if (typeof value === 'string') {
    text = value.trim()
  } else {
    return null
  }
  const m = DECIMAL.exec(text)
  if (m === null) return null
  const frac = m[3] ?? ''
  const units = BigInt(m[2] + frac) * (m[1] === '-' ? -1n : 1n)
  return { units, scale: frac.length }
}

const TEN = (n: number): bigint => 10n ** BigInt(n)

/** The decimal in its shortest form ("10.50" → "10.5"), for comparing two lines' content. */
export function canonicalDecimal (d: Decimal): string {
  let { units, scale } = d
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n
    scale--
  }
  const neg = units < 0n
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0')
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`
  return (neg ? '-' : '') + text
}

/**
 * Yuan to fen. More than two decimals is accepted only as floating-point noise of a caller that
 * serialised a double (0.30000000000000004): within a millionth of a yuan of a whole fen.
 * Anything else is null: a third decimal of real money is a mapping error, not something to round.
 */
export function toFen (d: Decimal): bigint | null {
  if (d.scale <= 2) return d.units * TEN(2 - d.scale)
  const per = TEN(d.scale - 2)
  const neg = d.units < 0n
  const abs = neg ? -d.units : d.units
  const whole = abs / per
  const rest = abs % per
  const noise = TEN(d.scale - 6 > 0 ? d.scale - 6 : 0) // a millionth of a yuan at this scale
  if (d.scale < 6) return rest === 0n ? (neg ? -whole : whole) : null
  let fen: bigint
  if (rest <= noise) fen = whole
  else if (per - rest <= noise) fen = whole + 1n
  else return null
  return neg ? -fen : fen
}

/** |cnt × pric − amount| ≤ tolerance (all exact). */
export function productMatches (cnt: Decimal, pric: Decimal, amountFen: bigint, toleranceFen: bigint): boolean {
  const scale = Math.max(cnt.scale + pric.scale, 2)
  const product = cnt.units * pric.units * TEN(scale - cnt.scale - pric.scale)
  const amount = amountFen * TEN(scale - 2)
  const diff = product > amount ? product - amount : amount - product
  return diff <= toleranceFen * TEN(scale - 2)
}

/** Fen as yuan for the HIS (the platform's fields are yuan with two decimals). */
export function yuan (fen: number): number {
  return fen / 100
}

/** Fen as a yuan string for people: 1234567 → "12345.67". */
export function yuanText (fen: number): string {
  const neg = fen < 0
  const abs = Math.abs(fen)
  return `${neg ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}
