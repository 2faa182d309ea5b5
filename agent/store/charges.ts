// 2301 fee lines of each stay. Looked up by (mdtrt_id, feedetl_sn), the primary key: one indexed
// read per line to tell a new line from a retry.
import type { DB } from './db.ts'

/** A line as it is stored: checked and split by the charge rule (rules/charge-line.ts) first. */
export interface NewChargeLine {
  feedetl_sn: string
  init_feedetl_sn: string | null
  fee_ocur_time: string
  med_list_codg: string | null
  medins_list_codg: string | null
  med_list_name: string | null
  chrgitm_lv: string | null
  cnt: string
  pric: string
  amount_fen: number
  out_fen: number
  /** the platform's split, when the HIS sent it */
  split: { fulamt: number, overlmt: number, preselfpay: number, inscp: number } | null
  content_hash: string
  /** where the level came from: 'his' (default), 'catalog', 'unknown' (counted out of catalog) */
  level_source?: string
  /** the level the catalog gave a line that came without one */
  catalog_lv?: string | null
}

export interface StoredLine {
  feedetl_sn: string
  init_feedetl_sn: string | null
  amount_fen: number
  out_fen: number
  content_hash: string
  cancelled_at: string | null
  level_source: string | null
}

/** A stay's items the catalog could not place (未对照项目): counted out of catalog. */
export interface UnmappedItem {
  med_list_codg: string | null
  medins_list_codg: string | null
  med_list_name: string | null
  amount_fen: number
  lines: number
}

export interface OutOfCatalogItem {
  med_list_codg: string | null
  medins_list_codg: string | null
  med_list_name: string | null
  out_fen: number
  amount_fen: number
  lines: number
}

export class ChargeRepository {
  private readonly getStmt
  private readonly insertStmt
  private readonly reviveStmt
  private readonly refundedStmt
  private readonly cancelStmt
  private readonly activeRefundsStmt

  constructor (private readonly db: DB) {
    this.getStmt = db.prepare('SELECT feedetl_sn, init_feedetl_sn, amount_fen, out_fen, content_hash, cancelled_at, level_source FROM charge_line WHERE mdtrt_id = ? AND feedetl_sn = ?')
    this.insertStmt = db.prepare(`INSERT INTO charge_line (mdtrt_id, feedetl_sn, init_feedetl_sn, fee_ocur_time, med_list_codg, medins_list_codg,
      med_list_name, chrgitm_lv, cnt, pric, amount_fen, out_fen, fulamt_fen, overlmt_fen, preselfpay_fen, inscp_fen, content_hash, client, created_at, level_source, catalog_lv)
      VALUES (@mdtrt_id, @feedetl_sn, @init_feedetl_sn, @fee_ocur_time, @med_list_codg, @medins_list_codg, @med_list_name, @chrgitm_lv,
      @cnt, @pric, @amount_fen, @out_fen, @fulamt, @overlmt, @preselfpay, @inscp, @content_hash, @client, @now, @level_source, @catalog_lv)`)
    // A line cancelled by 2302 may be uploaded again under the same feedetl_sn (cancel all, re-upload).
    this.reviveStmt = db.prepare(`UPDATE charge_line SET init_feedetl_sn = @init_feedetl_sn, fee_ocur_time = @fee_ocur_time,
      med_list_codg = @med_list_codg, medins_list_codg = @medins_list_codg, med_list_name = @med_list_name, chrgitm_lv = @chrgitm_lv,
      cnt = @cnt, pric = @pric, amount_fen = @amount_fen, out_fen = @out_fen, fulamt_fen = @fulamt, overlmt_fen = @overlmt,
      preselfpay_fen = @preselfpay, inscp_fen = @inscp, content_hash = @content_hash, client = @client, created_at = @now, cancelled_at = NULL,
      level_source = @level_source, catalog_lv = @catalog_lv
      WHERE mdtrt_id = @mdtrt_id AND feedetl_sn = @feedetl_sn`)
    this.refundedStmt = db.prepare(`SELECT COALESCE(SUM(amount_fen), 0) AS amount_fen, COALESCE(SUM(out_fen), 0) AS out_fen
      FROM charge_line WHERE mdtrt_id = ? AND init_feedetl_sn = ? AND cancelled_at IS NULL`)
    this.activeRefundsStmt = db.prepare('SELECT COUNT(*) FROM charge_line WHERE mdtrt_id = ? AND init_feedetl_sn = ? AND cancelled_at IS NULL').pluck()
    this.cancelStmt = db.prepare('UPDATE charge_line SET cancelled_at = ? WHERE mdtrt_id = ? AND feedetl_sn = ? AND cancelled_at IS NULL')
  }

  get (mdtrtId: string, sn: string): StoredLine | undefined {
    return this.getStmt.get(mdtrtId, sn) as StoredLine | undefined
  }

  store (mdtrtId: string, line: NewChargeLine, client: string | null, revive: boolean): void {
    const params = {
      mdtrt_id: mdtrtId,
      ...line,
      fulamt: line.split?.fulamt ?? null,
      overlmt: line.split?.overlmt ?? null,
      preselfpay: line.split?.preselfpay ?? null,
      inscp: line.split?.inscp ?? null,
      level_source: line.level_source ?? 'his',
      catalog_lv: line.catalog_lv ?? null,
      client,
      now: new Date().toISOString()
    }
    delete (params as Partial<typeof params>).split
    ;(revive ? this.reviveStmt : this.insertStmt).run(params)
  }

  /** Sums (negative) of the active refunds of a line: amount and out-of-catalog part. */
  refunded (mdtrtId: string, sn: string): { amount_fen: number, out_fen: number } {
    return this.refundedStmt.get(mdtrtId, sn) as { amount_fen: number, out_fen: number }
  }

  activeRefunds (mdtrtId: string, sn: string): number {
    return this.activeRefundsStmt.get(mdtrtId, sn) as number
  }

  cancel (mdtrtId: string, sn: string): boolean {
    return this.cancelStmt.run(new Date().toISOString(), mdtrtId, sn).changes === 1
  }

  /** Items of the stay the catalog could not place (未对照项目), largest first. */
  unmapped (mdtrtId: string, limit = 50): UnmappedItem[] {
    return this.db.prepare(`SELECT MAX(med_list_codg) AS med_list_codg, MAX(medins_list_codg) AS medins_list_codg, MAX(med_list_name) AS med_list_name,
        SUM(amount_fen) AS amount_fen, COUNT(*) AS lines
      FROM charge_line WHERE mdtrt_id = ? AND level_source = 'unknown' AND cancelled_at IS NULL
      GROUP BY COALESCE(med_list_codg, medins_list_codg, med_list_name, feedetl_sn) ORDER BY SUM(amount_fen) DESC LIMIT ?`).all(mdtrtId, limit) as UnmappedItem[]
  }

  /** The items that drive the out-of-catalog share, net of refunds, largest first. */
  topOutOfCatalog (mdtrtId: string, limit = 10): OutOfCatalogItem[] {
    // One item is one national code (the hospital's own code, or the name, when that is missing). A
    // refund sent without codes belongs to the item of the line it refunds.
    return this.db.prepare(`SELECT MAX(COALESCE(c.med_list_codg, o.med_list_codg)) AS med_list_codg,
        MAX(COALESCE(c.medins_list_codg, o.medins_list_codg)) AS medins_list_codg, MAX(COALESCE(c.med_list_name, o.med_list_name)) AS med_list_name,
        SUM(c.out_fen) AS out_fen, SUM(c.amount_fen) AS amount_fen, COUNT(*) AS lines
      FROM charge_line c LEFT JOIN charge_line o ON o.mdtrt_id = c.mdtrt_id AND o.feedetl_sn = c.init_feedetl_sn
      WHERE c.mdtrt_id = ? AND c.cancelled_at IS NULL
      GROUP BY COALESCE(c.med_list_codg, o.med_list_codg, c.medins_list_codg, o.medins_list_codg, c.med_list_name, o.med_list_name, o.feedetl_sn, c.feedetl_sn)
      HAVING SUM(c.out_fen) > 0 ORDER BY SUM(c.out_fen) DESC LIMIT ?`).all(mdtrtId, limit) as OutOfCatalogItem[]
  }
}
