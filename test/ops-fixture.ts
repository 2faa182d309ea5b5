// What the operations tests share: `fangpin serve` as a child process over HTTP or HTTPS, HTTPS
// requests that trust a given certificate, and a stop by signal with its exit code.
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { ROOT } from './helper.ts'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface Served {
  child: ChildProcess
  url: string
  output: () => string
  /** resolves with the exit code (or signal) once the process is gone */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Starts `fangpin serve` (or `cmd`, e.g. ['start'] under npm) and resolves once it listens. */
export function serve (t: Teardown, env: Record<string, string>, opts: { cwd?: string, command?: string, args?: string[], group?: boolean } = {}): Promise<Served> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(opts.command ?? process.execPath, opts.args ?? ['--import', 'tsx', join(ROOT, 'agent', 'cli', 'main.ts'), 'serve'], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, FANGPIN_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // npm start: npm and the agent under it are one process group, stopped together.
      detached: opts.group === true
    })
    let out = ''
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })))
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('agent did not start:\n' + out)) }, 60_000)
    let started = false
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /fangpin listening on (https?:\/\/[^\s"]+)/.exec(out)
      if (m !== null && !started) {
        started = true
        clearTimeout(timer)
        resolveStart({ child, url: m[1].replace('0.0.0.0', '127.0.0.1'), output: () => out, exited })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then(({ code }) => { if (!started) { clearTimeout(timer); reject(new Error(`agent exited with ${code}:\n${out}`)) } })
    t.teardown(() => {
      if (opts.group === true && child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL') } catch { /* the group is gone */ }
      } else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
  })
}

export interface HttpsAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
  /** SHA-256 fingerprint of the certificate the server presented */
  fingerprint256: string
}

/** One HTTPS request that trusts only `ca` (a real handshake: a wrong certificate fails). */
export function httpsCall (url: string, ca: string, opts: { method?: string, body?: unknown, headers?: Record<string, string>, servername?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolveCall, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body)
    const req = httpsRequest(url, {
      method: opts.method ?? 'GET',
      ca,
      servername: opts.servername,
      agent: false,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers }
    }, (res) => {
      const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => {
        let json: any
        try { json = JSON.parse(text) } catch { json = undefined }
        resolveCall({ status: res.statusCode ?? 0, headers: res.headers, text, json, fingerprint256 })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}
