// `fangpin registry publish-catalog`: the county's insurance catalog (and 集采中选 list) as the next
// signed catalog publish, beside the list in the same directory and with the same key.
import { parseArgs } from 'node:util'
import { existsSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import { DEFAULT_TZ, isValidTimeZone } from '../base/local-time.ts'
import { DEFAULT_PROFILE, loadProfile, ProfileError } from '../profile/profile.ts'
import { readPrivateKey, RegistryKeyError } from './manifest.ts'
import { progressBar, UsageError, type Io } from '../base/terminal.ts'

export const PUBLISH_CATALOG_USAGE = `  fangpin registry publish-catalog --from <file>… [--vbp <file>]… --out <dir> --key <registry.key>
                                   [--region <code>] [--expires-days N] [--allow-partial]
      publish the insurance catalog (xlsx, csv, or the platform's 1301/1302/1305/1306 downloads;
      several --from files make one catalog) and the 集采中选 list as the next signed catalog
      (catalog-manifest.json + catalog-<seq>.ndjson.gz) in <dir>, beside the list
`

export async function cmdPublishCatalog (args: string[], io: Io): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args,
      options: {
        from: { type: 'string', multiple: true },
        vbp: { type: 'string', multiple: true },
        out: { type: 'string' },
        key: { type: 'string' },
        region: { type: 'string' },
        'expires-days': { type: 'string' },
        'allow-partial': { type: 'boolean', default: false }
      },
      strict: true
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const v = parsed.values
  const from = (v.from ?? []).map((f) => resolve(f))
  const vbpFiles = (v.vbp ?? []).map((f) => resolve(f))
  if (from.length === 0) throw new UsageError('--from <file> is required (repeat it for several files)')
  for (const need of ['out', 'key'] as const) if (v[need] === undefined || v[need] === '') throw new UsageError(`--${need} is required`)
  if (v.region !== undefined && !/^\d{6}$/.test(v.region)) throw new UsageError('--region must be a 6-digit administrative-division code (行政区划代码), e.g. 450206')
  const expiresRaw = v['expires-days']
  if (expiresRaw !== undefined && (!/^\d+$/.test(expiresRaw) || Number(expiresRaw) < 1 || Number(expiresRaw) > 3660)) throw new UsageError('--expires-days must be a whole number from 1 to 3660')
  for (const f of [...from, ...vbpFiles]) {
    if (!existsSync(f) || !statSync(f).isFile()) {
      io.err.write(`no such file: ${f}\n`)
      return 1
    }
  }
  const tz = io.env.FANGPIN_TZ ?? DEFAULT_TZ
  if (!isValidTimeZone(tz)) {
    io.err.write(`FANGPIN_TZ="${tz}" is not a time zone this Node.js knows: use an IANA name such as ${DEFAULT_TZ}\n`)
    return 1
  }
  let region = v.region
  if (region === undefined) {
    try {
      region = loadProfile(io.env.FANGPIN_PROFILE ?? DEFAULT_PROFILE).region
    } catch (err) {
      if (err instanceof ProfileError) {
        io.err.write(`FANGPIN_PROFILE: ${err.message}\n`)
        return 1
      }
      throw err
    }
  }
  let privateKey
  try {
    privateKey = readPrivateKey(resolve(v.key!))
  } catch (err) {
    if (err instanceof RegistryKeyError) {
      io.err.write(`${err.message}\n`)
      return 1
    }
    throw err
  }

  const { readCatalogFile, CatalogFileError } = await import('../catalog/read-catalog.ts')
  const { fillFromSameCode } = await import('../catalog/record.ts')
  const { formatProblems, writeReport } = await import('../lists/row-report.ts')
  const { publishCatalog } = await import('./publish-catalog.ts')
  const { PublishRefused } = await import('./publish.ts')

  const items = []
  const vbp = []
  let bad = false
  for (const [file, kind] of [...from.map((f) => [f, undefined] as const), ...vbpFiles.map((f) => [f, 'vbp'] as const)]) {
    const progress = progressBar(io, `reading ${basename(file)}`, 10_000)
    let read
    try {
      read = await readCatalogFile(file, { kind, tz, onProgress: progress.update })
    } catch (err) {
      if (err instanceof CatalogFileError) {
        io.err.write(`${basename(file)}: ${err.message}\n`)
        return 1
      }
      throw err
    } finally {
      progress.done()
    }
    if (read.mappings.length > 0 || read.kind === 'mapping') {
      io.err.write(`${basename(file)} is a hospital's code mapping: each hospital imports its own (fangpin catalog import --mapping); it is not published\n`)
      return 1
    }
    if (read.problems.length > 0) {
      // Never inside the published directory: a web server there would hand the report to anyone.
      const report = writeReport(file, tmpdir(), read.problems)
      const stream = v['allow-partial'] === true ? io.out : io.err
      stream.write(formatProblems(read.problems, v['allow-partial'] === true ? 20 : 50).join('\n') + '\n')
      stream.write(`${basename(file)}: ${read.badRows} of ${read.rows} rows are wrong; full report: ${report}\n`)
      bad = true
    }
    items.push(...read.items)
    vbp.push(...read.vbp)
  }
  if (bad && v['allow-partial'] !== true) {
    io.err.write('nothing was published (hospitals keep the current catalog). Fix the rows, or publish the good rows with --allow-partial.\n')
    return 2
  }
  fillFromSameCode(items)
  try {
    const r = await publishCatalog({ items, vbp: vbpFiles.length > 0 || vbp.length > 0 ? vbp : undefined, outDir: resolve(v.out!), privateKey, region, expiresDays: expiresRaw === undefined ? undefined : Number(expiresRaw) })
    const m = r.manifest
    io.out.write([
      `published catalog ${m.seq} for region ${m.region} in ${resolve(v.out!)}: ${m.items} catalog rows, ${m.vbp} 集采中选 products`,
      `  ${m.file.padEnd(26)} ${m.size} bytes`,
      `  ${'catalog-manifest.json'.padEnd(26)} signed; expires ${m.expires_at}: publish again before then, or hospitals refuse the catalog`,
      ...(r.removed.length > 0 ? [`removed older files: ${r.removed.join(', ')}`] : []),
      ''
    ].join('\n'))
    return 0
  } catch (err) {
    if (err instanceof PublishRefused) {
      io.err.write(`nothing was published: ${err.message}\n`)
      return 1
    }
    throw err
  }
}
