// Importing the insurance catalog: files as 医保 offices and HIS vendors exchange them (national
// field names or Chinese names, csv in UTF-8 or GBK, xlsx, the platform's headerless downloads),
// the row report, all or nothing, and generations swapped atomically.
import t from 'tap'
import { join } from 'node:path'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadProfile } from '../profile/profile.ts'
import { openStore } from '../agent/store/store.ts'
import { readCatalogFile } from '../catalog/read-catalog.ts'
import { importCatalog, CatalogImportRejected } from '../agent/intake/catalog-import.ts'
import { SETUP, tempDir, testContext, fangpin } from './helper.ts'
import { downloadLine, item, loadCatalog, writeCsv, writeXlsx } from './catalog-fixture.ts'

const profile = loadProfile('guangxi-liuzhou')

const NATIONAL = ['med_list_codg', 'med_list_name', 'drug_genname', 'genname_codg', 'drug_dosform', 'drug_spec', 'chrgitm_lv', 'insu_admdvs', 'begndate', 'enddate', 'vali_flag', 'hi_nego_drug_flag', 'bas_medn_flag', 'lmt_used_flag', 'hilist_pric_uplmt_amt', 'selfpay_prop']
const CHINESE = ['医保目录编码', '医保目录名称', '通用名', '通用名编号', '剂型', '规格', '收费项目等级', '医保区划', '开始日期', '结束日期', '有效标志', '国家谈判', '基本药物', '限制使用标志', '限价(元)', '自付比例']
const ROWS = [
  ['XJ01DDA117B002010100001', '注射用头孢曲松钠', '头孢曲松钠', 'GCEF01', '注射剂', '1g', '02', '450000', '2024-01-01', '', '1', '0', '1', '0', '2.35', '0.1'],
  ['XJ01DDA117B002010100001', '注射用头孢曲松钠', '头孢曲松钠', 'GCEF01', '注射剂', '1g', '03', '450200', '2024-01-01', '2026-12-31', '1', '0', '1', '0', '', ''],
  ['001101000010000', '一般诊疗费', '', '', '', '', '01', '', '2020-01-01', '', '1', '0', '0', '0', '10', '']
]

t.test('a catalog with the platform\'s field names (csv) and one with their Chinese names (xlsx) read to the same items', async (t) => {
  const dir = tempDir(t)
  writeCsv(join(dir, 'national.csv'), [NATIONAL, ...ROWS])
  await writeXlsx(join(dir, '目录.xlsx'), [CHINESE, ...ROWS], '广西壮族自治区基本医疗保险药品目录（2026年版）')
  const csv = await readCatalogFile(join(dir, 'national.csv'))
  const xlsx = await readCatalogFile(join(dir, '目录.xlsx'))
  t.same(csv.problems, [])
  t.same(xlsx.problems, [], 'a title row above the header is skipped')
  t.equal(csv.kind, 'items')
  t.equal(csv.items.length, 3)
  t.same(xlsx.items, csv.items, 'the same items either way')
  const [province, city, service] = csv.items
  t.match(province, { code: 'XJ01DDA117B002010100001', lv: '02', insu_admdvs: '450000', begndate: '2024-01-01 00:00:00', enddate: null, genname: '头孢曲松钠', genname_codg: 'GCEF01', dosform: '注射剂', bas: true, nego: false, price_cap_fen: 235, selfpay_prop: '0.1', item_type: 'drug' })
  t.match(city, { lv: '03', insu_admdvs: '450200', enddate: '2026-12-31 23:59:59' }, 'a date-only end covers its whole day')
  t.match(service, { code: '001101000010000', lv: '01', insu_admdvs: '', item_type: 'service', price_cap_fen: 1000 }, 'a blank region is nationwide')
})

t.test('a GBK CSV with Chinese headers is read, the encoding found from the bytes', async (t) => {
  const dir = tempDir(t)
  writeCsv(join(dir, 'gbk.csv'), [CHINESE, ...ROWS], 'gbk')
  t.not(readFileSync(join(dir, 'gbk.csv')).toString('utf8'), readFileSync(join(dir, 'gbk.csv')).toString('latin1'), 'the file is not ASCII')
  const r = await readCatalogFile(join(dir, 'gbk.csv'))
  t.same(r.problems, [])
  t.equal(r.format, 'csv')
  t.same(r.items.map((i) => [i.name, i.genname, i.lv]), [['注射用头孢曲松钠', '头孢曲松钠', '02'], ['注射用头孢曲松钠', '头孢曲松钠', '03'], ['一般诊疗费', null, '01']])
})

t.test('bad rows are reported by row, column and reason and nothing is loaded; --allow-partial loads the good rows', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  t.teardown(() => store.close())
  const ctx = testContext(store, profile)
  await loadCatalog(store, { items: [item('OLD1')] })
  const file = join(dir, 'bad.csv')
  writeCsv(file, [NATIONAL,
    ROWS[0],
    ['X2', '甲', '', '', '', '', '04', '450000', '2024-01-01', '', '1', '0', '0', '0', '', ''],
    ['X3', '乙', '', '', '', '', '02', '4502', '2024-13-01', '', '2', '0', '0', '0', '12.3.4', ''],
    ['', '无编码', '', '', '', '', '01', '', '', '', '1', '0', '0', '0', '', ''],
    ['X4', '丁', '', '', '', '', '01', '', '2025-01-01', '2024-01-01', '1', '0', '0', '0', '', ''],
    ['X5', '戊', '', '', '', '', '01', '', '', '', '1', '0', '0', '0', '', ''],
    ['X5', '戊', '', '', '', '', '03', '', '', '', '1', '0', '0', '0', '', '']
  ])
  const rejected = await importCatalog(ctx, SETUP, { files: [file] }).catch((e: unknown) => e)
  t.ok(rejected instanceof CatalogImportRejected, 'the import is refused')
  const problems = (rejected as CatalogImportRejected).files[0].problems
  const by = (row: number): string[] => problems.filter((p) => p.row === row).map((p) => `${p.column}: ${p.reason}`)
  t.match(by(3), [/chrgitm_lv: 收费项目等级应为01/])
  t.match(by(4).join('\n'), /insu_admdvs: 医保区划应为6位数字/)
  t.match(by(4).join('\n'), /begndate: /)
  t.match(by(4).join('\n'), /vali_flag: 应为1或0/)
  t.match(by(4).join('\n'), /hilist_pric_uplmt_amt: 限价应为金额/)
  t.match(by(5), [/med_list_codg: 缺少医保目录编码/])
  t.match(by(6), [/enddate: 结束日期早于开始日期/])
  t.match(by(8), [/med_list_codg: 与第7行的编码、区划和开始日期相同但内容不同/])
  t.ok(existsSync((rejected as CatalogImportRejected).files[0].reportFile!), 'a CSV report is written beside the file')
  t.equal(store.catalog.state().version, 'import-1', 'the catalog in service is the old one')
  t.same(store.catalog.levelRows(store.catalog.serving()!.item_gen, 'OLD1', ['']).length, 1)
  t.equal(store.db.prepare("SELECT decision FROM audit WHERE action = 'catalog.import'").pluck().get(), 'rejected', 'the refusal is audited')

  const partial = await importCatalog(ctx, SETUP, { files: [file] }, { allowPartial: true })
  t.equal(partial.load.items, 2, 'the good rows: the first and X5\'s first')
  t.same(partial.files[0].badRows, 5)
  const gen = store.catalog.serving()!.item_gen
  t.equal(store.catalog.anyRow(gen, 'OLD1'), undefined, 'the new catalog replaced the old one')
  t.equal(store.catalog.anyRow(gen, 'X5')?.lv, '01')
})

t.test('a mapping and a 集采中选 list are recognised by their headers, or read as told', async (t) => {
  const dir = tempDir(t)
  writeCsv(join(dir, 'map.csv'), [['医疗机构目录编码', '医保目录编码', '开始日期', '有效标志'], ['H001', 'XJ01DDA117B002010100001', '2024-01-01', '1'], ['H002', '001101000010000', '', '']])
  writeCsv(join(dir, 'vbp.csv'), [['医保目录编码', '药品名称', '集采批次', '执行日期'], ['XA01', '阿莫西林胶囊', '第三批', '2021-02-01']])
  writeCsv(join(dir, 'vbp-plain.csv'), [['med_list_codg', 'med_list_name'], ['XA02', '阿莫西林片']])
  const m = await readCatalogFile(join(dir, 'map.csv'))
  t.equal(m.kind, 'mapping')
  t.same(m.mappings.map((x) => [x.medins_list_codg, x.med_list_codg, x.begndate, x.vali_flag]), [['H001', 'XJ01DDA117B002010100001', '2024-01-01 00:00:00', true], ['H002', '001101000010000', '1900-01-01 00:00:00', true]])
  const v = await readCatalogFile(join(dir, 'vbp.csv'))
  t.equal(v.kind, 'vbp', 'a 集采批次 column makes it a 集采 list')
  t.same(v.vbp, [{ code: 'XA01', name: '阿莫西林胶囊', batch: '第三批', begndate: '2021-02-01 00:00:00', enddate: null }])
  t.equal((await readCatalogFile(join(dir, 'vbp-plain.csv'))).kind, 'items', 'without a mark, a code and a name are catalog items')
  t.equal((await readCatalogFile(join(dir, 'vbp-plain.csv'), { kind: 'vbp' })).vbp[0].code, 'XA02', '--vbp reads it as the 集采 list')
  const notMapping = await readCatalogFile(join(dir, 'vbp-plain.csv'), { kind: 'mapping' })
  t.match(notMapping.problems, [{ reason: /对照文件须有医药机构目录编码/ }], '--mapping needs the hospital\'s code column')
})

t.test('the platform\'s headerless 1301 and 1305 downloads are read by position; another column count is refused', async (t) => {
  const dir = tempDir(t)
  // 1301: 0 code, 1 商品名, 2 通用名编号, 3 通用名, 9/10 剂型, 13 规格, 36/37 dates, 57 限制使用, 70 基本药物, 74 谈判, 78 有效, 91 甲乙类
  const drug = downloadLine(92, { 0: 'XJ01DDA117B002010100001', 1: '罗氏芬', 2: 'GCEF01', 3: '头孢曲松钠', 9: 'ZSJ', 10: '注射剂', 13: '1g', 36: '2020-01-01', 37: '', 57: '0', 70: '1', 74: '0', 78: '1', 91: '乙类' })
  writeFileSync(join(dir, '1301.txt'), drug + '\n')
  const r1301 = await readCatalogFile(join(dir, '1301.txt'))
  t.same(r1301.problems, [])
  t.equal(r1301.layout, '1301')
  t.match(r1301.items[0], { code: 'XJ01DDA117B002010100001', prodname: '罗氏芬', name: '罗氏芬', genname_codg: 'GCEF01', genname: '头孢曲松钠', dosform: 'ZSJ', dosform_name: '注射剂', spec: '1g', lv: '02', insu_admdvs: '', bas: true, item_type: 'drug' })
  // 1305: 0 code, 6 有效标志, 9 名称, 11/12 dates
  writeFileSync(join(dir, '1305.txt'), downloadLine(16, { 0: '001101000010000', 6: '1', 9: '一般诊疗费', 11: '2020-01-01' }) + '\n' + downloadLine(16, { 0: '001102000010000', 6: '0', 9: '急诊诊查费', 11: '2020-01-01' }) + '\n')
  const r1305 = await readCatalogFile(join(dir, '1305.txt'))
  t.equal(r1305.layout, '1305')
  t.same(r1305.items.map((i) => [i.code, i.name, i.item_type, i.lv, i.vali_flag]), [['001101000010000', '一般诊疗费', 'service', null, true], ['001102000010000', '急诊诊查费', 'service', null, false]], 'a service download gives no level')
  writeFileSync(join(dir, 'other.txt'), downloadLine(93, { 0: 'XJ01DDA117B002010100001' }) + '\n')
  const other = await readCatalogFile(join(dir, 'other.txt'))
  t.equal(other.items.length, 0)
  t.match(other.problems, [{ reason: /1301 西药中成药目录92列/ }], 'the message names the layouts it knows')
})

t.test('a load replaces the catalog atomically: the old one serves until the flip, a stopped load leaves it serving, abandoned rows are purged', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  t.teardown(() => store.close())
  await loadCatalog(store, { items: [item('X1', { lv: '01' })] })
  const old = store.catalog.serving()!.item_gen
  const many = Array.from({ length: 5000 }, (_, i) => item(`N${String(i).padStart(5, '0')}`, { lv: '02' }))
  many.push(item('X1', { lv: '03' }))
  const seen: Array<{ gen: number, lv: string | null | undefined }> = []
  const load = store.catalog.replace({ items: many }, { source: 'import', label: 'big' }, {
    onProgress: () => {
      const s = store.catalog.serving()!
      seen.push({ gen: s.item_gen, lv: store.catalog.levelRows(s.item_gen, 'X1', [''])[0]?.lv })
    }
  })
  await load
  t.ok(seen.length >= 2, 'the load went in chunks')
  t.ok(seen.every((s) => s.gen === old && s.lv === '01'), 'between chunks, lookups see the old catalog whole')
  const now = store.catalog.serving()!
  t.not(now.item_gen, old)
  t.equal(store.catalog.levelRows(now.item_gen, 'X1', [''])[0].lv, '03', 'after the flip, the new one')
  t.equal(store.db.prepare('SELECT COUNT(*) FROM catalog_item WHERE gen = ?').pluck().get(old), 0, 'the old rows are gone')

  const stop = new AbortController()
  const stopped = await store.catalog.replace({ items: many.map((i) => ({ ...i, lv: '01' as const })) }, { source: 'import', label: 'stopped' }, {
    signal: stop.signal,
    onProgress: () => stop.abort(new Error('shutting down'))
  }).catch((e: unknown) => e)
  t.match(stopped, /shutting down/)
  t.equal(store.catalog.serving()!.item_gen, now.item_gen, 'a stopped load leaves the catalog in service')
  t.equal(store.db.prepare('SELECT COUNT(*) FROM catalog_item WHERE gen <> ?').pluck().get(now.item_gen), 0, 'and its rows are purged')

  // A load cut off by a crash leaves a 'loading' generation of a dead process: the next load purges it.
  store.db.prepare("INSERT INTO catalog_generation (gen, part, state, source, label, started_at, pid) VALUES (900, 'items', 'loading', 'import', 'crashed', '2026-01-01', 999999999)").run()
  store.db.prepare("INSERT INTO catalog_item (gen, code, insu_admdvs, admdvs_rank, begndate, vali_flag, lmt_used, nego, bas) VALUES (900, 'GHOST', '', 0, '1900-01-01 00:00:00', 1, 0, 0, 0)").run()
  await store.catalog.replace({ mappings: [{ medins_list_codg: 'H1', med_list_codg: 'X1', name: null, begndate: '1900-01-01 00:00:00', enddate: null, vali_flag: true }] }, { source: 'import', label: 'map' })
  t.equal(store.db.prepare("SELECT COUNT(*) FROM catalog_item WHERE code = 'GHOST'").pluck().get(), 0, 'the abandoned generation is gone')
  t.equal(store.catalog.serving()!.item_gen, now.item_gen, 'loading a mapping keeps the items')
  t.equal(store.catalog.serving()!.map_gen !== null, true)
})

t.test('fangpin catalog import: the row report and exit 2 on a bad file, exit 0 and the status on a good one', async (t) => {
  const dir = tempDir(t)
  const env = { FANGPIN_DATA_DIR: join(dir, 'data') }
  writeCsv(join(dir, 'bad.csv'), [NATIONAL, ['X2', '甲', '', '', '', '', '04', '', '', '', '1', '0', '0', '0', '', '']])
  writeCsv(join(dir, 'good.csv'), [NATIONAL, ...ROWS])
  writeCsv(join(dir, 'map.csv'), [['medins_list_codg', 'med_list_codg'], ['H001', 'XJ01DDA117B002010100001']])
  const bad = await fangpin(['catalog', 'import', join(dir, 'bad.csv')], env)
  t.equal(bad.code, 2, bad.stderr)
  t.match(bad.stderr, /第2行 chrgitm_lv: 收费项目等级应为01/)
  t.match(bad.stderr, /nothing was loaded/)
  const good = await fangpin(['catalog', 'import', join(dir, 'good.csv'), '--mapping', join(dir, 'map.csv')], env)
  t.equal(good.code, 0, good.stderr)
  t.match(good.stdout, /loaded items, mapping: 3 catalog rows of 2 codes, 1 mapping rows/)
  const status = await fangpin(['catalog', 'status'], env)
  t.match(status.stdout, /3 rows of 2 codes, 1 mapping rows, 0 集采中选 products; region 450206/)
})
