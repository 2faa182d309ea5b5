// Turning what the HIS sent into the person key the list is indexed by. A bad ID number is the
// caller's error (400 naming the reason), never a silent "not on the list".
import { normaliseCertno, normaliseOtherCertno } from '../identity/certno.ts'
import { FangpinInvalidCertno, FangpinValidation, withDetails } from '../errors.ts'
import { parseLocalTime, nowLocal } from './local-time.ts'

export const RESIDENT_ID_CARD = '01'

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
