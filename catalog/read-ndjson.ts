// The registry's catalog files (and any catalog saved as NDJSON), read line by line with every
// record checked. Apart from the table readers on purpose: the agent's catalog sync runs in the
// server, which must start without exceljs and csv-parse.
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { createInterface } from 'node:readline'
import { ListFileError, type RowProblem } from '../lists/list-record.ts'
import { count } from '../lists/limits.ts'
import type { CatalogKind } from './columns.ts'
import type { CatalogItem, CatalogMapping, VbpProduct } from './record.ts'
import { parseCatalogLine } from './ndjson.ts'

const PROGRESS_EVERY = 1000

export interface CatalogReadResult {
  format: 'xlsx' | 'csv' | 'ndjson'
  /** what the file was read as (one kind per table file; an NDJSON file may hold several) */
  kind: CatalogKind
  /** the platform download layout the file was read with (1301 …), null for a file with a header */
  layout: string | null
  items: CatalogItem[]
  mappings: CatalogMapping[]
  vbp: VbpProduct[]
  problems: RowProblem[]
  rows: number
  goodRows: number
  badRows: number
}

/** A catalog NDJSON file (plain or gzip): every line checked; a bad line is a row problem. */
export async function readCatalogNdjson (file: string, opts: { onProgress?: (rowsDone: number, rowsTotal: number | undefined) => void } = {}): Promise<CatalogReadResult> {
  const fh = await open(file, 'r')
  const magic = Buffer.alloc(2)
  try { await fh.read(magic, 0, 2, 0) } finally { await fh.close() }
  const raw = createReadStream(file)
  const gz = magic[0] === 0x1f && magic[1] === 0x8b
  const input = gz ? raw.pipe(createGunzip()) : raw
  let failure: Error | undefined
  const rl = createInterface({ input, crlfDelay: Infinity })
  const fail = (err: Error): void => { failure ??= err; rl.close() }
  raw.on('error', fail)
  if (gz) input.on('error', fail)
  const out: CatalogReadResult = { format: 'ndjson', kind: 'items', layout: null, items: [], mappings: [], vbp: [], problems: [], rows: 0, goodRows: 0, badRows: 0 }
  let line = 0
  try {
    for await (const text of rl) {
      line++
      if (text.trim() === '') continue
      out.rows++
      try {
        const r = parseCatalogLine(text)
        if (r.t === 'item') { const { t: _t, ...i } = r; out.items.push(i) } else if (r.t === 'vbp') { const { t: _t, ...v } = r; out.vbp.push(v) } else { const { t: _t, ...m } = r; out.mappings.push(m) }
        out.goodRows++
      } catch (err) {
        out.badRows++
        if (out.problems.length < 1000) out.problems.push({ row: line, column: 'record', reason: (err as Error).message })
      }
      if (opts.onProgress !== undefined && line % PROGRESS_EVERY === 0) opts.onProgress(line, undefined)
    }
    if (failure !== undefined) throw new ListFileError(`无法读取${file}：${failure.message}`)
  } finally {
    rl.close()
    raw.destroy()
  }
  if (out.badRows > out.problems.length) out.problems.push({ row: 0, column: 'record', reason: `……另有${count(out.badRows - out.problems.length)}条记录有误` })
  return out
}

