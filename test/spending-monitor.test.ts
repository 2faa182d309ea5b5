// The spending monitor as billing staff and the HIS live it: alerts that escalate and recover,
// the order precheck, exemptions, the discharge gate, a patient who qualifies mid-stay.
import t from 'tap'
import { indexProfile, shippedSpec } from '../profile/profile.ts'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { build, tempDir, type Built } from './helper.ts'
import { records, admit, charge, line, POOR, POOR2, LATE } from './charge-fixture.ts'
import { keys, publishTo, faultServer, type RegistryRecord } from './registry-fixture.ts'
import { publicKeyBase64 } from '../registry/manifest.ts'

const openSpending = (b: Built, id: string) => b.store.alerts.open().filter((a) => a.mdtrt_id === id && a.kind.startsWith('spending_'))

t.test('a stay crosses the warning level, then the limit, then recovers after a refund', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const quiet = await charge(b, 'ZY1', [line('1', 920000, '01'), line('2', 50000, '03')])
  t.equal(quiet.json.status, 'ok')
  t.same(quiet.json.alerts, [])

  const warn = await charge(b, 'ZY1', [line('3', 30000, '03')])
  t.equal(warn.json.status, 'warning')
  t.equal(warn.json.alerts.length, 1)
  t.equal(warn.json.alerts[0].kind, 'spending_warning')
  t.match(warn.json.alerts[0].message, /张\*丰（住院号 ZY1）：目录外费用占比8\.0%，已达预警线8%/)
  t.equal(warn.json.cards[0].indicator, 'warning')

  const more = await charge(b, 'ZY1', [line('4', 5000, '03')])
  t.equal(more.json.status, 'warning')
  t.same(more.json.alerts, [], 'the open warning is refreshed, not repeated')
  t.equal(openSpending(b, 'ZY1').length, 1)
  t.equal(openSpending(b, 'ZY1')[0].out_catalog_fen, 85000, 'its figures follow the stay')

  const breach = await charge(b, 'ZY1', [line('5', 30000, '03', { cnt: 2, pric: 150 })])
  t.equal(breach.json.status, 'breach')
  t.equal(breach.json.alerts.length, 1)
  t.equal(breach.json.alerts[0].kind, 'spending_breach')
  t.equal(breach.json.alerts[0].level, 'critical')
  t.equal(breach.json.cards[0].indicator, 'critical')
  t.match(breach.json.cards[0].summary, /超过10%上限/)
  const open = openSpending(b, 'ZY1')
  t.same(open.map((a) => a.kind), ['spending_breach'], 'the warning was escalated: one open alert per stay and level')

  // Both units of line 5 are returned: the share falls back under 8 %.
  const refund = await charge(b, 'ZY1', [line('6', -30000, '03', { init_feedetl_sn: '5', cnt: -2, pric: 150 })])
  t.equal(refund.json.status, 'warning')
  const back = await charge(b, 'ZY1', [line('7', -5000, '03', { init_feedetl_sn: '4' }), line('8', 200000, '01')])
  t.equal(back.json.status, 'ok')
  t.same(openSpending(b, 'ZY1'), [], 'all spending alerts are resolved when the share recovers')
  const history = (await b.get('/v1/admissions/ZY1')).json.alerts
  t.ok(history.length >= 3)
  t.ok(history.every((a: any) => a.state === 'resolved'))
})

t.test('no alert is raised while the stay total is below the minimum, but the gate still blocks', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 20000, '01'), line('2', 10000, '03')])
  t.equal(res.json.status, 'breach', 'the status tells the truth')
  t.same(res.json.alerts, [], 'but 300 yuan is below the 1,000 yuan minimum: no alert')
  t.equal(res.json.cards[0].indicator, 'info')
  const gate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(gate.json.decision, 'block', 'at discharge the share is final, whatever the size')
  t.equal(gate.json.hospital_borne_amt, 70)
  const bigger = await charge(b, 'ZY1', [line('3', 80000, '03')])
  t.equal(bigger.json.alerts.length, 1, 'past the minimum the breach is raised')
})

t.test('GET /v1/admissions/:mdtrt_id shows the items driving the share, net of refunds', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [
    line('1', 500000, '01'),
    line('2', 30000, '03', { med_list_codg: 'DRUG-A', med_list_name: '进口抗肿瘤药' }),
    line('3', 30000, '03', { med_list_codg: 'DRUG-A', med_list_name: '进口抗肿瘤药' }),
    line('4', 40000, '03', { med_list_codg: 'MAT-B', med_list_name: '进口耗材' }),
    line('5', -30000, '03', { init_feedetl_sn: '3', med_list_codg: 'DRUG-A', med_list_name: '进口抗肿瘤药' })
  ])
  const res = await b.get('/v1/admissions/ZY1')
  t.equal(res.status, 200)
  t.equal(res.json.state, 'open')
  t.equal(res.json.name_masked, '张*丰')
  t.equal(res.json.primary_identity.label, '特困人员')
  t.equal(res.json.identities[0].category, 'extreme_poverty')
  t.equal(res.json.monitored, true)
  t.same(res.json.top_out_of_catalog.map((i: any) => [i.med_list_name, i.out_of_catalog_amt, i.lines]), [['进口耗材', 400, 1], ['进口抗肿瘤药', 300, 3]])
  t.notOk(res.text.includes(POOR), 'no ID number in the answer')
  t.equal((await b.get('/v1/admissions/NOPE')).status, 404)
})

t.test('GET /v1/inpatients lists open monitored stays worst first, filtered by status and department', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'OK1')
  await admit(b, 'BR1', POOR2, { adm_dept_codg: 'B01', adm_dept_name: '骨科' })
  await admit(b, 'WA1')
  await admit(b, 'EX1', POOR, { med_type: '26' })
  await charge(b, 'OK1', [line('1', 100000, '01')])
  await charge(b, 'BR1', [line('1', 100000, '01'), line('2', 20000, '03')])
  await charge(b, 'WA1', [line('1', 100000, '01'), line('2', 9000, '03')])
  await charge(b, 'EX1', [line('1', 100000, '01'), line('2', 90000, '03')])
  const res = await b.get('/v1/inpatients')
  t.equal(res.status, 200)
  t.same(res.json.inpatients.map((i: any) => [i.mdtrt_id, i.status]), [['BR1', 'breach'], ['WA1', 'warning'], ['OK1', 'ok'], ['EX1', 'exempt']])
  t.equal(res.json.inpatients[0].primary_identity.label, '低保对象')
  t.equal(res.json.inpatients[0].days >= 1, true)
  t.same((await b.get('/v1/inpatients?status=warning')).json.inpatients.map((i: any) => i.mdtrt_id), ['WA1'])
  t.same((await b.get('/v1/inpatients?dept=B01')).json.inpatients.map((i: any) => i.mdtrt_id), ['BR1'])
  t.equal((await b.get('/v1/inpatients?status=bad')).status, 400)
  await b.post('/v1/admissions/OK1/discharge', { endtime: '2026-11-23 09:00:00' })
  t.notOk((await b.get('/v1/inpatients')).json.inpatients.some((i: any) => i.mdtrt_id === 'OK1'), 'a discharged stay is no longer an inpatient')
})

t.test('GET /v1/alerts and POST /v1/alerts/:id/ack', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const res = await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 20000, '03')])
  const id = res.json.alerts[0].id
  const open = await b.get('/v1/alerts')
  t.same(open.json.alerts.map((a: any) => a.id), [id])
  t.equal(open.json.alerts[0].state, 'open')
  t.equal(open.json.alerts[0].medfee_sumamt, 1200)
  const ack = await b.post(`/v1/alerts/${id}/ack`, { acknowledged_by: '收费处 王会计' })
  t.equal(ack.status, 200)
  t.equal(ack.json.state, 'acknowledged')
  t.equal(ack.json.acknowledged_by, 'test-his', 'the token that acknowledged it; the name sent is an audit note')
  const again = await b.post(`/v1/alerts/${id}/ack`, { acknowledged_by: '别人' })
  t.equal(again.json.acknowledged_by, 'test-his', 'the first acknowledgement stands')
  t.equal((await b.get('/v1/alerts')).json.count, 0, 'acknowledged alerts leave the open list')
  t.equal((await b.get('/v1/alerts?state=all')).json.count, 1)
  t.equal((await b.post('/v1/alerts/999/ack', {})).status, 404)
  t.equal((await b.post('/v1/alerts/abc/ack', {})).status, 400)
  t.equal(b.store.audit.recent(10, 'alert.ack').length, 1)
  // Still in breach: more charges refresh the acknowledged alert without re-opening a new one.
  const more = await charge(b, 'ZY1', [line('3', 1000, '03')])
  t.same(more.json.alerts, [])
})

t.test('the order precheck answers what the share would become, storing nothing', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 880000, '01'), line('2', 60000, '03')])
  const critical = await b.post('/v1/admissions/ZY1/precheck', { feedetail: [{ ...line('x', 60000, '03'), feedetl_sn: undefined }] })
  t.equal(critical.status, 200)
  t.equal(critical.json.current.status, 'ok')
  t.equal(critical.json.status, 'breach')
  t.equal(critical.json.totals.out_of_catalog_amt, 1200)
  t.equal(critical.json.cards[0].indicator, 'critical')
  t.equal(critical.json.cards[0].summary, '该项目为目录外费用，开具后目录外占比将达12.0%，超过10%上限')
  const warning = await b.post('/v1/admissions/ZY1/precheck', { feedetail: [line('y', 20000, '03')] })
  t.equal(warning.json.status, 'warning')
  t.equal(warning.json.cards[0].indicator, 'warning')
  t.match(warning.json.cards[0].summary, /开具后目录外占比将达8\.3%/)
  const fine = await b.post('/v1/admissions/ZY1/precheck', { feedetail: [line('z', 10000, '01')] })
  t.equal(fine.json.cards[0].indicator, 'info')
  const stay = await b.get('/v1/admissions/ZY1')
  t.equal(stay.json.totals.medfee_sumamt, 9400, 'nothing was stored')
  t.equal(stay.json.line_count, 2)
  t.equal((await b.post('/v1/admissions/NOPE/precheck', { feedetail: [line('z', 100, '01')] })).status, 404)
})

t.test('a single-disease stay is exempt: by med_type 26 or by a 病种 code the hospital pays as 单病种', async (t) => {
  // BZ0001 is listed in the hospital's local settings (single_disease_dise_codes): 000 五(二)2 exempts
  // 单病种付费病例 only, not any stay with a 病种编码.
  const gx = shippedSpec('guangxi-liuzhou')
  const b = await build(t, { records, profile: indexProfile(gx, { ...gx.local, single_disease_dise_codes: ['BZ0001'] }) })
  await admit(b, 'SD1', POOR, { med_type: '26' })
  await admit(b, 'SD2', POOR2, { dise_codg: 'BZ0001', dise_name: '腹腔镜胆囊切除术' })
  for (const id of ['SD1', 'SD2']) {
    const res = await charge(b, id, [line('1', 100000, '01'), line('2', 50000, '03')])
    t.equal(res.json.status, 'exempt', id)
    t.same(res.json.alerts, [])
    const gate = await b.post(`/v1/admissions/${id}/discharge-check`, undefined)
    t.equal(gate.json.decision, 'ok')
    t.equal(gate.json.reasons[0].code, 'single_disease')
    t.equal(gate.json.hospital_borne_amt, 0)
  }
})

t.test('a special-case exemption turns a block into ok and is audited', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  const before = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(before.json.decision, 'block')
  t.equal(before.json.hospital_borne_amt, 350, '500 out of catalog, 150 allowed (10 % of 1,500)')
  t.equal(before.json.reasons[0].code, 'over_limit')
  t.equal(before.json.cards[0].indicator, 'critical')
  t.equal(openSpending(b, 'ZY1').length, 1)

  const body = { kind: 'special_case', approval_no: '柳卫医审〔2026〕17号', approved_by: '柳江区卫生健康局', reason: '罕见病，目录内无替代药品' }
  const ex = await b.post('/v1/admissions/ZY1/exemptions', body)
  t.equal(ex.status, 201)
  t.equal(ex.json.status, 'exempt')
  t.equal(ex.json.exemption.approval_no, '柳卫医审〔2026〕17号')
  t.equal(ex.json.exemption.recorded_by, 'test-his')
  t.same(openSpending(b, 'ZY1'), [], 'its spending alerts are resolved')
  const again = await b.post('/v1/admissions/ZY1/exemptions', body)
  t.equal(again.status, 200)
  t.equal(again.json.created, false)
  t.equal(b.store.audit.recent(10, 'exemption.record').length, 1)

  const after = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(after.json.decision, 'ok')
  t.equal(after.json.reasons[0].code, 'special_case')
  t.equal(after.json.hospital_borne_amt, 0)
  const blank = await b.post('/v1/admissions/ZY1/exemptions', { ...body, approval_no: '   ' })
  t.equal(blank.status, 400)
  const wrongKind = await b.post('/v1/admissions/ZY1/exemptions', { ...body, kind: 'vip' })
  t.equal(wrongKind.status, 400)
})

t.test('the discharge gate warns at the warning level; discharge keeps the final figures', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 9000, '03')])
  const gate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(gate.json.decision, 'warn')
  t.equal(gate.json.reasons[0].code, 'near_limit')
  const out = await b.post('/v1/admissions/ZY1/discharge', { endtime: '2026-11-23 10:00:00', dscg_way: '1' })
  t.equal(out.status, 200)
  t.equal(out.json.state, 'discharged')
  t.equal(out.json.decision, 'warn')
  t.equal(out.json.totals.medfee_sumamt, 1090)
  t.same(openSpending(b, 'ZY1'), [], 'a discharged stay has no open spending alerts')
  const replay = await b.post('/v1/admissions/ZY1/discharge', { endtime: '2026-11-23 10:00:00', dscg_way: '1' })
  t.equal(replay.status, 200)
  t.same(replay.json, out.json, 'the same discharge again gets the same answer')
  const other = await b.post('/v1/admissions/ZY1/discharge', { endtime: '2026-11-24 10:00:00' })
  t.equal(other.status, 409)
  const stay = await b.get('/v1/admissions/ZY1')
  t.equal(stay.json.state, 'discharged')
  t.equal(stay.json.endtime, '2026-11-23 10:00:00')
  t.equal(stay.json.discharge.dscg_way, '1')
  const finalGate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.same(finalGate.json, gate.json, 'after discharge the gate answers the final figures')
  t.equal(b.store.audit.recent(10, 'admission.discharge').length, 1)
  await admit(b, 'ZY2')
  const early = await b.post('/v1/admissions/ZY2/discharge', { endtime: '2026-11-19 10:00:00' })
  t.equal(early.status, 400, 'a discharge before the admission is refused')
  t.equal((await b.post('/v1/admissions/NOPE/discharge', {})).status, 404)
})

t.test('a stay within the limit passes the gate; a patient not on the list is not gated', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 1000, '03')])
  const gate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(gate.json.decision, 'ok')
  t.equal(gate.json.status, 'ok')
  t.same(gate.json.cards, [])
  await admit(b, 'ZY9', LATE)
  await charge(b, 'ZY9', [line('1', 100000, '03')])
  const other = await b.post('/v1/admissions/ZY9/discharge-check', undefined)
  t.equal(other.json.decision, 'ok')
  t.equal(other.json.reasons[0].code, 'not_monitored')
})

t.test('a patient who becomes qualified mid-stay after a list change: earlier charges count', async (t) => {
  const dir = join(tempDir(t), 'registry')
  mkdirSync(dir)
  const server = await faultServer(dir)
  t.teardown(() => server.close())
  const key = keys()
  const rec = (who: string, category: string, begntime: string): RegistryRecord =>
    ({ op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '王五', identities: [{ category, begntime, endtime: null, source: '民政' }] })
  publishTo(dir, key.privateKey, { seq: 1, full: [rec(POOR, 'extreme_poverty', '2021-01-01 00:00:00')] })
  const b = await build(t, { env: { FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: publicKeyBase64(key.publicKey) } })
  const admin = { authorization: `Bearer ${b.adminToken}` }
  t.equal((await b.post('/v1/sync/run?wait=true', undefined, admin)).json.result, 'updated')

  const adm = await admit(b, 'ZY-LATE', LATE, { begntime: '2026-11-10 09:00:00' })
  t.equal(adm.treat_first_pay_later, false)
  const before = await charge(b, 'ZY-LATE', [line('1', 100000, '01'), line('2', 15000, '03')])
  t.equal(before.json.status, 'not_monitored')
  t.same(before.json.alerts, [])

  // 民政 approves the patient this month, valid from the 1st (000 四(四)3: 当月即可享受).
  publishTo(dir, key.privateKey, {
    seq: 2,
    full: [rec(POOR, 'extreme_poverty', '2021-01-01 00:00:00'), rec(LATE, 'minimum_living', '2026-11-01 00:00:00')],
    delta: { base_seq: 1, records: [rec(LATE, 'minimum_living', '2026-11-01 00:00:00')] }
  })
  t.equal((await b.post('/v1/sync/run?wait=true', undefined, admin)).json.result, 'updated')

  const stay = await b.get('/v1/admissions/ZY-LATE')
  t.equal(stay.json.monitored, true)
  t.equal(stay.json.monitored_reason, 'list_update')
  t.equal(stay.json.status, 'breach', 'the charges from before the list change count')
  t.equal(stay.json.totals.out_of_catalog_amt, 150)
  t.equal(stay.json.primary_identity.label, '低保对象')
  t.equal(stay.json.identities[0].category, 'minimum_living')
  const kinds = b.store.alerts.open().filter((a) => a.mdtrt_id === 'ZY-LATE').map((a) => a.kind).sort()
  t.same(kinds, ['identity_started', 'spending_breach'])
  const gate = await b.post('/v1/admissions/ZY-LATE/discharge-check', undefined)
  t.equal(gate.json.decision, 'block')
  t.ok(gate.json.reasons.some((r: any) => r.code === 'deposit_refund'), 'and the deposit is still to be returned')
  t.ok((await b.get('/v1/inpatients')).json.inpatients.some((i: any) => i.mdtrt_id === 'ZY-LATE' && i.monitored_reason === 'list_update'))
})

t.test('an admission corrected to 单病种 makes the stay exempt and resolves its alerts', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  t.equal(openSpending(b, 'ZY1').length, 1)
  const corrected = await b.post('/v1/admissions', { mdtrt_id: 'ZY1', certno: POOR, psn_name: '张三丰', begntime: '2026-11-20 09:30:00', med_type: '26', adm_dept_codg: 'A03', adm_dept_name: '心血管内科' })
  t.equal(corrected.status, 200)
  t.same(openSpending(b, 'ZY1'), [])
  t.equal((await b.get('/v1/admissions/ZY1')).json.status, 'exempt')
})

t.test('a stay under the minimum total that already has a warning keeps an alert when it escalates', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  const warn = await charge(b, 'ZY1', [line('1', 110000, '01'), line('2', 10000, '03')])
  t.equal(warn.json.status, 'warning')
  t.equal(warn.json.alerts[0].kind, 'spending_warning')
  // An in-catalog refund takes the total under 1,000 yuan and the share over 10 %.
  const breach = await charge(b, 'ZY1', [line('3', -30000, '01', { init_feedetl_sn: '1', cnt: -1, pric: 300 })])
  t.equal(breach.json.status, 'breach')
  t.equal(breach.json.totals.medfee_sumamt, 900)
  t.equal(breach.json.alerts[0]?.kind, 'spending_breach', 'the warning became a breach alert, not nothing')
  t.same(openSpending(b, 'ZY1').map((a) => a.kind), ['spending_breach'])
})

t.test('the precheck of a line the stay already has predicts no change', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 9000, '03')])
  const res = await b.post('/v1/admissions/ZY1/precheck', { feedetail: [line('2', 9000, '03')] })
  t.equal(res.status, 200)
  t.same(res.json.totals, res.json.current.totals, 'charging it again would be a duplicate')
  const changed = await b.post('/v1/admissions/ZY1/precheck', { feedetail: [line('2', 19000, '03')] })
  t.equal(changed.status, 409)
})

t.test('a refund sent without item codes counts against the item it refunds', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03', { med_list_codg: 'MAT-X', med_list_name: '进口耗材' }), line('3', 20000, '03', { med_list_codg: 'DRUG-Y', med_list_name: '自费药' })])
  await charge(b, 'ZY1', [{ feedetl_sn: '4', init_feedetl_sn: '2', fee_ocur_time: '2026-11-22 08:00:00', det_item_fee_sumamt: -500, cnt: -1, pric: 500 }])
  const res = await b.get('/v1/admissions/ZY1')
  t.same(res.json.top_out_of_catalog.map((i: any) => [i.med_list_name, i.out_of_catalog_amt]), [['自费药', 200]], 'the refunded item is no longer a driver')
})

t.test('an exemption cannot be recorded on a discharged stay: its figures are final', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  await b.post('/v1/admissions/ZY1/discharge', { endtime: '2026-11-23 10:00:00' })
  const res = await b.post('/v1/admissions/ZY1/exemptions', { kind: 'special_case', approval_no: 'A-1', approved_by: '医保局', reason: '补批' })
  t.equal(res.status, 409)
  t.equal(res.json.error.code, 'FANGPIN_STAY_CLOSED')
  t.equal((await b.post('/v1/admissions/ZY1/discharge-check', undefined)).json.decision, 'block')
})

t.test('an identity that starts during the stay is picked up at the next start, without a list change', async (t) => {
  const { startAgent, person } = await import('./helper.ts')
  const { openStore } = await import('../agent/store/store.ts')
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  // Approved by 民政 on the 22nd, two days into the stay; the list already says so.
  await store.list.replace([...records, person(LATE, '王五', [['minimum_living', '2026-11-22 00:00:00', null]])], { source: 'import', label: 'county.csv' })
  const token = store.tokens.create('his', 'his').token
  store.close()
  const env = { FANGPIN_DATA_DIR: dataDir }
  const call = async (url: string, method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    return await res.json()
  }
  const first = await startAgent(t, env)
  const adm = await call(first.url, 'POST', '/v1/admissions', { mdtrt_id: 'ZY-MID', certno: LATE, psn_name: '王五', begntime: '2026-11-20 09:00:00' })
  t.equal(adm.treat_first_pay_later, false, 'not yet on the list at admission')
  const before = await call(first.url, 'POST', '/v1/admissions/ZY-MID/charges', { feedetail: [line('1', 100000, '01'), line('2', 20000, '03')] })
  t.equal(before.status, 'not_monitored')
  first.child.kill('SIGTERM')
  await new Promise((r) => first.child.once('exit', r))

  const second = await startAgent(t, env)
  let stay: any
  for (let i = 0; i < 50; i++) {
    stay = await call(second.url, 'GET', '/v1/admissions/ZY-MID')
    if (stay.monitored === true) break
    await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(stay.monitored, true, 'the start-up re-check found the identity')
  t.equal(stay.status, 'breach', 'and the charges from before it count')
  const alerts = await call(second.url, 'GET', '/v1/alerts')
  t.same(alerts.alerts.filter((a: any) => a.mdtrt_id === 'ZY-MID').map((a: any) => a.kind).sort(), ['identity_started', 'spending_breach'])
  second.child.kill('SIGTERM')
  await new Promise((r) => second.child.once('exit', r))
})
