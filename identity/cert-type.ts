// Certificate types (psn_cert_type) as HIS and county exports write them.

export const RESIDENT_ID = '01'

/** Full-width ASCII (０-９, Ｘ, ／ …) to half-width: typed with a Chinese IME they look identical. */
export function toHalfWidth (s: string): string {
  if (!/[\uFF01-\uFF5E\u3000]/.test(s)) return s
  return s.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0)).replace(/\u3000/g, ' ')
}

// The national medical-insurance platform's code list 人员证件类型 (psn_cert_type), from the
// platform's interface specification (医疗保障信息平台 定点医药机构接口规范, dictionary
// psn_cert_type) as HIS vendors reproduce it: e.g. the OpenHIS enum "7.13 人员证件类型
// (psn_cert_type)" (YbPsnCertType) and a vendor constants file (PSN_CERT_TYPE_01 … _17, _90, _99)
// agree on every code and label below. A person on the county list is keyed by type and number,
// so a type outside this list can never match anyone: it is refused, not looked up.
export const CERT_TYPES: Readonly<Record<string, string>> = {
  '01': '居民身份证（户口簿）',
  '02': '中国人民解放军军官证',
  '03': '中国人民武装警察警官证',
  '04': '香港特区护照/港澳居民来往内地通行证',
  '05': '澳门特区护照/港澳居民来往内地通行证',
  '06': '台湾居民来往大陆通行证',
  '07': '外国人永久居留证',
  '08': '外国人护照',
  '09': '残疾人证',
  '10': '军烈属证明',
  '11': '外国人就业证',
  '12': '外国专家证',
  '13': '外国人常驻记者证',
  '14': '台港澳人员就业证',
  '15': '回国（来华）定居专家证',
  '16': '中国护照',
  '17': '港澳台居民居住证',
  '90': '社会保障卡',
  '99': '其他身份证件'
}

function squeeze (raw: string): string {
  return toHalfWidth(raw).replace(/\s/g, '')
}

// psn_cert_type 01 is 居民身份证（户口簿）; counties write the label instead of the code, and Excel
// turns a typed 01 into the number 1.
const RESIDENT_ID_NAMES = new Set(['居民身份证', '身份证', '居民身份证(户口簿)', '户口簿', '居民户口簿', '第二代居民身份证', '二代身份证'])

// The other types by their official label only: a short name such as 护照 could be 08 or 16.
const CODE_BY_NAME = new Map(Object.entries(CERT_TYPES).map(([code, label]) => [squeeze(label), code]))

/** The accepted codes with their labels, for messages that must say what to send. */
export const CERT_TYPE_LIST = Object.keys(CERT_TYPES).sort().map((code) => `${code} ${CERT_TYPES[code]}`).join(', ')

export type CertTypeResult =
  | { ok: true, code: string }
  | { ok: false, reason: 'unknown_cert_type', message: string, suggestion?: string }

function known (t: string): string | undefined {
  if (t === '') return RESIDENT_ID
  if (RESIDENT_ID_NAMES.has(t)) return RESIDENT_ID
  if (/^\d+$/.test(t)) {
    // A lost leading zero (1) or extra ones (001, 0001) do not change which code it is.
    const code = t.replace(/^0+(?=\d{2})/, '').padStart(2, '0')
    return Object.hasOwn(CERT_TYPES, code) ? code : undefined
  }
  return CODE_BY_NAME.get(t)
}

/**
 * The platform code for a certificate type as written: the code itself, with a missing or extra
 * leading zero, in full-width digits, or the official Chinese name (blank means 01). Anything
 * else is refused with a message listing the accepted codes — looked up as given it would find
 * nobody, a silent "not eligible".
 */
export function parseCertType (raw: string): CertTypeResult {
  const t = squeeze(raw)
  const code = known(t)
  if (code !== undefined) return { ok: true, code }
  const shown = raw.length <= 10 ? ` "${raw}"` : ''
  // A letter O or l typed for a digit looks right on screen.
  const lookalike = /[OoIl]/.test(t) ? known(t.replace(/[Oo]/g, '0').replace(/[Il]/g, '1')) : undefined
  const hint = lookalike !== undefined ? ` (a letter where a digit belongs: did you mean "${lookalike}"?)` : ''
  return {
    ok: false,
    reason: 'unknown_cert_type',
    message: `psn_cert_type${shown} is not a code of the national certificate-type list${hint}; send one of ${CERT_TYPE_LIST} (证件类型代码有误)`,
    ...(lookalike !== undefined ? { suggestion: lookalike } : {})
  }
}

/** The reason a list file's row gets for a certificate type that is not a code (see parseCertType). */
export function unknownCertTypeReason (r: { suggestion?: string }): string {
  const hint = r.suggestion !== undefined ? `（字母与数字混淆？应为${r.suggestion}）` : ''
  return `证件类型不是医保证件类型代码${hint}：请填写代码或完整名称（${CERT_TYPE_LIST}），居民身份证也可留空`
}

/**
 * The platform code when the type is one (see parseCertType); anything else as given, without
 * blanks, for callers that report it themselves.
 */
export function normaliseCertType (raw: string): string {
  const r = parseCertType(raw)
  return r.ok ? r.code : squeeze(raw)
}
