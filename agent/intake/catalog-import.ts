// `fangpin catalog import`: catalog files, the hospital's code mapping and the 集采中选 list become
// the catalog in service. The list's discipline: every row checked and reported (row, column,
// reason, with a CSV report beside the file), all or nothing unless --allow-partial, and a load
// that writes new generations beside the serving ones and flips to all of them at once.
import { basename } from 'node:path'
import { actorName, type Actor, type RulesContext } from '../rules/context.ts'
import type { CatalogLoadParts, CatalogLoadResult } from '../store/catalog.ts'
import { readCatalogFile, type CatalogKind, type CatalogReadResult } from '../../catalog/read-catalog.ts'
import { fillFromSameCode, type CatalogItem, type CatalogMapping, type VbpProduct } from '../../catalog/record.ts'
import { KIND_LABEL } from '../../catalog/columns.ts'
import type { RowProblem } from '../../lists/list-record.ts'
import { writeReport } from '../../lists/row-report.ts'

export interface CatalogFileSummary {
  file: string
  kind: CatalogKind
  format: CatalogReadResult['format']
  layout: string | null
  rows: number
  goodRows: number
  badRows: number
  problems: RowProblem[]
  reportFile: string | null
}

export class CatalogImportRejected extends Error {
  constructor (message: string, public readonly files: CatalogFileSummary[]) {
    super(message)
    this.name = 'CatalogImportRejected'
  }
}

export interface CatalogImportInput {
  /** catalog files (their kind from their header: items, or a mapping or 集采 list recognised as such) */
  files: string[]
  /** files read as the hospital's code mapping */
  mappings?: string[]
  /** files read as the 集采中选 list */
  vbp?: string[]
}

export interface CatalogImportOptions {
  allowPartial?: boolean
  onReadProgress?: (file: string, rowsDone: number, rowsTotal: number | undefined) => void
  onLoadProgress?: (done: number, total: number) => void
}

export interface CatalogImportOutcome {
  files: CatalogFileSummary[]
  load: CatalogLoadResult
}

export async function importCatalog (ctx: RulesContext, actor: Actor, input: CatalogImportInput, opts: CatalogImportOptions = {}): Promise<CatalogImportOutcome> {
  const { store } = ctx
  const jobs: Array<{ file: string, kind?: CatalogKind }> = [
    ...input.files.map((file) => ({ file })),
    ...(input.mappings ?? []).map((file) => ({ file, kind: 'mapping' as const })),
    ...(input.vbp ?? []).map((file) => ({ file, kind: 'vbp' as const }))
  ]
  const items: CatalogItem[] = []
  const mappings: CatalogMapping[] = []
  const vbp: VbpProduct[] = []
  const kinds = new Set<CatalogKind>()
  const files: CatalogFileSummary[] = []
  for (const job of jobs) {
    const read = await readCatalogFile(job.file, { kind: job.kind, tz: ctx.settings.tz, onProgress: (d, t) => opts.onReadProgress?.(job.file, d, t) })
    // An NDJSON catalog file may carry several parts; a table file is one.
    if (read.items.length > 0 || (read.format !== 'ndjson' && read.kind === 'items')) kinds.add('items')
    if (read.mappings.length > 0 || (read.format !== 'ndjson' && read.kind === 'mapping')) kinds.add('mapping')
    if (read.vbp.length > 0 || (read.format !== 'ndjson' && read.kind === 'vbp')) kinds.add('vbp')
    for (const i of read.items) items.push(i)
    for (const m of read.mappings) mappings.push(m)
    for (const v of read.vbp) vbp.push(v)
    const reportFile = read.problems.length > 0 ? writeReport(job.file, store.dataDir, read.problems) : null
    files.push({ file: job.file, kind: read.kind, format: read.format, layout: read.layout, rows: read.rows, goodRows: read.goodRows, badRows: read.badRows, problems: read.problems, reportFile })
  }
  const client = actorName(actor)
  const detail = files.map((f) => ({ file: basename(f.file), kind: f.kind, rows: f.rows, bad_rows: f.badRows }))
  const bad = files.filter((f) => f.problems.length > 0)
  if (bad.length > 0 && opts.allowPartial !== true) {
    await store.write(() => store.audit.write({ client, action: 'catalog.import', decision: 'rejected', detail: { files: detail } }))
    const rows = bad.map((f) => `${basename(f.file)}: ${f.badRows} of ${f.rows} rows`).join('; ')
    throw new CatalogImportRejected(`wrong rows (${rows}); nothing was loaded (the current catalog stays in service). Fix them, or load the good rows with --allow-partial.`, files)
  }
  for (const k of kinds) {
    const n = k === 'items' ? items.length : k === 'mapping' ? mappings.length : vbp.length
    if (n === 0) {
      throw new CatalogImportRejected(`no good rows of the ${KIND_LABEL[k]} (${k}) were read; nothing was loaded (the current catalog stays in service)`, files)
    }
  }
  fillFromSameCode(items)
  const parts: CatalogLoadParts = {}
  if (kinds.has('items')) parts.items = items
  if (kinds.has('mapping')) parts.mappings = mappings
  if (kinds.has('vbp')) parts.vbp = vbp
  const load = await store.catalog.replace(parts, {
    source: 'import',
    label: jobs.map((j) => basename(j.file)).join(', ').slice(0, 200),
    version: kinds.has('items') ? `import-${ctx.now().toISOString().slice(0, 19).replace(/[-:T]/g, '')}` : undefined
  }, {
    onProgress: opts.onLoadProgress,
    // The audit row is committed with the flip: a catalog never serves without it.
    atFlip: (r) => store.audit.write({
      client,
      action: 'catalog.import',
      decision: bad.length > 0 ? 'partial' : 'loaded',
      detail: { files: detail, parts: r.parts, version: r.version, items: r.items, codes: r.codes, mappings: r.mappings, vbp: r.vbp }
    })
  })
  return { files, load }
}
