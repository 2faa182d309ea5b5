// The catalog channel of the county registry: catalog-manifest.json, signed with the same key as
// the list, and catalog-<seq>.ndjson.gz. The list sync's client and checks: signature, schema
// version, region, no rollback, expiry, bare file names, the signed size and sha256, every record
// validated; anything wrong leaves the catalog in service as it was and raises an alert. A
// registry that publishes no catalog (404 on the manifest) is not an error: the hospital imports
// its own, or runs without one.
import { join } from 'node:path'
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import type { RulesContext } from '../rules/context.ts'
import { readCatalogNdjson } from '../../catalog/read-ndjson.ts'
import { formatProblems } from '../../lists/row-report.ts'
import { CATALOG_DATA_FILE, CATALOG_MANIFEST_FILE, CATALOG_SCHEMA_VERSION, verifyDocument, type CatalogManifest } from '../../registry/manifest.ts'
import { download, fetchText, RegistryHttpError, type ClientOptions } from './registry-client.ts'

export interface CatalogSyncOptions {
  ctx: RulesContext
  /** the registry's base URL: catalog-manifest.json and the data files are resolved against it */
  url: string
  publicKey: KeyObject
  client?: ClientOptions
  /** the whole run must finish within this many ms (FANGPIN_SYNC_TIMEOUT_MINUTES); 0 or absent: none */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface CatalogSyncResult {
  /** absent: the registry publishes no catalog */
  result: 'updated' | 'unchanged' | 'absent' | 'failed'
  seq_before: number | null
  seq_after: number | null
  message: string
}

export class CatalogSyncRefused extends Error {
  override name = 'CatalogSyncRefused'
}

function fileUrl (base: string, file: string): string {
  return new URL(file, base.endsWith('/') ? base : base + '/').href
}

/** The checks that are about trust: each refusal names what is wrong. */
export function checkCatalogManifest (m: CatalogManifest, publicKey: KeyObject, loadedSeq: number | null, region: string | null, now: Date): void {
  if (typeof m !== 'object' || m === null || m.channel !== 'catalog' || typeof m.seq !== 'number') {
    throw new CatalogSyncRefused('catalog-manifest.json is not a fangpin catalog manifest')
  }
  if (!verifyDocument(m, publicKey)) {
    throw new CatalogSyncRefused('the catalog manifest signature does not verify with FANGPIN_REGISTRY_PUBKEY: not loaded (wrong key, or the manifest was altered)')
  }
  if (m.schema_version !== CATALOG_SCHEMA_VERSION) {
    throw new CatalogSyncRefused(`the registry publishes catalog schema version ${String(m.schema_version)}, this agent reads version ${CATALOG_SCHEMA_VERSION}: upgrade fangpin`)
  }
  if (region !== null && m.region !== region) throw new CatalogSyncRefused(`the catalog manifest is for region ${m.region}, the loaded catalog came from ${region}: check FANGPIN_REGISTRY_URL`)
  if (loadedSeq !== null && m.seq < loadedSeq) throw new CatalogSyncRefused(`the registry offers catalog ${m.seq}, older than the loaded ${loadedSeq}: refused (rollback)`)
  const expires = Date.parse(m.expires_at)
  if (Number.isNaN(expires) || expires <= now.getTime()) {
    throw new CatalogSyncRefused(`the catalog manifest expired at ${m.expires_at}: refused (the registry has not published since; ask the county to publish)`)
  }
  if (!CATALOG_DATA_FILE.test(m.file)) throw new CatalogSyncRefused(`the catalog manifest names an unexpected file "${String(m.file)}"`)
  if (!Number.isSafeInteger(m.size) || m.size < 0 || !/^[0-9a-f]{64}$/.test(m.sha256) || !Number.isSafeInteger(m.record_count) || m.items + m.vbp !== m.record_count) {
    throw new CatalogSyncRefused('the catalog manifest is inconsistent (size, sha256 or record counts)')
  }
}

let runningHere = false

/** Runs one catalog sync. Never overlaps another in this process; the result is recorded for the status answers. */
export async function runCatalogSync (opts: CatalogSyncOptions): Promise<CatalogSyncResult> {
  const { store } = opts.ctx
  if (runningHere) return { result: 'failed', seq_before: null, seq_after: null, message: 'a catalog sync is already running' }
  runningHere = true
  const before = store.catalog.state()
  const loadedSeq = before.source === 'registry' ? before.seq : null
  const stop = new AbortController()
  const onAbort = (): void => { stop.abort(opts.signal?.reason) }
  if (opts.signal?.aborted === true) onAbort()
  else opts.signal?.addEventListener('abort', onAbort, { once: true })
  const deadline = (opts.timeoutMs ?? 0) > 0
    ? setTimeout(() => stop.abort(new Error(`the catalog sync did not finish within ${Math.round(opts.timeoutMs! / 60_000)} minutes (FANGPIN_SYNC_TIMEOUT_MINUTES); the old catalog still serves`)), opts.timeoutMs)
    : undefined
  let r: CatalogSyncResult
  let failed = false
  try {
    r = await syncOnce(opts, stop.signal, loadedSeq, before.source === 'registry' ? before.region : null)
  } catch (err) {
    const shutdown = opts.signal?.aborted === true && err === opts.signal.reason
    failed = !shutdown
    const message = shutdown ? `interrupted (${(err as Error | undefined)?.message ?? 'stopped'})` : (err as Error).message
    r = { result: 'failed', seq_before: loadedSeq, seq_after: loadedSeq, message }
  } finally {
    clearTimeout(deadline)
    opts.signal?.removeEventListener('abort', onAbort)
    runningHere = false
  }
  const end = r
  await store.write(() => {
    store.catalog.recordSync(end.result, end.message)
    if (failed) {
      store.alerts.raise({
        kind: 'catalog_sync_failed',
        level: 'warning',
        message: `医保目录同步失败，仍使用目录版本${before.version ?? '无'}：${end.message}`.slice(0, 500),
        detail: { url: opts.url }
      })
    } else if (end.result !== 'failed') {
      store.alerts.resolve('catalog_sync_failed')
    }
  })
  return r
}

async function syncOnce (opts: CatalogSyncOptions, signal: AbortSignal, loadedSeq: number | null, region: string | null): Promise<CatalogSyncResult> {
  const { ctx } = opts
  const { store } = ctx
  const client: ClientOptions = { ...opts.client, signal }
  let text: string
  try {
    text = await fetchText(fileUrl(opts.url, CATALOG_MANIFEST_FILE), client)
  } catch (err) {
    if (err instanceof RegistryHttpError && err.status === 404) {
      return { result: 'absent', seq_before: loadedSeq, seq_after: loadedSeq, message: 'the registry publishes no catalog' }
    }
    throw err
  }
  let m: CatalogManifest
  try {
    m = JSON.parse(text) as CatalogManifest
  } catch {
    throw new CatalogSyncRefused('catalog-manifest.json is not valid JSON')
  }
  checkCatalogManifest(m, opts.publicKey, loadedSeq, region, ctx.now())
  const verifiedAt = ctx.now().toISOString()
  if (loadedSeq !== null && m.seq === loadedSeq) {
    await store.write(() => store.catalog.confirm(verifiedAt))
    return { result: 'unchanged', seq_before: loadedSeq, seq_after: loadedSeq, message: `catalog ${loadedSeq} is current` }
  }
  const dir = join(store.dataDir, 'registry-catalog')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const part = join(dir, `${m.file}.part`)
  await download(fileUrl(opts.url, m.file), part, { size: m.size, sha256: m.sha256 }, client)
  const read = await readCatalogNdjson(part)
  if (read.problems.length > 0) {
    throw new CatalogSyncRefused(`${m.file}: ${read.badRows} records fail validation, nothing was loaded — ${formatProblems(read.problems, 3).join('; ')}`)
  }
  if (read.rows !== m.record_count || read.items.length !== m.items || read.vbp.length !== m.vbp) {
    throw new CatalogSyncRefused(`${m.file} has ${read.items.length} items and ${read.vbp.length} 集采 records, the manifest says ${m.items} and ${m.vbp}`)
  }
  if (read.mappings.length > 0) throw new CatalogSyncRefused(`${m.file} carries hospital code mappings: a registry catalog never does; nothing was loaded`)
  signal.throwIfAborted()
  const load = await store.catalog.replace({ items: read.items, ...(m.vbp > 0 ? { vbp: read.vbp } : {}) }, {
    source: 'registry', label: m.file, version: `registry-${m.seq}`, seq: m.seq, region: m.region, data_as_of: verifiedAt
  }, {
    signal,
    atFlip: (r) => store.audit.write({ client: 'sync', action: 'catalog.sync', decision: 'loaded', detail: { seq: m.seq, file: m.file, items: r.items, codes: r.codes, vbp: r.vbp, version: r.version } })
  })
  for (const f of readdirSync(dir)) {
    try { unlinkSync(join(dir, f)) } catch { /* already gone */ }
  }
  return { result: 'updated', seq_before: loadedSeq, seq_after: m.seq, message: `loaded catalog ${m.seq} (${load.items} rows of ${load.codes} codes, ${load.vbp} 集采中选 products)` }
}
