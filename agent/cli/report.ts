// `fangpin report burden --month YYYY-MM [--out FILE.xlsx|.csv]`: the month's burden list (people over
// their annual threshold, stays below the reimbursement targets) for 医保 and the 乡村振兴 office.
// Without --out a summary is printed. The file is written atomically: a half-written report is never
// sent on.
import { parseArgs } from 'node:util'
import { extname } from 'node:path'
import type { Config } from '../config.ts'
import { UsageError, type Io } from '../../base/terminal.ts'
import { writeFileAtomic } from '../../base/files.ts'
import { withAgent } from './agent.ts'

const USAGE = 'usage: fangpin report burden --month YYYY-MM [--out FILE.xlsx|FILE.csv]'

export async function reportCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'burden') throw new UsageError(USAGE)
  const { values, positionals } = parseArgs({ args: rest, options: { month: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true })
  if (positionals.length > 0 || values.month === undefined) throw new UsageError(USAGE)
  const out = values.out
  const ext = out === undefined ? null : extname(out).toLowerCase()
  if (ext !== null && ext !== '.xlsx' && ext !== '.csv') throw new UsageError(`--out must end in .xlsx or .csv\n${USAGE}`)
  return await withAgent(config, io, async ({ rules, actor }) => {
    const report = await rules.burdenReport(actor, values.month!)
    if (out !== undefined) {
      const { burdenXlsx, burdenCsv } = await import('../report/burden-file.ts')
      // 0640: the list names (masked) patients; the hospital's IT decides who reads it.
      writeFileAtomic(out, ext === '.xlsx' ? await burdenXlsx(report) : Buffer.from(burdenCsv(report), 'utf8'), 0o640)
    }
    io.out.write(`${report.month}: ${report.over_threshold.length} people over their annual threshold (${report.over_threshold.filter((o) => o.crossed_this_month).length} new this month), ${report.below_target.length} stays below the reimbursement targets${out === undefined ? '' : `; written to ${out}`}\n`)
    return 0
  })
}
