// `fangpin serve`: open the data directory, make sure there is a list to answer with (the demo list
// on a fresh install with no registry), and listen. Boots on the last good list: nothing at start
// replaces a loaded list, and an abandoned load from a crash is only cleaned up.
import type { FastifyInstance } from 'fastify'
import { isLoopbackHost, plaintextProblem, type Config } from './config.ts'
import { loadProfile, type LoadedProfile } from '../profile/profile.ts'
import { openStore, type Store } from './store/store.ts'
import { dataDirWarnings } from './store/db.ts'
import { buildApp } from './app.ts'
import { grantDemoAccess, demoAccess, endDemoAccess } from './demo/demo-access.ts'
import { startDemoRegistry } from './demo/demo-registry.ts'
import { runSync, markInterruptedRuns } from './intake/registry-sync.ts'
import { createContext, type RulesContext } from './rules/context.ts'

export interface DemoNotice {
  loaded: boolean
  token: string | null
  /** the demo staff sign-in, while it is active */
  staff: { name: string, password: string } | null
}

/**
 * On an empty data directory with no registry configured, the bundled demo registry is started and
 * its list loaded through the real sync path, with a well-known token so that `npm start` and the
 * README's curl work at once. The demo state is announced everywhere. A data directory that holds
 * a real (imported) list never goes back to the demo.
 */
export async function ensureDemo (store: Store, profile: LoadedProfile, config: Config): Promise<{ notice: DemoNotice, config: Config, close: () => Promise<void> }> {
  const none = { notice: { loaded: false, token: null, staff: null }, config, close: async () => undefined }
  const state = store.list.state()
  // Real people are loaded: whatever happened in between (a crash right after the import or sync
  // that replaced the demo), the demo's token and sign-in are ended before anything listens.
  if (state.active_gen !== null && !state.demo) await store.write(() => endDemoAccess(store, 'serve'))
  if (config.registryUrl !== null) return none
  if (state.active_gen !== null && !state.demo) return none
  const registry = await startDemoRegistry(config.dataDir)
  const demoConfig: Config = { ...config, registryUrl: registry.url, registryPublicKey: registry.publicKey, registryDemo: true }
  try {
    if (state.active_gen === null) {
      const result = await runSync({ ctx: contextFor(store, profile, config), url: registry.url, publicKey: registry.publicKey, demo: true }, 'start')
      if (result.result === 'failed') throw new Error(`could not load the demo list: ${result.message}`)
      // The token and staff sign-in are made with the demo list only: an operator who revoked them
      // keeps them revoked.
      await grantDemoAccess(store)
      await store.write(() => store.audit.write({ client: 'serve', action: 'list.demo', decision: 'loaded' }))
    }
  } catch (err) {
    await registry.close()
    throw err
  }
  const access = demoAccess(store)
  return { notice: { loaded: true, token: access.token, staff: access.staff }, config: demoConfig, close: registry.close }
}

function contextFor (store: Store, profile: LoadedProfile, config: Config): RulesContext {
  return createContext({ store, profile, settings: { tz: config.tz, staleHours: config.staleHours, sessionIdleMinutes: config.sessionIdleMinutes } })
}

export interface Running {
  app: FastifyInstance
  store: Store
  profile: LoadedProfile
  address: string
  demo: DemoNotice
  /** things IT should fix that do not stop the agent (a data directory others can read) */
  warnings: string[]
}

export async function startServer (config: Config): Promise<Running> {
  const plaintext = plaintextProblem(config)
  if (plaintext !== null) throw plaintext
  const profile = loadProfile(config.profile)
  const store = openStore(config.dataDir)
  let app: FastifyInstance | undefined
  try {
    // A sync cut off by a crash says so from the start, not only when the next sync runs.
    const interrupted = await markInterruptedRuns(contextFor(store, profile, config))
    const demoSetup = await ensureDemo(store, profile, config)
    const demo = demoSetup.notice
    app = await buildApp({ config: demoSetup.config, profile, store })
    app.addHook('onClose', demoSetup.close)
    if (interrupted > 0) app.log.warn(`${interrupted} registry sync${interrupted === 1 ? ' was' : 's were'} cut off by a stop of the process; marked interrupted`)
    if (demo.loaded) {
      const banner = '*** DEMO DATA: the bundled synthetic demo list is loaded (演示数据，不得用于真实患者). Import the county list (fangpin import <file>) before real use. ***'
      app.log.warn(banner)
      app.log.warn(demo.token === null ? 'the demo HIS token has been revoked' : `demo HIS token (valid only while the demo list is loaded): ${demo.token}`)
    }
    // Abandoned generations (a crash mid-load) are removed in the background, in small chunks.
    store.list.purgeRetired().catch((err: unknown) => app?.log.error({ err }, 'could not clean up an abandoned list load'))
    const warnings = dataDirWarnings(config.dataDir)
    if (config.tls === null && config.allowPlaintext && !isLoopbackHost(config.host)) {
      warnings.push('serving plain HTTP on the hospital LAN (FANGPIN_ALLOW_PLAINTEXT=true): ID numbers, tokens and staff passwords cross the network unencrypted; set FANGPIN_TLS_CERT and FANGPIN_TLS_KEY')
    }
    if (config.tls !== null) {
      app.log.info({ tls: { cert: config.tls.certFile, fingerprint256: config.tls.fingerprint256, valid_to: config.tls.validTo.toISOString() } }, 'serving HTTPS')
      if (config.tls.validTo.getTime() < Date.now()) warnings.push(`the TLS certificate ${config.tls.certFile} expired on ${config.tls.validTo.toISOString()}: make a new one (fangpin tls init)`)
    }
    for (const w of warnings) app.log.warn(w)
    const address = await app.listen({ host: config.host, port: config.port })
    const state = store.list.state()
    app.log.info({ profile: profile.id, list: state.version, persons: state.person_count, demo: state.demo }, `fangpin listening on ${address}`)
    return { app, store, profile, address, demo, warnings }
  } catch (err) {
    if (app !== undefined) await app.close()
    else store.close()
    throw err
  }
}
