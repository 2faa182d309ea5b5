// The county's second channel: the insurance catalog (and the 集采中选 list) published with the same
// key as the list, so one office publishes for every hospital. The order of writes is the list's:
// the data file first (temp name, fsync, rename), catalog-manifest.json last and atomically, so an
// agent never sees a manifest that points at a missing or half-written file. The hospital's own
// code mapping is never published: it is each hospital's.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { schemaFile } from '../base/paths.ts'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { fsyncDir, fsyncFile, writeFileAtomic } from '../base/files.ts'
import type { CatalogItem, VbpProduct } from '../catalog/record.ts'
import { itemLine, vbpLine } from '../catalog/ndjson.ts'
import { CATALOG_DATA_FILE, CATALOG_MANIFEST_FILE, CATALOG_SCHEMA_VERSION, signDocument, verifyDocument, type CatalogManifest } from './manifest.ts'
import { DEFAULT_EXPIRES_DAYS, lock, PublishRefused } from './publish.ts'

export interface PublishCatalogOptions {
  items: CatalogItem[]
  /** the 集采中选 list; omitted: the publish carries none (agents keep theirs) */
  vbp?: VbpProduct[]
  outDir: string
  privateKey: KeyObject
  region: string
  expiresDays?: number
  now?: Date
}

export interface PublishCatalogResult {
  manifest: CatalogManifest
  previousSeq: number | null
  removed: string[]
}

const TEMP = /^\.catalog-\d+\.ndjson\.gz\.\d+\.tmp$/

// ajv-formats is CommonJS: its default import is the plugin at run time (see publish.ts).
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default
let validate: ((m: unknown) => boolean) & { errors?: Array<{ instancePath: string, message?: string }> | null } | undefined

/** Errors of a catalog manifest against schemas/catalog-manifest.schema.json; empty when it conforms. */
export function catalogManifestErrors (m: unknown): string[] {
  if (validate === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true })
    addFormats(ajv)
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile('catalog-manifest'), 'utf8')))
  }
  if (validate(m)) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath === '' ? 'manifest' : e.instancePath} ${e.message ?? ''}`)
}

function cmp (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The previous catalog publish in `dir`, checked: signed with this key, for this region. */
export function readPreviousCatalogManifest (dir: string, publicKey: KeyObject, region: string): CatalogManifest | null {
  const file = join(dir, CATALOG_MANIFEST_FILE)
  if (!existsSync(file)) return null
  let m: CatalogManifest
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as CatalogManifest
  } catch (err) {
    throw new PublishRefused(`${file} is not valid JSON (${(err as Error).message}); restore it from a backup, or publish into a new directory`)
  }
  if (m === null || typeof m !== 'object' || m.channel !== 'catalog' || !Number.isSafeInteger(m.seq) || m.seq < 1) {
    throw new PublishRefused(`${file} is not a catalog manifest; publish into another directory`)
  }
  if (!verifyDocument(m, publicKey)) {
    throw new PublishRefused(`${file} was not signed with this key: this directory belongs to another registry key (or the manifest was altered)`)
  }
  if (m.region !== region) throw new PublishRefused(`${file} is for region ${m.region}, this publish is for region ${region}: use one directory per region`)
  return m
}

/** Writes the records as gzip NDJSON under a temporary name; size and sha256 of the gzip bytes. */
async function writeGz (tmp: string, lines: Iterable<string>): Promise<{ size: number, sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  const counter = new Transform({ transform (chunk: Buffer, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk) } })
  // Lines go out in batches of about 64 KB: one write per line costs more than the compression.
  function * batches (): Generator<string> {
    let batch: string[] = []
    let chars = 0
    for (const l of lines) {
      batch.push(l)
      chars += l.length
      if (chars >= 64 * 1024) { yield batch.join('\n') + '\n'; batch = []; chars = 0 }
    }
    if (batch.length > 0) yield batch.join('\n') + '\n'
  }
  try {
    await pipeline(Readable.from(batches()), createGzip({ level: 6 }), counter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }))
  } catch (err) {
    try { unlinkSync(tmp) } catch { /* never created */ }
    throw err
  }
  fsyncFile(tmp)
  return { size, sha256: hash.digest('hex') }
}

/**
 * Publishes the catalog as the next catalog sequence in `outDir`: catalog-<seq>.ndjson.gz, then
 * the signed catalog-manifest.json. The previous catalog file stays for agents still downloading
 * it; older ones are removed. The list's files and manifest are not touched.
 */
export async function publishCatalog (opts: PublishCatalogOptions): Promise<PublishCatalogResult> {
  const { outDir, privateKey, region } = opts
  const expiresDays = opts.expiresDays ?? DEFAULT_EXPIRES_DAYS
  if (!/^\d{6}$/.test(region)) throw new PublishRefused(`region "${region}" is not a 6-digit administrative-division code`)
  if (!Number.isInteger(expiresDays) || expiresDays < 1 || expiresDays > 3660) throw new PublishRefused(`expires-days ${expiresDays} is not a whole number of days between 1 and 3660`)
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new PublishRefused('the signing key is not an Ed25519 private key')
  if (opts.items.length === 0) throw new PublishRefused('the catalog is empty: nothing was published (an empty catalog would leave every line of every hospital unclassified)')
  const now = opts.now ?? new Date()
  // Sorted copies: the same catalog gives the same file, whatever order the office's files had.
  const items = [...opts.items].sort((a, b) => cmp(a.code, b.code) || cmp(a.insu_admdvs, b.insu_admdvs) || cmp(a.begndate, b.begndate))
  const vbp = opts.vbp === undefined ? [] : [...opts.vbp].sort((a, b) => cmp(a.code, b.code) || cmp(a.begndate ?? '', b.begndate ?? ''))
  mkdirSync(outDir, { recursive: true })
  const unlock = lock(outDir)
  try {
    for (const name of readdirSync(outDir)) if (TEMP.test(name)) unlinkSync(join(outDir, name))
    const prev = readPreviousCatalogManifest(outDir, createPublicKey(privateKey), region)
    const seq = prev === null ? 1 : prev.seq + 1
    const file = `catalog-${seq}.ndjson.gz`
    const tmp = join(outDir, `.${file}.${process.pid}.tmp`)
    const written = await writeGz(tmp, (function * () {
      for (const i of items) yield itemLine(i)
      for (const v of vbp) yield vbpLine(v)
    })())
    renameSync(tmp, join(outDir, file))
    fsyncDir(outDir)
    const manifest = signDocument<CatalogManifest>({
      channel: 'catalog',
      seq,
      created_at: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      expires_at: new Date(now.getTime() + expiresDays * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      schema_version: CATALOG_SCHEMA_VERSION,
      file,
      size: written.size,
      sha256: written.sha256,
      record_count: items.length + vbp.length,
      items: items.length,
      vbp: vbp.length
    }, privateKey)
    const problems = catalogManifestErrors(manifest)
    if (problems.length > 0) throw new Error(`the catalog manifest does not match schemas/catalog-manifest.schema.json: ${problems.join('; ')}`)
    writeFileAtomic(join(outDir, CATALOG_MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', 0o644)
    const removed: string[] = []
    for (const name of readdirSync(outDir)) {
      const m = CATALOG_DATA_FILE.exec(name)
      if (m !== null && Number(m[1]) < seq - 1) {
        try { unlinkSync(join(outDir, name)); removed.push(name) } catch { /* gone already */ }
      }
    }
    return { manifest, previousSeq: prev?.seq ?? null, removed }
  } finally {
    unlock()
  }
}
