// Turning what the HIS sent into the person key the list is indexed by. A bad ID number is the
// caller's error (400 naming the reason), never a silent "not on the list".
import { normaliseCertno, normaliseOtherCertno } from '../../identity/certno.ts'
import { parseCertType } from '../../identity/cert-type.ts'
import { FangpinInvalidCertno, FangpinValidation, withDetails } from '../errors.ts'
import { parseLocalTime, nowLocal } from '../../base/local-time.ts'

export const RESIDENT_ID_CARD = '01'

/** The platform code of psn_cert_type; a type that is not one is the caller's error (400 naming it). */
export function certTypeOf (raw: string): string {
  const r = parseCertType(raw)
  if (r.ok) return r.code
  throw withDetails(new FangpinValidation(r.message), [{ field: 'psn_cert_type', reason: r.reason, message: r.message }])
}

export function normaliseSubject (certno: string, certType: string): string {
  if (certType !== RESIDENT_ID_CARD) {
    const other = normaliseOtherCertno(certno)
    if (other === '') throw withDetails(new FangpinInvalidCertno('certno is empty'), [{ field: 'certno', reason: 'bad_length', message: '证件号码为空' }])
    return other
  }
  const r = normaliseCertno(certno)
  if (!r.ok) {
    throw withDetails(new FangpinInvalidCertno(`certno is not a valid resident ID number: ${r.reason} (${r.message})`),
      [{ field: 'certno', reason: r.reason, message: r.message }])
  }
  return r.certno
}

// The first two digits of a resident ID number's address code (GB/T 2260 provinces; 71, 81, 82,
// 83 for Taiwan, Hong Kong, Macao on residence permits).
const PROVINCES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83'])

/**
 * A visit id (trimmed) the agent can keep: not blank, and not the patient's ID number. A visit id
 * is stored, listed and logged in plain text; an HIS that uses the ID number as its visit number
 * would put the number where the keyed hash is meant to keep it out. "Is an ID number" is GB 11643
 * (18 characters with the right check character, or a legacy 15-digit number with a real birth
 * date) under a province's address code, so a date-stamped id such as 202611200000012345 is fine.
 */
export function checkVisitId (id: string): void {
  if (id === '') {
    throw withDetails(new FangpinValidation('mdtrt_id is blank'), [{ field: 'mdtrt_id', reason: 'minLength', message: 'must not be blank' }])
  }
  const r = normaliseCertno(id)
  if (r.ok && PROVINCES.has(r.certno.slice(0, 2))) {
    throw withDetails(new FangpinValidation('mdtrt_id looks like a resident ID number: a visit id is stored and shown in plain text, so it must not be the patient\'s ID number; send the HIS\'s own visit or inpatient number (就诊ID不能使用患者身份证号码)'),
      [{ field: 'mdtrt_id', reason: 'looks_like_certno', message: '就诊ID不能使用患者身份证号码' }])
  }
}

/** A HIS time field: 'YYYY-MM-DD HH:mm:ss' (or a date) that is a real calendar time; default now. */
export function hisTime (value: string | undefined, field: string, tz: string): string {
  if (value === undefined) return nowLocal(tz)
  const t = parseLocalTime(value, { tz })
  // A year far outside any living patient's admission is a typing or mapping error, not a time.
  if (t === null || t < '1900' || t >= '2100') {
    throw withDetails(new FangpinValidation(`${field} is not a real date and time: "${value}"`),
      [{ field, reason: 'bad_date', message: 'must be a real local time YYYY-MM-DD HH:mm:ss' }])
  }
  return t
}
