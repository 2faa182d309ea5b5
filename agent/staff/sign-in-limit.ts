// Sign-in attempts are limited per client address and per name: a password guesser on the LAN gets
// five tries per quarter hour, and a colleague typing a wrong password does not lock out the ward.
export class SignInLimit {
  private readonly failures = new Map<string, { count: number, until: number }>()

  constructor (private readonly max = 5, private readonly windowMs = 15 * 60_000) {}

  /** Seconds to wait when `keys` are over the limit, else 0. */
  retryAfter (keys: string[], now = Date.now()): number {
    let wait = 0
    for (const k of keys) {
      const f = this.failures.get(k)
      if (f === undefined) continue
      if (f.until <= now) this.failures.delete(k)
      else if (f.count >= this.max) wait = Math.max(wait, Math.ceil((f.until - now) / 1000))
    }
    return wait
  }

  fail (keys: string[], now = Date.now()): void {
    for (const k of keys) {
      const f = this.failures.get(k)
      if (f === undefined || f.until <= now) this.failures.set(k, { count: 1, until: now + this.windowMs })
      else f.count++
    }
    // Bounded memory whatever an attacker sends.
    if (this.failures.size > 10_000) {
      for (const [k, f] of this.failures) if (f.until <= now) this.failures.delete(k)
      if (this.failures.size > 10_000) this.failures.clear()
    }
  }

  /**
   * A sign-in that turned out right: the attempt counted (before the password was checked, so
   * concurrent guesses cannot slip past the limit) is taken back, and the name starts afresh.
   */
  succeed (addressKey: string, nameKey: string): void {
    const f = this.failures.get(addressKey)
    if (f !== undefined && --f.count <= 0) this.failures.delete(addressKey)
    this.failures.delete(nameKey)
  }
}
