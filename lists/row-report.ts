// The per-row report shown after reading a list: text for the terminal and the log, CSV for the
// county clerk to open in Excel next to the list. Both go where personal data must not
// (logs, screenshots, e-mail): ID numbers are masked wherever they appear, names shortened to
// 张*三 as the store keeps them. The row number and column are what lets a clerk find the row.
import { basename, dirname, join } from 'node:path'
import { writeFileAtomic } from '../base/files.ts'
import { isCertnoColumn, isNameColumn } from './columns.ts'
import type { RowProblem } from './list-record.ts'

/** 450203199001011234 → 450203********1234; shorter values keep less. */
export function maskCertno (value: string): string {
  const v = value.trim()
  if (v.length >= 12) return v.slice(0, 6) + '********' + v.slice(-4)
  if (v.length >= 6) return v.slice(0, 2) + '*'.repeat(v.length - 4) + v.slice(-2)
  return '*'.repeat(v.length)
}

/** 张三 → 张*, 张小三 → 张*三, 欧阳小三 → 欧**三. */
export function maskName (value: string): string {
  const chars = [...value.trim()]
  if (chars.length <= 1) return chars.join('')
  if (chars.length === 2) return chars[0] + '*'
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1]
}

// Anything that looks like an ID number, wherever it stands: a whole line quoted in a JSON
// error, a value in an unrecognised column, a reason text.
const ID_ANYWHERE = /(?<![0-9A-Za-z])\d{14,17}[\dXx](?![0-9A-Za-z])/g

function scrub (text: string): string {
  return text.replace(ID_ANYWHERE, maskCertno)
}

/** The value of a problem as it may be shown. */
export function safeValue (p: RowProblem): string | undefined {
  if (p.value === undefined) return undefined
  if (isCertnoColumn(p.column)) return maskCertno(p.value)
  if (isNameColumn(p.column)) return maskName(p.value)
  return scrub(p.value)
}

function where (p: RowProblem): string {
  return p.row > 0 ? `第${p.row}行` : '文件'
}

/**
 * One line per problem: 第12行 证件号码: 校验位错误：应为X（值：450203********123X）.
 * With more problems than `limit`, the last line says how many were left out.
 */
export function formatProblems (problems: readonly RowProblem[], limit = 50): string[] {
  const lines: string[] = []
  for (const p of problems.slice(0, Math.max(0, limit))) {
    const v = safeValue(p)
    lines.push(`${where(p)} ${p.column}: ${scrub(p.reason)}${v === undefined || v === '' ? '' : `（值：${v}）`}`)
  }
  if (problems.length > limit) lines.push(`……另有${problems.length - limit}个问题未列出，完整清单请导出CSV`)
  return lines
}

function csvField (s: string): string {
  // A county file is not trusted: a value starting with = + - @ would run as a formula when
  // the clerk opens the report in Excel.
  const t = /^[=+\-@\t\r]/.test(s) ? "'" + s : s
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t
}

/**
 * The problems as CSV (行号,列,值,原因), UTF-8 with a BOM and CRLF line ends: without the BOM,
 * Excel on Chinese Windows opens UTF-8 as GBK and shows mojibake.
 */
export function problemsToCsv (problems: readonly RowProblem[]): string {
  const lines = ['行号,列,值,原因']
  for (const p of problems) {
    lines.push([String(p.row), p.column, safeValue(p) ?? '', scrub(p.reason)].map(csvField).join(','))
  }
  return '\uFEFF' + lines.join('\r\n') + '\r\n'
}

/** Writes the row report beside the imported file, or in the data directory if that is read-only. */
export function writeReport (file: string, dataDir: string, problems: RowProblem[]): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  const name = `${basename(file)}.errors-${stamp}.csv`
  const body = problemsToCsv(problems)
  for (const dir of [dirname(file), dataDir]) {
    const target = join(dir, name)
    try {
      writeFileAtomic(target, body, 0o600)
      return target
    } catch {
      // try the next place
    }
  }
  throw new Error(`could not write the row report for ${file}`)
}
