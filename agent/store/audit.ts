// The audit trail: every lookup of a person and every staff or operator action. It holds keyed
// hashes of subjects, never ID numbers, so the trail itself is safe to hand to an inspector.
import type { DB } from './db.ts'

export interface AuditEntry {
  client: string | null
  action: string
  subject_key?: Buffer | null
  mdtrt_id?: string | null
  decision?: string | null
  detail?: unknown
}

export interface AuditRow {
  id: number
  at: string
  client: string | null
  action: string
  subject_key: string | null
  mdtrt_id: string | null
  decision: string | null
  detail: string | null
}

export class AuditRepository {
  private readonly insert

  constructor (private readonly db: DB) {
    this.insert = db.prepare('INSERT INTO audit (at, client, action, subject_key, mdtrt_id, decision, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
  }

  /** The row to insert for an entry; run inside a transaction (directly or through the write queue). */
  write (e: AuditEntry): void {
    this.insert.run(new Date().toISOString(), e.client, e.action, e.subject_key?.toString('hex') ?? null,
      e.mdtrt_id ?? null, e.decision ?? null, e.detail === undefined ? null : JSON.stringify(e.detail))
  }

  recent (limit = 100, action?: string): AuditRow[] {
    if (action !== undefined) {
      return this.db.prepare('SELECT * FROM audit WHERE action = ? ORDER BY id DESC LIMIT ?').all(action, limit) as AuditRow[]
    }
    return this.db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[]
  }
}
