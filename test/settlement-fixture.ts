// Platform settlement answers (2303/2304 setlinfo) for tests, built from fen so each identity the
// agent checks holds exactly unless a test breaks it on purpose.
import type { Built } from './helper.ts'

export interface SetlFigures {
  medfee: number
  /** 全自费 */
  fulamt?: number
  overlmt?: number
  preselfpay?: number
  /** fund_pay_sumamt; psn_part_amt is what is left after it and the hospital's part */
  fund: number
  hosp?: number
}

export function y (fen: number): string {
  return `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}

/** A consistent setlinfo: inscp = medfee − fulamt − overlmt − preselfpay; psn = medfee − fund − hosp, all in cash. */
export function setlinfo (setlId: string, setlTime: string, f: SetlFigures): Record<string, string> {
  const fulamt = f.fulamt ?? 0
  const overlmt = f.overlmt ?? 0
  const pre = f.preselfpay ?? 0
  const hosp = f.hosp ?? 0
  const psn = f.medfee - f.fund - hosp
  return {
    setl_id: setlId,
    setl_time: setlTime,
    medfee_sumamt: y(f.medfee),
    fulamt_ownpay_amt: y(fulamt),
    overlmt_selfpay: y(overlmt),
    preselfpay_amt: y(pre),
    inscp_scp_amt: y(f.medfee - fulamt - overlmt - pre),
    hifp_pay: y(f.fund),
    fund_pay_sumamt: y(f.fund),
    psn_part_amt: y(psn),
    acct_pay: '0.00',
    psn_cash_pay: y(psn),
    hosp_part_amt: y(hosp)
  }
}

export async function settle (b: Built, mdtrtId: string, type: 'pre' | 'final', info: Record<string, unknown>): Promise<{ status: number, json: any, headers: Headers }> {
  return await b.post(`/v1/admissions/${mdtrtId}/settlements`, { setl_type: type, setlinfo: info })
}

/** Settles a stay finally, failing the test's flow loudly if the agent refuses it. */
export async function settleFinal (b: Built, mdtrtId: string, setlId: string, setlTime: string, f: SetlFigures): Promise<any> {
  const res = await settle(b, mdtrtId, 'final', setlinfo(setlId, setlTime, f))
  if (res.status !== 201) throw new Error(`settlement failed: ${res.status} ${JSON.stringify(res.json)}`)
  return res.json
}
