// `fangpin tariff import <file> [--point-value N] [--allow-partial]`: the hospital's DRG/DIP payment
// table (病组编码, 病组名称, 支付标准 or 次均费用, or 基准点数 with a 点值) becomes the admission
// estimate's tariff basis. All or nothing unless --allow-partial, like a list import.
import { parseArgs } from 'node:util'
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { Config } from '../config.ts'
import { UsageError, type Io } from '../../base/terminal.ts'
import { withAgent } from './agent.ts'

const USAGE = 'usage: fangpin tariff import <file.xlsx|file.csv> [--point-value <元/点>] [--allow-partial]'

export async function tariffCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'import') throw new UsageError(USAGE)
  const { values, positionals } = parseArgs({ args: rest, options: { 'point-value': { type: 'string' }, 'allow-partial': { type: 'boolean', default: false } }, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError(USAGE)
  const file = positionals[0]
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`)
  // The readers pull in exceljs and csv-parse; only the import needs them.
  const { readTariffFile } = await import('../../lists/read-tariff.ts')
  const { ListFileError } = await import('../../lists/list-record.ts')
  const { formatProblems } = await import('../../lists/row-report.ts')
  let read
  try {
    read = await readTariffFile(file, { pointValue: values['point-value'] })
  } catch (err) {
    if (err instanceof ListFileError) { io.err.write(err.message + '\n'); return 2 }
    throw err
  }
  if (read.problems.length > 0) {
    const out = values['allow-partial'] ? io.out : io.err
    out.write(formatProblems(read.problems, 50).join('\n') + '\n')
    if (!values['allow-partial']) {
      io.err.write(`\n${read.problems.length} bad rows: nothing imported (fix them, or import the good rows with --allow-partial)\n`)
      return 2
    }
  }
  if (read.rows.length === 0) { io.err.write(`${file}: no payment standards in the table: nothing imported\n`); return 2 }
  return await withAgent(config, io, async ({ rules, actor }) => {
    const { groups } = await rules.replaceTariffs(actor, read.rows, basename(file))
    io.out.write(`imported ${groups} DRG groups from ${basename(file)}${read.problems.length > 0 ? ` (${read.problems.length} bad rows skipped)` : ''}; admission estimates use them from now on\n`)
    return 0
  })
}
