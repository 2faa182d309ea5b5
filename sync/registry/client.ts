// Talking to the registry over HTTP: a county web server, an object store or a CDN, reached over
// links that drop, time out and answer 503 at night. Every call has a timeout, transient failures
// are retried with backoff (honouring Retry-After), and a download cut in the middle resumes with a
// Range request instead of starting over.
import { request } from 'undici'
import { createHash } from 'node:crypto'
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'

export interface ClientOptions {
  /** attempts per call, first included */
  attempts?: number
  /** first backoff; doubles each retry */
  backoffMs?: number
  /** longest wait between attempts, whatever Retry-After asks */
  maxBackoffMs?: number
  headersTimeoutMs?: number
  bodyTimeoutMs?: number
  onRetry?: (info: { url: string, attempt: number, waitMs: number, reason: string }) => void
}

export class RegistryHttpError extends Error {
  override name = 'RegistryHttpError'
  constructor (message: string, public readonly status: number | null, public readonly transient: boolean) {
    super(message)
  }
}

const DEFAULTS = { attempts: 4, backoffMs: 1000, maxBackoffMs: 60_000, headersTimeoutMs: 15_000, bodyTimeoutMs: 30_000 }

function retryAfterMs (value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return null
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now())
}

async function withRetries<T> (url: string, opts: ClientOptions, run: () => Promise<T>): Promise<T> {
  const o = { ...DEFAULTS, ...opts }
  let lastError: unknown
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    try {
      return await run()
    } catch (err) {
      lastError = err
      const transient = !(err instanceof RegistryHttpError) || err.transient
      if (!transient || attempt === o.attempts) break
      const asked = (err as { retryAfterMs?: number | null }).retryAfterMs ?? null
      const waitMs = Math.min(o.maxBackoffMs, asked ?? o.backoffMs * 2 ** (attempt - 1))
      o.onRetry?.({ url, attempt, waitMs, reason: (err as Error).message })
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
  throw lastError
}

function statusError (url: string, status: number, headers: Record<string, string | string[] | undefined>): RegistryHttpError {
  // 408, 425, 429 and 5xx are the server's passing trouble; any other 4xx will not change on retry.
  const transient = status === 408 || status === 425 || status === 429 || status >= 500
  const err = new RegistryHttpError(`${url} answered HTTP ${status}`, status, transient)
  return Object.assign(err, { retryAfterMs: retryAfterMs(headers['retry-after']) })
}

function describe (err: unknown): string {
  const e = err as { code?: string, message?: string }
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'the registry did not answer in time'
  if (e.code === 'ECONNREFUSED') return 'the registry refused the connection'
  return e.message ?? String(err)
}

/** GET a small document (the manifest) as text. */
export async function fetchText (url: string, opts: ClientOptions = {}, maxBytes = 1024 * 1024): Promise<string> {
  const o = { ...DEFAULTS, ...opts }
  try {
    return await withRetries(url, opts, async () => {
      const res = await request(url, { method: 'GET', headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs, headers: { 'cache-control': 'no-cache' } })
      if (res.statusCode !== 200) {
        await res.body.dump()
        throw statusError(url, res.statusCode, res.headers)
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > maxBytes) {
          res.body.destroy()
          throw new RegistryHttpError(`${url} is larger than ${maxBytes} bytes: not a manifest`, 200, false)
        }
        chunks.push(chunk as Buffer)
      }
      return Buffer.concat(chunks).toString('utf8')
    })
  } catch (err) {
    if (err instanceof RegistryHttpError) throw err
    throw new RegistryHttpError(`${url}: ${describe(err)}`, null, true)
  }
}

export async function sha256File (file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/**
 * Downloads `url` to `dest` (a .part file kept between attempts and between runs), resuming with
 * Range after a cut, and checks the expected size and sha256. On a wrong checksum the partial file
 * is removed: it will never verify, and keeping it would poison every resume.
 */
export async function download (url: string, dest: string, expected: { size: number, sha256: string }, opts: ClientOptions = {},
  onProgress?: (bytes: number, total: number) => void): Promise<void> {
  const o = { ...DEFAULTS, ...opts }
  mkdirSync(dirname(dest), { recursive: true })
  try {
    await withRetries(url, opts, async () => {
      let have = existsSync(dest) ? statSync(dest).size : 0
      if (have > expected.size) {
        truncateSync(dest, 0)
        have = 0
      }
      if (have === expected.size) return
      const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {}
      const res = await request(url, { method: 'GET', headers, headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs })
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
      // A server that ignores Range answers 200 with the whole file: write it from the start.
      const append = res.statusCode === 206 && have > 0
      if (!append) have = 0
      let bytes = have
      // Written chunk by chunk with plain writes: when the link drops, every byte received is on
      // disk for the next attempt to resume from (a stream pipeline would discard its buffer).
      const fd = openSync(dest, append ? 'a' : 'w')
      try {
        for await (const chunk of res.body) {
          writeSync(fd, chunk as Buffer)
          bytes += (chunk as Buffer).length
          onProgress?.(bytes, expected.size)
        }
      } finally {
        closeSync(fd)
      }
      const size = statSync(dest).size
      if (size < expected.size) throw new RegistryHttpError(`${url}: the download stopped at ${size} of ${expected.size} bytes`, null, true)
    })
  } catch (err) {
    if (err instanceof RegistryHttpError) throw err
    throw new RegistryHttpError(`${url}: ${describe(err)}`, null, true)
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
