// Reading a hospital's DRG/DIP payment table (病组支付标准表), as 医保 offices send it to hospitals:
// an xlsx or csv with a header row (title rows above it are skipped) naming 病组编码, 病组名称 and
// 支付标准 (or 次均费用), or 基准点数 with a 点值 — the table's own 点值 column, or one given on the
// command line. Every row is checked: a table with one bad row is refused as a whole (an estimate
// read from half a table would be wrong without anyone knowing), with the row and the reason.
import { detectFormat } from './read-list.ts'
import { ListFileError, type RowProblem } from './list-record.ts'
import { normaliseHeader } from './columns.ts'
import { cellText, tableSheets, type Cell } from './read-table.ts'

export interface TariffRecord {
  drg_codg: string
  drg_name: string | null
  pay_std_fen: number
  base_points: string | null
  point_value: string | null
}

export interface TariffReadResult {
  rows: TariffRecord[]
  problems: RowProblem[]
}

type TariffField = 'drg_codg' | 'drg_name' | 'pay_std' | 'base_points' | 'point_value'

const HEADERS: Record<TariffField, readonly string[]> = {
  drg_codg: ['病组编码', 'DRG编码', 'DRG病组编码', '病种编码', 'DIP病种编码', '分组编码', 'drg_codg'],
  drg_name: ['病组名称', 'DRG名称', 'DRG病组名称', '病种名称', '分组名称', 'drg_name'],
  pay_std: ['支付标准', '病组支付标准', '支付标准(元)', '次均费用', '病组次均费用', 'pay_std'],
  base_points: ['基准点数', '病组点数', '点数', 'base_points'],
  point_value: ['点值', '点数单价', 'point_value']
}

const BY_NAME = new Map<string, TariffField>()
for (const [field, names] of Object.entries(HEADERS) as Array<[TariffField, readonly string[]]>) {
  for (const n of names) BY_NAME.set(normaliseHeader(n).toLowerCase(), field)
}

const HEADER_SEARCH_ROWS = 10
const CODE = /^[A-Z0-9][A-Z0-9._-]{0,31}$/
// 1,000,000 yuan for one group's standard is beyond any real table.
const MAX_FEN = 100_000_000

function headerOf (texts: string[]): Map<TariffField, number> | null {
  const map = new Map<TariffField, number>()
  texts.forEach((t, i) => {
    const f = BY_NAME.get(normaliseHeader(t).toLowerCase())
    if (f !== undefined && !map.has(f)) map.set(f, i)
  })
  return map.has('drg_codg') && (map.has('pay_std') || map.has('base_points')) ? map : null
}

/** Yuan with at most two decimals as fen; null when it is not that. */
function fenOf (text: string): number | null {
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.replace(/[,，\s]/g, ''))
  if (m === null) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** A plain positive decimal (points, a point value). */
function decimalText (text: string): string | null {
  const t = text.replace(/[,，\s]/g, '')
  return /^\d{1,12}(\.\d{1,8})?$/.test(t) && Number(t) > 0 ? t : null
}

/** points × value in fen, exactly, rounded half up. */
function pointsFen (points: string, value: string): number {
  const scale = (s: string): [bigint, bigint] => {
    const [i, f = ''] = s.split('.')
    return [BigInt(i + f), 10n ** BigInt(f.length)]
  }
  const [p, ps] = scale(points)
  const [v, vs] = scale(value)
  const den = ps * vs
  return Number((p * v * 100n * 2n + den) / (2n * den))
}

export async function readTariffFile (file: string, opts: { pointValue?: string } = {}): Promise<TariffReadResult> {
  const format = await detectFormat(file)
  if (format !== 'xlsx' && format !== 'csv') throw new ListFileError(`${file}: 病组支付标准表应为 .xlsx 或 .csv 文件`)
  const cliPoint = opts.pointValue === undefined ? null : decimalText(opts.pointValue)
  if (opts.pointValue !== undefined && cliPoint === null) throw new ListFileError(`--point-value ${opts.pointValue}: 点值应为正数，如 10.5`)
  const rows: TariffRecord[] = []
  const problems: RowProblem[] = []
  const seen = new Map<string, number>()
  let found = false
  for await (const sheet of tableSheets(file, format, (lines) => lines.some((l) => headerOf(l) !== null))) {
    let header: Map<TariffField, number> | null = null
    let headerTexts: string[] = []
    let searched = 0
    for await (const r of sheet.rows) {
      const texts = r.cells.map((c: Cell) => cellText(c))
      if (header === null) {
        if (texts.every((t) => t === '')) continue
        header = headerOf(texts)
        headerTexts = texts
        if (header === null && ++searched >= HEADER_SEARCH_ROWS) break
        continue
      }
      if (texts.every((t) => t === '')) continue
      const at = (f: TariffField): string => header!.has(f) ? texts[header!.get(f)!] ?? '' : ''
      const col = (f: TariffField): string => header!.has(f) ? headerTexts[header!.get(f)!] : HEADERS[f][0]
      const problem = (f: TariffField, reason: string): void => { problems.push({ row: r.row, column: col(f), value: at(f).slice(0, 40), reason }) }
      const code = at('drg_codg').toUpperCase()
      if (!CODE.test(code)) { problem('drg_codg', code === '' ? '病组编码为空' : '病组编码只能含字母、数字和 . _ -（不超过32位）'); continue }
      const first = seen.get(code)
      if (first !== undefined) { problem('drg_codg', `病组编码重复：第${first}行已有${code}`); continue }
      seen.set(code, r.row)
      let payFen: number | null = null
      let points: string | null = null
      let value: string | null = null
      const payText = at('pay_std')
      if (payText !== '') {
        payFen = fenOf(payText)
        if (payFen === null || payFen === 0) { problem('pay_std', '支付标准应为大于0的金额（元，最多两位小数）'); continue }
      }
      if (at('base_points') !== '') {
        points = decimalText(at('base_points'))
        if (points === null) { problem('base_points', '基准点数应为正数'); continue }
      }
      if (payFen === null) {
        if (points === null) { problem('pay_std', '支付标准和基准点数都为空'); continue }
        value = at('point_value') === '' ? cliPoint : decimalText(at('point_value'))
        if (value === null) { problem('point_value', at('point_value') === '' ? '只有基准点数没有点值：请在表中加点值列，或用 --point-value 给出' : '点值应为正数'); continue }
        payFen = pointsFen(points, value)
      }
      if (payFen > MAX_FEN) { problem('pay_std', '支付标准超过1,000,000元，请检查单位（应为元）'); continue }
      rows.push({ drg_codg: code, drg_name: at('drg_name') === '' ? null : at('drg_name').slice(0, 200), pay_std_fen: payFen, base_points: points, point_value: value })
    }
    if (header !== null) { found = true; break }
  }
  if (!found) throw new ListFileError(`${file}: 找不到表头：需要「病组编码」和「支付标准」（或「次均费用」，或「基准点数」加点值）列`)
  return { rows, problems }
}
