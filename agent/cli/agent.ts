// What every agent command opens: the region profile, the data directory's store and the rules
// bound to them, acting as the operator at the terminal (audited as cli:<user>). The same
// FANGPIN_* configuration as the server, so a command acts on the data directory the server uses.
import { ConfigError, type Config } from '../config.ts'
import { loadProfile, ProfileError, type LoadedProfile } from '../../profile/profile.ts'
import { openStore, type Store } from '../store/store.ts'
import { createContext, createRules, type Actor, type Rules } from '../rules/index.ts'
import type { Io } from '../../base/terminal.ts'

/** Rows per transaction of a list load run from the command line: about a quarter second each. */
const BATCH_LOAD_CHUNK = 50_000

export interface Agent {
  config: Config
  profile: LoadedProfile
  store: Store
  rules: Rules
  actor: Actor
  close: () => void
}

export function profileFrom (config: Config): LoadedProfile {
  try {
    return loadProfile(config.profile)
  } catch (err) {
    if (err instanceof ProfileError) throw new ConfigError([`FANGPIN_PROFILE="${config.profile}": ${err.message}`])
    throw err
  }
}

export function openAgent (config: Config, io: Io): Agent {
  const profile = profileFrom(config)
  const store = openStore(config.dataDir)
  // A command serves nobody while it loads a list: fewer, bigger transactions (see ListRepository).
  store.list.loadChunk = BATCH_LOAD_CHUNK
  const ctx = createContext({ store, profile, settings: { tz: config.tz, staleHours: config.staleHours, sessionIdleMinutes: config.sessionIdleMinutes, ...(config.insuAdmdvs !== null ? { insuAdmdvs: config.insuAdmdvs } : {}) } })
  return { config, profile, store, rules: createRules(ctx), actor: { kind: 'operator', user: io.env.USER ?? 'unknown' }, close: () => store.close() }
}

/** Runs `fn` with the agent opened, and closes the store (its queued writes flushed) whatever happens. */
export async function withAgent<T> (config: Config, io: Io, fn: (agent: Agent) => Promise<T>): Promise<T> {
  const agent = openAgent(config, io)
  try {
    return await fn(agent)
  } finally {
    // A sync hands the removal of the rows it replaced to the background; the process ends here.
    await agent.store.list.cleanedUp()
    agent.close()
  }
}
