// An HIS may correct an admission's medical type (2403), and a correction to 单病种 exempts the stay
// from the 90 % rule. Such a correction is accepted, but it must never silence the discharge gate
// unseen: staff get an alert naming the change and the status before it, and the gate warns.
import t from 'tap'
import { build } from './helper.ts'
import { records, admit, charge, line, POOR, LATE } from './charge-fixture.ts'
import { indexProfile, shippedSpec } from '../profile/profile.ts'

// A Guangxi hospital that pays 病种 BZ0001 as 单病种 (local single_disease_dise_codes): only a code
// listed there exempts a stay (000 五(二)2 除外单病种付费病例).
const gx = shippedSpec('guangxi-liuzhou')
const byDisease = indexProfile(gx, { ...gx.local, single_disease_dise_codes: ['BZ0001'] })

const correction = (over: Record<string, unknown>) => ({
  mdtrt_id: 'ZY1',
  certno: POOR,
  psn_name: '张三丰',
  begntime: '2026-11-20 09:30:00',
  med_type: '21',
  adm_dept_codg: 'A03',
  adm_dept_name: '心血管内科',
  ...over
})

const corrections = (b: Awaited<ReturnType<typeof build>>, id = 'ZY1') => b.store.alerts.forStay(id).filter((a) => a.kind === 'admission_corrected')

t.test('a breached stay corrected to med_type 26 is exempt, but staff see the correction and the gate warns', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  const before = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(before.json.decision, 'block')
  t.equal(before.json.hospital_borne_amt, 350)

  const res = await b.post('/v1/admissions', correction({ med_type: '26' }))
  t.equal(res.status, 200, 'the HIS may correct the medical type')

  const gate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(gate.json.status, 'exempt', 'the correction takes effect')
  t.equal(gate.json.hospital_borne_amt, 0)
  t.equal(gate.json.decision, 'warn', 'but the gate does not say ok while nobody has looked at it')
  const reason = gate.json.reasons.find((r: any) => r.code === 'admission_corrected')
  t.ok(reason, 'the gate names the correction')
  t.match(reason.message, /医疗类别 21 → 26/)
  t.match(reason.message, /超标/)
  t.match(reason.message, /33\.3%/, 'with the share before')
  t.match(reason.message, /350\.00元/, 'and the amount the hospital would have borne')
  t.ok(gate.json.cards.some((c: any) => c.indicator === 'warning' && /医疗类别 21 → 26/.test(c.summary)))

  const alerts = corrections(b)
  t.equal(alerts.length, 1, 'one alert for the correction')
  t.equal(alerts[0].level, 'warning')
  t.match(alerts[0].message, /张\*丰（住院号 ZY1）/)
  t.match(alerts[0].message, /医疗类别 21 → 26/)
  t.match(alerts[0].message, /超标/)
  t.match(alerts[0].message, /350\.00元/)
  t.match(JSON.parse(alerts[0].detail!), { changes: [{ field: 'med_type', before: '21', after: '26' }], before: { status: 'breach', hospital_borne_amt: 350 }, after: { status: 'exempt' } })

  const stay = await b.get('/v1/admissions/ZY1')
  t.ok(stay.json.alerts.some((a: any) => a.kind === 'admission_corrected' && a.state === 'open'), 'the alert is kept on the stay')
  t.ok((await b.get('/v1/alerts')).json.alerts.some((a: any) => a.kind === 'admission_corrected'), 'and listed for staff')

  const audit = b.store.audit.recent(5, 'admission.update')
  t.equal(audit.length, 1)
  t.match(JSON.parse(audit[0].detail!), { changes: { med_type: { before: '21', after: '26' }, status: { before: 'breach', after: 'exempt' } } }, 'the correction is audited with before and after')

  // Once someone has looked at it (acknowledged), the exemption stands on its own.
  const ack = await b.post(`/v1/alerts/${alerts[0].id}/ack`, { acknowledged_by: '收费处 王会计' })
  t.equal(ack.status, 200)
  const after = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(after.json.decision, 'ok')
  t.notOk(after.json.reasons.some((r: any) => r.code === 'admission_corrected'))
})

t.test('a correction that changes nothing about exemption raises nothing', async (t) => {
  const b = await build(t, { records })
  await admit(b, 'ZY1')
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  t.equal((await b.post('/v1/admissions', correction({ adm_dept_name: '神经内科', diseinfo: [{ diag_code: 'I63.900', diag_name: '脑梗死' }] }))).status, 200)
  t.equal((await b.post('/v1/admissions', correction({ adm_dept_name: '神经内科', med_type: '22' }))).status, 200)
  t.same(corrections(b), [], 'a department, a diagnosis or another non-单病种 type is no alert')
  const gate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(gate.json.decision, 'block')
  t.notOk(gate.json.reasons.some((r: any) => r.code === 'admission_corrected'))

  // A stay of a patient not on the list is not monitored: its medical type is no concern of the rule.
  await admit(b, 'ZY9', LATE)
  await charge(b, 'ZY9', [line('1', 100000, '03')])
  t.equal((await b.post('/v1/admissions', correction({ mdtrt_id: 'ZY9', certno: LATE, med_type: '26' }))).status, 200)
  t.same(corrections(b, 'ZY9'), [])
})

t.test('a stay corrected out of 单病种 names the change too, and a second correction is a new alert', async (t) => {
  const b = await build(t, { records, profile: byDisease })
  await admit(b, 'ZY1', POOR, { dise_codg: 'BZ0001' })
  await charge(b, 'ZY1', [line('1', 100000, '01'), line('2', 50000, '03')])
  t.equal((await b.post('/v1/admissions/ZY1/discharge-check', undefined)).json.status, 'exempt')
  t.equal((await b.post('/v1/admissions', correction({ dise_codg: '' }))).status, 200)
  const first = corrections(b)
  t.equal(first.length, 1)
  t.match(first[0].message, /按病种编码 BZ0001 → 无/)
  t.match(first[0].message, /豁免/)
  const gate = await b.post('/v1/admissions/ZY1/discharge-check', undefined)
  t.equal(gate.json.decision, 'block', 'the stay is over the limit again: the block stands')
  t.ok(gate.json.reasons.some((r: any) => r.code === 'admission_corrected'))

  await b.post(`/v1/alerts/${first[0].id}/ack`, { acknowledged_by: '收费处' })
  t.equal((await b.post('/v1/admissions', correction({ med_type: '26' }))).status, 200)
  const open = corrections(b).filter((a) => a.resolved_at === null && a.acknowledged_at === null)
  t.equal(open.length, 1, 'the acknowledged alert does not hide the new correction')
  t.match(open[0].message, /医疗类别 21 → 26/)
  t.equal((await b.post('/v1/admissions/ZY1/discharge-check', undefined)).json.decision, 'warn')
})
