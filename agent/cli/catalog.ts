// `fangpin catalog import|status|sync`: the insurance catalog on this agent.
import { parseArgs } from 'node:util'
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { Config } from '../config.ts'
import { progressBar, UsageError, type Io } from '../../base/terminal.ts'
import { withAgent } from './agent.ts'

export const CATALOG_USAGE = `usage:
  fangpin catalog import <file>… [--mapping <file>]… [--vbp <file>]… [--allow-partial]
      load the insurance catalog (xlsx, csv in UTF-8 or GBK, the platform's 1301/1302/1305/1306
      downloads, or a registry catalog .ndjson.gz), the hospital's code mapping (medins_list_codg →
      med_list_codg) and the 集采中选 list; all or nothing unless --allow-partial
  fangpin catalog status      what is loaded, the last catalog sync, items whose HIS level disagrees
  fangpin catalog sync        fetch the registry's catalog now (exit 0 when current or updated)`

function parse (args: string[]) {
  try {
    return parseArgs({
      args,
      options: { 'allow-partial': { type: 'boolean', default: false }, mapping: { type: 'string', multiple: true }, vbp: { type: 'string', multiple: true } },
      allowPositionals: true,
      strict: true
    })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${CATALOG_USAGE}`)
  }
}

async function importCommand (config: Config, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args)
  const mappings = values.mapping ?? []
  const vbp = values.vbp ?? []
  if (positionals.length + mappings.length + vbp.length === 0) throw new UsageError(`give at least one file\n${CATALOG_USAGE}`)
  for (const f of [...positionals, ...mappings, ...vbp]) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`)
  // The readers pull in exceljs and csv-parse: loaded only when importing.
  const { importCatalog, CatalogImportRejected } = await import('../intake/catalog-import.ts')
  const { formatProblems } = await import('../../lists/row-report.ts')
  const { CatalogFileError } = await import('../../catalog/read-catalog.ts')
  return await withAgent(config, io, async ({ rules, actor }) => {
    const bars = new Map<string, ReturnType<typeof progressBar>>()
    const loading = progressBar(io, 'loading', 10_000)
    const closeAll = (): void => { for (const b of bars.values()) b.done(); loading.done() }
    try {
      const out = await importCatalog(rules.ctx, actor, { files: positionals, mappings, vbp }, {
        allowPartial: values['allow-partial'],
        onReadProgress: (file, d, t) => {
          let bar = bars.get(file)
          if (bar === undefined) {
            for (const b of bars.values()) b.done()
            bars.set(file, bar = progressBar(io, `reading ${basename(file)}`, 10_000))
          }
          bar.update(d, t)
        },
        onLoadProgress: (d, t) => { for (const b of bars.values()) b.done(); loading.update(d, t) }
      })
      closeAll()
      for (const f of out.files) {
        if (f.problems.length > 0) {
          io.out.write(formatProblems(f.problems, 20).join('\n') + '\n')
          io.out.write(`${basename(f.file)}: ${f.badRows} bad rows skipped (--allow-partial); full report: ${f.reportFile ?? ''}\n`)
        }
        io.out.write(`${basename(f.file)}: ${f.goodRows} of ${f.rows} rows read as ${f.kind}${f.layout !== null ? ` (platform download ${f.layout})` : ''} (${f.format})\n`)
      }
      const l = out.load
      io.out.write(`loaded ${l.parts.join(', ')}: ${l.items} catalog rows of ${l.codes} codes, ${l.mappings} mapping rows, ${l.vbp} 集采中选 products; catalog version ${l.version ?? 'none'}\n`)
      return 0
    } catch (err) {
      closeAll()
      if (err instanceof CatalogImportRejected) {
        for (const f of err.files) {
          if (f.problems.length === 0) continue
          io.err.write(`${basename(f.file)}:\n` + formatProblems(f.problems, 50).join('\n') + `\nfull report: ${f.reportFile ?? ''}\n`)
        }
        io.err.write(`\n${err.message}\n`)
        return 2
      }
      if (err instanceof CatalogFileError) {
        io.err.write(`${err.message}\n`)
        return 2
      }
      throw err
    }
  })
}

async function statusCommand (config: Config, io: Io): Promise<number> {
  return await withAgent(config, io, async ({ rules }) => {
    const s = rules.catalogStatus()
    const lines = s.loaded
      ? [`catalog ${s.version ?? ''} (${s.source ?? ''}${s.seq !== null ? ` ${s.seq}` : ''}), loaded ${s.loaded_at ?? ''}: ${s.items} rows of ${s.codes} codes, ${s.mappings} mapping rows, ${s.vbp} 集采中选 products; region ${s.insu_admdvs}`]
      : [`no catalog loaded (${s.mappings} mapping rows, ${s.vbp} 集采中选 products); lines need their chrgitm_lv or split`]
    if (s.last_sync !== null) lines.push(`last catalog sync ${s.last_sync.at}: ${s.last_sync.result ?? ''} ${s.last_sync.message ?? ''}`.trimEnd())
    const drift = rules.catalogDrift(20)
    if (drift.count > 0) {
      lines.push(`${drift.count} items whose HIS level disagrees with the catalog (the HIS's counts):`)
      for (const d of drift.items) lines.push(`  ${d.code} ${d.name ?? ''}: ${d.message}; ${d.lines} lines since ${d.first_seen}`)
    }
    io.out.write(lines.join('\n') + '\n')
    return 0
  })
}

async function syncCommand (config: Config, io: Io): Promise<number> {
  if (config.registryUrl === null || config.registryPublicKey === null) throw new UsageError('no registry is configured: set FANGPIN_REGISTRY_URL and FANGPIN_REGISTRY_PUBKEY')
  const { runCatalogSync } = await import('../intake/catalog-sync.ts')
  return await withAgent(config, io, async ({ rules }) => {
    const r = await runCatalogSync({ ctx: rules.ctx, url: config.registryUrl!, publicKey: config.registryPublicKey!, client: { minBytesPerSec: config.syncMinBytesPerSec }, timeoutMs: config.syncTimeoutMinutes * 60_000 })
    io[r.result === 'failed' ? 'err' : 'out'].write(`catalog sync ${r.result}: ${r.message}\n`)
    return r.result === 'failed' ? 1 : 0
  })
}

export async function catalogCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'import') return await importCommand(config, rest, io)
  if (sub === 'status') return await statusCommand(config, io)
  if (sub === 'sync') return await syncCommand(config, io)
  throw new UsageError(`${sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`}\n${CATALOG_USAGE}`)
}
