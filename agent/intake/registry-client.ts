// Talking to the registry over HTTP: a county web server, an object store or a CDN, reached over
// links that drop, time out and answer 503 at night. Every call has a timeout, transient failures
// are retried with backoff (honouring Retry-After), and a download cut in the middle resumes with a
// Range request instead of starting over. A registry may also be hostile or hopeless: a download
// never grows past the size the signed manifest gives (the part file sits on the disk that holds
// the database), a transfer slower than a minimum rate is cut, and the caller's signal (the sync's
// deadline, the agent shutting down) ends any request or wait at once.
import { request } from 'undici'
import { sha256File } from '../../base/files.ts'
import { closeSync, existsSync, mkdirSync, openSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export interface ClientOptions {
  /** attempts per call, first included */
  attempts?: number
  /** first backoff; doubles each retry */
  backoffMs?: number
  /** longest wait between attempts, whatever Retry-After asks */
  maxBackoffMs?: number
  headersTimeoutMs?: number
  bodyTimeoutMs?: number
  /**
   * a body that brings fewer bytes than this per second, measured over rateWindowMs, is cut (and
   * retried like any cut): one byte every few seconds stays under the body timeout for ever. 0: off
   */
  minBytesPerSec?: number
  rateWindowMs?: number
  /** ends every request and every wait between attempts; the error thrown is the signal's reason */
  signal?: AbortSignal
  onRetry?: (info: { url: string, attempt: number, waitMs: number, reason: string }) => void
}

export class RegistryHttpError extends Error {
  override name = 'RegistryHttpError'
  constructor (message: string, public readonly status: number | null, public readonly transient: boolean) {
    super(message)
  }
}

const DEFAULTS = { attempts: 4, backoffMs: 1000, maxBackoffMs: 60_000, headersTimeoutMs: 15_000, bodyTimeoutMs: 30_000, minBytesPerSec: 1024, rateWindowMs: 30_000 }

type Resolved = typeof DEFAULTS & ClientOptions

function retryAfterMs (value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return null
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now())
}

/** A wait that the signal ends at once (rejecting with its reason). */
function sleep (ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

async function withRetries<T> (url: string, o: Resolved, run: () => Promise<T>): Promise<T> {
  let lastError: unknown
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    o.signal?.throwIfAborted()
    try {
      return await run()
    } catch (err) {
      // Stopped by the caller: not the registry's trouble, and not to be retried.
      if (o.signal?.aborted === true) throw o.signal.reason
      lastError = err
      const transient = !(err instanceof RegistryHttpError) || err.transient
      if (!transient || attempt === o.attempts) break
      const asked = (err as { retryAfterMs?: number | null }).retryAfterMs ?? null
      const waitMs = Math.min(o.maxBackoffMs, asked ?? o.backoffMs * 2 ** (attempt - 1))
      o.onRetry?.({ url, attempt, waitMs, reason: (err as Error).message })
      await sleep(waitMs, o.signal)
    }
  }
  throw lastError
}

/**
 * One request's own abort: the caller's signal, or a body too slow for the minimum rate. undici
 * rejects the request, or the body being read, with the abort's reason.
 */
class Transfer {
  private readonly controller = new AbortController()
  private received = 0
  private timer: NodeJS.Timeout | undefined
  private readonly forget: () => void

  constructor (private readonly url: string, private readonly o: Resolved) {
    const outer = o.signal
    const onAbort = (): void => { this.controller.abort(outer?.reason) }
    if (outer?.aborted === true) onAbort()
    else outer?.addEventListener('abort', onAbort, { once: true })
    this.forget = () => outer?.removeEventListener('abort', onAbort)
  }

  get signal (): AbortSignal { return this.controller.signal }

  /** The headers are in: from now on the body must keep up with the minimum rate. */
  watchRate (): void {
    const { minBytesPerSec, rateWindowMs } = this.o
    if (minBytesPerSec <= 0) return
    const needed = minBytesPerSec * rateWindowMs / 1000
    this.timer = setInterval(() => {
      if (this.received < needed) {
        this.controller.abort(new RegistryHttpError(`${this.url}: the registry sent ${this.received} bytes in ${rateWindowMs / 1000} s, below the minimum of ${minBytesPerSec} bytes per second (FANGPIN_SYNC_MIN_BYTES_PER_SEC); the transfer was cut`, null, true))
      }
      this.received = 0
    }, rateWindowMs)
  }

  add (bytes: number): void { this.received += bytes }

  /** What went wrong: the abort's reason when this transfer was aborted, else the error itself. */
  cause (err: unknown): unknown { return this.signal.aborted ? this.signal.reason : err }

  end (): void {
    clearInterval(this.timer)
    this.forget()
  }
}

function statusError (url: string, status: number, headers: Record<string, string | string[] | undefined>): RegistryHttpError {
  // 408, 425, 429 and 5xx are the server's passing trouble; any other 4xx will not change on retry.
  const transient = status === 408 || status === 425 || status === 429 || status >= 500
  const err = new RegistryHttpError(`${url} answered HTTP ${status}`, status, transient)
  return Object.assign(err, { retryAfterMs: retryAfterMs(headers['retry-after']) })
}

/** Any failure of a call as the sync reports it; a stop asked for by the caller is passed on as it is. */
function asRegistryError (url: string, signal: AbortSignal | undefined, err: unknown): unknown {
  if (err instanceof RegistryHttpError || signal?.aborted === true) return err
  return new RegistryHttpError(`${url}: ${describe(err)}`, null, true)
}

function describe (err: unknown): string {
  const e = err as { code?: string, message?: string }
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'the registry did not answer in time'
  if (e.code === 'ECONNREFUSED') return 'the registry refused the connection'
  return e.message ?? String(err)
}

function contentLength (headers: Record<string, string | string[] | undefined>): number | null {
  const v = headers['content-length']
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null
}

/** GET a small document (the manifest) as text. */
export async function fetchText (url: string, opts: ClientOptions = {}, maxBytes = 1024 * 1024): Promise<string> {
  const o: Resolved = { ...DEFAULTS, ...opts }
  const tooLarge = (): RegistryHttpError => new RegistryHttpError(`${url} is larger than ${maxBytes} bytes: not a manifest`, 200, false)
  try {
    return await withRetries(url, o, async () => {
      const transfer = new Transfer(url, o)
      try {
        const res = await request(url, { method: 'GET', headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs, headers: { 'cache-control': 'no-cache' }, signal: transfer.signal })
        if (res.statusCode !== 200) {
          await res.body.dump()
          throw statusError(url, res.statusCode, res.headers)
        }
        if ((contentLength(res.headers) ?? 0) > maxBytes) {
          hangUp(res.body)
          throw tooLarge()
        }
        transfer.watchRate()
        const chunks: Buffer[] = []
        let size = 0
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length
          if (size > maxBytes) {
            hangUp(res.body)
            throw tooLarge()
          }
          chunks.push(chunk as Buffer)
          transfer.add((chunk as Buffer).length)
        }
        return Buffer.concat(chunks).toString('utf8')
      } catch (err) {
        throw transfer.cause(err)
      } finally {
        transfer.end()
      }
    })
  } catch (err) {
    throw asRegistryError(url, o.signal, err)
  }
}


/**
 * Stops reading an answer and drops its connection. undici reports the stop as an error on the
 * body: nobody reads it any more, so it is listened for and ignored, not left uncaught.
 */
function hangUp (body: { on: (event: 'error', fn: () => void) => unknown, destroy: () => unknown }): void {
  body.on('error', () => undefined)
  body.destroy()
}

function discard (file: string): void {
  try { unlinkSync(file) } catch { /* already gone */ }
}

/** `bytes <first>-<last>/<total or *>` */
function contentRange (value: string | string[] | undefined): { first: number, last: number, total: number | null } | null {
  const m = typeof value === 'string' ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null
  return m === null ? null : { first: Number(m[1]), last: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) }
}

/**
 * Downloads `url` to `dest` (a .part file kept between attempts and between runs), resuming with
 * Range after a cut, and checks the expected size and sha256. The file never grows past the
 * expected (signed) size: the first byte beyond it stops the download, and the part file is
 * discarded. On a wrong checksum the partial file is removed too: it will never verify, and keeping
 * it would poison every resume.
 */
export async function download (url: string, dest: string, expected: { size: number, sha256: string }, opts: ClientOptions = {},
  onProgress?: (bytes: number, total: number) => void): Promise<void> {
  const o: Resolved = { ...DEFAULTS, ...opts }
  mkdirSync(dirname(dest), { recursive: true })
  // Not transient: a registry that serves another size than it signed will do it again.
  const refuse = (what: string): RegistryHttpError => {
    discard(dest)
    return new RegistryHttpError(`${url} ${what}: the download was stopped and discarded`, null, false)
  }
  try {
    await withRetries(url, o, async () => {
      let have = existsSync(dest) ? statSync(dest).size : 0
      if (have > expected.size) {
        truncateSync(dest, 0)
        have = 0
      }
      if (have === expected.size) return
      const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {}
      const transfer = new Transfer(url, o)
      try {
        const res = await request(url, { method: 'GET', headers, headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs, signal: transfer.signal })
        if (res.statusCode === 416 && have > 0) {
          // The server says our partial file is past its end: start again from nothing.
          await res.body.dump()
          truncateSync(dest, 0)
          throw new RegistryHttpError(`${url}: the partial download did not match the file; starting again`, 416, true)
        }
        if (res.statusCode !== 200 && res.statusCode !== 206) {
          await res.body.dump()
          throw statusError(url, res.statusCode, res.headers)
        }
        if (res.statusCode === 206) {
          const range = contentRange(res.headers['content-range'])
          if (range !== null && range.total !== null && range.total !== expected.size) {
            hangUp(res.body)
            throw refuse(`says the file is ${range.total} bytes, the signed manifest says ${expected.size}`)
          }
          if (range === null || range.first !== have || range.last >= expected.size) {
            // Not the bytes asked for: appending them would splice two files. Start again.
            hangUp(res.body)
            truncateSync(dest, 0)
            throw new RegistryHttpError(`${url} answered the range ${String(res.headers['content-range'] ?? '(none)')} to a request for bytes ${have}-; starting again`, 206, true)
          }
        }
        // A server that ignores Range answers 200 with the whole file: write it from the start.
        const append = res.statusCode === 206 && have > 0
        if (!append) have = 0
        const declared = contentLength(res.headers)
        if (declared !== null && declared > expected.size - have) {
          hangUp(res.body)
          throw refuse(`announced ${declared} bytes${have > 0 ? ` after the ${have} already here` : ''}, more than the ${expected.size} bytes the signed manifest gives for it`)
        }
        transfer.watchRate()
        let bytes = have
        let over = false
        // Written chunk by chunk with plain writes: when the link drops, every byte received is on
        // disk for the next attempt to resume from (a stream pipeline would discard its buffer).
        const fd = openSync(dest, append ? 'a' : 'w')
        try {
          for await (const chunk of res.body) {
            if (bytes + (chunk as Buffer).length > expected.size) {
              over = true
              break
            }
            writeSync(fd, chunk as Buffer)
            bytes += (chunk as Buffer).length
            transfer.add((chunk as Buffer).length)
            onProgress?.(bytes, expected.size)
          }
        } finally {
          closeSync(fd)
        }
        // Leaving the loop early destroyed the body: the server is hung up on.
        if (over) throw refuse(`sent more than the ${expected.size} bytes the signed manifest gives for it`)
        const size = statSync(dest).size
        if (size < expected.size) throw new RegistryHttpError(`${url}: the download stopped at ${size} of ${expected.size} bytes`, null, true)
      } catch (err) {
        throw transfer.cause(err)
      } finally {
        transfer.end()
      }
    })
  } catch (err) {
    throw asRegistryError(url, o.signal, err)
  }
  const size = statSync(dest).size
  if (size !== expected.size) {
    unlinkSync(dest)
    throw new RegistryHttpError(`${url}: ${size} bytes, the manifest says ${expected.size}`, null, false)
  }
  const sum = await sha256File(dest)
  if (sum !== expected.sha256) {
    unlinkSync(dest)
    throw new RegistryHttpError(`${url}: sha256 ${sum} does not match the manifest's ${expected.sha256}; the file was discarded`, null, false)
  }
}
