// Sign-in attempts are limited per pair of account and client address, and per address overall.
// A password guesser on the LAN gets five tries at an account per quarter hour from each PC, and
// twenty tries at any names from one PC; a colleague typing a wrong password locks only that
// account on that PC, and nobody can lock an account out from every PC by failing on purpose.
// The counts live in the database (agent/store/sign-in-limits.ts): a restart does not reset a lock,
// and `fangpin user unlock` or the admin section ends one.
import { isIPv4, isIPv6 } from 'node:net'
import type { SignInLimitRepository, Counter, LockScope } from '../store/sign-in-limits.ts'

export interface SignInLimitOptions {
  /** failures of one account from one address that lock the pair */
  accountMax?: number
  /** failures from one address, whatever the names, that lock the address */
  addressMax?: number
  /** the window the failures are counted in, and how long a lock lasts */
  windowMs?: number
}

export interface Lock { scope: LockScope, seconds: number }


/**
 * The address as counted: an IPv4 client as is (also when the socket reports it IPv4-mapped), an
 * IPv6 client by its /64, the block one host can draw addresses from at will.
 */
export function clientAddress (ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped !== null) return mapped[1]
  if (isIPv4(ip)) return ip
  const bare = ip.split('%')[0].toLowerCase()
  if (!isIPv6(bare)) return ip
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined]
  const groups = (part: string | undefined): string[] => part === undefined || part === '' ? [] : part.split(':')
  const width = (g: string[]): number => g.reduce((n, x) => n + (x.includes('.') ? 2 : 1), 0)
  const h = groups(head)
  const tl = groups(tail)
  const all = [...h, ...Array<string>(tail === undefined ? 0 : 8 - width(h) - width(tl)).fill('0'), ...tl]
  return all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/64'
}

export class SignInLimit {
  private readonly accountMax: number
  private readonly addressMax: number
  private readonly windowMs: number

  constructor (private readonly repo: SignInLimitRepository, opts: SignInLimitOptions = {}) {
    this.accountMax = opts.accountMax ?? 5
    this.addressMax = opts.addressMax ?? 20
    this.windowMs = opts.windowMs ?? 15 * 60_000
  }

  private counters (address: string, name: string): [Counter, Counter] {
    const a = clientAddress(address)
    return [
      { scope: 'account', address: a, name_key: this.repo.nameKey(name), max: this.accountMax, windowMs: this.windowMs, lockMs: this.windowMs },
      { scope: 'address', address: a, name_key: null, max: this.addressMax, windowMs: this.windowMs, lockMs: this.windowMs }
    ]
  }

  /** The lock that refuses this attempt (the longer one when both apply), else null. */
  locked (address: string, name: string, now = Date.now()): Lock | null {
    const locks = this.repo.activeLocks(this.counters(address, name), now)
    if (locks.length === 0) return null
    const longest = locks.reduce((x, y) => (y.until > x.until ? y : x))
    return { scope: longest.scope, seconds: Math.max(1, Math.ceil((Date.parse(longest.until) - now) / 1000)) }
  }

  /** Seconds to wait before this pair may try again, 0 when it may now. */
  retryAfter (address: string, name: string, now = Date.now()): number {
    return this.locked(address, name, now)?.seconds ?? 0
  }

  /**
   * Counts a failed attempt: on the pair and on the address. Called before the (slow) password
   * check, so guesses sent at once are each counted. Returns the scopes this attempt locked.
   */
  fail (address: string, name: string, now = Date.now()): LockScope[] {
    // Rows whose window and lock are over go on the way: one address makes at most addressMax
    // pair rows and one address row in a window, so the table holds what the last quarter hour
    // needs and no lock is ever dropped to make room.
    // (one indexed delete of expired rows per failed sign-in: failures are rare, and bounded by
    // the locks themselves)
    this.repo.purge(now)
    return this.repo.fail(this.counters(address, name), now).map((c) => c.scope)
  }

  /**
   * One sign-in attempt, before its password is checked: refused when a lock applies (nothing is
   * counted then), else counted as a failure until `succeed` takes it back. `locked` lists the
   * scopes this attempt locked, should its password be wrong.
   */
  attempt (address: string, name: string, now = Date.now()): { refused: Lock | null, locked: LockScope[] } {
    const refused = this.locked(address, name, now)
    if (refused !== null) return { refused, locked: [] }
    return { refused: null, locked: this.fail(address, name, now) }
  }

  /**
   * A sign-in that turned out right: the attempt counted before the password was checked is taken
   * back from the address, and the pair starts afresh.
   */
  succeed (address: string, name: string): void {
    const [pair, addr] = this.counters(address, name)
    this.repo.takeBack(pair, addr)
  }
}
