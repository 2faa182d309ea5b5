// Staff users and their sessions.
import { createHash, randomBytes } from 'node:crypto'
import type { DB } from './db.ts'

export type StaffRole = 'billing' | 'admin'

export interface StaffUser {
  id: number
  name: string
  role: StaffRole
  created_at: string
  disabled_at: string | null
  last_login_at: string | null
}

export interface StaffSession {
  user: StaffUser
  created_at: string
  last_seen_at: string
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest()

export class StaffRepository {
  private readonly sessionStmt

  constructor (private readonly db: DB) {
    this.sessionStmt = db.prepare(`SELECT s.created_at, s.last_seen_at, u.id, u.name, u.role, u.created_at AS user_created_at, u.disabled_at, u.last_login_at
      FROM staff_session s JOIN staff_user u ON u.id = s.user_id WHERE s.token_hash = ?`)
  }

  /**
   * Inserts an account with its password hash (hashed by the rules). Returns null when the name is
   * taken — also when another request took it between the rules' check and this insert.
   */
  insertUser (u: { name: string, role: StaffRole, password_hash: string }): StaffUser | null {
    try {
      this.db.prepare('INSERT INTO staff_user (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)').run(u.name, u.role, u.password_hash, new Date().toISOString())
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return null
      throw err
    }
    return this.byName(u.name)!
  }

  /** Sets a new password hash and ends every session of the old password; false when there is no such user. */
  setPasswordHash (name: string, hash: string): boolean {
    const user = this.byName(name)
    if (user === undefined) return false
    // A new password ends every session of the old one: after a suspected leak the intruder is out.
    this.db.prepare('UPDATE staff_user SET password_hash = ? WHERE id = ?').run(hash, user.id)
    this.db.prepare('DELETE FROM staff_session WHERE user_id = ?').run(user.id)
    return true
  }

  byName (name: string): StaffUser | undefined {
    return this.db.prepare('SELECT id, name, role, created_at, disabled_at, last_login_at FROM staff_user WHERE name = ?').get(name) as StaffUser | undefined
  }

  passwordHash (name: string): string | undefined {
    return this.db.prepare('SELECT password_hash FROM staff_user WHERE name = ? AND disabled_at IS NULL').pluck().get(name) as string | undefined
  }

  list (): StaffUser[] {
    return this.db.prepare('SELECT id, name, role, created_at, disabled_at, last_login_at FROM staff_user ORDER BY name').all() as StaffUser[]
  }

  disable (name: string): boolean {
    return this.db.transaction(() => {
      const user = this.byName(name)
      if (user === undefined || user.disabled_at !== null) return false
      this.db.prepare('UPDATE staff_user SET disabled_at = ? WHERE id = ?').run(new Date().toISOString(), user.id)
      this.db.prepare('DELETE FROM staff_session WHERE user_id = ?').run(user.id)
      return true
    }).immediate()
  }

  /** Starts a session; returns the cookie value (only its hash is stored). */
  startSession (userId: number, ip: string | null): string {
    const token = randomBytes(32).toString('base64url')
    const now = new Date().toISOString()
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO staff_session (token_hash, user_id, created_at, last_seen_at, ip) VALUES (?, ?, ?, ?, ?)').run(sha256(token), userId, now, now, ip)
      this.db.prepare('UPDATE staff_user SET last_login_at = ? WHERE id = ?').run(now, userId)
    }).immediate()
    return token
  }

  /** The session for a cookie value, if it exists and its user is active. */
  session (token: string): StaffSession | undefined {
    const row = this.sessionStmt.get(sha256(token)) as (Omit<StaffUser, 'created_at'> & { created_at: string, last_seen_at: string, user_created_at: string }) | undefined
    if (row === undefined || row.disabled_at !== null) return undefined
    return {
      user: { id: row.id, name: row.name, role: row.role, created_at: row.user_created_at, disabled_at: row.disabled_at, last_login_at: row.last_login_at },
      created_at: row.created_at,
      last_seen_at: row.last_seen_at
    }
  }

  touch (token: string): void {
    this.db.prepare('UPDATE staff_session SET last_seen_at = ? WHERE token_hash = ?').run(new Date().toISOString(), sha256(token))
  }

  endSession (token: string): void {
    this.db.prepare('DELETE FROM staff_session WHERE token_hash = ?').run(sha256(token))
  }

  /** Removes sessions idle since before `cutoff` (UTC ISO). */
  purgeIdle (cutoff: string): number {
    return this.db.prepare('DELETE FROM staff_session WHERE last_seen_at < ?').run(cutoff).changes
  }
}
