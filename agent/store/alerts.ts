// Alerts for staff and IT. One open alert per kind and admission: a nightly re-check or a sync that
// keeps failing refreshes its alert instead of piling up copies.
import type { DB } from './db.ts'

export type AlertKind = 'sync_failed' | 'list_stale' | 'identity_started' | 'identity_ended' | 'spending_warning' | 'spending_breach' | 'storage_failed' | 'admission_corrected' | 'local_setting_missing' | 'reimbursement_low' | 'annual_burden' | 'admission_estimate' | 'catalog_sync_failed' | 'backup_failed'
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
  in_catalog_ratio: number | null
  medfee_fen: number | null
  out_catalog_fen: number | null
  updated_at: string | null
}

export interface SpendingFigures {
  in_catalog_ratio: number | null
  medfee_fen: number
  out_catalog_fen: number
}

export class AlertRepository {
  private readonly raiseStmt
  private readonly resolveStmt
  private readonly openIdStmt
  private readonly refreshStmt
  private readonly insertSpendingStmt
  private readonly getStmt
  private readonly forStayStmt
  private readonly sinceStmt

  constructor (private readonly db: DB) {
    this.raiseStmt = db.prepare(`INSERT INTO alert (created_at, updated_at, kind, level, mdtrt_id, message, detail)
      VALUES (@at, @at, @kind, @level, @mdtrt_id, @message, @detail)
      ON CONFLICT (kind, COALESCE(mdtrt_id, '')) WHERE resolved_at IS NULL
      DO UPDATE SET level = excluded.level, message = excluded.message, detail = excluded.detail, updated_at = excluded.updated_at`)
    // Spending alerts are looked at with every charge batch of a stay near or over the limit.
    this.openIdStmt = db.prepare('SELECT id FROM alert WHERE kind = ? AND mdtrt_id = ? AND resolved_at IS NULL').pluck()
    this.refreshStmt = db.prepare('UPDATE alert SET message = ?, in_catalog_ratio = ?, medfee_fen = ?, out_catalog_fen = ?, updated_at = ? WHERE id = ?')
    this.insertSpendingStmt = db.prepare(`INSERT INTO alert (created_at, updated_at, kind, level, mdtrt_id, message, detail, in_catalog_ratio, medfee_fen, out_catalog_fen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.getStmt = db.prepare('SELECT * FROM alert WHERE id = ?')
    this.forStayStmt = db.prepare('SELECT * FROM alert WHERE mdtrt_id = ? ORDER BY id DESC')
    this.sinceStmt = db.prepare('SELECT * FROM alert WHERE id > ? ORDER BY id LIMIT ?')
    this.resolveStmt = db.prepare("UPDATE alert SET resolved_at = ?, updated_at = ? WHERE kind = ? AND COALESCE(mdtrt_id, '') = ? AND resolved_at IS NULL")
  }

  /** The open (unresolved) alert of this kind for this admission, or for none. */
  openOne (kind: AlertKind, mdtrtId: string | null = null): AlertRow | undefined {
    return this.db.prepare("SELECT * FROM alert WHERE kind = ? AND COALESCE(mdtrt_id, '') = ? AND resolved_at IS NULL").get(kind, mdtrtId ?? '') as AlertRow | undefined
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
    const now = new Date().toISOString()
    return this.resolveStmt.run(now, now, kind, mdtrtId ?? '').changes
  }

  /**
   * Raises the open spending alert of this kind for the stay, or refreshes its figures (keeping who
   * acknowledged it). Returns the row and whether it is new.
   */
  raiseSpending (a: { kind: 'spending_warning' | 'spending_breach', mdtrt_id: string, message: string, figures: SpendingFigures, detail?: unknown }): { row: AlertRow, created: boolean } {
    const now = new Date().toISOString()
    const existing = this.openIdStmt.get(a.kind, a.mdtrt_id) as number | undefined
    const f = a.figures
    if (existing !== undefined) {
      this.refreshStmt.run(a.message, f.in_catalog_ratio, f.medfee_fen, f.out_catalog_fen, now, existing)
      return { row: this.get(existing)!, created: false }
    }
    const id = this.insertSpendingStmt.run(now, now, a.kind, a.kind === 'spending_breach' ? 'critical' : 'warning', a.mdtrt_id, a.message,
      a.detail === undefined ? null : JSON.stringify(a.detail), f.in_catalog_ratio, f.medfee_fen, f.out_catalog_fen).lastInsertRowid
    return { row: this.get(Number(id))!, created: true }
  }

  get (id: number): AlertRow | undefined {
    return this.getStmt.get(id) as AlertRow | undefined
  }

  /** Acknowledges an alert; false when it was already acknowledged (the first acknowledgement stands). */
  acknowledge (id: number, by: string): boolean {
    const now = new Date().toISOString()
    return this.db.prepare('UPDATE alert SET acknowledged_by = ?, acknowledged_at = ?, updated_at = ? WHERE id = ? AND acknowledged_at IS NULL').run(by, now, now, id).changes === 1
  }

  forStay (mdtrtId: string): AlertRow[] {
    return this.forStayStmt.all(mdtrtId) as AlertRow[]
  }

  /** Alerts needing someone: neither resolved nor acknowledged, newest first. */
  unattended (limit = 500): AlertRow[] {
    return this.db.prepare('SELECT * FROM alert WHERE resolved_at IS NULL AND acknowledged_at IS NULL ORDER BY id DESC LIMIT ?').all(limit) as AlertRow[]
  }

  /** The newest alert's id (0 when there is none): where a live feed starts from. */
  maxId (): number {
    return this.db.prepare('SELECT COALESCE(MAX(id), 0) FROM alert').pluck().get() as number
  }

  /** Alerts created after `id` (the staff page's live feed polls this). */
  since (id: number, limit = 200): AlertRow[] {
    return this.sinceStmt.all(id, limit) as AlertRow[]
  }

  open (): AlertRow[] {
    return this.db.prepare('SELECT * FROM alert WHERE resolved_at IS NULL ORDER BY id DESC').all() as AlertRow[]
  }

  all (limit = 500): AlertRow[] {
    return this.db.prepare('SELECT * FROM alert ORDER BY id DESC LIMIT ?').all(limit) as AlertRow[]
  }
}
