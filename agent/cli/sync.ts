// `fangpin sync`: fetch the registry's list now (exit 0 when current or updated).
import { ConfigError, type Config } from '../config.ts'
import { progressBar, type Io } from '../../base/terminal.ts'
import { endDemoAccess } from '../demo/demo-access.ts'
import { withAgent } from './agent.ts'

export async function syncCommand (config: Config, io: Io): Promise<number> {
  const { registryUrl: url, registryPublicKey: publicKey } = config
  if (url === null || publicKey === null) {
    throw new ConfigError(['fangpin sync needs FANGPIN_REGISTRY_URL and FANGPIN_REGISTRY_PUBKEY'])
  }
  const { runSync } = await import('../intake/registry-sync.ts')
  return await withAgent(config, io, async ({ rules, store }) => {
    const bar = progressBar(io, 'sync', 0)
    // Ctrl-C or a SIGTERM stops the download and records the run as interrupted; a second one kills.
    const stop = new AbortController()
    const onSignal = (signal: string): void => { stop.abort(new Error(`${signal} received`)) }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const result = await runSync({
        ctx: rules.ctx,
        url,
        publicKey,
        atRealList: () => endDemoAccess(store, 'sync'),
        timeoutMs: config.syncTimeoutMinutes * 60_000,
        client: { minBytesPerSec: config.syncMinBytesPerSec },
        signal: stop.signal,
        onProgress: (phase, done, total) => { if (phase === 'download') bar.update(done, total) }
      }, 'cli')
      bar.done()
      const line = `${result.result}: ${result.message}`
      if (result.result === 'failed') {
        io.err.write(line + '\n')
        return 1
      }
      io.out.write(line + '\n')
      return 0
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      bar.done()
    }
  })
}
