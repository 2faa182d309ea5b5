// A registry for tests: signed manifests and gzip NDJSON files written by hand, so a test controls
// every byte, and an HTTP server whose misbehaviour (500, 503 with Retry-After, a hang, a body cut
// in the middle) each test scripts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, basename } from 'node:path'
import type { AddressInfo } from 'node:net'
import { signManifest, SCHEMA_VERSION, type FileEntry, type Manifest } from '../registry/manifest.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import { loadProfile } from '../profile/profile.ts'
import type { SyncOptions } from '../agent/intake/registry-sync.ts'
import { tempDir, testContext } from './helper.ts'

export interface RegistryRecord {
  op: 'upsert' | 'delete'
  certno: string
  psn_cert_type?: string
  psn_name?: string
  identities?: Array<{ category: string, begntime: string, endtime?: string | null, source?: string | null }>
  ytd_psn_part_amt?: string
  ytd_medfee_sumamt?: string
  ytd_fulamt_ownpay_amt?: string
  ytd_as_of?: string
}

export function keys (): { privateKey: KeyObject, publicKey: KeyObject } {
  return generateKeyPairSync('ed25519')
}

function writeGz (dir: string, file: string, records: RegistryRecord[] | string): FileEntry & { bytes: Buffer } {
  const text = typeof records === 'string' ? records : records.map((r) => JSON.stringify(r)).join('\n') + '\n'
  const bytes = gzipSync(Buffer.from(text))
  writeFileSync(join(dir, file), bytes)
  const count = typeof records === 'string' ? text.split('\n').filter((l) => l.trim() !== '').length : records.length
  return { kind: 'full', seq: 0, base_seq: null, file, record_count: count, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), bytes }
}

export interface PublishSpec {
  seq: number
  full: RegistryRecord[] | string
  delta?: { base_seq: number, records: RegistryRecord[] | string }
  region?: string
  createdAt?: Date
  expiresAt?: Date
  schemaVersion?: number
  /** change the manifest after signing (a forged manifest) */
  tamper?: (m: Manifest) => void
  /** change the manifest before signing (a registry that signs nonsense) */
  before?: (m: Manifest) => void
}

/** Writes full-<seq> (and delta-<base>-<seq>) and a manifest signed with `privateKey`. */
export function publishTo (dir: string, privateKey: KeyObject, spec: PublishSpec): Manifest {
  const full = writeGz(dir, `full-${spec.seq}.ndjson.gz`, spec.full)
  const fullEntry: FileEntry = { kind: 'full', seq: spec.seq, base_seq: null, file: full.file, record_count: full.record_count, size: full.size, sha256: full.sha256 }
  let top: FileEntry = fullEntry
  if (spec.delta !== undefined) {
    const d = writeGz(dir, `delta-${spec.delta.base_seq}-${spec.seq}.ndjson.gz`, spec.delta.records)
    top = { kind: 'delta', seq: spec.seq, base_seq: spec.delta.base_seq, file: d.file, record_count: d.record_count, size: d.size, sha256: d.sha256 }
  }
  const created = spec.createdAt ?? new Date()
  const manifest: Manifest = {
    seq: spec.seq,
    kind: top.kind,
    base_seq: top.base_seq,
    created_at: created.toISOString(),
    expires_at: (spec.expiresAt ?? new Date(created.getTime() + 40 * 86_400_000)).toISOString(),
    region: spec.region ?? '450206',
    record_count: top.record_count,
    size: top.size,
    sha256: top.sha256,
    schema_version: spec.schemaVersion ?? SCHEMA_VERSION,
    file: top.file,
    full: fullEntry
  }
  spec.before?.(manifest)
  const signed = signManifest(manifest, privateKey)
  spec.tamper?.(signed)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(signed, null, 2))
  return signed
}

export type Fault =
  | { status: number, retryAfter?: string }
  | { hang: true }
  | { cutAfter: number }

export interface FaultServer {
  url: string
  /** faults to apply to the next requests of a file, in order; then the file is served normally */
  fail: (file: string, ...faults: Fault[]) => void
  requests: Array<{ file: string, range: string | undefined, status: number }>
  close: () => Promise<void>
}

/** A static file server with Range support whose failures a test scripts per file. */
export async function faultServer (dir: string): Promise<FaultServer> {
  const queue = new Map<string, Fault[]>()
  const requests: FaultServer['requests'] = []
  const open = new Set<ServerResponse>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const file = basename(decodeURIComponent((req.url ?? '/').split('?')[0]))
    const range = req.headers.range
    const fault = queue.get(file)?.shift()
    const log = (status: number): void => { requests.push({ file, range, status }) }
    if (fault !== undefined && 'hang' in fault) {
      open.add(res)
      log(0)
      return
    }
    if (fault !== undefined && 'status' in fault) {
      log(fault.status)
      res.writeHead(fault.status, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter })
      res.end('trouble')
      return
    }
    const path = join(dir, file)
    if (!existsSync(path)) {
      log(404)
      res.writeHead(404).end()
      return
    }
    const bytes = readFileSync(path)
    let start = 0
    let status = 200
    const m = range === undefined ? null : /^bytes=(\d+)-$/.exec(range)
    if (m !== null) {
      start = Number(m[1])
      if (start >= bytes.length) {
        log(416)
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end()
        return
      }
      status = 206
    }
    const body = bytes.subarray(start)
    log(status)
    const headers: Record<string, string | number> = { 'content-length': body.length, 'accept-ranges': 'bytes' }
    if (status === 206) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`
    res.writeHead(status, headers)
    if (fault !== undefined && 'cutAfter' in fault) {
      // Send part of the body, then drop the connection: a link that died mid-download.
      res.write(body.subarray(0, fault.cutAfter), () => { res.socket?.destroy() })
      return
    }
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    fail: (file, ...faults) => { queue.set(file, [...(queue.get(file) ?? []), ...faults]) },
    requests,
    close: async () => {
      for (const r of open) r.socket?.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

export interface SyncSetup<S> { base: string, store: Store, dir: string, opts: SyncOptions, server: S, key: ReturnType<typeof keys> }

/**
 * A data directory, a registry directory served by `serve` (a script of faults, a hostile server)
 * and the options of a sync between them, all closed when the test ends.
 */
export async function syncSetup<S extends { url: string, close: () => Promise<void> }> (
  t: { teardown: (fn: () => unknown) => void }, serve: (dir: string) => Promise<S>, client: SyncOptions['client']
): Promise<SyncSetup<S>> {
  const base = tempDir(t)
  const dir = join(base, 'registry')
  mkdirSync(dir)
  const store = openStore(join(base, 'data'))
  t.teardown(() => store.close())
  const server = await serve(dir)
  t.teardown(() => server.close())
  const key = keys()
  const opts: SyncOptions = { ctx: testContext(store, loadProfile('guangxi-liuzhou')), url: server.url, publicKey: key.publicKey, client }
  return { base, store, dir, opts, server, key }
}

/** The category of a person's first identity in the serving list, or null. */
export function categoryOf (store: Store, who: string): string | null {
  return store.list.lookup(store.list.keyOf('01', who)).person?.identities[0].category ?? null
}
