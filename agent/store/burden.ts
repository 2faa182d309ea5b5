// What the registry says each person had paid this year (person_ytd), and the people whose year went
// over their region's threshold (burden_crossing): one alert per person and year, and the monthly
// list the policies ask hospitals to pass on (000 四(一)3; 001 三).
import type { DB } from './db.ts'

export interface PersonYtd {
  psn_part_fen: number | null
  medfee_fen: number | null
  fulamt_fen: number | null
  /** local wall-clock 'YYYY-MM-DD HH:mm:ss' (a date-only as_of is stored as the end of that day) */
  as_of: string
}

export interface CrossingRow {
  person_key: Buffer
  year: number
  mdtrt_id: string
  crossed_at: string
  alert_id: number | null
  figures: string
  withdrawn_at: string | null
}

export class BurdenRepository {
  private readonly ytdStmt
  private readonly upsertYtdStmt
  private readonly deleteYtdStmt
  private readonly crossingStmt
  private readonly crossStmt
  private readonly withdrawStmt
  private readonly restoreStmt

  constructor (private readonly db: DB) {
    this.ytdStmt = db.prepare('SELECT psn_part_fen, medfee_fen, fulamt_fen, as_of FROM person_ytd WHERE person_key = ?')
    this.upsertYtdStmt = db.prepare(`INSERT INTO person_ytd (person_key, psn_part_fen, medfee_fen, fulamt_fen, as_of) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (person_key) DO UPDATE SET psn_part_fen = excluded.psn_part_fen, medfee_fen = excluded.medfee_fen,
      fulamt_fen = excluded.fulamt_fen, as_of = excluded.as_of`)
    this.deleteYtdStmt = db.prepare('DELETE FROM person_ytd WHERE person_key = ?')
    this.crossingStmt = db.prepare('SELECT * FROM burden_crossing WHERE person_key = ? AND year = ?')
    this.crossStmt = db.prepare(`INSERT INTO burden_crossing (person_key, year, mdtrt_id, crossed_at, alert_id, figures) VALUES (?, ?, ?, ?, ?, ?)`)
    this.withdrawStmt = db.prepare('UPDATE burden_crossing SET withdrawn_at = ? WHERE person_key = ? AND year = ? AND withdrawn_at IS NULL')
    this.restoreStmt = db.prepare('UPDATE burden_crossing SET withdrawn_at = NULL, figures = ?, alert_id = ? WHERE person_key = ? AND year = ?')
  }

  ytd (personKey: Buffer): PersonYtd | undefined {
    return this.ytdStmt.get(personKey) as PersonYtd | undefined
  }

  /** The registry's figures for a person, replacing what was held; null removes them. */
  setYtd (personKey: Buffer, ytd: PersonYtd | null): void {
    if (ytd === null) this.deleteYtdStmt.run(personKey)
    else this.upsertYtdStmt.run(personKey, ytd.psn_part_fen, ytd.medfee_fen, ytd.fulamt_fen, ytd.as_of)
  }

  /** A full list load replaces every person's figures: those not in the new list have none. */
  clearYtd (): void {
    this.db.prepare('DELETE FROM person_ytd').run()
  }

  crossing (personKey: Buffer, year: number): CrossingRow | undefined {
    return this.crossingStmt.get(personKey, year) as CrossingRow | undefined
  }

  recordCrossing (c: Omit<CrossingRow, 'withdrawn_at' | 'figures'> & { figures: unknown }): void {
    this.crossStmt.run(c.person_key, c.year, c.mdtrt_id, c.crossed_at, c.alert_id, JSON.stringify(c.figures))
  }

  /** The year went back under the threshold (a cancelled settlement): kept, marked withdrawn. */
  withdraw (personKey: Buffer, year: number, now: string): boolean {
    return this.withdrawStmt.run(now, personKey, year).changes === 1
  }

  /** Over the threshold again after a withdrawal: the same row, the new figures. */
  restore (personKey: Buffer, year: number, figures: unknown, alertId: number | null): void {
    this.restoreStmt.run(JSON.stringify(figures), alertId, personKey, year)
  }

  /** People over their threshold in `year` whose crossing came before `until` (local time), not withdrawn. */
  crossingsUntil (year: number, until: string): CrossingRow[] {
    return this.db.prepare('SELECT * FROM burden_crossing WHERE year = ? AND crossed_at < ? AND withdrawn_at IS NULL ORDER BY crossed_at').all(year, until) as CrossingRow[]
  }
}
