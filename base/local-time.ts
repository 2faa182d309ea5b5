// Times in fangpin are the hospital's local wall-clock, 'YYYY-MM-DD HH:mm:ss' in FANGPIN_TZ,
// as the HIS sends them (2401 begntime) and as county lists state identity windows.
// Keeping them as fixed-width local strings lets windows be compared as strings, and a
// date-only end of an identity is stored as 23:59:59 of that day so it covers the whole day.

/** The hospital's zone when FANGPIN_TZ is not set: every county this agent serves is on Beijing time. */
export const DEFAULT_TZ = 'Asia/Shanghai'

const DATE_TIME = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/
const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$/
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/
const CHINESE = /^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:时](\d{2})(?:[:分](\d{2})秒?)?)?$/

function pad (n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function validParts (y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  return d <= last
}

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter (tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'
    })
    formatters.set(tz, f)
  }
  return f
}

/** An instant as local wall-clock text in the given IANA zone. */
export function toLocal (instant: Date, tz: string): string {
  const parts: Record<string, string> = {}
  for (const p of formatter(tz).formatToParts(instant)) parts[p.type] = p.value
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`
}

// Intl formatting costs more than the rest of a lookup; the wall clock only changes once a second.
let lastNow = { second: -1, tz: '', text: '' }
export function nowLocal (tz: string): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== lastNow.second || tz !== lastNow.tz) lastNow = { second, tz, text: toLocal(new Date(second * 1000), tz) }
  return lastNow.text
}

export function isValidTimeZone (tz: string): boolean {
  try {
    formatter(tz)
    return true
  } catch {
    return false
  }
}

/**
 * Parses a time as counties and HIS vendors write it and returns local wall-clock text,
 * or null when it is not a real date. A date without a time is the start of that day,
 * or its last second when `endOfDay` is set (the end of an identity covers the whole day).
 * A time with an explicit offset (registry files) is converted into `tz`.
 */
export function parseLocalTime (text: string, opts: { endOfDay?: boolean, tz?: string } = {}): string | null {
  const t = text.trim()
  if (WITH_OFFSET.test(t)) {
    // Date would roll 2026-02-30 over to 03-02: check the written calendar parts first.
    const [y, mo, d0, h, mi, s] = t.split(/[-T:.Z+]/).map(Number)
    if (!validParts(y, mo, d0, h, mi, Number.isNaN(s) ? 0 : s)) return null
    const d = new Date(t)
    if (Number.isNaN(d.getTime())) return null
    return toLocal(d, opts.tz ?? DEFAULT_TZ)
  }
  const m = DATE_TIME.exec(t) ?? COMPACT.exec(t) ?? CHINESE.exec(t)
  if (m === null) return null
  const y = Number(m[1]); const mo = Number(m[2]); const d = Number(m[3])
  const dateOnly = m[4] === undefined
  const h = dateOnly ? (opts.endOfDay === true ? 23 : 0) : Number(m[4])
  const mi = dateOnly ? (opts.endOfDay === true ? 59 : 0) : Number(m[5])
  const s = dateOnly ? (opts.endOfDay === true ? 59 : 0) : m[6] === undefined ? 0 : Number(m[6])
  if (!validParts(y, mo, d, h, mi, s)) return null
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}`
}

/** The calendar date part, for messages: '2026-03-01'. */
export function datePart (local: string): string {
  return local.slice(0, 10)
}
