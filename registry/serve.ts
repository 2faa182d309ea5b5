// A static server for a registry directory, for counties without a web server (and for tests).
// It serves exactly what the protocol names — manifest.json and the data files, and the catalog
// channel's catalog-manifest.json and catalog-<seq>.ndjson.gz — and nothing else
// in the directory (the private key may well sit beside them). Agents download over links that
// drop: ETags and Range let them revalidate cheaply and resume a cut download.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { open, type FileHandle } from 'node:fs/promises'
import { constants, type Stats } from 'node:fs'
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { AddressInfo } from 'node:net'
import { CATALOG_DATA_FILE, CATALOG_MANIFEST_FILE, DATA_FILE, MANIFEST_FILE } from './manifest.ts'

export const DEFAULT_PORT = 8090
export const DEFAULT_HOST = '127.0.0.1'

export interface RegistryServerOptions {
  /** default 8090; 0 picks a free port */
  port?: number
  /** default 127.0.0.1 */
  host?: string
  /** called once per answered request (an access log) */
  onRequest?: (info: { method: string, path: string, status: number, bytes: number, remote: string }) => void
}

export interface RegistryServer {
  /** http://host:port, without a trailing slash */
  url: string
  port: number
  server: Server
  close: () => Promise<void>
}

// O_NOFOLLOW: a symbolic link named like a data file must not lead out of the directory. Windows
// has no such flag (and no such links for ordinary users).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)

// Only the origin form of one bare name: no '/', no '%', no '..', no absolute-form URL; the query
// is ignored so that cache-busting parameters still work.
const REQUEST_PATH = /^\/([A-Za-z0-9][A-Za-z0-9.-]*)$/

function servable (name: string): boolean {
  return manifestFile(name) || DATA_FILE.test(name) || CATALOG_DATA_FILE.test(name)
}

/** The two channels' signed manifests (the list's, the catalog's): revalidated, never cached as immutable. */
function manifestFile (name: string): boolean {
  return name === MANIFEST_FILE || name === CATALOG_MANIFEST_FILE
}

/**
 * Strong ETags from the content's sha256, computed once per version of a file. A size-and-mtime
 * tag can stay the same across a republish within the same second; a content hash cannot, and an
 * agent resuming with If-Range must never splice two different files together.
 */
class EtagCache {
  private readonly entries = new Map<string, Promise<string>>()

  get (fh: FileHandle, st: Stats): Promise<string> {
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`
    let tag = this.entries.get(key)
    if (tag === undefined) {
      tag = hashOf(fh, st.size).then((digest) => `"sha256-${digest}"`)
      tag.catch(() => this.entries.delete(key))
      this.entries.set(key, tag)
      // Old versions of republished files are never asked for again.
      if (this.entries.size > 64) this.entries.delete(this.entries.keys().next().value as string)
    }
    return tag
  }
}

async function hashOf (fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256')
  const buf = Buffer.allocUnsafe(1024 * 1024)
  let pos = 0
  while (pos < size) {
    // Positional reads: the same handle is streamed to the client afterwards.
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos)
    if (bytesRead === 0) break
    hash.update(buf.subarray(0, bytesRead))
    pos += bytesRead
  }
  return hash.digest('base64url')
}

/** If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ is ignored. */
function noneMatch (header: string, etag: string): boolean {
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

type RangeResult = { start: number, end: number } | 'unsatisfiable' | null

/**
 * One byte range (a-b, a-, -n). Anything else — other units, several ranges, a malformed or
 * inverted range — is ignored and the whole file is sent, which RFC 9110 14.2 allows.
 */
function parseRange (header: string, size: number): RangeResult {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  if (m[2] !== '' && Number(m[2]) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) }
}

/**
 * If-Range: resume only if the file is still the one the client has part of. An entity tag must
 * match strongly; a date must be exactly the Last-Modified sent.
 */
function ifRangeHolds (header: string, etag: string, lastModified: string): boolean {
  const v = header.trim()
  if (v.startsWith('W/')) return false
  if (v.startsWith('"')) return v === etag
  return v === lastModified
}

function notFound (res: ServerResponse): number {
  const body = 'not found\n'
  res.writeHead(404, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    // A file asked for a moment too early must not stay "not found" in a cache.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff'
  })
  res.end(body)
  return 0
}

async function answer (dir: string, etags: EtagCache, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const method = req.method ?? 'GET'
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 })
    res.end()
    return 0
  }
  const target = req.url ?? ''
  const q = target.indexOf('?')
  const m = REQUEST_PATH.exec(q === -1 ? target : target.slice(0, q))
  if (m === null || !servable(m[1])) return notFound(res)
  const name = m[1]

  let fh: FileHandle
  try {
    fh = await open(join(dir, name), OPEN_FLAGS)
  } catch {
    return notFound(res)
  }
  let streaming = false
  try {
    // Everything below is about this open file: a publish that renames a new version into place
    // meanwhile changes neither the bytes sent nor the validators sent with them.
    const st = await fh.stat()
    if (!st.isFile()) return notFound(res)
    const etag = await etags.get(fh, st)
    const lastModified = st.mtime.toUTCString()
    const headers: Record<string, string | number> = {
      etag,
      'last-modified': lastModified,
      'accept-ranges': 'bytes',
      // The manifest changes at every publish and must be revalidated; a data file never changes
      // under its name (a new sequence gets a new name), so caches and CDNs may keep it.
      'cache-control': manifestFile(name) ? 'no-cache' : 'public, max-age=31536000, immutable',
      // Never Content-Encoding: gzip — clients would unpack the file and its sha256 would not match.
      'content-type': manifestFile(name) ? 'application/json' : 'application/gzip',
      'x-content-type-options': 'nosniff'
    }

    const inm = req.headers['if-none-match']
    const ims = req.headers['if-modified-since']
    if (inm !== undefined ? noneMatch(inm, etag) : (ims !== undefined && notModifiedSince(ims, st.mtime))) {
      const { 'content-type': _type, ...validators } = headers
      res.writeHead(304, validators)
      res.end()
      return 0
    }

    let start = 0
    let end = st.size - 1
    let status = 200
    const rangeHeader = req.headers.range
    const ifRangeRaw = req.headers['if-range']
    const ifRange = Array.isArray(ifRangeRaw) ? ifRangeRaw.join(', ') : ifRangeRaw
    // Range is defined for GET only; HEAD answers as a whole (RFC 9110 14.2).
    if (method === 'GET' && rangeHeader !== undefined && (ifRange === undefined || ifRangeHolds(ifRange, etag, lastModified))) {
      const range = parseRange(rangeHeader, st.size)
      if (range === 'unsatisfiable') {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}`, 'content-length': 0 })
        res.end()
        return 0
      }
      if (range !== null) {
        ;({ start, end } = range)
        status = 206
        headers['content-range'] = `bytes ${start}-${end}/${st.size}`
      }
    }
    const length = Math.max(0, end - start + 1)
    headers['content-length'] = length
    res.writeHead(status, headers)
    if (method === 'HEAD' || length === 0) {
      res.end()
      return 0
    }
    streaming = true
    const stream = fh.createReadStream({ start, end, autoClose: true })
    try {
      await pipeline(stream, res)
    } catch {
      // the client went away mid-download; it will resume with Range
    }
    return length
  } finally {
    if (!streaming) await fh.close()
  }
}

function notModifiedSince (header: string, mtime: Date): boolean {
  const since = Date.parse(header)
  if (Number.isNaN(since)) return false
  // HTTP dates have whole seconds.
  return Math.floor(mtime.getTime() / 1000) * 1000 <= since
}

/** Starts serving `dir`; resolves once the server listens. */
export async function startRegistryServer (dir: string, opts: RegistryServerOptions = {}): Promise<RegistryServer> {
  const root = resolve(dir)
  const etags = new EtagCache()
  const host = opts.host ?? DEFAULT_HOST
  const server = createServer((req, res) => {
    answer(root, etags, req, res).then((bytes) => {
      opts.onRequest?.({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, bytes, remote: req.socket.remoteAddress ?? '' })
    }, () => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-length': 0, 'cache-control': 'no-store' })
        res.end()
      } else {
        res.destroy()
      }
    })
  })
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    port,
    server,
    close: async () => {
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose())
        // Keep-alive connections (every agent's, every test client's) would hold close() open.
        server.closeAllConnections()
      })
    }
  }
}
