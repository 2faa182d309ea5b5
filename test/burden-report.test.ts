// The monthly burden list: the people over their annual threshold as of the month's end and the stays
// below the reimbursement targets, on the staff API (JSON, xlsx, csv) and from `fangpin report burden`;
// names masked, ID numbers never, producing it audited.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { region, admitAs, listed, patient } from './region-fixture.ts'
import { settleFinal } from './settlement-fixture.ts'
import { fangpin, tempDir, SETUP, type Built } from './helper.ts'

async function ward (t: Parameters<typeof region>[0]): Promise<Built> {
  const b = await region(t, 'guangxi-liuzhou', [listed(1, ['out_of_poverty']), listed(2, ['marginal_at_risk']), listed(3, ['out_of_poverty'])])
  // Over the threshold in October (5,000 and 自费 20 %), below the 90 % target in November.
  await admitAs(b, 'OCT1', 1, { begntime: '2026-10-05 09:00:00', psn_name: '张三丰' })
  await settleFinal(b, 'OCT1', 'OCT1-F', '2026-10-10 10:00:00', { medfee: 20_000_00, fulamt: 4_000_00, fund: 15_000_00 })
  await admitAs(b, 'NOV1', 2, { psn_name: '李四' })
  await settleFinal(b, 'NOV1', 'NOV1-F', '2026-11-25 10:00:00', { medfee: 10_000_00, fund: 8_000_00 })
  await admitAs(b, 'NOV2', 3, { psn_name: '王五' })
  await settleFinal(b, 'NOV2', 'NOV2-F', '2026-11-26 10:00:00', { medfee: 30_000_00, fulamt: 5_000_00, fund: 20_000_00 })
  await b.app.rules.addStaff(SETUP, { name: '王会计', role: 'billing', password: 'correct horse 1' })
  return b
}

async function cookieFor (b: Built): Promise<Record<string, string>> {
  const res = await fetch(b.url + '/staff/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '王会计', password: 'correct horse 1' }) })
  return { cookie: res.headers.get('set-cookie')!.split(';')[0], authorization: '' }
}

t.test('the month\'s list has everyone over the threshold by its end, the month\'s new ones marked, and the stays below target', async (t) => {
  const b = await ward(t)
  const as = await cookieFor(b)
  const nov = await b.get('/staff/api/burden?month=2026-11', as)
  t.equal(nov.status, 200)
  t.same(nov.json.over_threshold.map((o: any) => [o.mdtrt_id, o.name_masked, o.crossed_this_month]), [['OCT1', '张*丰', false], ['NOV2', '王*', true]])
  t.equal(nov.json.over_threshold[1].ytd_psn_part_amt, 10000)
  t.same(nov.json.below_target.map((x: any) => x.mdtrt_id), ['NOV1'])
  const oct = await b.get('/staff/api/burden?month=2026-10', as)
  t.same(oct.json.over_threshold.map((o: any) => o.mdtrt_id), ['OCT1'])
  t.same(oct.json.below_target, [])
  t.equal((await b.get('/staff/api/burden?month=2026-13', as)).status, 400)
  t.equal((await b.get('/staff/api/burden?month=2026-11')).status, 401, 'an HIS token is not a staff session')
  const audited = b.store.db.prepare("SELECT client FROM audit WHERE action = 'report.burden'").all() as any[]
  t.same(audited.map((a) => a.client), ['staff:王会计', 'staff:王会计'])
})

t.test('the download is a workbook with one sheet per list, and a CSV Excel opens, with no ID number in either', async (t) => {
  const b = await ward(t)
  const as = await cookieFor(b)
  const x = await fetch(b.url + '/staff/api/reports/burden.xlsx?month=2026-11', { headers: as })
  t.equal(x.status, 200)
  t.match(x.headers.get('content-disposition'), 'attachment; filename="burden-2026-11.xlsx"')
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(Buffer.from(await x.arrayBuffer()) as any)
  t.same(wb.worksheets.map((w) => w.name), ['年度负担超预警线', '报销未达目标'])
  t.equal(wb.worksheets[0].getRow(3).getCell(1).value, 'OCT1')
  t.equal(wb.worksheets[1].getRow(3).getCell(2).value, '李*')
  t.match(String(wb.worksheets[1].getRow(3).getCell(8).value), '住院合规费用报销比例')
  const c = await fetch(b.url + '/staff/api/reports/burden.csv?month=2026-11', { headers: as })
  const bytes = Buffer.from(await c.arrayBuffer())
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM so Excel reads UTF-8')
  const csv = bytes.subarray(3).toString('utf8')
  t.ok(csv.startsWith('清单,住院号'))
  t.match(csv, '年度负担超预警线,NOV2,王*')
  for (const n of [1, 2, 3]) t.notOk(csv.includes(patient(n)), 'no ID number')
})

t.test('fangpin report burden prints the month\'s counts and writes the file atomically', async (t) => {
  const b = await ward(t)
  const out = join(tempDir(t), 'nov.csv')
  const r = await fangpin(['report', 'burden', '--month', '2026-11', '--out', out], { FANGPIN_DATA_DIR: b.config.dataDir, FANGPIN_PROFILE: 'guangxi-liuzhou' })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, '2026-11: 2 people over their annual threshold (1 new this month), 1 stays below the reimbursement targets')
  t.match(readFileSync(out, 'utf8'), '报销未达目标,NOV1,李*')
  const bad = await fangpin(['report', 'burden', '--month', '2026-11', '--out', join(tempDir(t), 'x.pdf')], { FANGPIN_DATA_DIR: b.config.dataDir })
  t.equal(bad.code, 64)
})
