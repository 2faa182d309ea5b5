// What the admission notice says, in one place for both renderers (HTML for the screen and the
// browser's print, PDF for the ward desk's printer): the same sentences, the same order. Written for
// the patient and family — often elderly, often seeing these words for the first time — so short
// plain sentences, the amounts with their unit, and never an ID number (the name comes masked).
import type { NoticeData } from './notice-data.ts'

/** The notice's fixed wording. Every character here must be in the PDF font (test/notice.test.ts). */
export const PHRASES = {
  title: '先诊疗后付费住院告知书',
  region: '适用政策地区：',
  greeting: '尊敬的患者及家属：',
  intro: '根据本地区困难群众医疗保障政策，现将您本次住院的有关事项告知如下。',
  patientHeading: '患者信息',
  name: '姓名',
  mdtrtId: '住院号',
  dept: '入院科室',
  begntime: '入院时间',
  identities: '名单身份',
  notRecorded: '（未登记）',
  notOnList: '未在困难群众名单中查到',
  treatFirstHeading: '先诊疗后付费',
  treatFirstYes: '您本次住院可以享受「先诊疗后付费」：入院时不需要缴纳住院押金，出院时再结算个人应付的费用。',
  treatFirstNo: '您本次住院不适用「先诊疗后付费」，请按本院规定办理入院手续。',
  // 000 四(三)2: basic insurance, 大病保险 and 医疗救助 settled together at the hospital.
  oneStop: '出院时可在本院「一站式」结算：基本医保、大病保险和医疗救助等应报销的部分直接结算，您只需支付个人应付的部分。',
  estimateHeading: '本次住院费用预估',
  estimateOwn: '预计本次住院个人负担约',
  estimateTotal: '住院总费用约',
  yuan: '元',
  basis: '估算依据：',
  estimateCaveat: '以上是入院时的估算，仅供参考；实际费用以出院结算为准，会随病情和治疗而变化。',
  noEstimate: '入院时暂无法预估本次住院的费用。',
  askAnytime: '住院期间，您和家属可以随时向医护人员或住院收费处询问已发生的费用。',
  outOfCatalogHeading: '医保目录外费用',
  outOfCatalogMeaning: '医保目录外费用，是指不在医保药品、医疗服务项目和医用耗材目录内的费用，这部分费用医保不予报销。',
  limitSource: { policy: '按本地区医保政策规定', agreement: '按医保服务协议约定', local: '按本院规定' },
  limitLead: '，本院将控制您本次住院的目录外费用，使其不',
  limitVerb: { '>': '超过', '>=': '达到' },
  limitOf: '住院总费用的',
  hospitalBears: '超出部分由医院承担，不向您收取。',
  specialHeading: '特别说明',
  acknowledge: '以上内容已向患者或家属告知。如有疑问，请咨询医护人员或住院收费处。',
  signaturesHeading: '签字确认',
  signPatient: '患者或家属签字',
  signRelation: '与患者关系',
  signStaff: '经办人签字',
  signDate: '日期',
  dateBlank: '　　　　年　　月　　日',
  printedAt: '打印时间：',
  cut: '…',
  andMore: '等'
} as const

/** Section numbers as the notice counts them. */
const NUMERALS = ['一', '二', '三', '四', '五', '六']

export interface NoticeSection {
  key: 'treat_first' | 'estimate' | 'out_of_catalog' | 'special'
  heading: string
  paragraphs: string[]
}

/** The notice as text, ready for a renderer: no markup, no escaping (each renderer does its own). */
export interface NoticeContent {
  hospital: string | null
  title: string
  region: string
  greeting: string
  intro: string
  patientHeading: string
  patient: Array<{ key: 'name' | 'mdtrt_id' | 'dept' | 'begntime' | 'identities', label: string, value: string }>
  sections: NoticeSection[]
  acknowledge: string
  signaturesHeading: string
  signatures: Array<{ key: 'patient' | 'relation' | 'staff' | 'date', label: string, blank: string }>
  printed: string
}

/** Yuan to people's money: 3250 → "3,250.00", 1234.5 → "1,234.50"; rounded to the fen. */
export function formatYuan (yuan: number): string {
  const fen = Math.round(yuan * 100)
  const abs = Math.abs(fen)
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${fen < 0 ? '-' : ''}${whole}.${(abs % 100).toString().padStart(2, '0')}`
}

/** A share as a percentage: 0.1 → "10%", 0.085 → "8.5%", 0.1234 → "12.34%". */
export function formatShare (share: number): string {
  return `${Math.round(share * 10_000) / 100}%`
}

/** 'YYYY-MM-DD HH:mm:ss' → 'YYYY-MM-DD HH:mm' (the seconds mean nothing to a family). */
function minutes (local: string): string {
  return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(local) ? local.slice(0, 16) : local
}

/**
 * The longest a free text may be on the sheet: the rules write a sentence or two, and a runaway text
 * must not push the signatures onto a second page. Cut with an ellipsis (never silently).
 */
export const MAX_CHARS = { sentence: 160, name: 40, labels: 8 } as const

function clip (text: string, max: number): string {
  const chars = Array.from(text.trim())
  return chars.length > max ? chars.slice(0, max - 1).join('') + PHRASES.cut : chars.join('')
}

/** A sentence from the rules ends with a full stop here, whether or not it came with one. */
function sentence (text: string): string {
  const t = clip(text, MAX_CHARS.sentence)
  return t === '' || /[。！？.!?]$/.test(t) ? t : `${t}。`
}

function present (value: string | null): string {
  return value === null || value.trim() === '' ? PHRASES.notRecorded : clip(value, MAX_CHARS.name)
}

/** Labels valid at admission, highest first; a list longer than any region has is cut with 等. */
function identityText (labels: string[]): string {
  if (labels.length === 0) return PHRASES.notOnList
  const shown = labels.slice(0, MAX_CHARS.labels).map((l) => clip(l, MAX_CHARS.name)).join('、')
  return labels.length > MAX_CHARS.labels ? shown + PHRASES.andMore : shown
}

export function noticeContent (d: NoticeData): NoticeContent {
  const sections: Array<Omit<NoticeSection, 'heading'> & { title: string }> = []

  const treatFirst: string[] = [d.treat_first_pay_later ? PHRASES.treatFirstYes : PHRASES.treatFirstNo]
  if (d.treat_first_text.trim() !== '') treatFirst.push(sentence(d.treat_first_text))
  if (d.one_stop_settlement) treatFirst.push(PHRASES.oneStop)
  sections.push({ key: 'treat_first', title: PHRASES.treatFirstHeading, paragraphs: treatFirst })

  const estimate: string[] = []
  if (d.estimate === null) {
    // No number is better than a made-up one: the family plans around what is written here.
    estimate.push(PHRASES.noEstimate)
  } else {
    const e = d.estimate
    const total = e.medfee_sumamt === null ? '' : `（${PHRASES.estimateTotal} ${formatYuan(e.medfee_sumamt)} ${PHRASES.yuan}）`
    estimate.push(`${PHRASES.estimateOwn} ${formatYuan(e.psn_part_amt)} ${PHRASES.yuan}${total}。`)
    if (e.basis_text.trim() !== '') estimate.push(PHRASES.basis + sentence(e.basis_text))
    estimate.push(PHRASES.estimateCaveat)
  }
  estimate.push(PHRASES.askAnytime)
  sections.push({ key: 'estimate', title: PHRASES.estimateHeading, paragraphs: estimate })

  const outside: string[] = [PHRASES.outOfCatalogMeaning]
  const l = d.spending_limit
  if (l !== null) {
    // Guangxi 000 五(二)2: in-catalog spending at 90 % or more, the excess borne by the hospital.
    // Where the region has no limit nothing is promised (a promise the hospital need not keep).
    const pct = formatShare(l.share)
    outside.push(`${PHRASES.limitSource[l.source]}${PHRASES.limitLead}${PHRASES.limitVerb[l.breach_when]}${PHRASES.limitOf}${pct}。`)
    if (l.hospital_bears_excess) outside.push(PHRASES.hospitalBears)
  }
  sections.push({ key: 'out_of_catalog', title: PHRASES.outOfCatalogHeading, paragraphs: outside })

  if (d.special_note !== null && d.special_note.trim() !== '') {
    sections.push({ key: 'special', title: PHRASES.specialHeading, paragraphs: [sentence(d.special_note)] })
  }

  const hospital = d.hospital_name === null || d.hospital_name.trim() === '' ? null : clip(d.hospital_name, MAX_CHARS.name)
  return {
    hospital,
    title: PHRASES.title,
    region: PHRASES.region + clip(d.region_name, MAX_CHARS.name),
    greeting: PHRASES.greeting,
    intro: PHRASES.intro,
    patientHeading: PHRASES.patientHeading,
    patient: [
      { key: 'name', label: PHRASES.name, value: present(d.name_masked) },
      { key: 'mdtrt_id', label: PHRASES.mdtrtId, value: d.mdtrt_id },
      { key: 'dept', label: PHRASES.dept, value: present(d.adm_dept_name) },
      { key: 'begntime', label: PHRASES.begntime, value: minutes(d.begntime) },
      { key: 'identities', label: PHRASES.identities, value: identityText(d.identities) }
    ],
    sections: sections.map((s, i) => ({ key: s.key, heading: `${NUMERALS[i]}、${s.title}`, paragraphs: s.paragraphs })),
    acknowledge: PHRASES.acknowledge,
    signaturesHeading: PHRASES.signaturesHeading,
    signatures: [
      { key: 'patient', label: PHRASES.signPatient, blank: '' },
      { key: 'relation', label: PHRASES.signRelation, blank: '' },
      { key: 'staff', label: PHRASES.signStaff, blank: '' },
      { key: 'date', label: PHRASES.signDate, blank: PHRASES.dateBlank }
    ],
    printed: PHRASES.printedAt + d.printed_at
  }
}
