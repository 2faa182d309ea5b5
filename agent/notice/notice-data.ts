// The plain data an admission notice (告知书) is made from. The rules build it (not this module);
// the renderers beside this file only turn it into a page. Guangxi 000_c13c6dfe42a59df5.txt
// 四(二)3: at admission the hospital tells the patient and family that they may be treated first
// and pay later, and the estimated medical cost (告知预估的医疗费用情况).

export interface NoticeData {
  /** the hospital's name (local settings), may be null */
  hospital_name: string | null
  /** e.g. 广西壮族自治区柳州市柳江区 */
  region_name: string
  /** 住院号 */
  mdtrt_id: string
  /** e.g. 张*丰 (already masked: never unmask) */
  name_masked: string | null
  adm_dept_name: string | null
  /** 'YYYY-MM-DD HH:mm:ss' local */
  begntime: string
  /** labels valid at admission, highest first, e.g. ['特困人员', '脱贫人口'] */
  identities: string[]
  treat_first_pay_later: boolean
  /** one sentence: why 先诊疗后付费 applies, or why not (e.g. 不在名单内 / 本地区未规定 …) */
  treat_first_text: string
  one_stop_settlement: boolean
  /** null: no estimate (said plainly: 入院时暂无法预估, never a made-up number) */
  estimate: null | {
    /** yuan, the estimated personal share of this stay */
    psn_part_amt: number
    /** yuan, the estimated total (may be null) */
    medfee_sumamt: number | null
    basis: 'tariff' | 'history'
    /** e.g. 按本院 DRG 病组支付标准（病组 ES31）估算 / 按本院近一年同类诊断（I63）17 例住院的个人负担中位数估算 */
    basis_text: string
    sample_size: number
  }
  /** the region's out-of-catalog limit, or null where the region has none */
  spending_limit: null | { share: number, breach_when: '>' | '>=', hospital_bears_excess: boolean, source: 'policy' | 'agreement' | 'local' }
  /** e.g. 本次住院按单病种付费，不受目录外费用比例限制 — null when it does not apply */
  special_note: string | null
  /** 'YYYY-MM-DD HH:mm' local */
  printed_at: string
}
