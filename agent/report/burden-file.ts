// The monthly burden list as a file for 医保 and the 乡村振兴 office: an Excel workbook with one sheet
// per list, or a CSV (UTF-8 with BOM, so Excel opens the Chinese columns) with a 清单 column saying
// which list a row is on. Names masked, ID numbers never: the report carries only what the rules gave.
// Cells that begin with = + - @ are written as text ('…) so no spreadsheet runs them as formulas.
import ExcelJS from 'exceljs'

export interface BurdenReportData {
  month: string
  hospital_name: string | null
  region_name: string
  over_threshold: Array<{ mdtrt_id: string, name_masked: string | null, adm_dept_name: string | null, year: number, crossed_at: string, crossed_this_month: boolean, ytd_psn_part_amt: number, ytd_medfee_sumamt: number, ytd_out_of_catalog_ratio: number | null, threshold_amt: number | null, registry_as_of: string | null }>
  below_target: Array<{ mdtrt_id: string, name_masked: string | null, adm_dept_name: string | null, setl_time: string, medfee_sumamt: number, fund_pay_sumamt: number, psn_part_amt: number, targets: Array<{ measure: string, target: number, comparison: string, value: number | null, met: boolean | null, source: string }> }>
}

const MEASURE: Record<string, string> = { reimbursement_ratio: '住院合规费用报销比例', protection_ratio: '综合保障率', psn_part_ratio: '个人负担率' }

type Cell = string | number | null

function pct (r: number | null): string {
  return r === null ? '' : `${(Math.round(r * 10_000) / 100).toFixed(2)}%`
}

function safe (c: Cell): Cell {
  return typeof c === 'string' && /^[=+\-@\t\r]/.test(c) ? `'${c}` : c
}

const OVER_HEAD = ['住院号', '姓名', '科室', '年度', '达到预警线时间', '本月新增', '年度累计个人负担(元)', '年度累计医疗费用(元)', '自费占比', '预警线(元)', '名单统计截至']
const BELOW_HEAD = ['住院号', '姓名', '科室', '结算时间', '医疗费用(元)', '基金支付(元)', '个人负担(元)', '未达目标']

function overRows (d: BurdenReportData): Cell[][] {
  return d.over_threshold.map((o) => [o.mdtrt_id, o.name_masked, o.adm_dept_name, o.year, o.crossed_at, o.crossed_this_month ? '是' : '否', o.ytd_psn_part_amt, o.ytd_medfee_sumamt, pct(o.ytd_out_of_catalog_ratio), o.threshold_amt, o.registry_as_of])
}

function belowRows (d: BurdenReportData): Cell[][] {
  return d.below_target.map((b) => [b.mdtrt_id, b.name_masked, b.adm_dept_name, b.setl_time, b.medfee_sumamt, b.fund_pay_sumamt, b.psn_part_amt,
    b.targets.filter((t) => t.met === false).map((t) => `${MEASURE[t.measure] ?? t.measure}${pct(t.value)}（目标${t.comparison === '<=' ? '≤' : '≥'}${pct(t.target)}，${t.source}）`).join('；')])
}

export async function burdenXlsx (d: BurdenReportData): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'fangpin'
  const title = `${d.hospital_name ?? d.region_name} ${d.month} 困难群众医疗费用负担月报`
  for (const [name, head, rows] of [['年度负担超预警线', OVER_HEAD, overRows(d)], ['报销未达目标', BELOW_HEAD, belowRows(d)]] as const) {
    const ws = wb.addWorksheet(name)
    ws.addRow([title])
    ws.addRow([...head])
    ws.getRow(2).font = { bold: true }
    for (const r of rows) ws.addRow(r.map(safe))
    if (rows.length === 0) ws.addRow(['（无）'])
    ws.columns.forEach((c) => { c.width = 16 })
  }
  return Buffer.from(await wb.xlsx.writeBuffer())
}

function csvCell (c: Cell): string {
  const s = c === null ? '' : String(safe(c))
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function burdenCsv (d: BurdenReportData): string {
  const lines: Cell[][] = [
    ['清单', ...OVER_HEAD],
    ...overRows(d).map((r) => ['年度负担超预警线', ...r]),
    [],
    ['清单', ...BELOW_HEAD],
    ...belowRows(d).map((r) => ['报销未达目标', ...r])
  ]
  return '\ufeff' + lines.map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n'
}
