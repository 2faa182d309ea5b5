// Special cases approved by the health or insurance department (000 五(二)2): recorded, never
// edited; the approval number makes a repeated submission the same record.
import type { DB } from './db.ts'

export interface ExemptionRow {
  id: number
  mdtrt_id: string
  kind: 'special_case'
  approval_no: string
  approved_by: string
  reason: string
  recorded_by: string | null
  created_at: string
}

export type NewExemption = Omit<ExemptionRow, 'id' | 'created_at'>

export class ExemptionRepository {
  constructor (private readonly db: DB) {}

  /** Records the approval; false when the same approval was already recorded for the stay. */
  record (e: NewExemption): { row: ExemptionRow, created: boolean } {
    const changes = this.db.prepare(`INSERT INTO exemption (mdtrt_id, kind, approval_no, approved_by, reason, recorded_by, created_at)
      VALUES (@mdtrt_id, @kind, @approval_no, @approved_by, @reason, @recorded_by, @now) ON CONFLICT DO NOTHING`)
      .run({ ...e, now: new Date().toISOString() }).changes
    const row = this.db.prepare('SELECT * FROM exemption WHERE mdtrt_id = ? AND kind = ? AND approval_no = ?').get(e.mdtrt_id, e.kind, e.approval_no) as ExemptionRow
    return { row, created: changes === 1 }
  }

  forStay (mdtrtId: string): ExemptionRow[] {
    return this.db.prepare('SELECT * FROM exemption WHERE mdtrt_id = ? ORDER BY id').all(mdtrtId) as ExemptionRow[]
  }
}
