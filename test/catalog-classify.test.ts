// Every line classified: charge and precheck lines without chrgitm_lv get their level from the
// insurance catalog (by code, or by the hospital's code through the mapping), valid at the line's
// time for the hospital's region; unplaceable lines count out of catalog as 未对照项目; a level
// from the HIS that disagrees is kept and listed once as drift; out-of-catalog drugs get
// same-generic in-catalog alternatives, ranked, as CDS Hooks suggestions. Over a real server.
import t from 'tap'
import { build } from './helper.ts'
import { loadConfig, ConfigError } from '../agent/config.ts'
import { admit, charge, line, records } from './charge-fixture.ts'
import { ceftriaxone, item, loadCatalog, mapping, vbp } from './catalog-fixture.ts'
import { region, admitAs, listed, everythingSaid } from './region-fixture.ts'

const STAY = 'ZY2026112101'

/** A 2301 line without its level (as the 2301 input is before the platform classifies it). */
function bare (sn: string, fen: number, code: string | null, over: Record<string, unknown> = {}): Record<string, unknown> {
  const l = line(sn, fen, '01', over)
  delete l.chrgitm_lv
  if (code === null) delete l.med_list_codg
  else l.med_list_codg = code
  return l
}

async function precheck (b: Awaited<ReturnType<typeof build>>, lines: Array<Record<string, unknown>>): Promise<any> {
  const res = await b.post(`/v1/admissions/${STAY}/precheck`, { feedetail: lines })
  if (res.status !== 200) throw new Error(`precheck ${res.status}: ${res.text}`)
  return res.json
}

t.test('with no catalog loaded, a line without chrgitm_lv is still refused naming the field', async (t) => {
  const b = await build(t, { records })
  await admit(b, STAY)
  const res = await charge(b, STAY, [bare('L1', 1000, 'XA')])
  t.equal(res.status, 400)
  t.equal(res.json.error.code, 'FANGPIN_VALIDATION')
  t.same(res.json.error.details.map((d: any) => [d.field, d.reason]), [['feedetail/0/chrgitm_lv', 'required']])
})

t.test('a line without level is classified by its code, or its hospital code through the mapping; one the catalog cannot place counts out of catalog as 未对照项目', async (t) => {
  const b = await build(t, { records })
  await loadCatalog(b.store, {
    items: [item('XA', { lv: '01' }), item('XB', { lv: '02' }), item('XC', { lv: '03' })],
    mappings: [mapping('H-B', 'XB')]
  })
  await admit(b, STAY)
  const batch = [
    bare('L1', 10000, 'XA'),
    bare('L2', 20000, 'LOCAL-ONLY', { medins_list_codg: 'H-B' }),
    bare('L3', 5000, 'XC'),
    bare('L4', 3000, 'XUNKNOWN', { med_list_name: '自制药膏' }),
    line('L5', 1000, '01', { med_list_codg: 'XA' })
  ]
  const res = await charge(b, STAY, batch)
  t.equal(res.status, 200, res.text)
  t.same(res.json.lines.map((l: any) => [l.feedetl_sn, l.level_source, l.chrgitm_lv, l.med_list_codg]), [
    ['L1', 'catalog', '01', 'XA'],
    ['L2', 'catalog', '02', 'XB'],
    ['L3', 'catalog', '03', 'XC'],
    ['L4', 'unknown', null, 'XUNKNOWN'],
    ['L5', 'his', '01', 'XA']
  ])
  t.equal(res.json.totals.in_catalog_amt, 310, '甲类 and 乙类 lines are in catalog')
  t.equal(res.json.totals.out_of_catalog_amt, 80, '丙类 and the unknown line are out')
  const unmapped = res.json.cards.find((c: any) => /未对照项目/.test(c.summary))
  t.ok(unmapped, 'a card names the 未对照项目')
  t.match(unmapped.summary, '1项费用未能在医保目录中找到（未对照项目），已按目录外费用计算：自制药膏（XUNKNOWN）')
  t.equal(unmapped.indicator, 'warning')
  const rows = b.store.db.prepare('SELECT feedetl_sn, level_source, catalog_lv, chrgitm_lv FROM charge_line WHERE mdtrt_id = ? ORDER BY feedetl_sn').all(STAY)
  t.same(rows, [
    { feedetl_sn: 'L1', level_source: 'catalog', catalog_lv: '01', chrgitm_lv: null },
    { feedetl_sn: 'L2', level_source: 'catalog', catalog_lv: '02', chrgitm_lv: null },
    { feedetl_sn: 'L3', level_source: 'catalog', catalog_lv: '03', chrgitm_lv: null },
    { feedetl_sn: 'L4', level_source: 'unknown', catalog_lv: null, chrgitm_lv: null },
    { feedetl_sn: 'L5', level_source: 'his', catalog_lv: null, chrgitm_lv: '01' }
  ], 'the HIS\'s content is kept as sent; the level the catalog gave beside it')
  const stay = await b.get(`/v1/admissions/${STAY}`)
  t.same(stay.json.unmapped_items, [{ med_list_codg: 'XUNKNOWN', medins_list_codg: 'HL4', med_list_name: '自制药膏', amount: 30, lines: 1 }])
  const again = await charge(b, STAY, batch)
  t.equal(again.json.accepted, 0, 'the same batch again is counted once')
  t.equal(again.json.totals.out_of_catalog_amt, 80)
  // A refund without level takes its original's share and its source.
  const refund = await charge(b, STAY, [bare('R1', -3000, 'XUNKNOWN', { init_feedetl_sn: 'L4', med_list_name: '自制药膏' })])
  t.equal(refund.json.lines[0].level_source, 'unknown')
  t.equal(refund.json.totals.out_of_catalog_amt, 50)
})

t.test('an item counts with the level valid at the line\'s time for the hospital\'s region: the most local valid row wins, vali_flag 0 does not count', async (t) => {
  const items = [
    item('XVAL', { lv: '02' }),
    item('XVAL', { lv: '02', insu_admdvs: '450000', begndate: '2020-01-01 00:00:00', enddate: '2026-06-30 23:59:59' }),
    item('XVAL', { lv: '03', insu_admdvs: '450000', begndate: '2026-07-01 00:00:00' }),
    item('XVAL', { lv: '01', insu_admdvs: '450200', vali_flag: false }),
    item('XREG', { lv: '02', insu_admdvs: '450000' }),
    item('XREG', { lv: '03', insu_admdvs: '450200' })
  ]
  const lines = [
    bare('J', 1000, 'XVAL', { fee_ocur_time: '2026-06-30 23:00:00' }),
    bare('K', 1000, 'XVAL', { fee_ocur_time: '2026-07-01 08:00:00' }),
    bare('R', 1000, 'XREG')
  ]
  const levels = (p: any): Array<[string, string | null]> => p.lines.map((l: any) => [l.level_source, l.chrgitm_lv])

  const county = await build(t, { records })
  await loadCatalog(county.store, { items })
  await admit(county, STAY)
  t.same(levels(await precheck(county, lines)), [['catalog', '02'], ['catalog', '03'], ['catalog', '03']],
    '450206 (the profile\'s region): the province\'s row by date, the city\'s 丙类 over the province\'s 乙类; the city\'s invalid 甲类 row is ignored')

  const otherCity = await build(t, { records, env: { FANGPIN_INSU_ADMDVS: '450303' } })
  await loadCatalog(otherCity.store, { items })
  await admit(otherCity, STAY)
  t.same(levels(await precheck(otherCity, lines)), [['catalog', '02'], ['catalog', '03'], ['catalog', '02']], 'another city of the province: the province\'s rows')

  const elsewhere = await build(t, { records, env: { FANGPIN_INSU_ADMDVS: '440106' } })
  await loadCatalog(elsewhere.store, { items })
  await admit(elsewhere, STAY)
  t.same(levels(await precheck(elsewhere, lines)), [['catalog', '02'], ['catalog', '02'], ['unknown', null]], 'another province: the nationwide row only')
})

t.test('a level from the HIS that disagrees with the catalog counts, and the item is listed once as catalog drift', async (t) => {
  const b = await build(t, { records })
  await loadCatalog(b.store, { items: [item('XD', { lv: '01', name: '阿莫西林胶囊' }), item('XE', { lv: '02' })] })
  await admit(b, STAY)
  const first = await charge(b, STAY, [line('D1', 50000, '03', { med_list_codg: 'XD' }), line('E1', 50000, '02', { med_list_codg: 'XE' })])
  t.equal(first.json.totals.out_of_catalog_amt, 500, 'the HIS\'s 丙类 counts (it is the platform\'s answer)')
  t.same(first.json.lines.map((l: any) => [l.level_source, l.chrgitm_lv]), [['his', '03'], ['his', '02']])
  await charge(b, STAY, [line('D2', 1000, '03', { med_list_codg: 'XD' })])
  const drift = b.app.rules.catalogDrift()
  t.equal(drift.count, 1, 'one item, however many lines')
  t.match(drift.items[0], { code: 'XD', name: '阿莫西林胶囊', his_lv: '03', catalog_lv: '01', lines: 2, mdtrt_id: STAY, feedetl_sn: 'D1', message: 'HIS上传为丙类，医保目录为甲类；已按HIS等级计算' })
})

// The ceftriaxone injections: the original is 丙类; A1–A5 are in catalog; A6–A9 must never be suggested.
const ALTERNATIVES = [
  ceftriaxone('XORIG', { lv: '03', name: '进口注射用头孢曲松钠', price_cap_fen: 9000 }),
  ceftriaxone('XA1', { lv: '02', price_cap_fen: 500 }),
  ceftriaxone('XA2', { lv: '01', price_cap_fen: 800 }),
  ceftriaxone('XA3', { lv: '02', bas: true, price_cap_fen: 700 }),
  ceftriaxone('XA4', { lv: '02', nego: true, price_cap_fen: 3000 }),
  ceftriaxone('XA5', { lv: '02', price_cap_fen: 300 }),
  ceftriaxone('XA6', { lv: '01', dosform: '片剂', dosform_name: '片剂' }),
  ceftriaxone('XA7', { lv: '01', vali_flag: false }),
  ceftriaxone('XA8', { lv: '02', insu_admdvs: '450000' }),
  ceftriaxone('XA8', { lv: '03', insu_admdvs: '450206' }),
  ceftriaxone('XA9', { lv: '01', enddate: '2020-12-31 23:59:59' }),
  item('XLONELY', { lv: '03', item_type: 'drug', genname: '罕见药', genname_codg: 'GRARE', dosform: '片剂', name: '罕见药片' }),
  item('001101000010000', { lv: '03', item_type: 'service', name: '特需诊疗费' })
]

t.test('the precheck suggests same-generic in-catalog products ranked 集采中选, 国家谈判, 基本药物, 甲类 before 乙类, then price, as CDS Hooks suggestions', async (t) => {
  const b = await build(t, { records })
  await loadCatalog(b.store, { items: ALTERNATIVES, vbp: [vbp('XA5'), vbp('XA1', { enddate: '2021-01-01 00:00:00' })] })
  await admit(b, STAY)
  const p = await precheck(b, [bare(undefined as unknown as string, 90000, 'XORIG', { med_list_name: '进口注射用头孢曲松钠' })])
  t.equal(p.lines[0].chrgitm_lv, '03')
  t.equal(p.alternatives.length, 1)
  const alt = p.alternatives[0]
  t.equal(alt.reason, 'found')
  t.same(alt.suggestions.map((s: any) => s.med_list_codg), ['XA5', 'XA4', 'XA3', 'XA2', 'XA1'],
    '集采中选, then 国家谈判, then 基本药物, then 甲类, then 乙类; not another dosage form, an invalid row, a row this region has as 丙类, or an ended one')
  t.match(alt.suggestions[0], { vbp: true, chrgitm_lv: '02', level_label: '乙类', price_cap_amt: 3, drug_genname: '头孢曲松钠', dosform: '注射剂' })
  t.equal(alt.suggestions[4].vbp, false, 'a 集采 mark that has ended does not count')
  const c = p.cards.find((x: any) => x.suggestions !== undefined)
  t.ok(c, 'a card carries the suggestions')
  t.equal(c.selectionBehavior, 'at-most-one')
  t.match(c.summary, /进口注射用头孢曲松钠（XORIG）为目录外药品，可改用目录内同通用名、同剂型药品：注射用头孢曲松钠XA5（集采中选，乙类，限价3.00元）等5种/)
  t.equal(c.suggestions.length, 5)
  t.same(c.suggestions.map((s: any) => s.isRecommended ?? false), [true, false, false, false, false])
  t.match(c.suggestions[1].label, '改用注射用头孢曲松钠XA4（国家谈判，乙类，限价30.00元）')
  t.match(c.suggestions[0].actions, [{ type: 'update', description: /将进口注射用头孢曲松钠（XORIG）改为注射用头孢曲松钠XA5（医保目录编码XA5，乙类）/ }])
  t.match(c.suggestions[0].uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal((await precheck(b, [bare('S2', 90000, 'XORIG')])).cards.find((x: any) => x.suggestions !== undefined).suggestions[0].uuid, c.suggestions[0].uuid, 'the same suggestion keeps its id')
})

t.test('no suggestion is invented: a drug without a same-generic product gets none, a service gets a sentence instead', async (t) => {
  const b = await build(t, { records })
  await loadCatalog(b.store, { items: ALTERNATIVES })
  await admit(b, STAY)
  const p = await precheck(b, [bare('P1', 5000, 'XLONELY', { med_list_name: '罕见药片' }), bare('P2', 5000, '001101000010000', { med_list_name: '特需诊疗费' }), bare('P3', 5000, 'XNOWHERE', { med_list_name: '院内制剂' })])
  t.same(p.alternatives.map((a: any) => [a.med_list_codg, a.reason, a.suggestions.length]), [['XLONELY', 'none', 0], ['001101000010000', 'not_a_drug', 0], ['XNOWHERE', 'not_in_catalog', 0]])
  t.equal(p.alternatives[0].message, '罕见药片（XLONELY）为目录外药品，医保目录内没有同通用名、同剂型的药品，不提供替代建议')
  t.equal(p.alternatives[1].message, '特需诊疗费（001101000010000）为医疗服务项目，医保目录不按通用名归类，不自动提供替代项目；请对照医保目录选择目录内项目')
  t.notOk(p.cards.some((c: any) => c.suggestions !== undefined), 'no card has suggestions')
})

t.test('a charge batch that pushes the stay to breach carries alternatives for its out-of-catalog drugs; one that leaves it ok does not', async (t) => {
  const b = await build(t, { records })
  await loadCatalog(b.store, { items: ALTERNATIVES })
  await admit(b, STAY)
  const ok = await charge(b, STAY, [line('B1', 200000, '01', { med_list_codg: 'XA2' })])
  t.equal(ok.json.status, 'ok')
  t.same(ok.json.alternatives, [])
  const pushed = await charge(b, STAY, [bare('B2', 40000, 'XORIG', { med_list_name: '进口注射用头孢曲松钠' }), line('B3', 100, '01', { med_list_codg: 'XA2' })])
  t.equal(pushed.json.status, 'breach')
  t.same(pushed.json.alternatives.map((a: any) => [a.feedetl_sn, a.reason, a.suggestions[0]?.med_list_codg]), [['B2', 'found', 'XA4']], 'for the out-of-catalog line only; no 集采 list loaded here')
  t.equal(pushed.json.cards[0].indicator, 'critical', 'the breach card comes first')
  t.ok(pushed.json.cards.some((c: any) => c.suggestions?.length === 5))
})

t.test('GET /v1/catalog/items/:code and /v1/catalog/search: an item by its code or its hospital code, a search by code, name or generic name', async (t) => {
  const b = await build(t, { records })
  const none = await b.get('/v1/catalog/items/XA1')
  t.equal(none.status, 404)
  t.match(none.json.error.message, /no insurance catalog is loaded/)
  t.same((await b.get('/v1/catalog/search?q=' + encodeURIComponent('头孢'))).json.count, 0, 'without a catalog, a search finds nothing')
  await loadCatalog(b.store, { items: ALTERNATIVES, mappings: [mapping('H-CEF', 'XA3')], vbp: [vbp('XA5')] })
  const one = await b.get('/v1/catalog/items/XA8')
  t.equal(one.status, 200)
  t.match(one.json.item, { med_list_codg: 'XA8', chrgitm_lv: '03', insu_admdvs: '450206', current: true })
  t.same(one.json.rows.map((r: any) => [r.insu_admdvs, r.chrgitm_lv, r.current]), [['450206', '03', true], ['450000', '02', false]])
  const byHospital = await b.get('/v1/catalog/items/H-CEF')
  t.equal(byHospital.json.via, 'medins_list_codg')
  t.match(byHospital.json.item, { med_list_codg: 'XA3', bas: true })
  t.equal((await b.get('/v1/catalog/items/NOPE')).status, 404)
  const byName = await b.get('/v1/catalog/search?q=' + encodeURIComponent('头孢曲松'))
  t.equal(byName.status, 200)
  t.ok(byName.json.items.some((i: any) => i.med_list_codg === 'XA5' && i.vbp === true), 'by a part of the name, with the 集采 mark')
  const short = await b.get('/v1/catalog/search?q=' + encodeURIComponent('罕见'))
  t.same(short.json.items.map((i: any) => i.med_list_codg), ['XLONELY'], 'two characters: by the start of the name or generic name')
  const byCode = await b.get('/v1/catalog/search?q=xa&limit=3')
  t.same(byCode.json.items.map((i: any) => i.med_list_codg), ['XA1', 'XA2', 'XA3'], 'by a code prefix, at most limit')
  t.equal((await b.get('/v1/catalog/search?q=')).status, 400)
  t.equal((await b.get('/v1/catalog/search?q=a&limit=500')).status, 400, 'limit is at most 50')
  t.equal((await b.get('/v1/catalog/search?q=xa', { authorization: 'Bearer nope' })).status, 401, 'the HIS token is required')
})

t.test('the per-line lookup, the mapping lookup and the alternatives use their indexes (EXPLAIN QUERY PLAN)', async (t) => {
  const b = await build(t, { records })
  await loadCatalog(b.store, { items: ALTERNATIVES })
  const repo = b.store.catalog as unknown as Record<string, { source: string }>
  const plan = (name: string, params: unknown[]): string => (b.store.db.prepare(`EXPLAIN QUERY PLAN ${repo[name].source}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ')
  const level = plan('levelRowsStmt', [1, 'XA1', '450206', '450200', '450000', ''])
  t.match(level, /SEARCH catalog_item USING COVERING INDEX catalog_item_code \(gen=\? AND code=\?\)/, 'from the index alone')
  t.notMatch(level, /TEMP B-TREE|SCAN/, 'no sort, no scan: rows come most local and latest first from the index')
  t.match(plan('mappingStmt', [1, 'H1']), /SEARCH catalog_mapping USING COVERING INDEX catalog_mapping_code/)
  t.match(plan('vbpStmt', [1, 'X']), /SEARCH catalog_vbp USING INDEX catalog_vbp_code/)
  t.match(plan('byGennameCodgStmt', [1, 'G', 'D', 'a', 'b', 'c', '', 'z', 'z']), /SEARCH catalog_item USING INDEX catalog_item_genname_codg/)
  t.match(plan('byGennameStmt', [1, 'G', 'D', 'a', 'b', 'c', '', 'z', 'z']), /SEARCH catalog_item USING INDEX catalog_item_genname /)
})

t.test('FANGPIN_INSU_ADMDVS is a 6-digit region code; anything else stops the start naming the variable', async (t) => {
  t.equal(loadConfig({ FANGPIN_INSU_ADMDVS: '450303' }).insuAdmdvs, '450303')
  t.equal(loadConfig({}).insuAdmdvs, null, 'unset: the profile\'s region')
  for (const bad of ['4502', '45020a', '4502061']) {
    t.throws(() => loadConfig({ FANGPIN_INSU_ADMDVS: bad }), ConfigError)
    t.throws(() => loadConfig({ FANGPIN_INSU_ADMDVS: bad }), new RegExp(`FANGPIN_INSU_ADMDVS="${bad}" is not valid: set the hospital's 6-digit insurance region code`))
  }
})

t.test('in a region without a limit (Shanxi) lines are still classified, 未对照项目 still get their card and the precheck its alternatives, and nothing the catalog adds speaks of a limit', async (t) => {
  const b = await region(t, 'shanxi', [listed(1, ['minimum_living'])], { treat_first_pay_later: ['minimum_living'], one_stop_city_opt_in: false })
  await loadCatalog(b.store, {
    items: [
      ceftriaxone('XSX1', { lv: '01' }),
      ceftriaxone('XSX2', { lv: '02', nego: true }),
      ceftriaxone('XSXOUT', { lv: '03', name: '进口注射用头孢曲松钠' }),
      item('XSVC', { lv: '01', name: '床位费' })
    ]
  })
  await admitAs(b, 'SXC1', 1)
  const res = await b.post('/v1/admissions/SXC1/charges', {
    feedetail: [
      bare('S1', 100000, 'XSVC'),
      bare('S2', 30000, 'XSXOUT'),
      bare('S3', 20000, 'XHOMEMADE', { med_list_name: '院内自制药膏' }),
      line('S4', 5000, '01', { med_list_codg: 'XSX1' })
    ]
  })
  t.equal(res.status, 200, res.text)
  t.equal(res.json.status, 'no_limit')
  t.same(res.json.lines.map((l: any) => [l.feedetl_sn, l.level_source, l.chrgitm_lv]), [
    ['S1', 'catalog', '01'], ['S2', 'catalog', '03'], ['S3', 'unknown', null], ['S4', 'his', '01']
  ])
  t.equal(res.json.totals.out_of_catalog_amt, 500, '丙类 and the unplaced line count out of catalog')
  t.equal(res.json.totals.headroom_amt, null)
  t.same(res.json.cards.map((c: any) => c.summary), ['1项费用未能在医保目录中找到（未对照项目），已按目录外费用计算：院内自制药膏（XHOMEMADE）'],
    'the 未对照项目 card, and no card about a limit')
  t.same(res.json.alternatives, [], 'a stay never judged is never pushed to warning or breach')
  const stay = await b.get('/v1/admissions/SXC1')
  t.same(stay.json.unmapped_items.map((i: any) => i.med_list_codg), ['XHOMEMADE'])

  const pre = await b.post('/v1/admissions/SXC1/precheck', { feedetail: [bare('P1', 9000, 'XSXOUT')] })
  t.equal(pre.status, 200, pre.text)
  t.equal(pre.json.status, 'no_limit')
  t.same(pre.json.alternatives.map((a: any) => [a.med_list_codg, a.reason, a.suggestions.map((s: any) => s.med_list_codg)]), [['XSXOUT', 'found', ['XSX2', 'XSX1']]])
  const catalogCards = pre.json.cards.filter((c: any) => /目录外药品|未对照项目/.test(c.summary))
  t.equal(catalogCards.length, 1)
  t.notMatch(JSON.stringify(catalogCards), /上限|预警|还可使用|限额|90%|10%/, 'alternatives are offered for the patient\'s share, never as keeping within a limit')
  t.notMatch(everythingSaid(b), /医院承担|90%|10%上限/)
})
