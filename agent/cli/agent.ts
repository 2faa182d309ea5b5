// What every agent command opens: the region profile, the data directory's store and the rules
// bound to them, acting as the operator at the terminal (audited as cli:<user>). The same
// FANGPIN_* configuration as the server, so a command acts on the data directory the server uses.
import { ConfigError, type Config } from '../config.ts'
import { loadProfile, ProfileError, type LoadedProfile } from '../../profile/profile.ts'
import { openStore, type Store } from '../store/store.ts'
import { createContext, createRules, type Actor, type Rules } from '../rules/index.ts'
import type { Io } from '../../base/terminal.ts'

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
  const ctx = createContext({ store, profile, settings: { tz: config.tz, staleHours: config.staleHours, sessionIdleMinutes: config.sessionIdleMinutes, ...(config.insuAdmdvs !== null ? { insuAdmdvs: config.insuAdmdvs } : {}) } })
  return { config, profile, store, rules: createRules(ctx), actor: { kind: 'operator', user: io.env.USER ?? 'unknown' }, close: () => store.close() }
}

/** Runs `fn` with the agent opened, and closes the store (its queued writes flushed) whatever happens. */
export async function withAgent<T> (config: Config, io: Io, fn: (agent: Agent) => Promise<T>): Promise<T> {
  const agent = openAgent(config, io)
  try {
    return await fn(agent)
  } finally {
    agent.close()
  }
}
