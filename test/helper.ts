// Test helpers: a real data directory, a real database and a real listening server per test,
// closed when the test ends (fastify/demo's build() pattern).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from '../agent/config.ts'
import { loadProfile, type LoadedProfile } from '../profile/profile.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import { buildApp } from '../agent/app.ts'
import type { LoadRecord } from '../agent/store/list.ts'
import { checkCharacter } from '../identity/certno.ts'
import { createContext, type Actor, type RulesContext } from '../agent/rules/context.ts'

/** The rules' context over a store, as the agent makes it (Beijing time, the defaults of FANGPIN_*). */
export function testContext (store: Store, profile: LoadedProfile, over: { now?: () => Date, staleHours?: number } = {}): RulesContext {
  return createContext({ store, profile, settings: { tz: 'Asia/Shanghai', staleHours: over.staleHours ?? 36, sessionIdleMinutes: 30 }, now: over.now })
}

/** Who a test's own setup acts as (accounts, tokens made before the behaviour under test). */
export const SETUP: Actor = { kind: 'system', name: 'test-setup' }

export const ROOT = resolve(import.meta.dirname, '..')

interface Teardown { teardown: (fn: () => unknown) => void }

export function tempDir (t: Teardown, prefix = 'fangpin-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A valid 18-digit ID number from 17 digits. */
export function certno (first17: string): string {
  return first17 + checkCharacter(first17)
}

/** The n-th synthetic valid ID number (柳江区 address code, born 1960–1999). */
export function syntheticCertno (n: number): string {
  const year = 1960 + (n % 40)
  const month = 1 + (Math.floor(n / 40) % 12)
  const day = 1 + (Math.floor(n / 480) % 28)
  const seq = Math.floor(n / 13440) % 1000
  return certno(`450206${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(seq).padStart(3, '0')}`)
}

export function person (certnoValue: string, name: string, identities: Array<[string, string, string | null]>): LoadRecord {
  return {
    op: 'upsert',
    certno: certnoValue,
    psn_cert_type: '01',
    psn_name: name,
    identities: identities.map(([category, begntime, endtime]) => ({ category, begntime, endtime, source: '民政' }))
  }
}

export interface Built {
  app: FastifyInstance
  url: string
  store: Store
  config: Config
  profile: LoadedProfile
  token: string
  adminToken: string
  logs: string[]
  post: (path: string, body: unknown, headers?: Record<string, string>) => Promise<{ status: number, headers: Headers, json: any, text: string }>
  get: (path: string, headers?: Record<string, string>) => Promise<{ status: number, headers: Headers, json: any, text: string }>
  del: (path: string, headers?: Record<string, string>) => Promise<{ status: number, headers: Headers, json: any, text: string }>
}

/**
 * Builds the app on a fresh data directory, loads `records` as the list (if given), creates an
 * HIS token and an admin token, and listens on a free loopback port.
 */
export async function build (t: Teardown, opts: { records?: LoadRecord[], env?: Record<string, string>, profile?: LoadedProfile, demo?: boolean, autoSync?: boolean } = {}): Promise<Built> {
  const dataDir = tempDir(t)
  const config = loadConfig({ FANGPIN_DATA_DIR: dataDir, FANGPIN_PORT: '0', FANGPIN_LOG_LEVEL: 'info', ...opts.env })
  const profile = opts.profile ?? loadProfile(config.profile)
  const store = openStore(dataDir)
  if (opts.records !== undefined) {
    await store.list.replace(opts.records, { source: 'import', label: 'test', demo: opts.demo === true })
  }
  const token = store.tokens.create('test-his', 'his').token
  const adminToken = store.tokens.create('test-admin', 'admin').token
  const logs: string[] = []
  const { REDACT, LOG_SERIALIZERS } = await import('../agent/app.ts')
  const app = await buildApp({
    config,
    profile,
    store,
    // Tests start syncs themselves unless they ask for the schedule and the start-up run.
    autoSync: opts.autoSync ?? false,
    // Tests run backups themselves (b.app.backup.run) rather than on a schedule.
    autoBackup: false,
    logger: {
      level: 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: LOG_SERIALIZERS,
      stream: { write: (line: string) => { logs.push(line) } }
    }
  })
  t.teardown(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const call = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, json: any, text: string }> => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
    }
    const res = await fetch(url + path, init)
    const text = await res.text()
    let json: any
    try { json = JSON.parse(text) } catch { json = undefined }
    return { status: res.status, headers: res.headers, json, text }
  }
  return {
    app,
    url,
    store,
    config,
    profile,
    token,
    adminToken,
    logs,
    post: async (path, body, headers) => await call('POST', path, body, headers),
    get: async (path, headers) => await call('GET', path, undefined, headers),
    del: async (path, headers) => await call('DELETE', path, undefined, headers)
  }
}

/** Runs the fangpin CLI as a child process, as an operator would. */
export function fangpin (args: string[], env: Record<string, string>, opts: { input?: string } = {}): Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

/** Starts `fangpin serve` as a child process and resolves with its URL once it listens. */
export function startAgent (t: Teardown, env: Record<string, string>): Promise<{ child: ChildProcess, url: string, output: () => string }> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'serve'], {
      cwd: ROOT,
      env: { ...process.env, FANGPIN_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('agent did not start:\n' + out)) }, 60_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolveStart({ child, url: m[1], output: () => out })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`agent exited with ${code}:\n${out}`)) })
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  })
}

/**
 * Waits until a list load in another process has written more than `rows` rows of its new
 * generation, then kills that process with SIGKILL: the load is really in the middle. Returns the
 * number of rows it had written.
 */
export async function killMidLoad (child: ChildProcess, dataDir: string, rows: number, timeoutMs: number): Promise<number> {
  const { default: Database } = await import('better-sqlite3')
  const probe = new Database(join(dataDir, 'fangpin.db'), { readonly: true })
  probe.pragma('busy_timeout = 5000')
  let partial = 0
  const deadline = Date.now() + timeoutMs
  try {
    while (Date.now() < deadline) {
      const n = probe.prepare("SELECT COUNT(*) FROM list_identity WHERE gen IN (SELECT gen FROM list_generation WHERE state = 'loading')").pluck().get() as number
      if (n > rows) { partial = n; break }
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    probe.close()
  }
  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
  return partial
}
