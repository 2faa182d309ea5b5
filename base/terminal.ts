// What the command lines share (the agent's `fangpin …` and the county's `fangpin registry …`):
// where they write, a usage mistake, one progress bar, and a password typed without echo. The
// streams are passed in, so a test drives a command as an operator would.

export interface Io {
  out: { write: (s: string) => unknown }
  err: { write: (s: string) => unknown, isTTY?: boolean }
  /** where a password is read from (--password-stdin, or typed on the terminal) */
  stdin: NodeJS.ReadStream
  env: NodeJS.ProcessEnv
}

export function processIo (): Io {
  return { out: process.stdout, err: process.stderr, stdin: process.stdin, env: process.env }
}

/** The operator's mistake in a command line: the message says what to type (exit 64, EX_USAGE). */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const EX_USAGE = 64

export interface Progress {
  update: (done: number, total?: number) => void
  done: () => void
}

/**
 * A one-line progress bar on a terminal once the work reaches `threshold` items; nothing when the
 * output goes to a file or a pipe (a log must not fill with carriage returns).
 */
export function progressBar (io: Io, label: string, threshold: number): Progress {
  const tty = io.err.isTTY === true
  let shown = false
  let last = 0
  return {
    update (done, total) {
      if (!tty) return
      if ((total ?? done) < threshold) return
      const now = Date.now()
      if (now - last < 100 && (total === undefined || done < total)) return
      last = now
      shown = true
      const width = 30
      if (total !== undefined && total > 0) {
        const f = Math.min(1, done / total)
        const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.')
        io.err.write(`\r${label} [${bar}] ${done}/${total} ${Math.round(f * 100)}%`)
      } else {
        io.err.write(`\r${label} ${done}`)
      }
    },
    done () {
      if (shown) io.err.write('\n')
      shown = false
    }
  }
}

/**
 * A password from stdin (--password-stdin: scripts, provisioning) or typed twice on the terminal
 * without echo. Never from an argument: arguments show in `ps` and in shell history.
 */
export async function readPassword (io: Io, fromStdin: boolean, prompt: string): Promise<string> {
  const stdin = io.stdin
  if (fromStdin || stdin.isTTY !== true) {
    if (!fromStdin) throw new UsageError('stdin is not a terminal: pass --password-stdin to read the password from it')
    const chunks: Buffer[] = []
    for await (const c of stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  }
  const ask = (label: string): Promise<string> => new Promise((resolve, reject) => {
    io.err.write(label)
    stdin.setRawMode(true)
    stdin.resume()
    let typed = ''
    const finish = (): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      io.err.write('\n')
    }
    const onData = (d: Buffer): void => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish()
          resolve(typed)
          return
        }
        if (ch === '\u0003') {
          finish()
          reject(new UsageError('cancelled; nothing was changed'))
          return
        }
        if (ch === '\u007f') typed = typed.slice(0, -1)
        else typed += ch
      }
    }
    stdin.on('data', onData)
  })
  const first = await ask(prompt)
  const second = await ask('repeat the password: ')
  if (first !== second) throw new UsageError('the two passwords differ; nothing was changed')
  return first
}
