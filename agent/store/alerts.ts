// Alerts for staff and IT. One open alert per kind and admission: a nightly re-check or a sync that
// keeps failing refreshes its alert instead of piling up copies.
import type { DB } from './db.ts'

export type AlertKind = 'sync_failed' | 'list_stale' | 'identity_started' | 'identity_ended'
export type AlertLevel = 'info' | 'warning' | 'critical'

export interface AlertRow {
  id: number
  created_at: string
  kind: AlertKind
  level: AlertLevel
  mdtrt_id: string | null
  message: string
  detail: string | null
  acknowledged_by: string | null
  acknowledged_at: string | null
  resolved_at: string | null
}

export class AlertRepository {
  private readonly raiseStmt
  private readonly resolveStmt

  constructor (private readonly db: DB) {
    this.raiseStmt = db.prepare(`INSERT INTO alert (created_at, kind, level, mdtrt_id, message, detail)
      VALUES (@at, @kind, @level, @mdtrt_id, @message, @detail)
      ON CONFLICT (kind, COALESCE(mdtrt_id, '')) WHERE resolved_at IS NULL
      DO UPDATE SET level = excluded.level, message = excluded.message, detail = excluded.detail`)
    this.resolveStmt = db.prepare("UPDATE alert SET resolved_at = ? WHERE kind = ? AND COALESCE(mdtrt_id, '') = ? AND resolved_at IS NULL")
  }

  /** Raises (or refreshes) the open alert of this kind for this admission. */
  raise (a: { kind: AlertKind, level: AlertLevel, message: string, mdtrt_id?: string | null, detail?: unknown }): void {
    this.raiseStmt.run({
      at: new Date().toISOString(),
      kind: a.kind,
      level: a.level,
      mdtrt_id: a.mdtrt_id ?? null,
      message: a.message,
      detail: a.detail === undefined ? null : JSON.stringify(a.detail)
    })
  }

  resolve (kind: AlertKind, mdtrtId: string | null = null): number {
    return this.resolveStmt.run(new Date().toISOString(), kind, mdtrtId ?? '').changes
  }

  open (): AlertRow[] {
    return this.db.prepare('SELECT * FROM alert WHERE resolved_at IS NULL ORDER BY id DESC').all() as AlertRow[]
  }

  all (limit = 200): AlertRow[] {
    return this.db.prepare('SELECT * FROM alert ORDER BY id DESC LIMIT ?').all(limit) as AlertRow[]
  }
}
