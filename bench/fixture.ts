// What the benchmarks share: synthetic ID numbers for a million people and starting an agent (or
// the bare yardstick) as a child process, so load generator and server do not share an event loop.
import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { checkCharacter } from '../identity/certno.ts'

export const ROOT = resolve(import.meta.dirname, '..')

/** The n-th synthetic valid ID number; distinct for n below 20,160,000. */
export function certnoOf (n: number): string {
  const addr = 450000 + (n % 1000)
  const day = 1 + (Math.floor(n / 1000) % 28)
  const month = 1 + (Math.floor(n / 28000) % 12)
  const year = 1940 + (Math.floor(n / 336000) % 60)
  const first17 = `${addr}${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(Math.floor(n / 20_160_000) % 1000).padStart(3, '0')}`
  return first17 + checkCharacter(first17)
}

/** Starts `node --import tsx <args>` and resolves with its URL once it says it is listening. */
export function start (args: string[], env: Record<string, string>, cwd = ROOT): Promise<{ child: ChildProcess, url: string }> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out)
      if (m !== null) resolveStart({ child, url: m[1] })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}
