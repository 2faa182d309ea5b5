// Charge lines and stays for the spending-monitor tests: amounts in fen here, sent as the HIS
// sends them (yuan, two decimals).
import { certno, person, type Built } from './helper.ts'

export const POOR = certno('45020619580312001')
export const POOR2 = certno('45020619600101002')
export const LATE = certno('45020619700505003')
export const NOBODY = certno('45020619991231999')

export const records = [
  person(POOR, '张三丰', [['extreme_poverty', '2021-01-01 00:00:00', null]]),
  person(POOR2, '李四', [['minimum_living', '2020-01-01 00:00:00', null]])
]

export function yuan (fen: number): string {
  const abs = Math.abs(fen)
  return `${fen < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** A 2301 line of `fen` (negative: a refund of `init`), at level 01/02/03, as one unit. */
export function line (sn: string, fen: number, lv: '01' | '02' | '03', over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    feedetl_sn: sn,
    fee_ocur_time: '2026-11-21 10:00:00',
    med_list_codg: `X${lv}${sn}`,
    medins_list_codg: `H${sn}`,
    med_list_name: lv === '03' ? `自费项目${sn}` : `目录内项目${sn}`,
    det_item_fee_sumamt: yuan(fen),
    cnt: fen < 0 ? -1 : 1,
    pric: yuan(Math.abs(fen)),
    chrgitm_lv: lv,
    ...over
  }
}

export async function admit (b: Built, mdtrtId: string, who: string = POOR, over: Record<string, unknown> = {}): Promise<any> {
  const res = await b.post('/v1/admissions', {
    mdtrt_id: mdtrtId,
    certno: who,
    psn_name: '张三丰',
    begntime: '2026-11-20 09:30:00',
    med_type: '21',
    adm_dept_codg: 'A03',
    adm_dept_name: '心血管内科',
    ...over
  })
  if (res.status !== 201) throw new Error(`admission failed: ${res.status} ${res.text}`)
  return res.json
}

export async function charge (b: Built, mdtrtId: string, lines: Array<Record<string, unknown>>): Promise<{ status: number, json: any, text: string }> {
  return await b.post(`/v1/admissions/${encodeURIComponent(mdtrtId)}/charges`, { feedetail: lines })
}
