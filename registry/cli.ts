// `fangpin registry …`: the county's tools — a key pair, the monthly publish, and a static server
// for counties without one. The messages are for a county IT office: what happened, what to do.
import { parseArgs } from 'node:util'
import { existsSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import { DEFAULT_TZ, isValidTimeZone } from '../base/local-time.ts'
import { DEFAULT_PROFILE, loadProfile, ProfileError } from '../profile/profile.ts'
import { readPrivateKey, RegistryKeyError } from './manifest.ts'
import { EX_USAGE, UsageError, processIo, progressBar, type Io } from '../base/terminal.ts'
import { cmdPublishCatalog, PUBLISH_CATALOG_USAGE } from './cli-catalog.ts'

export const REGISTRY_USAGE = `usage:
  fangpin registry keygen --out <dir> [--force]
      create the county's signing key pair: <dir>/registry.key (private, keep it secret and backed up)
      and <dir>/registry.pub (give it, or its base64 form, to every hospital)
  fangpin registry publish --from <xlsx|csv|ndjson> --out <dir> --key <registry.key>
                           [--region <code>] [--expires-days N] [--allow-partial]
      publish the county list as the next signed snapshot and delta in <dir>
      (region: 6-digit code, default the profile's; expires-days default 40)
  fangpin registry serve <dir> [--port N] [--host H]
      serve <dir> over HTTP (default 127.0.0.1:8090; --host 0.0.0.0 for the network)
` + PUBLISH_CATALOG_USAGE

export interface RegistryIo extends Io {
  /** for serve: resolves when the server should stop (default: SIGINT or SIGTERM) */
  stopSignal?: Promise<unknown>
}

function parse<T extends Record<string, { type: 'string' | 'boolean', default?: string | boolean }>> (args: string[], options: T, positionals = 0) {
  let parsed
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (parsed.positionals.length !== positionals) throw new UsageError(positionals === 0 ? 'unexpected arguments' : `expected ${positionals} argument(s)`)
  return parsed
}

function integerArg (value: string | undefined, name: string, def: number, min: number, max: number): number {
  if (value === undefined) return def
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}`)
  return Number(value)
}

function people (n: number): string {
  return `${n} ${n === 1 ? 'person' : 'people'}`
}

function kb (bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

async function cmdKeygen (args: string[], io: RegistryIo): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' }, force: { type: 'boolean', default: false } })
  if (values.out === undefined || values.out === '') throw new UsageError('--out <dir> is required')
  const { keygen, KeyExists } = await import('./keygen.ts')
  try {
    const k = keygen(values.out, { force: values.force === true })
    io.out.write([
      `wrote ${k.privateKeyFile} (private key, mode 0600: keep it secret, keep an offline backup — losing it means a new key for every hospital)`,
      `wrote ${k.publicKeyFile} (public key)`,
      `public key (base64): ${k.publicKeyBase64}`,
      `hospitals set FANGPIN_REGISTRY_PUBKEY=${k.publicKeyBase64} (or point it at a copy of registry.pub)`,
      ''
    ].join('\n'))
    return 0
  } catch (err) {
    if (err instanceof KeyExists) {
      io.err.write(`${err.message}\n`)
      return 1
    }
    throw err
  }
}

async function cmdPublish (args: string[], io: RegistryIo): Promise<number> {
  const { values } = parse(args, {
    from: { type: 'string' },
    out: { type: 'string' },
    key: { type: 'string' },
    region: { type: 'string' },
    'expires-days': { type: 'string' },
    'allow-partial': { type: 'boolean', default: false }
  })
  for (const need of ['from', 'out', 'key'] as const) {
    if (values[need] === undefined || values[need] === '') throw new UsageError(`--${need} is required`)
  }
  const from = resolve(values.from!)
  const outDir = resolve(values.out!)
  const expiresDays = integerArg(values['expires-days'], '--expires-days', 40, 1, 3660)
  if (values.region !== undefined && !/^\d{6}$/.test(values.region)) throw new UsageError('--region must be a 6-digit administrative-division code (行政区划代码), e.g. 450206')
  if (!existsSync(from) || !statSync(from).isFile()) {
    io.err.write(`no such file: ${from}\n`)
    return 1
  }

  // The same FANGPIN_PROFILE and FANGPIN_TZ as the county's agents, read here without the agent:
  // the category names and the time zone the list is written in.
  const tz = io.env.FANGPIN_TZ ?? DEFAULT_TZ
  if (!isValidTimeZone(tz)) {
    io.err.write(`FANGPIN_TZ="${tz}" is not a time zone this Node.js knows: use an IANA name such as ${DEFAULT_TZ}\n`)
    return 1
  }
  let profile
  try {
    profile = loadProfile(io.env.FANGPIN_PROFILE ?? DEFAULT_PROFILE)
  } catch (err) {
    if (err instanceof ProfileError) {
      io.err.write(`FANGPIN_PROFILE: ${err.message}\n`)
      return 1
    }
    throw err
  }
  const region = values.region ?? profile.region

  let privateKey
  try {
    privateKey = readPrivateKey(resolve(values.key!))
  } catch (err) {
    if (err instanceof RegistryKeyError) {
      io.err.write(`${err.message}\n`)
      return 1
    }
    throw err
  }
  if (process.platform !== 'win32' && (statSync(values.key!).mode & 0o077) !== 0) {
    io.err.write(`warning: ${values.key!} can be read by other users of this machine; chmod 600 it\n`)
  }

  // The readers pull in exceljs and csv-parse; keygen and serve do not need them.
  const { readListFile, ListFileError } = await import('../lists/read-list.ts')
  const { formatProblems } = await import('../lists/row-report.ts')
  const { writeReport } = await import('../lists/row-report.ts')
  const { publish, PublishRefused } = await import('./publish.ts')

  let read
  const progress = progressBar(io, `reading ${basename(from)}`, 10_000)
  try {
    read = await readListFile(from, { profile, tz, onProgress: progress.update })
  } catch (err) {
    if (err instanceof ListFileError) {
      io.err.write(`${basename(from)}: ${err.message}\n`)
      return 1
    }
    throw err
  } finally {
    progress.done()
  }
  if (read.problems.length > 0) {
    // Never inside the published directory: a web server there would hand the report to anyone.
    const report = writeReport(from, tmpdir(), read.problems)
    if (values['allow-partial'] !== true) {
      io.err.write(formatProblems(read.problems, 50).join('\n') + '\n')
      io.err.write(`\n${read.badRows} of ${read.rows} rows are wrong; nothing was published (hospitals keep the current list). Fix them, or publish the good rows with --allow-partial.\nfull report: ${report}\n`)
      return 2
    }
    io.out.write(formatProblems(read.problems, 20).join('\n') + '\n')
    io.out.write(`${read.badRows} bad rows left out (--allow-partial); full report: ${report}\n`)
  }

  try {
    const r = await publish({ records: read.records, outDir, privateKey, region, expiresDays })
    const m = r.manifest
    const lines = [`published list ${m.seq} for region ${m.region} in ${outDir}: ${people(m.full.record_count)} (from ${read.rows} rows, ${read.format})`]
    for (const note of r.notes) lines.push(`note: ${note}`)
    if (m.kind === 'delta') lines.push(`  ${m.file.padEnd(26)} ${r.upserts} upserts, ${r.deletes} deletes since list ${m.base_seq ?? ''} (${kb(m.size)})`)
    lines.push(`  ${m.full.file.padEnd(26)} ${people(m.full.record_count)} (${kb(m.full.size)})`)
    lines.push(`  ${'manifest.json'.padEnd(26)} signed; expires ${m.expires_at} (${expiresDays} days): publish again before then, or hospitals refuse the list`)
    if (r.removed.length > 0) lines.push(`removed older files: ${r.removed.join(', ')}`)
    io.out.write(lines.join('\n') + '\n')
    return 0
  } catch (err) {
    if (err instanceof PublishRefused) {
      io.err.write(`nothing was published: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

async function cmdServe (args: string[], io: RegistryIo): Promise<number> {
  const { values, positionals } = parse(args, { port: { type: 'string' }, host: { type: 'string' } }, 1)
  const dir = resolve(positionals[0])
  const port = integerArg(values.port, '--port', 8090, 0, 65535)
  const host = values.host ?? '127.0.0.1'
  if (host.trim() === '' || /\s/.test(host)) throw new UsageError('--host must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0')
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.err.write(`no such directory: ${dir}\n`)
    return 1
  }
  const { startRegistryServer } = await import('./serve.ts')
  const { MANIFEST_FILE } = await import('./manifest.ts')
  let running
  try {
    running = await startRegistryServer(dir, {
      port,
      host,
      onRequest: (r) => { io.out.write(`${new Date().toISOString()} ${r.remote} ${r.method} ${r.path} ${r.status} ${r.bytes}\n`) }
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      io.err.write(`cannot listen on ${host}:${port}: ${code}\n`)
      return 1
    }
    throw err
  }
  if (!existsSync(resolve(dir, MANIFEST_FILE))) io.err.write(`warning: ${dir} has no manifest.json yet; run fangpin registry publish first\n`)
  // A plain line: scripts and tests wait for it.
  io.err.write(`registry listening on ${running.url}\n`)
  const stop = io.stopSignal ?? new Promise((resolveStop) => {
    process.once('SIGINT', resolveStop)
    process.once('SIGTERM', resolveStop)
  })
  await stop
  await running.close()
  return 0
}

/** `fangpin registry <args>`; returns the process exit code. */
export async function registryCommand (args: string[], io: Partial<RegistryIo> = {}): Promise<number> {
  const full: RegistryIo = { ...processIo(), ...io }
  const [sub, ...rest] = args
  try {
    if (sub === 'keygen') return await cmdKeygen(rest, full)
    if (sub === 'publish') return await cmdPublish(rest, full)
    if (sub === 'serve') return await cmdServe(rest, full)
    if (sub === 'publish-catalog') return await cmdPublishCatalog(rest, full)
    if (sub === 'help' || sub === '--help' || sub === '-h') {
      full.out.write(REGISTRY_USAGE)
      return 0
    }
    throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`)
  } catch (err) {
    if (err instanceof UsageError) {
      full.err.write(`fangpin registry: ${err.message}\n${REGISTRY_USAGE}`)
      return EX_USAGE
    }
    throw err
  }
}
