// The hospital's DRG payment table (fangpin tariff import), the admission estimate's tariff basis.
// An import replaces the whole table in one transaction: an estimate never reads half a table.
import type { DB } from './db.ts'

export interface TariffRow {
  drg_codg: string
  drg_name: string | null
  pay_std_fen: number
  base_points: string | null
  point_value: string | null
  imported_at: string
  source: string
}

export class TariffRepository {
  private readonly getStmt

  constructor (private readonly db: DB) {
    this.getStmt = db.prepare('SELECT * FROM drg_tariff WHERE drg_codg = ?')
  }

  get (drgCodg: string): TariffRow | undefined {
    return this.getStmt.get(drgCodg) as TariffRow | undefined
  }

  /** Replaces the table; call inside the write path's transaction. */
  replace (rows: Array<Omit<TariffRow, 'imported_at' | 'source'>>, source: string, now: string): void {
    this.db.prepare('DELETE FROM drg_tariff').run()
    const insert = this.db.prepare('INSERT INTO drg_tariff (drg_codg, drg_name, pay_std_fen, base_points, point_value, imported_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)')
    for (const r of rows) insert.run(r.drg_codg, r.drg_name, r.pay_std_fen, r.base_points, r.point_value, now, source)
  }

  count (): number {
    return this.db.prepare('SELECT COUNT(*) FROM drg_tariff').pluck().get() as number
  }
}
