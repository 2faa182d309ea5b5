// Resident ID numbers (公民身份号码), GB 11643-1999.
// 17 digits (6 address, 8 birth date, 3 sequence) and a MOD 11-2 check character.
// A legacy 15-digit number (GB 11643-1989: 2-digit year, no check character) is widened
// by inserting "19" before the year and computing the check character, which is how the
// public-security system itself converted them.

export type CertnoProblem = 'bad_length' | 'bad_characters' | 'bad_check_digit' | 'bad_date'

export type CertnoResult =
  | { ok: true; certno: string; birthDate: string; converted: boolean }
  | { ok: false; reason: CertnoProblem; message: string }

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

export function checkCharacter (first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i]
  return CHECK[sum % 11]
}

function validDate (y: number, m: number, d: number): boolean {
  if (y < 1800 || m < 1 || m > 12 || d < 1) return false
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  return d <= days[m - 1]
}

const MESSAGES: Record<CertnoProblem, string> = {
  bad_length: '证件号码长度应为18位（或15位旧号码）',
  bad_characters: '证件号码只能由数字组成，最后一位可为X',
  bad_check_digit: '证件号码校验位错误',
  bad_date: '证件号码中的出生日期无效'
}

function fail (reason: CertnoProblem, extra = ''): CertnoResult {
  return { ok: false, reason, message: MESSAGES[reason] + extra }
}

// Formatting a date costs more than the whole check; a list load checks a million numbers.
let latestMemo = { day: -1, text: '' }
function latestBirthDate (today: Date): string {
  const day = Math.floor(today.getTime() / 86_400_000)
  if (day !== latestMemo.day) latestMemo = { day, text: new Date((day + 1) * 86_400_000).toISOString().slice(0, 10) }
  return latestMemo.text
}

/**
 * Validates and normalises a resident ID number. Surrounding blanks (including the
 * full-width space HIS exports carry) are removed, a lower-case x is upper-cased,
 * a 15-digit number is converted to 18 digits.
 */
export function normaliseCertno (input: string, today: Date = new Date()): CertnoResult {
  const raw = input.replace(/[\s\u3000]/g, '').toUpperCase()
  if (raw.length === 15) {
    if (!/^\d{15}$/.test(raw)) return fail('bad_characters')
    const y = 1900 + Number(raw.slice(6, 8))
    const m = Number(raw.slice(8, 10))
    const d = Number(raw.slice(10, 12))
    if (!validDate(y, m, d)) return fail('bad_date')
    const first17 = raw.slice(0, 6) + '19' + raw.slice(6, 15)
    const certno = first17 + checkCharacter(first17)
    return { ok: true, certno, birthDate: `${y}-${raw.slice(8, 10)}-${raw.slice(10, 12)}`, converted: true }
  }
  if (raw.length !== 18) return fail('bad_length', `，实际为${raw.length}位`)
  if (!/^\d{17}[\dX]$/.test(raw)) return fail('bad_characters')
  const y = Number(raw.slice(6, 10))
  const m = Number(raw.slice(10, 12))
  const d = Number(raw.slice(12, 14))
  const birth = `${raw.slice(6, 10)}-${raw.slice(10, 12)}-${raw.slice(12, 14)}`
  // A birth date later than tomorrow (UTC) is impossible in any time zone the hospital may be in;
  // comparing with today in UTC alone would refuse a newborn before 08:00 Beijing time.
  const latest = latestBirthDate(today)
  if (!validDate(y, m, d) || birth > latest) return fail('bad_date')
  const expected = checkCharacter(raw.slice(0, 17))
  if (raw[17] !== expected) return fail('bad_check_digit', `：应为${expected}`)
  return { ok: true, certno: raw, birthDate: birth, converted: false }
}

/** Other certificate types (passports, 港澳台 permits …) are only trimmed and upper-cased. */
export function normaliseOtherCertno (input: string): string {
  return input.replace(/[\s\u3000]/g, '').toUpperCase()
}
