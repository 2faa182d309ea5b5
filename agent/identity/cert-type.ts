// Certificate types (psn_cert_type) as HIS and county exports write them.

export const RESIDENT_ID = '01'

/** Full-width ASCII (０-９, Ｘ, ／ …) to half-width: typed with a Chinese IME they look identical. */
export function toHalfWidth (s: string): string {
  if (!/[\uFF01-\uFF5E\u3000]/.test(s)) return s
  return s.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0)).replace(/\u3000/g, ' ')
}

// psn_cert_type 01 is 居民身份证（户口簿） in the national platform's code list; counties write the
// label instead of the code, and Excel turns a typed 01 into the number 1.
const RESIDENT_ID_NAMES = new Set(['01', '1', '居民身份证', '身份证', '居民身份证(户口簿)', '户口簿', '居民户口簿', '第二代居民身份证', '二代身份证'])

/** '01' for every way of writing a resident ID; a one-digit code gets its lost leading zero back; anything else as given. */
export function normaliseCertType (raw: string): string {
  const t = toHalfWidth(raw).replace(/\s/g, '')
  if (t === '') return RESIDENT_ID
  if (RESIDENT_ID_NAMES.has(t)) return RESIDENT_ID
  if (/^\d$/.test(t)) return '0' + t
  return t
}
