// One registry sync: fetch and verify the signed manifest, pick the delta or the full snapshot,
// download and check it, validate every record, apply it atomically, then re-check the open
// admissions. Anything wrong leaves the old list serving and raises an alert saying why — fail open
// for care (a stale list still answers), closed for trust (an unverifiable list is never loaded).
import { join } from 'node:path'
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import { DuplicatePerson, type LoadResult } from '../store/list.ts'
import { SyncRunBusy, INTERRUPTED, type SyncTrigger } from '../store/sync-runs.ts'
import { NdjsonReader, readNdjson } from '../../lists/read-ndjson.ts'
import { readInWorker } from './read-in-worker.ts'
import type { RowProblem } from '../../lists/list-record.ts'
import { formatProblems } from '../../lists/row-report.ts'
import { verifyManifest, DATA_FILE, MANIFEST_FILE, SCHEMA_VERSION, type FileEntry, type Manifest } from '../../registry/manifest.ts'
import { download, fetchText, type ClientOptions } from './registry-client.ts'
import { recheckOpenAdmissions } from '../rules/recheck.ts'
import type { RulesContext } from '../rules/context.ts'
import { processAlive } from '../../base/process-alive.ts'

export type { SyncTrigger }
export { INTERRUPTED }

export interface SyncOptions {
  ctx: RulesContext
  /** the registry's base URL: manifest.json and the data files are resolved against it */
  url: string
  publicKey: KeyObject
  /** the bundled demo registry: the list is flagged as demo data everywhere it shows */
  demo?: boolean
  /**
   * Runs in the transaction that makes a real (not demo) list serve: whatever must end the moment
   * real people are served (the demo's well-known credentials) ends with it.
   */
  atRealList?: () => void
  client?: ClientOptions
  /**
   * the whole run must finish within this many ms (FANGPIN_SYNC_TIMEOUT_MINUTES): a registry that
   * keeps a download alive for ever must not keep the next sync from running. 0 or absent: none
   */
  timeoutMs?: number
  /** stops the run: the agent shutting down, Ctrl-C on `fangpin sync`; its reason says why */
  signal?: AbortSignal
  onProgress?: (phase: 'manifest' | 'download' | 'apply', done: number, total?: number) => void
  /** full snapshots of at least this many records are read in a worker thread (default WORKER_MIN_RECORDS) */
  workerMinRecords?: number
}

/** A snapshot this big is read in a worker thread; below it, starting the thread costs more than it saves. */
export const WORKER_MIN_RECORDS = 100_000

export interface SyncResult {
  result: 'updated' | 'unchanged' | 'failed'
  seq_before: number | null
  seq_after: number | null
  kind?: 'full' | 'delta'
  records?: number
  message: string
}

export class SyncRefused extends Error {
  override name = 'SyncRefused'
}

export class SyncBusy extends Error {
  override name = 'SyncBusy'
}

function fileUrl (base: string, file: string): string {
  return new URL(file, base.endsWith('/') ? base : base + '/').href
}


/** Checks that are about trust, not transport: each refusal names what is wrong. */
export function checkManifest (m: Manifest, publicKey: KeyObject, loadedSeq: number | null, region: string | null, now: Date): void {
  if (typeof m !== 'object' || m === null || typeof m.seq !== 'number' || typeof m.full !== 'object' || m.full === null) {
    throw new SyncRefused('the manifest is not a fangpin registry manifest')
  }
  if (!verifyManifest(m, publicKey)) {
    throw new SyncRefused('the manifest signature does not verify with FANGPIN_REGISTRY_PUBKEY: not loaded (wrong key, or the manifest was altered)')
  }
  if (m.schema_version !== SCHEMA_VERSION) {
    throw new SyncRefused(`the registry publishes schema version ${String(m.schema_version)}, this agent reads version ${SCHEMA_VERSION}: upgrade fangpin`)
  }
  if (region !== null && m.region !== region) {
    throw new SyncRefused(`the manifest is for region ${m.region}, this agent serves ${region}: check FANGPIN_REGISTRY_URL`)
  }
  if (loadedSeq !== null && m.seq < loadedSeq) {
    throw new SyncRefused(`the registry offers list ${m.seq}, older than the loaded ${loadedSeq}: refused (rollback)`)
  }
  const expires = Date.parse(m.expires_at)
  if (Number.isNaN(expires) || expires <= now.getTime()) {
    throw new SyncRefused(`the manifest expired at ${m.expires_at}: refused (the registry has not published since; ask the county to publish)`)
  }
  if (m.full.kind !== 'full' || m.full.seq !== m.seq || (m.kind === 'delta' && m.base_seq === null)) {
    throw new SyncRefused('the manifest is inconsistent: its full snapshot is not of the same sequence')
  }
  for (const f of [m.file, m.full.file]) {
    if (!DATA_FILE.test(f)) throw new SyncRefused(`the manifest names an unexpected file "${f}"`)
  }
}

/** The file to take: the delta when it applies on what is loaded, otherwise the full snapshot. */
export function chooseFile (m: Manifest, loadedSeq: number | null): FileEntry {
  if (m.kind === 'delta' && m.base_seq !== null && loadedSeq !== null && m.base_seq === loadedSeq) {
    return { kind: 'delta', seq: m.seq, base_seq: m.base_seq, file: m.file, record_count: m.record_count, size: m.size, sha256: m.sha256 }
  }
  return m.full
}

let runningHere = false

/** The run went on past SyncOptions.timeoutMs. */
export class SyncTimedOut extends Error {
  override name = 'SyncTimedOut'
}

function duration (ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`
  return `${ms / 1000} s`
}

/**
 * Runs one sync. Runs never overlap: within this process a second call is refused at once, and
 * across processes (a `fangpin sync` beside the server) a live 'running' row refuses it. A run ends
 * by its deadline or the caller's signal at the latest, recorded as failed either way; a load under
 * way stops between two of its chunks and leaves the list as it was.
 */
export async function runSync (opts: SyncOptions, trigger: SyncTrigger): Promise<SyncResult> {
  const { store } = opts.ctx
  if (runningHere) throw new SyncBusy('a sync is already running')
  // Taken at once, before anything is awaited: a second call in the same turn is refused.
  runningHere = true
  const before = store.list.state()
  let runId: number
  try {
    runId = await store.write(() => store.syncRuns.claim(trigger, before.seq, (pid) => pid !== process.pid && processAlive(pid ?? -1)))
  } catch (err) {
    runningHere = false
    if (err instanceof SyncRunBusy) throw new SyncBusy(err.message)
    throw err
  }
  const stop = new AbortController()
  const onCallerAbort = (): void => { stop.abort(opts.signal?.reason) }
  if (opts.signal?.aborted === true) onCallerAbort()
  else opts.signal?.addEventListener('abort', onCallerAbort, { once: true })
  const timeoutMs = opts.timeoutMs ?? 0
  const deadline = timeoutMs > 0
    ? setTimeout(() => stop.abort(new SyncTimedOut(`the sync did not finish within ${duration(timeoutMs)} (FANGPIN_SYNC_TIMEOUT_MINUTES); the old list still serves`)), timeoutMs)
    : undefined
  let result: SyncResult
  let failure: string | null = null
  try {
    result = await syncOnce({ ...opts, signal: stop.signal })
  } catch (err) {
    if (opts.signal?.aborted === true && err === opts.signal.reason) {
      // Stopped from here (a shutdown): nothing is wrong with the registry, and no alert is raised.
      const reason = opts.signal?.reason as { message?: unknown } | undefined
      const message = `interrupted (${typeof reason?.message === 'string' && reason.message !== '' ? reason.message : 'stopped'})`
      result = { result: 'failed', seq_before: before.seq, seq_after: before.seq, message }
    } else {
      const message = (err as Error).message
      result = { result: 'failed', seq_before: before.seq, seq_after: before.seq, message }
      failure = message
    }
  } finally {
    clearTimeout(deadline)
    opts.signal?.removeEventListener('abort', onCallerAbort)
    runningHere = false
  }
  const end = result
  await store.write(() => {
    if (end.result !== 'failed') {
      store.alerts.resolve('sync_failed')
      // A sync that worked confirmed the list is current.
      store.alerts.resolve('list_stale')
    } else if (failure !== null) {
      store.alerts.raise({
        kind: 'sync_failed',
        level: 'critical',
        message: `困难群众名单同步失败，仍使用名单版本${before.version ?? '无'}：${failure}`.slice(0, 500),
        detail: { trigger, url: opts.url }
      })
    }
    store.syncRuns.finish(runId, end)
  })
  return result
}

/**
 * A 'running' row whose process is gone was cut off by a crash (kill -9, a power cut): at start it
 * is marked so, or the sync status would say "running" until the next sync.
 */
export async function markInterruptedRuns (ctx: RulesContext): Promise<number> {
  return await ctx.store.write(() => ctx.store.syncRuns.markInterrupted(syncRunLive))
}

/** Whether a 'running' row's run is really going on: in this process, or in another one alive. */
export function syncRunLive (pid: number | null): boolean {
  if (pid === null) return false
  return pid === process.pid ? runningHere : processAlive(pid)
}

async function syncOnce (opts: SyncOptions & { signal: AbortSignal }): Promise<SyncResult> {
  const { ctx, signal } = opts
  const { store, profile } = ctx
  const now = ctx.now
  const client: ClientOptions = { ...opts.client, signal }
  const state = store.list.state()
  // A registry list never mixes with a manually imported one: after an import, take the full snapshot.
  // Nor with the bundled demo registry's: its sequence and region mean nothing to the county's.
  const sameRegistry = state.source === 'registry' && state.demo === (opts.demo === true)
  const loadedSeq = sameRegistry ? state.seq : null
  opts.onProgress?.('manifest', 0)
  const text = await fetchText(fileUrl(opts.url, MANIFEST_FILE), client)
  let manifest: Manifest
  try {
    manifest = JSON.parse(text) as Manifest
  } catch {
    throw new SyncRefused('the registry manifest is not valid JSON')
  }
  checkManifest(manifest, opts.publicKey, loadedSeq, sameRegistry ? state.region : null, now())
  const verifiedAt = now().toISOString()
  if (loadedSeq !== null && manifest.seq === loadedSeq) {
    await store.write(() => store.list.confirm(verifiedAt))
    return { result: 'unchanged', seq_before: loadedSeq, seq_after: loadedSeq, message: `list ${loadedSeq} is current` }
  }
  const entry = chooseFile(manifest, loadedSeq)
  const dir = join(store.dataDir, 'registry')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const part = join(dir, `${entry.file}.part`)
  await download(fileUrl(opts.url, entry.file), part, entry, client, (b, t) => opts.onProgress?.('download', b, t))

  const meta = { source: 'registry' as const, label: entry.file, version: `${opts.demo === true ? 'demo' : 'registry'}-${manifest.seq}`, region: manifest.region, seq: manifest.seq, data_as_of: verifiedAt, demo: opts.demo === true }
  const refuseProblems = (problems: RowProblem[]): SyncRefused =>
    new SyncRefused(`${entry.file}: ${problems.length} records fail validation, nothing was loaded — ${formatProblems(problems, 3).join('; ')}`)
  let rows = 0
  let total = 0
  const load = {
    onProgress: (n: number) => opts.onProgress?.('apply', n, total),
    // The run is done when the new list serves; the rows it made dead go after, in the background
    // (a command waits for them before it closes the store: cli/agent.ts).
    cleanup: 'background' as const,
    // A shutdown or the deadline stops a load between two of its chunks: the list stays as it was.
    signal,
    // Real people arriving end the README's demo token and sign-in in the same transaction that
    // makes them served (whatever the list before was: a crash may have cut an earlier load off).
    atFlip: (r: LoadResult) => {
      store.audit.write({ client: 'sync', action: 'list.sync', decision: entry.kind, detail: { seq: manifest.seq, file: entry.file, records: rows, persons: r.persons, version: r.version } })
      if (opts.demo !== true) opts.atRealList?.()
    }
  }
  // Every record is checked before anything is written: the file is read through once, and the
  // load writes its first row only when the whole file proved good.
  const checked = (found: { problems: RowProblem[], rows: number, goodRows: number }): void => {
    if (found.problems.length > 0) throw refuseProblems(found.problems)
    if (found.rows !== entry.record_count) {
      throw new SyncRefused(`${entry.file} has ${found.rows} records, the manifest says ${entry.record_count}`)
    }
    rows = found.rows
    total = found.goodRows
    signal.throwIfAborted()
    opts.onProgress?.('apply', 0, total)
  }
  if (entry.kind === 'delta') {
    // A delta is small (the changes of a day or a month): read whole, with its duplicates found by key.
    const read = await readNdjson(part, { profile, tz: ctx.settings.tz })
    checked(read)
    await store.list.applyDelta(read.records, { ...meta, base_seq: entry.base_seq!, seq: manifest.seq }, load)
  } else {
    // A full snapshot may be a province's millions: read, checked and hashed in a worker thread
    // (read-in-worker.ts) and streamed into the load, which keeps them compact and sorted in
    // bounded memory (store/list-spool.ts). A small one is read here: a thread costs a second or
    // two to start.
    try {
      if (entry.record_count >= (opts.workerMinRecords ?? WORKER_MIN_RECORDS)) {
        const read = readInWorker(part, { profile, tz: ctx.settings.tz, key: store.subjectKey })
        await store.list.replaceEncoded(read.batches, meta, { ...load, beforeWrite: () => { checked(read.summary()) } })
      } else {
        const reader = new NdjsonReader(part, { profile, tz: ctx.settings.tz })
        await store.list.replace(reader.records(), meta, { ...load, beforeWrite: () => { checked(reader) } })
      }
    } catch (err) {
      if (err instanceof DuplicatePerson) {
        throw refuseProblems([{ row: err.line, column: 'certno', reason: `证件号码与第${err.firstLine}行重复：每人只能有一条记录` }])
      }
      throw err
    }
  }
  cleanDownloads(dir)
  await recheckOpenAdmissions(ctx, manifest.seq)
  return { result: 'updated', seq_before: state.seq, seq_after: manifest.seq, kind: entry.kind, records: rows, message: `loaded list ${manifest.seq} (${entry.kind}, ${rows} records)` }
}

/** Applied files are not needed again; a partial file of another sequence never will be. */
function cleanDownloads (dir: string): void {
  for (const f of readdirSync(dir)) {
    try { unlinkSync(join(dir, f)) } catch { /* already gone */ }
  }
}
