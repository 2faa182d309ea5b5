// The rules are the agent's service layer: what it decides and what it records. They know no HTTP.
// Every rule is called with a plain context — the store, the region profile, the settings that
// shape decisions, a clock — and the actor on whose behalf it acts, by the HIS routes, the staff
// page, the command line and the background jobs alike.
import type { Store } from '../store/store.ts'
import type { TokenRole } from '../store/tokens.ts'
import type { StaffRole } from '../store/staff.ts'
import type { LoadedProfile } from '../../profile/profile.ts'

export interface Settings {
  /** the HIS's time zone (FANGPIN_TZ): every local time the rules read or write is in it */
  tz: string
  /** hours after which the list is marked stale (FANGPIN_STALE_HOURS) */
  staleHours: number
  /** minutes without a request that end a staff session (FANGPIN_SESSION_IDLE_MINUTES) */
  sessionIdleMinutes: number
  /**
   * the hospital's insurance region (FANGPIN_INSU_ADMDVS, 6 digits): catalog rows of it, its city,
   * its province and the whole country count for its lines; default the profile's region
   */
  insuAdmdvs?: string
}

export interface RulesContext {
  store: Store
  profile: LoadedProfile
  settings: Settings
  /** the current instant */
  now: () => Date
  /**
   * Runs `fn` once every earlier call with the same key has settled: requests about one visit that
   * arrive together (an HIS retrying before the first answer) are taken one after the other.
   */
  serial: <T>(key: string, fn: () => Promise<T>) => Promise<T>
}

export function createContext (c: { store: Store, profile: LoadedProfile, settings: Settings, now?: () => Date }): RulesContext {
  const running = new Map<string, Promise<unknown>>()
  const serial = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = running.get(key)
    const mine = (async () => {
      if (previous !== undefined) await previous.catch(() => undefined)
      return await fn()
    })()
    running.set(key, mine)
    try {
      return await mine
    } finally {
      if (running.get(key) === mine) running.delete(key)
    }
  }
  return { store: c.store, profile: c.profile, settings: c.settings, now: c.now ?? (() => new Date()), serial }
}

/** Who a rule acts for: the audit trail names them, and some rules are theirs alone. */
export type Actor =
  /** an HIS (or an admin tool) with a bearer token */
  | { kind: 'token', id: string, name: string, role: TokenRole }
  /** a staff member signed in to the page */
  | { kind: 'staff', id: number, name: string, role: StaffRole }
  /** someone at the server's command line */
  | { kind: 'operator', user: string }
  /** the agent itself: a scheduled sync, the start-up, a re-check */
  | { kind: 'system', name: string }

/** The actor as the audit trail's `client` column writes it. */
export function actorName (actor: Actor): string {
  switch (actor.kind) {
    case 'token': return actor.name
    case 'staff': return `staff:${actor.name}`
    case 'operator': return `cli:${actor.user}`
    case 'system': return actor.name
  }
}

export function system (name: string): Actor {
  return { kind: 'system', name }
}
