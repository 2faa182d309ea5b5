// `fangpin registry serve`: a real server on a loopback port, asked the way agents, caches and
// attackers ask — revalidation, resumed downloads, and paths that try to leave the directory.
import t from 'tap'
import { request } from 'node:http'
import { spawn } from 'node:child_process'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, syntheticCertno, tempDir } from './helper.ts'
import { publish } from '../registry/publish.ts'
import { startRegistryServer } from '../registry/serve.ts'
import { verifyManifest, type Manifest } from '../registry/manifest.ts'
import type { ListRecord } from '../lists/list-record.ts'

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

/** A raw HTTP request: the path goes on the wire exactly as given, unlike fetch, which normalises it. */
function raw (url: string, path: string, opts: { method?: string, headers?: Record<string, string> } = {}): Promise<Reply> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

function people (n: number, name = '测试'): ListRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    op: 'upsert' as const,
    certno: syntheticCertno(i),
    psn_cert_type: '01',
    psn_name: `${name}${i}`,
    identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' }]
  }))
}

async function registry (t: Parameters<typeof tempDir>[0]): Promise<{ dir: string, url: string, manifest: Manifest, data: Buffer, dataPath: string, republish: () => Promise<Manifest> }> {
  const dir = tempDir(t)
  const { privateKey } = generateKeyPairSync('ed25519')
  const { manifest } = await publish({ records: people(300), outDir: dir, privateKey, region: '450206' })
  // What else a county keeps in the same directory, and must never hand out.
  writeFileSync(join(dir, 'registry.key'), 'PRIVATE KEY MATERIAL')
  writeFileSync(join(dir, 'notes.txt'), 'internal')
  const server = await startRegistryServer(dir, { port: 0 })
  t.teardown(server.close)
  return {
    dir,
    url: server.url,
    manifest,
    data: readFileSync(join(dir, manifest.file)),
    dataPath: `/${manifest.file}`,
    republish: async () => (await publish({ records: people(310, '新'), outDir: dir, privateKey, region: '450206' })).manifest
  }
}

t.test('a data file comes back whole with a strong ETag, Last-Modified, byte ranges and a long immutable cache life', async (t) => {
  const r = await registry(t)
  const res = await raw(r.url, r.dataPath)
  t.equal(res.status, 200)
  t.same(res.body, r.data)
  t.equal(createHash('sha256').update(res.body).digest('hex'), r.manifest.sha256, 'the bytes the manifest vouches for')
  t.match(res.headers.etag, /^"[^"]+"$/, 'a strong ETag')
  t.equal(res.headers['content-type'], 'application/gzip')
  t.equal(res.headers['content-encoding'], undefined, 'never Content-Encoding, which clients would undo')
  t.equal(res.headers['content-length'], String(r.data.length))
  t.equal(res.headers['accept-ranges'], 'bytes')
  t.match(res.headers['cache-control'], /max-age=\d{7,}/)
  t.match(res.headers['cache-control'], /immutable/)
  t.ok(Date.parse(String(res.headers['last-modified'])) > 0)
})

t.test('the manifest is served as JSON that must be revalidated every time', async (t) => {
  const r = await registry(t)
  const res = await raw(r.url, '/manifest.json')
  t.equal(res.status, 200)
  t.equal(res.headers['content-type'], 'application/json')
  t.equal(res.headers['cache-control'], 'no-cache')
  t.same(JSON.parse(res.body.toString('utf8')), r.manifest)
  const withQuery = await raw(r.url, '/manifest.json?t=1700000000')
  t.equal(withQuery.status, 200, 'a cache-busting query is ignored')
})

t.test('If-None-Match with the current ETag answers 304 without a body; another ETag gets the file', async (t) => {
  const r = await registry(t)
  for (const path of ['/manifest.json', r.dataPath]) {
    const first = await raw(r.url, path)
    const etag = String(first.headers.etag)
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await raw(r.url, path, { headers: { 'if-none-match': inm } })
      t.equal(again.status, 304, `${path} If-None-Match: ${inm}`)
      t.equal(again.body.length, 0)
      t.equal(again.headers.etag, etag)
    }
    const other = await raw(r.url, path, { headers: { 'if-none-match': '"something-else"' } })
    t.equal(other.status, 200)
    t.same(other.body, first.body)
  }
})

t.test('If-Modified-Since answers 304 for an unchanged file when no ETag is given', async (t) => {
  const r = await registry(t)
  const first = await raw(r.url, '/manifest.json')
  const again = await raw(r.url, '/manifest.json', { headers: { 'if-modified-since': String(first.headers['last-modified']) } })
  t.equal(again.status, 304)
  const old = await raw(r.url, '/manifest.json', { headers: { 'if-modified-since': 'Thu, 01 Jan 2004 00:00:00 GMT' } })
  t.equal(old.status, 200)
})

t.test('the manifest\'s ETag changes when a new list is published', async (t) => {
  const r = await registry(t)
  const before = await raw(r.url, '/manifest.json')
  const next = await r.republish()
  const after = await raw(r.url, '/manifest.json', { headers: { 'if-none-match': String(before.headers.etag) } })
  t.equal(after.status, 200, 'the old ETag no longer matches')
  t.not(after.headers.etag, before.headers.etag)
  t.same(JSON.parse(after.body.toString('utf8')), next)
  t.equal(next.seq, 2)
})

t.test('each Range form answers 206 with the right bytes and Content-Range', async (t) => {
  const r = await registry(t)
  const size = r.data.length
  t.ok(size > 1000, 'the file is large enough to cut')
  const cases: Array<[string, number, number]> = [
    ['bytes=0-99', 0, 99],
    ['bytes=100-199', 100, 199],
    ['bytes=500-', 500, size - 1],
    ['bytes=-200', size - 200, size - 1],
    [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
    [`bytes=-${size + 50}`, 0, size - 1],
    [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1]
  ]
  for (const [range, start, end] of cases) {
    const res = await raw(r.url, r.dataPath, { headers: { range } })
    t.equal(res.status, 206, range)
    t.equal(res.headers['content-range'], `bytes ${start}-${end}/${size}`, range)
    t.equal(res.headers['content-length'], String(end - start + 1), range)
    t.same(res.body, r.data.subarray(start, end + 1), range)
  }
})

t.test('a download cut in the middle and resumed with Range gives the exact file', async (t) => {
  const r = await registry(t)
  const first = await raw(r.url, r.dataPath, { headers: { range: 'bytes=0-511' } })
  const rest = await raw(r.url, r.dataPath, { headers: { range: 'bytes=512-', 'if-range': String(first.headers.etag) } })
  t.equal(rest.status, 206)
  const whole = Buffer.concat([first.body, rest.body])
  t.equal(createHash('sha256').update(whole).digest('hex'), r.manifest.sha256)
})

t.test('a range past the end is 416 with the file size; a malformed or multiple range gets the whole file', async (t) => {
  const r = await registry(t)
  const size = r.data.length
  for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
    const res = await raw(r.url, r.dataPath, { headers: { range } })
    t.equal(res.status, 416, range)
    t.equal(res.headers['content-range'], `bytes */${size}`, range)
    t.equal(res.body.length, 0)
  }
  for (const range of ['bytes=abc', 'items=0-10', 'bytes=20-10', 'bytes=0-1,5-6', 'bytes=-']) {
    const res = await raw(r.url, r.dataPath, { headers: { range } })
    t.equal(res.status, 200, range)
    t.same(res.body, r.data, range)
  }
})

t.test('If-Range sends the part only while the file is unchanged, otherwise the whole file', async (t) => {
  const r = await registry(t)
  const head = await raw(r.url, r.dataPath, { method: 'HEAD' })
  const etag = String(head.headers.etag)
  const lastModified = String(head.headers['last-modified'])
  const match = await raw(r.url, r.dataPath, { headers: { range: 'bytes=10-19', 'if-range': etag } })
  t.equal(match.status, 206)
  t.same(match.body, r.data.subarray(10, 20))
  const byDate = await raw(r.url, r.dataPath, { headers: { range: 'bytes=10-19', 'if-range': lastModified } })
  t.equal(byDate.status, 206)
  for (const stale of ['"some-older-version"', `W/${etag}`, 'Thu, 01 Jan 2004 00:00:00 GMT']) {
    const res = await raw(r.url, r.dataPath, { headers: { range: 'bytes=10-19', 'if-range': stale } })
    t.equal(res.status, 200, `If-Range: ${stale}`)
    t.same(res.body, r.data)
  }
})

t.test('HEAD answers the headers of GET without a body, and ignores Range', async (t) => {
  const r = await registry(t)
  const res = await raw(r.url, r.dataPath, { method: 'HEAD', headers: { range: 'bytes=0-9' } })
  t.equal(res.status, 200)
  t.equal(res.body.length, 0)
  t.equal(res.headers['content-length'], String(r.data.length))
  t.equal(res.headers['content-type'], 'application/gzip')
  t.ok(res.headers.etag)
  const get = await raw(r.url, r.dataPath)
  t.equal(res.headers.etag, get.headers.etag)
})

t.test('only manifest.json and data files are served: traversal, encoded paths, absolute paths and other files are 404', async (t) => {
  const r = await registry(t)
  symlinkSync(join(r.dir, 'registry.key'), join(r.dir, 'full-99.ndjson.gz'))
  const paths = [
    '/registry.key', '/notes.txt', '/', '/.publish.lock', '/manifest.json/', '//manifest.json',
    '/../manifest.json', '/../../../../etc/passwd', `/..${r.dataPath}`, '/./manifest.json',
    '/%2e%2e/%2e%2e/etc/passwd', '/%2e%2e%2fregistry.key', '/..%2fregistry.key', '/%2E%2E/manifest.json',
    '/manifest%2ejson', '/manifest.json%00', `${r.dataPath}%2f..%2fregistry.key`,
    '/etc/passwd', '//etc/passwd', `/${join(r.dir, 'registry.key')}`, `/${join(r.dir, 'manifest.json')}`,
    'http://127.0.0.1/registry.key', `file://${join(r.dir, 'registry.key')}`, '*',
    '/full-99.ndjson.gz', '/full-1.ndjson.gz.tmp', '/FULL-1.NDJSON.GZ', '/full-.ndjson.gz', '/delta-1.ndjson.gz'
  ]
  for (const path of paths) {
    const res = await raw(r.url, path)
    t.equal(res.status, 404, path)
    t.notOk(res.body.toString('utf8').includes('PRIVATE'), `${path} leaks nothing`)
  }
  t.equal((await raw(r.url, '/manifest.json')).status, 200, 'the real files still work')
})

t.test('methods other than GET and HEAD are refused with 405', async (t) => {
  const r = await registry(t)
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await raw(r.url, '/manifest.json', { method })
    t.equal(res.status, 405, method)
    t.equal(res.headers.allow, 'GET, HEAD')
  }
})

t.test('a fetch client gets a manifest that verifies and a data file that matches it', async (t) => {
  const dir = tempDir(t)
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  await publish({ records: people(20), outDir: dir, privateKey, region: '450206' })
  const server = await startRegistryServer(dir, { port: 0 })
  t.teardown(server.close)
  const m = await (await fetch(`${server.url}/manifest.json`)).json() as Manifest
  t.ok(verifyManifest(m, publicKey))
  const body = Buffer.from(await (await fetch(new URL(m.full.file, server.url + '/'))).arrayBuffer())
  t.equal(body.length, m.full.size)
  t.equal(createHash('sha256').update(body).digest('hex'), m.full.sha256)
})

t.test('`registry serve` prints where it listens, serves the directory and stops on SIGTERM', async (t) => {
  const dir = tempDir(t)
  const { privateKey } = generateKeyPairSync('ed25519')
  await publish({ records: people(5), outDir: dir, privateKey, region: '450206' })
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'registry', 'cli-main.ts'), 'serve', dir, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('did not start:\n' + output)), 30_000)
    const onData = (d: Buffer): void => {
      output += d.toString()
      const m = /registry listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (m !== null) { clearTimeout(timer); resolve(m[1]) }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}:\n${output}`)) })
  })
  const res = await raw(url, '/manifest.json')
  t.equal(res.status, 200)
  t.equal(JSON.parse(res.body.toString('utf8')).seq, 1)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output, /GET \/manifest\.json 200/, 'an access log line per request')
})
