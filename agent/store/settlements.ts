// The platform's settlement answers (2303 pre-settlement, 2304 settlement) as the HIS forwards them,
// in fen, and the sums the burden checks read: a stay's finals, a person's year, this hospital's
// history for the admission estimate. Only final, uncancelled rows count as paid.
import type { DB } from './db.ts'

/** The amounts of a settlement, fen, named as the platform names them (without _amt/_pay). */
export interface SettlementAmounts {
  medfee_fen: number
  fulamt_fen: number
  overlmt_fen: number
  preselfpay_fen: number
  inscp_fen: number
  hifp_fen: number
  hifmi_fen: number
  hifob_fen: number
  hifes_fen: number
  cvlserv_fen: number
  maf_fen: number
  oth_fen: number
  fund_fen: number
  psn_part_fen: number
  acct_fen: number
  psn_cash_fen: number
  hosp_part_fen: number
}

export const AMOUNT_COLUMNS: Array<keyof SettlementAmounts> = ['medfee_fen', 'fulamt_fen', 'overlmt_fen', 'preselfpay_fen', 'inscp_fen', 'hifp_fen', 'hifmi_fen',
  'hifob_fen', 'hifes_fen', 'cvlserv_fen', 'maf_fen', 'oth_fen', 'fund_fen', 'psn_part_fen', 'acct_fen', 'psn_cash_fen', 'hosp_part_fen']

export interface SettlementRow extends SettlementAmounts {
  setl_id: string
  mdtrt_id: string
  person_key: Buffer
  setl_type: 'pre' | 'final'
  setl_time: string
  year: number
  main_diag: string | null
  drg_codg: string | null
  monitored: number
  before_discharge: number
  content_hash: string
  cancelled_at: string | null
  cancel_reason: string | null
  client: string | null
  created_at: string
}

export type NewSettlement = Omit<SettlementRow, 'cancelled_at' | 'cancel_reason' | 'created_at'>

/** Sums of a set of final settlements. */
export interface SettlementSums {
  count: number
  medfee_fen: number
  fulamt_fen: number
  overlmt_fen: number
  preselfpay_fen: number
  inscp_fen: number
  fund_fen: number
  psn_part_fen: number
  hosp_part_fen: number
}

const SUMS = `COUNT(*) AS count, COALESCE(SUM(medfee_fen), 0) AS medfee_fen, COALESCE(SUM(fulamt_fen), 0) AS fulamt_fen,
  COALESCE(SUM(overlmt_fen), 0) AS overlmt_fen, COALESCE(SUM(preselfpay_fen), 0) AS preselfpay_fen, COALESCE(SUM(inscp_fen), 0) AS inscp_fen,
  COALESCE(SUM(fund_fen), 0) AS fund_fen, COALESCE(SUM(psn_part_fen), 0) AS psn_part_fen, COALESCE(SUM(hosp_part_fen), 0) AS hosp_part_fen`

export class SettlementRepository {
  private readonly getStmt
  private readonly insertStmt
  private readonly forStayStmt
  private readonly supersedeStmt
  private readonly cancelStmt
  private readonly personYearStmt
  private readonly historyStmt
  private readonly groupShareStmt
  private readonly monitoredShareStmt

  constructor (private readonly db: DB) {
    this.getStmt = db.prepare('SELECT * FROM settlement WHERE setl_id = ?')
    this.insertStmt = db.prepare(`INSERT INTO settlement (setl_id, mdtrt_id, person_key, setl_type, setl_time, year, ${AMOUNT_COLUMNS.join(', ')},
      main_diag, drg_codg, monitored, before_discharge, content_hash, client, created_at)
      VALUES (@setl_id, @mdtrt_id, @person_key, @setl_type, @setl_time, @year, ${AMOUNT_COLUMNS.map((c) => '@' + c).join(', ')},
      @main_diag, @drg_codg, @monitored, @before_discharge, @content_hash, @client, @created_at)`)
    this.forStayStmt = db.prepare('SELECT * FROM settlement WHERE mdtrt_id = ? ORDER BY setl_time, created_at')
    this.supersedeStmt = db.prepare("UPDATE settlement SET cancelled_at = ?, cancel_reason = 'replaced' WHERE mdtrt_id = ? AND setl_type = 'pre' AND cancelled_at IS NULL AND setl_id <> ?")
    this.cancelStmt = db.prepare("UPDATE settlement SET cancelled_at = ?, cancel_reason = 'cancelled' WHERE setl_id = ? AND cancelled_at IS NULL")
    this.personYearStmt = db.prepare("SELECT * FROM settlement WHERE person_key = ? AND year = ? AND setl_type = 'final' AND cancelled_at IS NULL ORDER BY setl_time, created_at")
    // The estimate's history: personal shares of final settlements of stays with the same main
    // diagnosis category, since a date (the last 365 days).
    this.historyStmt = db.prepare(`SELECT psn_part_fen, medfee_fen FROM settlement
      WHERE setl_type = 'final' AND cancelled_at IS NULL AND main_diag = ? AND setl_time >= ? ORDER BY psn_part_fen`)
    this.groupShareStmt = db.prepare(`SELECT ${SUMS} FROM settlement WHERE setl_type = 'final' AND cancelled_at IS NULL AND drg_codg = ?`)
    this.monitoredShareStmt = db.prepare(`SELECT ${SUMS} FROM settlement WHERE setl_type = 'final' AND cancelled_at IS NULL AND monitored = 1`)
  }

  get (setlId: string): SettlementRow | undefined {
    return this.getStmt.get(setlId) as SettlementRow | undefined
  }

  insert (s: NewSettlement, now: string): void {
    this.insertStmt.run({ ...s, created_at: now })
  }

  /** Every settlement of a stay, cancelled ones included, oldest first. */
  forStay (mdtrtId: string): SettlementRow[] {
    return this.forStayStmt.all(mdtrtId) as SettlementRow[]
  }

  /** A newer pre-settlement (or the final one) replaces the stay's earlier pre-settlements. */
  supersedePre (mdtrtId: string, keepSetlId: string, now: string): number {
    return this.supersedeStmt.run(now, mdtrtId, keepSetlId).changes
  }

  cancel (setlId: string, now: string): boolean {
    return this.cancelStmt.run(now, setlId).changes === 1
  }

  /** A person's final, uncancelled settlements of a year, oldest first: a few per person and year. */
  personYear (personKey: Buffer, year: number): SettlementRow[] {
    return this.personYearStmt.all(personKey, year) as SettlementRow[]
  }

  /** Personal shares (ascending) and totals of final settlements with this main diagnosis category since `since`. */
  history (mainDiag: string, since: string): Array<{ psn_part_fen: number, medfee_fen: number }> {
    return this.historyStmt.all(mainDiag, since) as Array<{ psn_part_fen: number, medfee_fen: number }>
  }

  /** The final settlements of one DRG group, summed (the tariff estimate's personal share). */
  groupSums (drgCodg: string): SettlementSums {
    return this.groupShareStmt.get(drgCodg) as SettlementSums
  }

  /** The final settlements of every watched stay, summed (the tariff estimate's fallback share). */
  monitoredSums (): SettlementSums {
    return this.monitoredShareStmt.get() as SettlementSums
  }

  /** Final settlements settled within [from, to) local time, for the monthly report. */
  finalsBetween (from: string, to: string): SettlementRow[] {
    return this.db.prepare("SELECT * FROM settlement WHERE setl_type = 'final' AND cancelled_at IS NULL AND setl_time >= ? AND setl_time < ? ORDER BY setl_time").all(from, to) as SettlementRow[]
  }
}
