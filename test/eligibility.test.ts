// The admission decision, rule by rule: windows at the admission time, the priority of several
// identities, the region's qualifying categories and excluded 医疗类别, one-stop settlement, a rule
// that is off for a missing local setting, and the cards that explain a "no".
import t from 'tap'
import { decide, validAt } from '../agent/rules/eligibility.ts'
import { loadProfile, indexProfile, shippedSpec } from '../profile/profile.ts'
import type { ListPerson, ListState } from '../agent/store/list.ts'

const gx = loadProfile('guangxi-liuzhou')
// Shanxi's text (001) does not say who gets 先诊疗后付费: a hospital's local settings do. This one
// grants it to everyone but 低保边缘, 孤儿, 事实无人抚养儿童 and 因病致贫重病患者.
const sx = indexProfile(shippedSpec('shanxi'), {
  treat_first_pay_later: ['extreme_poverty', 'minimum_living', 'returned_to_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'sudden_hardship', 'out_of_poverty'],
  one_stop_city_opt_in: false
})
const now = new Date('2026-11-23T02:00:00Z')
const state: ListState = {
  active_gen: 1, version: 'test-1', source: 'import', demo: false, region: '450206', seq: null,
  person_count: 1, identity_count: 1, loaded_at: '2026-11-23T00:00:00.000Z', data_as_of: null
}

function one (category: string, begntime: string, endtime: string | null): ListPerson {
  return { name_masked: '张*三', identities: [{ category, begntime, endtime, source: '民政' }] }
}

t.test('every category of the Guangxi profile qualifies when valid at admission', async (t) => {
  t.equal(gx.categories.length, 11)
  for (const c of gx.categories) {
    const d = decide({ profile: gx, person: one(c.id, '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', staleHours: 36, now })
    t.equal(d.treat_first_pay_later, true, `${c.id} qualifies`)
    t.equal(d.primary_identity?.category, c.id)
    t.equal(d.primary_identity?.label, c.label)
    t.equal(d.cards.at(-1)?.indicator, 'info')
    t.match(d.cards.at(-1)?.summary, '可享受先诊疗后付费')
  }
})

t.test('an identity that starts at the very second of admission is valid', async (t) => {
  const d = decide({ profile: gx, person: one('minimum_living', '2026-11-20 10:00:00', null), state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, true)
  t.equal(d.identities.length, 1)
})

t.test('an identity that starts one second after admission gives no waiver and a card with its start date', async (t) => {
  const d = decide({ profile: gx, person: one('minimum_living', '2026-11-20 10:00:01', null), state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  t.same(d.identities, [])
  t.equal(d.primary_identity, null)
  const c = d.cards.find((c) => c.summary.includes('尚未生效'))
  t.ok(c, 'a card says the identity had not started')
  t.equal(c?.indicator, 'warning')
  t.match(c?.summary, '2026-11-20')
})

t.test('an identity that ended before admission gives no waiver and says when it ended', async (t) => {
  const d = decide({ profile: gx, person: one('extreme_poverty', '2020-01-01 00:00:00', '2026-10-31 23:59:59'), state, at: '2026-11-01 00:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  const c = d.cards.find((c) => c.summary.includes('终止'))
  t.match(c?.summary, '特困人员身份已于2026-10-31终止')
})

t.test('a date-only end covers the whole of its last day', async (t) => {
  const p = one('extreme_poverty', '2020-01-01 00:00:00', '2026-10-31 23:59:59')
  t.equal(decide({ profile: gx, person: p, state, at: '2026-10-31 23:59:59', staleHours: 36, now }).treat_first_pay_later, true)
  t.equal(validAt(p.identities[0], '2026-10-31 00:00:00'), true)
})

t.test('an open-ended identity is valid at any later admission', async (t) => {
  const d = decide({ profile: gx, person: one('out_of_poverty', '2016-12-31 00:00:00', null), state, at: '2099-12-31 23:59:59', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, true)
  t.equal(d.identities[0].endtime, null)
})

t.test('the window is evaluated at the admission time, not now', async (t) => {
  // ended last month, but the admission began while it was valid: the stay keeps the waiver
  const d = decide({ profile: gx, person: one('minimum_living', '2020-01-01 00:00:00', '2026-10-31 23:59:59'), state, at: '2026-10-15 08:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, true)
})

t.test('several identities: the highest by the profile\'s priority is primary, all valid ones are listed', async (t) => {
  const p: ListPerson = {
    name_masked: '欧*娜',
    identities: [
      { category: 'out_of_poverty', begntime: '2016-12-31 00:00:00', endtime: null, source: '乡村振兴' },
      { category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: '民政' },
      { category: 'extreme_poverty', begntime: '2024-01-01 00:00:00', endtime: null, source: '民政' },
      { category: 'marginal_at_risk', begntime: '2030-01-01 00:00:00', endtime: null, source: '乡村振兴' }
    ]
  }
  const d = decide({ profile: gx, person: p, state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.primary_identity?.category, 'extreme_poverty')
  t.same(d.identities.map((i) => i.category), ['extreme_poverty', 'minimum_living', 'out_of_poverty'], 'not-yet-valid identity left out, highest first')
  // 000 has no rule for several identities: the order is the product's and the card says so.
  t.match(d.cards.at(-1)?.summary, '按系统设定的身份顺序以特困人员享受待遇')
  t.notMatch(d.cards.at(-1)?.summary, '就高不就低')
  // Shanxi's text has the rule (001 四 待遇就高不就低) and the card cites it.
  const s = decide({ profile: sx, person: p, state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.match(s.cards.at(-1)?.summary, '按就高不就低以特困人员享受待遇')
})

t.test('one-stop settlement is per identity and for the decision, separate from 先诊疗后付费', async (t) => {
  // Shanxi 001 四: 特困、低保、监测对象 and 返贫致贫 always; 低保边缘 where the city opts in; 脱贫人口 not listed.
  const p: ListPerson = {
    name_masked: '王*',
    identities: [
      { category: 'out_of_poverty', begntime: '2016-01-01 00:00:00', endtime: null, source: '乡村振兴' },
      { category: 'near_minimum_living', begntime: '2024-01-01 00:00:00', endtime: null, source: '民政' }
    ]
  }
  const d = decide({ profile: sx, person: p, state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, true, '脱贫人口 is granted by the local setting')
  t.equal(d.one_stop_settlement, false, 'neither identity is settled 一站式 while the city has not opted in')
  t.same(d.identities.map((i) => [i.category, i.one_stop_settlement]), [['near_minimum_living', false], ['out_of_poverty', false]])
  const optedIn = indexProfile(shippedSpec('shanxi'), { treat_first_pay_later: ['out_of_poverty'], one_stop_city_opt_in: true })
  const e = decide({ profile: optedIn, person: p, state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(e.one_stop_settlement, true)
  t.same(e.identities.map((i) => [i.category, i.one_stop_settlement]), [['near_minimum_living', true], ['out_of_poverty', false]])
  t.match(e.cards.at(-1)?.summary, '出院时一站式结算')
})

t.test('with 先诊疗后付费 off for a missing local setting nobody is granted it and the card says why', async (t) => {
  const off = loadProfile('shanxi')
  const d = decide({ profile: off, person: one('extreme_poverty', '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  t.equal(d.identities[0].treat_first_pay_later, false)
  t.equal(d.one_stop_settlement, true, '一站式结算 for 特困 is in the text (001 四) and needs no local setting')
  t.equal(d.cards.at(-1)?.indicator, 'warning')
  t.match(d.cards.at(-1)?.summary, '特困人员：本地区政策文件未规定先诊疗后付费对象')
  t.match(d.cards.at(-1)?.summary, '是否免收押金请按本院规定办理')
})

t.test('outside the county the Guangxi waiver does not apply (000 五(一)1 县域内定点医疗机构)', async (t) => {
  const city = indexProfile(shippedSpec('guangxi-liuzhou'), { ...shippedSpec('guangxi-liuzhou').local, in_county: false })
  const d = decide({ profile: city, person: one('extreme_poverty', '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  t.match(d.cards.at(-1)?.summary, '本院不在县域内')
})

t.test('a category the region does not qualify gives no waiver, with a card naming it (Shanxi, 低保边缘)', async (t) => {
  const d = decide({ profile: sx, person: one('near_minimum_living', '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  t.equal(d.primary_identity?.category, 'near_minimum_living', 'the identity is still shown')
  t.equal(d.identities[0].treat_first_pay_later, false)
  t.match(d.cards.at(-1)?.summary, '不在本地区先诊疗后付费范围内')
})

t.test('a qualifying lower identity still grants the waiver when the primary one does not qualify', async (t) => {
  const p: ListPerson = {
    name_masked: '李*',
    identities: [
      { category: 'near_minimum_living', begntime: '2024-01-01 00:00:00', endtime: null, source: '民政' },
      { category: 'out_of_poverty', begntime: '2016-01-01 00:00:00', endtime: null, source: '乡村振兴' }
    ]
  }
  const d = decide({ profile: sx, person: p, state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, true)
})

t.test('a 医疗类别 the region excludes gives no waiver and says why', async (t) => {
  const strict = indexProfile({ ...shippedSpec('guangxi-liuzhou'), treat_first_pay_later: { excluded_med_types: [{ code: '22', label: '外伤住院' }], scope: 'all' } })
  const d = decide({ profile: strict, person: one('extreme_poverty', '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', med_type: '22', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  t.match(d.cards.at(-1)?.summary, '医疗类别22（外伤住院）')
  const ok = decide({ profile: strict, person: one('extreme_poverty', '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', med_type: '21', staleHours: 36, now })
  t.equal(ok.treat_first_pay_later, true)
})

t.test('someone not on the list gets an information card with the list version', async (t) => {
  const d = decide({ profile: gx, person: null, state, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, false)
  t.same(d.identities, [])
  t.match(d.cards[0].summary, '未在困难群众名单中（名单版本test-1）')
})

t.test('a stale list still answers, marked stale with a warning card', async (t) => {
  const old = { ...state, loaded_at: '2026-11-20T00:00:00.000Z' }
  const d = decide({ profile: gx, person: one('extreme_poverty', '2024-01-01 00:00:00', null), state: old, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.treat_first_pay_later, true)
  t.equal(d.list.stale, true)
  t.equal(d.list.age_hours, 74)
  t.ok(d.cards.some((c) => c.indicator === 'warning' && c.summary.includes('未更新')))
})

t.test('the demo list is announced with a critical card on every answer', async (t) => {
  const d = decide({ profile: gx, person: null, state: { ...state, demo: true }, at: '2026-11-20 10:00:00', staleHours: 36, now })
  t.equal(d.list.demo, true)
  t.equal(d.cards[0].indicator, 'critical')
  t.match(d.cards[0].summary, '演示')
})

t.test('a serious-disease diagnosis is flagged with its group and code', async (t) => {
  const d = decide({ profile: gx, person: one('extreme_poverty', '2024-01-01 00:00:00', null), state, at: '2026-11-20 10:00:00', diagnoses: [{ diag_code: 'C34.900', diag_name: '肺恶性肿瘤' }], staleHours: 36, now })
  t.equal(d.severe_disease.length, 1)
  t.same(d.severe_disease[0].codes, ['C34.900'])
  t.ok(d.cards.some((c) => c.summary.includes('重病') && c.summary.includes('C34.900')))
})

t.test('every card summary fits in 140 characters', async (t) => {
  const many = Array.from({ length: 30 }, (_, i) => ({ diag_code: `C${String(10 + i).padStart(2, '0')}.900`, diag_name: '恶性肿瘤' }))
  const d = decide({ profile: gx, person: null, state: { ...state, demo: true, loaded_at: '2020-01-01T00:00:00Z' }, at: '2026-11-20 10:00:00', diagnoses: many, staleHours: 36, now })
  for (const c of d.cards) t.ok(Array.from(c.summary).length <= 140, c.summary)
})
