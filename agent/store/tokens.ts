// Bearer tokens for HIS callers and administrators. A token is fp_<id>_<secret>: the id finds the
// row, the secret is checked against its SHA-256 in constant time, and only the hash is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { DB } from './db.ts'
import type { DataVersion } from './data-version.ts'

export type TokenRole = 'his' | 'admin'

export interface TokenInfo {
  id: string
  name: string
  role: TokenRole
  created_at: string
  revoked_at: string | null
  last_used_at: string | null
}

const CACHE_MS = 5000
const TOKEN = /^fp_([a-z0-9]{12})_([A-Za-z0-9_-]{20,64})$/

function hashSecret (secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

export class TokenRepository {
  private readonly byId
  private readonly touchStmt
  private readonly lastTouch = new Map<string, number>()
  // Verified tokens for a few seconds: hashing and a query on every HIS call add up at hundreds of
  // calls a second. A revocation here clears it at once. Any commit by another process (a CLI
  // revocation, an import that ends the demo token) changes SQLite's data_version, which clears it
  // too: a revoked token must not work for one more request, not even for the cache's few seconds
  // (data-version.ts: asked once per event-loop turn, shared with the list's cache).
  private readonly cache = new Map<string, { caller: { id: string, name: string, role: TokenRole }, until: number }>()
  private cacheVersion = -1

  constructor (private readonly db: DB, private readonly dataVersion: DataVersion) {
    this.byId = db.prepare('SELECT id, name, role, secret_hash, revoked_at FROM api_token WHERE id = ?')
    this.touchStmt = db.prepare('UPDATE api_token SET last_used_at = ? WHERE id = ?')
  }

  /** Creates a token and returns it in full: the only time it exists outside the caller's hands. */
  create (name: string, role: TokenRole = 'his', fixed?: string): { token: string, info: TokenInfo } {
    let id: string
    let secret: string
    if (fixed !== undefined) {
      const m = TOKEN.exec(fixed)
      if (m === null) throw new Error('a fixed token must look like fp_<12 [a-z0-9]>_<20–64 base64url>')
      id = m[1]; secret = m[2]
    } else {
      id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12).padEnd(12, '0')
      secret = randomBytes(32).toString('base64url')
    }
    const created = new Date().toISOString()
    this.db.prepare('INSERT INTO api_token (id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, name, role, hashSecret(secret), created)
    return { token: `fp_${id}_${secret}`, info: { id, name, role, created_at: created, revoked_at: null, last_used_at: null } }
  }

  /** The caller behind a presented token, or null. Unknown ids still cost a hash, so timing tells nothing. */
  verify (presented: string): { id: string, name: string, role: TokenRole } | null {
    const now = Date.now()
    const version = this.dataVersion.current()
    if (version !== this.cacheVersion) {
      this.cache.clear()
      this.cacheVersion = version
    }
    const hit = this.cache.get(presented)
    if (hit !== undefined && hit.until > now) return hit.caller
    const m = TOKEN.exec(presented)
    const row = m === null ? undefined : this.byId.get(m[1]) as { id: string, name: string, role: TokenRole, secret_hash: Buffer, revoked_at: string | null } | undefined
    const given = hashSecret(m === null ? presented : m[2])
    const expected = row?.secret_hash ?? Buffer.alloc(32)
    const same = timingSafeEqual(given, expected)
    if (row === undefined || !same || row.revoked_at !== null) return null
    const caller = { id: row.id, name: row.name, role: row.role }
    if (this.cache.size > 1000) this.cache.clear()
    this.cache.set(presented, { caller, until: now + CACHE_MS })
    return caller
  }

  /**
   * Whether last_used_at is due an update for this token. It is for operators ("is this HIS still
   * calling?"): once a minute is precise enough and keeps a write off nearly every request.
   */
  touchDue (id: string): boolean {
    const now = Date.now()
    if ((this.lastTouch.get(id) ?? 0) >= now - 60_000) return false
    this.lastTouch.set(id, now)
    return true
  }

  /** Records use; run it inside a transaction (the write queue), not on its own. */
  touch (id: string): void {
    this.touchStmt.run(new Date().toISOString(), id)
  }

  list (): TokenInfo[] {
    return this.db.prepare('SELECT id, name, role, created_at, revoked_at, last_used_at FROM api_token ORDER BY created_at').all() as TokenInfo[]
  }

  /** Revokes the active tokens with this id or name; returns how many. */
  revoke (idOrName: string): number {
    this.cache.clear()
    return this.db.prepare('UPDATE api_token SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL')
      .run(new Date().toISOString(), idOrName, idOrName).changes
  }

  /** Revokes the token with this id, if it is active. */
  revokeId (id: string): number {
    this.cache.clear()
    return this.db.prepare('UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id).changes
  }
}
