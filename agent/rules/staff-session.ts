// Staff sign in to the page with a name and password and carry a session: it ends after
// FANGPIN_SESSION_IDLE_MINUTES without a request the person made (the page's own timed refreshes
// do not count), at sign-out, when the password changes or the account is disabled.
import { FangpinSigninFailed, FangpinTooManyAttempts } from '../errors.ts'
import type { StaffUser } from '../store/staff.ts'
import { verifyPassword, decoyHash } from './password.ts'
import { SignInLimit } from './sign-in-limit.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'

// last_seen_at is written at most this often per session (and at least twice per idle period),
// so a busy page does not turn into a write per request.
const TOUCH_EVERY_MS = 60_000

export interface SignedIn { user: StaffUser, token: string }

export function staffActor (user: StaffUser): Actor {
  return { kind: 'staff', id: user.id, name: user.name, role: user.role }
}

/**
 * Checks a name and password from `ip`. The attempt is counted before the (slow) password check,
 * in the same unit of work as the check of the locks: sixty guesses sent at once are sixty
 * attempts. Refused with FANGPIN_TOO_MANY_ATTEMPTS (and `retryAfter` seconds) or
 * FANGPIN_SIGNIN_FAILED; a wrong name and a wrong password cost the same time.
 */
export async function signIn (ctx: RulesContext, nameRaw: string, password: string, ip: string): Promise<SignedIn> {
  const { store } = ctx
  // The limiter keeps nothing of its own: the counts are in the database (a restart resets nothing).
  const limit = new SignInLimit(store.signInLimits)
  const name = nameRaw.trim()
  const { refused: lock, locked } = await store.write(() => limit.attempt(ip, name))
  if (lock !== null) {
    const minutes = Math.ceil(lock.seconds / 60)
    throw Object.assign(new FangpinTooManyAttempts(lock.scope === 'account'
      ? `该账号在本机登录失败次数过多，已锁定，请${minutes}分钟后再试，或请信息科解锁 (too many failed sign-ins for this account from this computer: try again in ${minutes} minutes, or ask IT to unlock it)`
      : `本机登录失败次数过多，已锁定，请${minutes}分钟后再试 (too many failed sign-ins from this computer: try again in ${minutes} minutes)`), { retryAfter: lock.seconds })
  }
  const hash = store.staff.passwordHash(name)
  const ok = await verifyPassword(password, hash ?? await decoyHash()) && hash !== undefined
  if (!ok) {
    // A password typed into the name field must not be kept: the name is written only when it
    // is an account's.
    const client = store.staff.byName(name) !== undefined ? `staff:${name}` : 'staff:(unknown)'
    await store.write(() => {
      store.audit.write({ client, action: 'staff.signin', decision: 'refused', detail: { ip } })
      for (const scope of locked) store.audit.write({ client, action: 'staff.signin', decision: 'locked', detail: { ip, scope } })
    })
    throw new FangpinSigninFailed('姓名或密码错误 (wrong name or password)')
  }
  return await store.write(() => {
    limit.succeed(ip, name)
    const user = store.staff.byName(name)!
    const token = store.staff.startSession(user.id, ip)
    store.audit.write({ client: actorName(staffActor(user)), action: 'staff.signin', decision: 'ok', detail: { ip } })
    return { user, token }
  })
}

export async function signOut (ctx: RulesContext, token: string): Promise<void> {
  const { store } = ctx
  await store.write(() => {
    const session = store.staff.session(token)
    if (session !== undefined) store.audit.write({ client: actorName(staffActor(session.user)), action: 'staff.signout' })
    store.staff.endSession(token)
  })
}

/**
 * The staff member behind a session cookie, or null when there is none or it ended after
 * inactivity (an idle session is removed). A request the person made (`background` false) keeps
 * the session alive; the touch is bookkeeping and never fails the request (a full disk must not
 * keep the page from showing why nothing can be saved).
 */
export function sessionUser (ctx: RulesContext, token: string, background: boolean, onTouchError?: (err: unknown) => void): StaffUser | null {
  const { store } = ctx
  const session = store.staff.session(token)
  const idleMs = ctx.settings.sessionIdleMinutes * 60_000
  const now = ctx.now().getTime()
  if (session === undefined) return null
  const idle = now - Date.parse(session.last_seen_at)
  if (idle > idleMs) {
    store.write(() => store.staff.endSession(token)).catch(onTouchError)
    return null
  }
  if (!background && idle > Math.min(TOUCH_EVERY_MS, idleMs / 2)) store.write(() => store.staff.touch(token)).catch(onTouchError)
  return session.user
}

/** Removes sessions idle for longer than the idle limit. */
export async function purgeIdleSessions (ctx: RulesContext): Promise<number> {
  const cutoff = new Date(ctx.now().getTime() - ctx.settings.sessionIdleMinutes * 60_000).toISOString()
  return await ctx.store.write(() => ctx.store.staff.purgeIdle(cutoff))
}
