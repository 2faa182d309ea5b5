// `fangpin import <file>`: a county export becomes the serving list. All or nothing by default —
// a list with one wrong row is a list someone must look at before patients are turned away by it;
// --allow-partial loads the good rows and leaves the report of the bad ones beside the file.
import { writeFileSync, renameSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { LoadedProfile } from '../agent/profile/profile.ts'
import { recheckOpenAdmissions } from './registry/recheck.ts'
import type { Store } from '../agent/store/store.ts'
import type { LoadResult } from '../agent/store/list.ts'
import { endDemoAccess } from '../agent/demo/demo-access.ts'
import { readListFile } from './import/read-list.ts'
import type { ReadResult, RowProblem } from './import/list-record.ts'
import { problemsToCsv } from './import/row-report.ts'

export class ImportRejected extends Error {
  constructor (message: string, public readonly problems: RowProblem[], public readonly reportFile: string | null) {
    super(message)
    this.name = 'ImportRejected'
  }
}

export interface ImportOptions {
  allowPartial?: boolean
  tz?: string
  client?: string
  onReadProgress?: (rowsDone: number, rowsTotal: number | undefined) => void
  onLoadProgress?: (persons: number, total: number) => void
}

export interface ImportOutcome {
  read: Pick<ReadResult, 'format' | 'rows' | 'goodRows' | 'badRows'>
  load: LoadResult
  problems: RowProblem[]
  reportFile: string | null
}

/** Writes the row report beside the imported file, or in the data directory if that is read-only. */
export function writeReport (file: string, dataDir: string, problems: RowProblem[]): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  const name = `${basename(file)}.errors-${stamp}.csv`
  const body = problemsToCsv(problems)
  for (const dir of [dirname(file), dataDir]) {
    const target = join(dir, name)
    try {
      writeFileSync(`${target}.tmp`, body, { mode: 0o600 })
      renameSync(`${target}.tmp`, target)
      return target
    } catch {
      // try the next place
    }
  }
  throw new Error(`could not write the row report for ${file}`)
}

export async function importList (store: Store, profile: LoadedProfile, file: string, opts: ImportOptions = {}): Promise<ImportOutcome> {
  const read = await readListFile(file, { profile, tz: opts.tz, onProgress: opts.onReadProgress })
  let reportFile: string | null = null
  if (read.problems.length > 0) {
    reportFile = writeReport(file, store.dataDir, read.problems)
    if (opts.allowPartial !== true) {
      store.audit.write({ client: opts.client ?? 'cli', action: 'list.import', decision: 'rejected', detail: { file: basename(file), rows: read.rows, bad_rows: read.badRows } })
      throw new ImportRejected(`${read.badRows} of ${read.rows} rows are wrong; nothing was loaded (the current list stays in service). Fix them, or load the good rows with --allow-partial.`, read.problems, reportFile)
    }
  }
  const client = opts.client ?? 'cli'
  const load = await store.list.replace(read.records, {
    source: 'import',
    label: basename(file),
    version: `import-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`,
    region: profile.region
  }, {
    onProgress: opts.onLoadProgress === undefined ? undefined : (persons) => opts.onLoadProgress?.(persons, read.records.length),
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
      endDemoAccess(store, client)
    }
  })
  store.alerts.resolve('list_stale')
  // As after a registry sync: stays whose patient is now on the list are flagged and monitored.
  await recheckOpenAdmissions(store, profile, opts.tz ?? 'Asia/Shanghai', null)
  return { read: { format: read.format, rows: read.rows, goodRows: read.goodRows, badRows: read.badRows }, load, problems: read.problems, reportFile }
}
