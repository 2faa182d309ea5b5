// `fangpin import <file> [--allow-partial]`: a county export becomes the serving list.
import { parseArgs } from 'node:util'
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { Config } from '../config.ts'
import { progressBar, UsageError, type Io } from '../../base/terminal.ts'
import { endDemoAccess } from '../demo/demo-access.ts'
import { actorName } from '../rules/context.ts'
import { withAgent } from './agent.ts'

export async function importCommand (config: Config, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { 'allow-partial': { type: 'boolean', default: false } }, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('usage: fangpin import <file> [--allow-partial]')
  const file = positionals[0]
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`)
  // The readers pull in exceljs and csv-parse; only `import` needs them, so `serve` starts lighter.
  const { importList, ImportRejected } = await import('../intake/import.ts')
  const { formatProblems } = await import('../../lists/row-report.ts')
  return await withAgent(config, io, async ({ rules, store, actor }) => {
    // A list of millions writes gigabytes of log: copied into the database beside the load.
    store.checkpointInBackground()
    const reading = progressBar(io, `reading ${basename(file)}`, 10_000)
    const loading = progressBar(io, 'loading', 10_000)
    // Ctrl-C or a SIGTERM (a shutdown, systemctl stop of a timer unit) stops the load after the
    // chunk being written, in one clean step: the list in service stays, the database closes with
    // its WAL folded in. Killed instead, the same rows would wait for the next start to be purged.
    const stop = new AbortController()
    const onSignal = (signal: string): void => { stop.abort(new ImportInterrupted(signal)) }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const out = await importList(rules.ctx, actor, file, {
        allowPartial: values['allow-partial'],
        // The demo's token and sign-in end in the transaction that makes real people serve.
        atRealList: () => endDemoAccess(store, actorName(actor)),
        onReadProgress: (d, t) => reading.update(d, t),
        onLoadProgress: (p, total) => { reading.done(); loading.update(p, total) },
        signal: stop.signal
      })
      loading.done()
      if (out.problems.length > 0) {
        io.out.write(formatProblems(out.problems, 20).join('\n') + '\n')
        io.out.write(`${out.read.badRows} bad rows skipped (--allow-partial); full report: ${out.reportFile ?? ''}\n`)
      }
      io.out.write(`loaded ${out.load.persons} people with ${out.load.identities} identities from ${out.read.rows} rows (${out.read.format}); list version ${out.load.version}\n`)
      return 0
    } catch (err) {
      reading.done()
      loading.done()
      if (err instanceof ImportInterrupted) {
        io.err.write(`${err.message}\n`)
        return 1
      }
      if (err instanceof ImportRejected) {
        io.err.write(formatProblems(err.problems, 50).join('\n') + '\n')
        io.err.write(`\n${err.message}\nfull report: ${err.reportFile ?? ''}\n`)
        return 2
      }
      throw err
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  })
}

class ImportInterrupted extends Error {
  override name = 'ImportInterrupted'
  constructor (signal: string) {
    super(`import interrupted (${signal} received): nothing was loaded; the list in service is unchanged`)
  }
}
