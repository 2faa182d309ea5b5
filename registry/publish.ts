// The county side of the registry protocol: turns the county's list into the next signed publish
// in a directory that any static web server can serve. Every hospital trusts what lands here, so
// the order of writes is the protocol: data files first (temp name, fsync, rename), manifest.json
// last, so a reader never sees a manifest that points at a missing or half-written file.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { yuanText } from '../lists/ytd.ts'
import {
  createReadStream, createWriteStream, existsSync, linkSync, mkdirSync,
  readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, type WriteStream
} from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { schemaFile } from '../base/paths.ts'
import { createInterface } from 'node:readline'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip, createGunzip } from 'node:zlib'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { ListRecord } from '../lists/list-record.ts'
import { processAlive } from '../base/process-alive.ts'
import { fsyncDir, fsyncFile, sha256File } from '../base/files.ts'
import { maskCertno } from '../lists/row-report.ts'
import { canonicalJson, signManifest, verifyManifest, DATA_FILE, MANIFEST_FILE, SCHEMA_VERSION, type FileEntry, type Manifest } from './manifest.ts'

export const DEFAULT_EXPIRES_DAYS = 40

export const MANIFEST_SCHEMA_FILE = schemaFile('manifest')
const RECORD_SCHEMA_FILE = schemaFile('registry-record')

/** A publish that must not happen; the message says why and what to do. Nothing was changed. */
export class PublishRefused extends Error {
  override name = 'PublishRefused'
}

export interface PublishOptions {
  /** the whole list: every person once, op upsert */
  records: Iterable<ListRecord> | AsyncIterable<ListRecord>
  outDir: string
  privateKey: KeyObject
  /** 6-digit administrative-division code */
  region: string
  /** default 40 */
  expiresDays?: number
  now?: Date
}

export interface PublishResult {
  manifest: Manifest
  /** upsert records in the top-level file (for a full-only publish: every person) */
  upserts: number
  /** delete records in the top-level file */
  deletes: number
  /** the sequence this publish follows, null for a first publish */
  previousSeq: number | null
  /** things the publisher should know (e.g. why no delta was written) */
  notes: string[]
  /** data files removed because they are older than the previous publish */
  removed: string[]
}

// ajv-formats is CommonJS; under NodeNext its default import is the plugin function at run time
// but typed as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default
let validators: { manifest: ValidateFunction, record: ValidateFunction } | undefined
function schemaValidators (): { manifest: ValidateFunction, record: ValidateFunction } {
  if (validators === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true })
    addFormats(ajv)
    validators = {
      manifest: ajv.compile(JSON.parse(readFileSync(MANIFEST_SCHEMA_FILE, 'utf8'))),
      record: ajv.compile(JSON.parse(readFileSync(RECORD_SCHEMA_FILE, 'utf8')))
    }
  }
  return validators
}

/** Errors of a manifest against schemas/manifest.schema.json; empty when it conforms. */
export function manifestSchemaErrors (m: unknown): string[] {
  const v = schemaValidators().manifest
  if (v(m)) return []
  return (v.errors ?? []).map((e) => `${e.instancePath === '' ? 'manifest' : e.instancePath} ${e.message ?? e.keyword}`)
}

/** Whole seconds: the manifest's times are for people and for expiry checks, not for ordering. */
function isoSeconds (d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

interface OutRecord {
  op: 'upsert'
  certno: string
  psn_cert_type: string
  psn_name: string | null
  identities: Array<{ category: string, begntime: string, endtime: string | null, source: string | null }>
  ytd_oop?: number
  ytd_psn_part_amt?: string
  ytd_medfee_sumamt?: string
  ytd_fulamt_ownpay_amt?: string
  ytd_as_of?: string
}

function cmp (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function certType (r: { psn_cert_type?: string | null }): string {
  return r.psn_cert_type === undefined || r.psn_cert_type === null || r.psn_cert_type === '' ? '01' : r.psn_cert_type
}

/**
 * The order of every file: by psn_cert_type, then certno, in code units (the NUL separator sorts
 * below every character, so the joined key orders like the pair). The delta's merge relies on it.
 */
function sortKey (psnCertType: string, certno: string): string {
  return psnCertType + '\u0000' + certno
}

/**
 * The record as published. Field order is fixed so the same person always gives the same line,
 * and identities are sorted: a county system that lists one person's identities in another row
 * order next month has not changed anything, and must not send every hospital an upsert for it.
 */
function outRecord (r: ListRecord): OutRecord {
  const identities = r.identities.map((i) => ({ category: i.category, begntime: i.begntime, endtime: i.endtime ?? null, source: i.source ?? null }))
  identities.sort((a, b) => cmp(a.category, b.category) || cmp(a.begntime, b.begntime) ||
    cmp(a.endtime ?? '', b.endtime ?? '') || cmp(a.source ?? '', b.source ?? ''))
  const out: OutRecord = { op: 'upsert', certno: r.certno, psn_cert_type: certType(r), psn_name: r.psn_name ?? null, identities }
  if (r.ytd_oop !== undefined) out.ytd_oop = r.ytd_oop
  if (r.ytd !== undefined) {
    if (r.ytd.psn_part_fen !== null) out.ytd_psn_part_amt = yuanText(r.ytd.psn_part_fen)
    if (r.ytd.medfee_fen !== null) out.ytd_medfee_sumamt = yuanText(r.ytd.medfee_fen)
    if (r.ytd.fulamt_fen !== null) out.ytd_fulamt_ownpay_amt = yuanText(r.ytd.fulamt_fen)
    out.ytd_as_of = r.ytd.as_of
  }
  return out
}

interface WrittenFile { size: number, sha256: string, record_count: number }

/**
 * A gzip NDJSON file written under a temporary name, hashed as it is written (the sha256 and size
 * are of the gzip bytes, which is what an agent downloads and checks). Lines are batched: one
 * write per line costs more than the compression.
 */
class GzipNdjsonWriter {
  private readonly gzip = createGzip({ level: 6 })
  private readonly hash = createHash('sha256')
  private readonly finished: Promise<void>
  private readonly file: WriteStream
  private failure: Error | undefined
  private batch: string[] = []
  private batchChars = 0
  private size = 0
  records = 0

  constructor (readonly tmp: string) {
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.hash.update(chunk)
        this.size += chunk.length
        cb(null, chunk)
      }
    })
    // 'wx': a temp name that exists belongs to someone else; never write into it.
    this.file = createWriteStream(tmp, { flags: 'wx', mode: 0o644 })
    this.finished = pipeline(this.gzip, counter, this.file)
    this.finished.catch((err: Error) => { this.failure = err })
  }

  async line (text: string): Promise<void> {
    this.batch.push(text)
    this.batchChars += text.length
    this.records++
    if (this.batchChars >= 64 * 1024) await this.flush()
  }

  private async flush (): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    if (this.batch.length === 0) return
    const chunk = this.batch.join('\n') + '\n'
    this.batch = []
    this.batchChars = 0
    if (!this.gzip.write(chunk)) {
      // Wait for the disk, but not forever if the pipeline died (disk full) and 'drain' never comes.
      await Promise.race([once(this.gzip, 'drain'), this.finished.then(() => { throw new Error('the file closed while writing') })])
    }
  }

  /** Ends the file and makes it durable: the manifest will vouch for these bytes. */
  async end (): Promise<WrittenFile> {
    await this.flush()
    this.gzip.end()
    await this.finished
    fsyncFile(this.tmp)
    return { size: this.size, sha256: this.hash.digest('hex'), record_count: this.records }
  }

  async abort (): Promise<void> {
    this.gzip.destroy()
    await this.finished.catch(() => undefined)
    // The pipeline can settle before the file's open() has; the file would then appear after
    // the unlink below. Its 'close' comes only after open and close are both done.
    if (!this.file.closed) await once(this.file, 'close').catch(() => undefined)
    try { unlinkSync(this.tmp) } catch { /* never created */ }
  }
}


const TEMP_FILE = /^\.(?:manifest\.json|full-\d+\.ndjson\.gz|delta-\d+-\d+\.ndjson\.gz)\.\d+\.tmp$/

function tempName (dir: string, name: string): string {
  // Dot-prefixed and not matching DATA_FILE: no static server or agent takes it for a data file.
  return join(dir, `.${name}.${process.pid}.tmp`)
}


/** Writes a signed manifest last and atomically: temp file, fsync, rename, fsync of the directory. */
export function writeManifestFile (dir: string, manifest: Manifest): void {
  const tmp = tempName(dir, MANIFEST_FILE)
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o644, flag: 'w' })
  fsyncFile(tmp)
  renameSync(tmp, join(dir, MANIFEST_FILE))
  fsyncDir(dir)
}


/**
 * The previous publish in `dir`, checked: it must verify with this key (a directory signed by
 * someone else is not ours to continue) and be for the same region.
 */
export function readPreviousManifest (dir: string, publicKey: KeyObject, region: string): Manifest | null {
  const file = join(dir, MANIFEST_FILE)
  if (!existsSync(file)) return null
  let m: Manifest
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest
  } catch (err) {
    throw new PublishRefused(`${file} is not valid JSON (${(err as Error).message}); restore it from a backup, or publish into a new directory`)
  }
  if (m === null || typeof m !== 'object' || !Number.isSafeInteger(m.seq) || m.seq < 1) {
    throw new PublishRefused(`${file} is not a registry manifest; publish into another directory`)
  }
  if (!verifyManifest(m, publicKey)) {
    throw new PublishRefused(`${file} was not signed with this key: this directory belongs to another registry key (or the manifest was altered). Publish with the key that signed it, or into a new directory (hospitals must then be given the new public key)`)
  }
  if (m.region !== region) {
    throw new PublishRefused(`${file} is the list of region ${m.region}, this publish is for region ${region}: use one directory per region`)
  }
  return m
}

/** A previous full snapshot usable as the base of a delta, or the reason it is not. */
async function previousFull (dir: string, prev: Manifest): Promise<{ file: string } | { reason: string }> {
  const entry = prev.full
  if (entry === null || typeof entry !== 'object' || entry.file !== `full-${prev.seq}.ndjson.gz`) {
    return { reason: 'the previous manifest does not name its full snapshot as expected' }
  }
  const file = join(dir, entry.file)
  if (!existsSync(file)) return { reason: `the previous full snapshot ${entry.file} is missing` }
  if (statSync(file).size !== entry.size || await sha256File(file) !== entry.sha256) {
    return { reason: `the previous full snapshot ${entry.file} does not match its manifest (size or sha256)` }
  }
  return { file }
}

interface PreviousRecord { key: string, line: string, certno: string, psnCertType: string }

// How this tool writes a record's start. Reading the key from it spares a JSON.parse per person
// of the previous snapshot; a line written otherwise is parsed whole.
const LINE_START = /^\{"op":"upsert","certno":("(?:[^"\\]|\\.)*"),"psn_cert_type":("(?:[^"\\]|\\.)*"),/

function previousRecord (line: string): PreviousRecord {
  const m = LINE_START.exec(line)
  let certno: unknown
  let psnCertType: unknown
  if (m !== null) {
    certno = JSON.parse(m[1])
    psnCertType = JSON.parse(m[2])
  } else {
    const record = JSON.parse(line) as Record<string, unknown>
    if (record === null || typeof record !== 'object' || record.op !== 'upsert') throw new Error('a line is not an upsert record')
    certno = record.certno
    psnCertType = record.psn_cert_type ?? '01'
  }
  if (typeof certno !== 'string' || typeof psnCertType !== 'string') throw new Error('a line has no certno')
  return { key: sortKey(psnCertType, certno), line, certno, psnCertType }
}

/** The previous full snapshot, in file order, read as a stream. */
async function * readPrevious (file: string): AsyncGenerator<PreviousRecord> {
  const raw = createReadStream(file)
  const gunzip = createGunzip()
  let streamError: Error | undefined
  const rl = createInterface({ input: raw.pipe(gunzip), crlfDelay: Infinity })
  // readline's iterator does not see an error of the file stream piped into gunzip.
  const fail = (err: Error): void => { streamError ??= err; rl.close() }
  raw.on('error', fail)
  gunzip.on('error', fail)
  try {
    for await (const line of rl) {
      if (line !== '') yield previousRecord(line)
    }
    if (streamError !== undefined) throw streamError
  } finally {
    rl.close()
    raw.destroy()
  }
}

/**
 * The delta as a merge of the new list (sorted) with the previous full snapshot (sorted the same
 * way, streamed). A previous file that cannot be read, or is out of order, ends the delta: the
 * publish goes on with a full snapshot only and says why.
 */
class DeltaBuilder {
  private current: PreviousRecord | null = null
  private lastKey: string | null = null
  private writer: GzipNdjsonWriter | null
  readonly tmp: string
  upserts = 0
  deletes = 0
  failure: string | null = null

  constructor (private readonly previous: AsyncGenerator<PreviousRecord>, writer: GzipNdjsonWriter) {
    this.writer = writer
    this.tmp = writer.tmp
  }

  async start (): Promise<void> {
    await this.advance()
  }

  private async advance (): Promise<void> {
    if (this.writer === null) return
    let next: IteratorResult<PreviousRecord>
    try {
      next = await this.previous.next()
    } catch (err) {
      return await this.fail((err as Error).message)
    }
    this.current = next.done === true ? null : next.value
    if (this.current === null) return
    if (this.lastKey !== null && this.current.key <= this.lastKey) return await this.fail('it is out of order, or has a person twice')
    this.lastKey = this.current.key
  }

  private async fail (reason: string): Promise<void> {
    this.failure = reason
    this.current = null
    const w = this.writer
    this.writer = null
    await w?.abort()
  }

  private async deleteCurrent (): Promise<void> {
    const { certno, psnCertType } = this.current!
    await this.writer!.line(JSON.stringify({ op: 'delete', certno, psn_cert_type: psnCertType }))
    this.deletes++
    await this.advance()
  }

  async add (key: string, line: string, rec: OutRecord): Promise<void> {
    while (this.writer !== null && this.current !== null && this.current.key < key) await this.deleteCurrent()
    if (this.writer === null) return
    if (this.current !== null && this.current.key === key) {
      // The same bytes are the same record; different bytes may still be the same record written
      // by another version of this tool, so the canonical forms decide.
      const changed = this.current.line !== line && canonicalJson(JSON.parse(this.current.line)) !== canonicalJson(rec)
      await this.advance()
      if (!changed || this.writer === null) return
    }
    await this.writer.line(line)
    this.upserts++
  }

  /** The written delta, or null when it was given up (see `failure`). */
  async finish (): Promise<WrittenFile | null> {
    while (this.writer !== null && this.current !== null) await this.deleteCurrent()
    await this.previous.return(undefined)
    return this.writer === null ? null : await this.writer.end()
  }

  async abort (): Promise<void> {
    await this.previous.return(undefined).catch(() => undefined)
    await this.writer?.abort()
  }
}

/** Refuses what the agent would refuse, before a hospital has to: every record is checked as written. */
function checkRecord (r: ListRecord, out: OutRecord, duplicate: boolean): void {
  if (r.op !== 'upsert') {
    throw new PublishRefused(`the list contains a ${String(r.op)} record (${maskCertno(String(r.certno))}): a publish takes the whole list; leave people who left it out instead`)
  }
  if (duplicate) throw new PublishRefused(`the list has ${maskCertno(r.certno)} twice: a snapshot holds each person once`)
  // The agent validates every record against the same schema and refuses the whole file for one
  // bad record: finding it here spares every hospital a failed sync.
  const validate = schemaValidators().record
  if (!validate(out)) {
    const e = validate.errors?.[0]
    throw new PublishRefused(`the record of ${maskCertno(String(r.certno))} does not match schemas/registry-record.schema.json: ${e?.instancePath ?? ''} ${e?.message ?? ''}`)
  }
}

function dataFileSeq (name: string): number | null {
  const m = DATA_FILE.exec(name)
  if (m === null) return null
  return Number(m[1] ?? m[3])
}

/** One publish at a time per directory (either channel): two would both take the same sequence number. */
export function lock (dir: string): () => void {
  const file = join(dir, '.publish.lock')
  // The pid is in the file before the file has its name (link), so a second publish never reads
  // an empty lock and takes it for a dead one.
  const mine = join(dir, `.publish.lock.${process.pid}`)
  writeFileSync(mine, String(process.pid), { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, file)
        return () => { try { unlinkSync(file) } catch { /* already gone */ } }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      let pid: number
      try {
        pid = Number(readFileSync(file, 'utf8').trim())
      } catch {
        continue // released meanwhile
      }
      if (pid === process.pid) throw new PublishRefused(`a publish into ${dir} is already running in this process`)
      if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new PublishRefused(`another publish (process ${pid}) is already running in ${dir}; wait for it to finish`)
      }
      // left by a publish that crashed
      try { unlinkSync(file) } catch { /* someone else cleared it */ }
    }
    throw new PublishRefused(`could not lock ${dir} for publishing`)
  } finally {
    unlinkSync(mine)
  }
}


/**
 * Publishes `records` as the next sequence in `outDir`: the full snapshot, the delta against the
 * previous publish when its full snapshot is there and intact, and the signed manifest last.
 * Data files older than the previous publish are removed afterwards; the previous publish's files
 * stay for agents that are still downloading them.
 */
export async function publish (opts: PublishOptions): Promise<PublishResult> {
  const { outDir, privateKey, region } = opts
  const expiresDays = opts.expiresDays ?? DEFAULT_EXPIRES_DAYS
  if (!/^\d{6}$/.test(region)) throw new PublishRefused(`region "${region}" is not a 6-digit administrative-division code`)
  if (!Number.isInteger(expiresDays) || expiresDays < 1 || expiresDays > 3660) {
    throw new PublishRefused(`expires-days ${expiresDays} is not a whole number of days between 1 and 3660`)
  }
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new PublishRefused('the signing key is not an Ed25519 private key')
  }
  const now = opts.now ?? new Date()
  const publicKey = createPublicKey(privateKey)

  // Sorting our own array, never the caller's: the caller may still need its order. The keys are
  // computed once; a comparator that builds them costs seconds on a million people.
  const sorted: Array<{ key: string, r: ListRecord }> = []
  const take = (r: ListRecord): void => { sorted.push({ key: sortKey(certType(r), String(r.certno)), r }) }
  const records = opts.records
  if (Symbol.iterator in records) for (const r of records) take(r)
  else for await (const r of records) take(r)
  if (sorted.length === 0) {
    throw new PublishRefused('the list is empty: nothing was published (an empty list would take everyone off every hospital\'s list)')
  }
  sorted.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

  mkdirSync(outDir, { recursive: true })
  const unlock = lock(outDir)
  try {
    // Holding the lock, any temp file here is from a publish that died; its name may be ours again.
    for (const name of readdirSync(outDir)) {
      if (TEMP_FILE.test(name)) unlinkSync(join(outDir, name))
    }
    const prev = readPreviousManifest(outDir, publicKey, region)
    const seq = prev === null ? 1 : prev.seq + 1
    const notes: string[] = []
    let base: string | null = null
    if (prev !== null) {
      const found = await previousFull(outDir, prev)
      if ('file' in found) base = found.file
      else notes.push(`${found.reason}: published a full snapshot only; agents on list ${prev.seq} will download the full snapshot`)
    }

    const fullName = `full-${seq}.ndjson.gz`
    const deltaName = prev === null ? null : `delta-${prev.seq}-${seq}.ndjson.gz`
    const full = new GzipNdjsonWriter(tempName(outDir, fullName))
    const delta = base !== null && deltaName !== null ? new DeltaBuilder(readPrevious(base), new GzipNdjsonWriter(tempName(outDir, deltaName))) : null
    let fullInfo: WrittenFile
    let deltaInfo: WrittenFile | null = null
    try {
      // One pass: each person is serialised once for the full snapshot and, merged against the
      // previous snapshot (sorted the same way, streamed), decides the delta. Memory holds the
      // new list and a line of the old one.
      await delta?.start()
      let lastKey: string | null = null
      for (const { key, r } of sorted) {
        const rec = outRecord(r)
        checkRecord(r, rec, key === lastKey)
        lastKey = key
        const line = JSON.stringify(rec)
        await full.line(line)
        await delta?.add(key, line, rec)
      }
      deltaInfo = delta === null ? null : await delta.finish()
      if (delta !== null && delta.failure !== null) notes.push(`the previous full snapshot could not be read as a sorted list (${delta.failure}): published a full snapshot only`)
      fullInfo = await full.end()
    } catch (err) {
      await full.abort()
      await delta?.abort()
      throw err
    }

    renameSync(full.tmp, join(outDir, fullName))
    if (deltaInfo !== null) renameSync(delta!.tmp, join(outDir, deltaName!))
    fsyncDir(outDir)

    const entry = (kind: 'full' | 'delta', baseSeq: number | null, file: string, w: WrittenFile): FileEntry =>
      ({ kind, seq, base_seq: baseSeq, file, record_count: w.record_count, size: w.size, sha256: w.sha256 })
    const fullEntry = entry('full', null, fullName, fullInfo)
    const top = deltaInfo !== null ? entry('delta', prev!.seq, deltaName!, deltaInfo) : fullEntry
    const upserts = deltaInfo === null ? fullInfo.record_count : delta!.upserts
    const deletes = deltaInfo === null ? 0 : delta!.deletes
    const unsigned: Manifest = {
      seq,
      kind: top.kind,
      base_seq: top.base_seq,
      created_at: isoSeconds(now),
      expires_at: isoSeconds(new Date(now.getTime() + expiresDays * 86_400_000)),
      region,
      record_count: top.record_count,
      size: top.size,
      sha256: top.sha256,
      schema_version: SCHEMA_VERSION,
      file: top.file,
      full: fullEntry
    }
    const manifest = signManifest(unsigned, privateKey)
    const problems = manifestSchemaErrors(manifest)
    if (problems.length > 0) throw new Error(`the manifest does not match schemas/manifest.schema.json: ${problems.join('; ')}`)
    writeManifestFile(outDir, manifest)

    // Only now that the new manifest is in place: until then the old one may point at these.
    const removed: string[] = []
    for (const name of readdirSync(outDir)) {
      const fileSeq = dataFileSeq(name)
      if (fileSeq !== null && fileSeq < seq - 1) {
        try {
          unlinkSync(join(outDir, name))
          removed.push(name)
        } catch { /* gone already */ }
      }
    }
    return { manifest, upserts, deletes, previousSeq: prev?.seq ?? null, notes, removed }
  } finally {
    unlock()
  }
}
