// `fangpin import <file>`: a county export becomes the serving list. All or nothing by default —
// a list with one wrong row is a list someone must look at before patients are turned away by it;
// --allow-partial loads the good rows and leaves the report of the bad ones beside the file.
import { basename } from 'node:path'
import { recheckOpenAdmissions } from '../rules/recheck.ts'
import { actorName, type Actor, type RulesContext } from '../rules/context.ts'
import type { LoadResult } from '../store/list.ts'
import { readListFile } from '../../lists/read-list.ts'
import type { ReadResult, RowProblem } from '../../lists/list-record.ts'
import { writeReport } from '../../lists/row-report.ts'

export class ImportRejected extends Error {
  constructor (message: string, public readonly problems: RowProblem[], public readonly reportFile: string | null) {
    super(message)
    this.name = 'ImportRejected'
  }
}

export interface ImportOptions {
  allowPartial?: boolean
  /**
   * Runs in the transaction that makes the new list serve: whatever must end the moment real
   * people are served (the demo's well-known credentials) ends with it.
   */
  atRealList?: () => void
  onReadProgress?: (rowsDone: number, rowsTotal: number | undefined) => void
  onLoadProgress?: (persons: number, total: number) => void
  /** stops the load between two chunks (Ctrl-C, a SIGTERM): the serving list stays as it was */
  signal?: AbortSignal
}

export interface ImportOutcome {
  read: Pick<ReadResult, 'format' | 'rows' | 'goodRows' | 'badRows'>
  load: LoadResult
  problems: RowProblem[]
  reportFile: string | null
}


export async function importList (ctx: RulesContext, actor: Actor, file: string, opts: ImportOptions = {}): Promise<ImportOutcome> {
  const { store, profile } = ctx
  const client = actorName(actor)
  const read = await readListFile(file, { profile, tz: ctx.settings.tz, onProgress: opts.onReadProgress })
  let reportFile: string | null = null
  if (read.problems.length > 0) {
    reportFile = writeReport(file, store.dataDir, read.problems)
    if (opts.allowPartial !== true) {
      await store.write(() => store.audit.write({ client, action: 'list.import', decision: 'rejected', detail: { file: basename(file), rows: read.rows, bad_rows: read.badRows } }))
      throw new ImportRejected(`${read.badRows} of ${read.rows} rows are wrong; nothing was loaded (the current list stays in service). Fix them, or load the good rows with --allow-partial.`, read.problems, reportFile)
    }
  }
  const load = await store.list.replace(read.records, {
    source: 'import',
    label: basename(file),
    version: `import-${ctx.now().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`,
    region: profile.region
  }, {
    onProgress: opts.onLoadProgress === undefined ? undefined : (persons) => opts.onLoadProgress?.(persons, read.records.length),
    signal: opts.signal,
    // In the transaction that makes the list serve: a list never goes live without its audit row,
    // and the demo's well-known token and sign-in never reach a real person, not even for a moment,
    // not even when a crash cut off an earlier import right after its flip.
    atFlip: (load) => {
      store.audit.write({
        client,
        action: 'list.import',
        decision: read.problems.length > 0 ? 'partial' : 'loaded',
        detail: { file: basename(file), format: read.format, rows: read.rows, bad_rows: read.badRows, persons: load.persons, identities: load.identities, version: load.version }
      })
      store.alerts.resolve('list_stale')
      opts.atRealList?.()
    }
  })
  // As after a registry sync: stays whose patient is now on the list are flagged and monitored.
  await recheckOpenAdmissions(ctx, null)
  return { read: { format: read.format, rows: read.rows, goodRows: read.goodRows, badRows: read.badRows }, load, problems: read.problems, reportFile }
}
