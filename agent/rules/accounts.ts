// HIS tokens and staff accounts: made, changed and ended the same way from the command line and
// from the admin section of the page, each audited under who did it. Mistakes are typed errors of
// the catalogue (a taken name is a conflict, a short password a validation error), which the page
// answers as 409/400 and the command line prints.
import { FangpinConflict, FangpinNotFound, FangpinValidation, withDetails } from '../errors.ts'
import type { TokenInfo, TokenRole } from '../store/tokens.ts'
import type { StaffRole, StaffUser } from '../store/staff.ts'
import { hashPassword, passwordProblem } from './password.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'

export type { TokenRole, TokenInfo, StaffRole, StaffUser }

export interface StaffAccount extends StaffUser {
  /** where the account is locked from (too many wrong passwords from that address) and until when */
  locks: Array<{ address: string, until: string }>
}

const STAFF_ROLES: readonly StaffRole[] = ['billing', 'admin']
const TOKEN_ROLES: readonly TokenRole[] = ['his', 'admin']

function invalid (field: string, reason: string, message: string): never {
  throw withDetails(new FangpinValidation(message), [{ field, reason, message }])
}

/** Creates a token and returns it in full: the only time it exists outside the caller's hands. */
export async function createToken (ctx: RulesContext, actor: Actor, nameRaw: string, role: TokenRole): Promise<{ token: string, info: TokenInfo }> {
  const name = nameRaw.trim()
  if (name === '' || name.length > 64) invalid('name', 'length', 'the token name must have 1 to 64 characters')
  if (!TOKEN_ROLES.includes(role)) invalid('role', 'enum', 'the role must be his or admin')
  const { store } = ctx
  return await store.write(() => {
    const created = store.tokens.create(name, role)
    store.audit.write({ client: actorName(actor), action: 'token.create', detail: { id: created.info.id, name, role: created.info.role } })
    return created
  })
}

export function listTokens (ctx: RulesContext): TokenInfo[] {
  return ctx.store.tokens.list()
}

/**
 * Revokes the active tokens with this id (or, with `byName`, this name too); returns how many.
 * An id that names no token at all is a 404: a typo must not read as "revoked".
 */
export async function revokeToken (ctx: RulesContext, actor: Actor, idOrName: string, opts: { byName?: boolean } = {}): Promise<number> {
  const { store } = ctx
  return await store.write(() => {
    const known = store.tokens.list().some((x) => x.id === idOrName || (opts.byName === true && x.name === idOrName))
    if (!known) throw new FangpinNotFound(opts.byName === true ? `no token with id or name "${idOrName}"` : `no token ${idOrName}`)
    const n = opts.byName === true ? store.tokens.revoke(idOrName) : store.tokens.revokeId(idOrName)
    store.audit.write({ client: actorName(actor), action: 'token.revoke', detail: opts.byName === true ? { token: idOrName, revoked: n } : { id: idOrName } })
    return n
  })
}

export function listStaff (ctx: RulesContext): StaffAccount[] {
  const now = ctx.now().getTime()
  return ctx.store.staff.list().map((u) => ({ ...u, locks: ctx.store.signInLimits.accountLocks(u.name, now).map((l) => ({ address: l.address, until: l.until })) }))
}

export async function addStaff (ctx: RulesContext, actor: Actor, u: { name: string, role: StaffRole, password: string }): Promise<StaffUser> {
  const name = u.name.trim()
  if (name === '' || name.length > 64) invalid('name', 'length', 'the name must have 1 to 64 characters')
  if (!STAFF_ROLES.includes(u.role)) invalid('role', 'enum', 'the role must be billing or admin')
  const problem = passwordProblem(u.password)
  if (problem !== null) invalid('password', 'weak', problem)
  const { store } = ctx
  if (store.staff.byName(name) !== undefined) throw new FangpinConflict(`a staff user named ${name} already exists`)
  const hash = await hashPassword(u.password)
  return await store.write(() => {
    // Two requests for the same name (a double click) both passed the check above while hashing.
    const created = store.staff.insertUser({ name, role: u.role, password_hash: hash })
    if (created === null) throw new FangpinConflict(`a staff user named ${name} already exists`)
    store.audit.write({ client: actorName(actor), action: 'staff.user_add', detail: { name: created.name, role: created.role } })
    return created
  })
}

/** A new password; every session of the old one ends. */
export async function setStaffPassword (ctx: RulesContext, actor: Actor, name: string, password: string): Promise<void> {
  const { store } = ctx
  if (store.staff.byName(name) === undefined) throw new FangpinNotFound(`no staff user named ${name}`)
  const problem = passwordProblem(password)
  if (problem !== null) invalid('password', 'weak', problem)
  const hash = await hashPassword(password)
  await store.write(() => {
    if (!store.staff.setPasswordHash(name, hash)) throw new FangpinNotFound(`no staff user named ${name}`)
    store.audit.write({ client: actorName(actor), action: 'staff.passwd', detail: { name } })
  })
}

/** Disables an account and ends its sessions; false when there is no active account of that name. */
export async function disableStaff (ctx: RulesContext, actor: Actor, name: string): Promise<boolean> {
  const { store } = ctx
  return await store.write(() => {
    const done = store.staff.disable(name)
    if (done) store.audit.write({ client: actorName(actor), action: 'staff.disable', detail: { name } })
    return done
  })
}

/**
 * Ends every sign-in lock on an account, from every address (IT, once the colleague is known to be
 * who was typing). A running agent reads the locks from the database at each sign-in: at once.
 */
export async function unlockStaff (ctx: RulesContext, actor: Actor, nameRaw: string): Promise<{ name: string, unlocked: number }> {
  const { store } = ctx
  const user = store.staff.byName(nameRaw.trim())
  if (user === undefined) throw new FangpinNotFound(`no staff user named ${nameRaw}`)
  const unlocked = await store.write(() => {
    const n = store.signInLimits.unlockAccount(user.name, ctx.now().getTime())
    store.audit.write({ client: actorName(actor), action: 'staff.unlock', detail: { name: user.name, locks: n } })
    return n
  })
  return { name: user.name, unlocked }
}

/** An audited action that changes nothing in the agent's own records (e.g. a sync asked for). */
export async function recordAction (ctx: RulesContext, actor: Actor, action: string, decision: string | null = null): Promise<void> {
  await ctx.store.write(() => ctx.store.audit.write({ client: actorName(actor), action, decision }))
}

/** Records that a token was used: for IT ("is this HIS still calling?"), at most once a minute per token. */
export async function noteTokenUse (ctx: RulesContext, id: string): Promise<void> {
  if (!ctx.store.tokens.touchDue(id)) return
  await ctx.store.write(() => ctx.store.tokens.touch(id))
}
