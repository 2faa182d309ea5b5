// Admissions as reported by the HIS. The stored answer is replayed for a repeated identical
// request, so an HIS retrying after a timeout gets exactly what the first call decided.
import type { DB } from './db.ts'

export interface AdmissionRow {
  mdtrt_id: string
  person_key: Buffer
  psn_cert_type: string
  name_masked: string | null
  begntime: string
  med_type: string | null
  dise_codg: string | null
  /** the DRG group or pre-grouping the HIS sent (migration 9) */
  drg_codg: string | null
  adm_dept_codg: string | null
  adm_dept_name: string | null
  diagnoses: string
  /** JSON [{oprn_oprt_code, oprn_oprt_name}] */
  procedures: string
  request_mac: string
  response: string
  treat_first_pay_later: number
  primary_category: string | null
  list_version: string | null
  status: 'open' | 'discharged'
  endtime: string | null
  client: string | null
  created_at: string
  updated_at: string
}

/** What the idempotency check needs; the stored answer is read only when it is replayed. */
export type AdmissionKey = Pick<AdmissionRow, 'person_key' | 'psn_cert_type' | 'request_mac' | 'status'>

export type NewAdmission = Omit<AdmissionRow, 'status' | 'endtime' | 'created_at' | 'updated_at'>

export class AdmissionRepository {
  private readonly getStmt
  private readonly keyStmt
  private readonly responseStmt
  private readonly insertStmt
  private readonly updateStmt

  constructor (private readonly db: DB) {
    this.getStmt = db.prepare('SELECT * FROM admission WHERE mdtrt_id = ?')
    this.keyStmt = db.prepare('SELECT person_key, psn_cert_type, request_mac, status FROM admission WHERE mdtrt_id = ?')
    this.responseStmt = db.prepare('SELECT response FROM admission WHERE mdtrt_id = ?').pluck()
    this.insertStmt = db.prepare(`INSERT INTO admission (mdtrt_id, person_key, psn_cert_type, name_masked, begntime, med_type, dise_codg, drg_codg,
      adm_dept_codg, adm_dept_name, diagnoses, procedures, request_mac, response, treat_first_pay_later, primary_category, list_version,
      client, created_at, updated_at)
      VALUES (@mdtrt_id, @person_key, @psn_cert_type, @name_masked, @begntime, @med_type, @dise_codg, @drg_codg, @adm_dept_codg, @adm_dept_name,
      @diagnoses, @procedures, @request_mac, @response, @treat_first_pay_later, @primary_category, @list_version, @client, @now, @now)
      ON CONFLICT (mdtrt_id) DO NOTHING`)
    this.updateStmt = db.prepare(`UPDATE admission SET name_masked = @name_masked, begntime = @begntime, med_type = @med_type, dise_codg = @dise_codg, drg_codg = @drg_codg,
      adm_dept_codg = @adm_dept_codg, adm_dept_name = @adm_dept_name, diagnoses = @diagnoses, procedures = @procedures, request_mac = @request_mac,
      response = @response, treat_first_pay_later = @treat_first_pay_later, primary_category = @primary_category,
      list_version = @list_version, client = @client, updated_at = @now WHERE mdtrt_id = @mdtrt_id`)
  }

  get (mdtrtId: string): AdmissionRow | undefined {
    return this.getStmt.get(mdtrtId) as AdmissionRow | undefined
  }

  key (mdtrtId: string): AdmissionKey | undefined {
    return this.keyStmt.get(mdtrtId) as AdmissionKey | undefined
  }

  storedResponse (mdtrtId: string): string | undefined {
    return this.responseStmt.get(mdtrtId) as string | undefined
  }

  /** Inserts a new admission; false (and nothing written) when the mdtrt_id is already recorded. */
  insertIfAbsent (a: NewAdmission): boolean {
    return this.insertStmt.run({ ...a, now: new Date().toISOString() }).changes === 1
  }

  update (a: NewAdmission): void {
    this.updateStmt.run({ ...a, now: new Date().toISOString() })
  }

  countOpen (): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM admission WHERE status = 'open'").get() as { n: number }).n
  }
}
