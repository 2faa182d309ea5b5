// `fangpin serve` (npm start): run the agent until SIGTERM or SIGINT.
import type { Config } from '../config.ts'
import type { Io } from '../../base/terminal.ts'
import { startServer } from '../server.ts'
import { demoCertno } from '../demo/demo-list.ts'
import { profileFrom } from './agent.ts'

/** How long `serve` waits on SIGTERM/SIGINT for a clean close before it exits anyway. */
const STOP_GRACE_MS = 10_000

export async function serveCommand (config: Config, io: Io): Promise<void> {
  profileFrom(config)
  const running = await startServer(config)
  // Plain line whatever the log level: operators and scripts wait for it.
  io.err.write(`fangpin listening on ${running.address}\n`)
  for (const w of running.warnings) io.err.write(`warning: ${w}\n`)
  if (running.demo.loaded) {
    const scheme = config.tls === null ? 'http' : 'https'
    io.err.write([
      '',
      '  ================================================================',
      '   DEMO MODE — bundled synthetic list (演示数据，不得用于真实患者)',
      `   demo HIS token: ${running.demo.token ?? '(revoked)'}`,
      running.demo.staff === null
        ? `   staff page: ${scheme}://${config.host}:${config.port}/`
        : `   staff page: ${scheme}://${config.host}:${config.port}/  (sign in as ${running.demo.staff.name} / ${running.demo.staff.password})`,
      `   try: curl -s -X POST ${scheme}://${config.host}:${config.port}/v1/eligibility \\`,
      '          -H "Authorization: Bearer <demo token>" -H "Content-Type: application/json" \\',
      `          -d '{"certno":"${demoCertno('extreme_poverty')}"}'`,
      '  ================================================================',
      ''
    ].join('\n') + '\n')
  }
  const stop = async (signal: string): Promise<void> => {
    running.app.log.info(`${signal}: closing`)
    // Closing stops a running sync and waits for requests in flight; whatever still holds it after
    // this long (a client that never finishes) must not keep a service manager waiting for ever.
    const forced = setTimeout(() => {
      running.app.log.error(`${signal}: not closed after ${STOP_GRACE_MS / 1000} s; exiting anyway`)
      io.err.write(`fangpin: not closed ${STOP_GRACE_MS / 1000} s after ${signal}; exiting anyway\n`)
      process.exit(1)
    }, STOP_GRACE_MS)
    try {
      await running.app.close()
    } catch (err) {
      running.app.log.error({ err }, `${signal}: closing failed`)
      process.exit(1)
    }
    clearTimeout(forced)
    process.exit(0)
  }
  process.once('SIGINT', () => { void stop('SIGINT') })
  process.once('SIGTERM', () => { void stop('SIGTERM') })
}
