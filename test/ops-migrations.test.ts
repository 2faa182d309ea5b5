// Upgrades: a database made by each earlier release's migrations (the real list, cut at each
// version), holding what that release stored, migrates to this release and reads back through
// today's repositories and rules. Built from `migrations` itself, so versions added later are
// covered without editing this file; the data for each table is written the way the release that
// created the table wrote it.
import t from 'tap'
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { certno, tempDir, testContext } from './helper.ts'
import { migrations } from '../agent/store/migrations.ts'
import { newestSchemaVersion, openDatabase, schemaVersion, migrate } from '../agent/store/db.ts'
import { openStore } from '../agent/store/store.ts'
import { keyFingerprint, personKey } from '../identity/subject-key.ts'
import { loadProfile } from '../profile/profile.ts'
import { createRules, type Actor } from '../agent/rules/index.ts'
import { hashPassword } from '../agent/rules/password.ts'

const KEY = Buffer.alloc(32, 7)
const PERSON = certno('45020619580312001')
const PK = personKey(KEY, '01', PERSON)
const TOKEN_ID = 'abcdefghij12'
const TOKEN_SECRET = 'S3cret-of-an-old-release-000000'
const CLERK: Actor = { kind: 'system', name: 'migration-test' }
const NEWEST = newestSchemaVersion()
/** Every schema an earlier release could leave: none yet, then each migration's version (numbers
 * are assigned per issue and may have gaps) below this release's. */
const EARLIER = [0, ...migrations.map((m) => m.version)].filter((v) => v < NEWEST).sort((a, b) => a - b)
/** What releases since the first answered at admission and kept: dialysis of 尿毒症 (附件1). */
const SEVERE = [{ group: '1', label: '尿毒症透析', codes: ['N18.5'] }]

/** Rows as the release at `version` wrote them: each table from the version that made it. */
async function fill (db: Database.Database, version: number): Promise<void> {
  const now = '2026-06-01T08:00:00.000Z'
  if (version >= 1) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('subject_key_fingerprint', ?)").run(keyFingerprint(KEY))
    db.prepare("INSERT INTO list_generation (gen, state, source, label, started_at, pid, rows) VALUES (1, 'active', 'import', 'old.xlsx', ?, NULL, 2)").run(now)
    const identities: Array<[number, string, string, string | null]> = [[0, 'extreme_poverty', '2021-01-01 00:00:00', null], [1, 'minimum_living', '2019-01-01 00:00:00', '2020-12-31 23:59:59']]
    for (const [n, category, begntime, endtime] of identities) {
      if (version >= 5) {
        db.prepare("INSERT INTO list_identity (gen, person_key, from_seq, n, to_seq, name_masked, category, begntime, endtime, source) VALUES (1, ?, 0, ?, NULL, '张*丰', ?, ?, ?, '民政')").run(PK, n, category, begntime, endtime)
      } else {
        db.prepare("INSERT INTO list_identity (gen, person_key, n, name_masked, category, begntime, endtime, source) VALUES (1, ?, ?, '张*丰', ?, ?, ?, '民政')").run(PK, n, category, begntime, endtime)
      }
    }
    db.prepare("UPDATE list_state SET active_gen = 1, version = 'import-1', source = 'import', demo = 0, person_count = 1, identity_count = 2, loaded_at = ? WHERE id = 1").run(new Date().toISOString())
    const response = JSON.stringify({ identities: [{ category: 'extreme_poverty', label: '特困人员', begntime: '2021-01-01 00:00:00', endtime: null, source: '民政', treat_first_pay_later: true }], severe_disease: SEVERE })
    db.prepare(`INSERT INTO admission (mdtrt_id, person_key, psn_cert_type, name_masked, begntime, med_type, adm_dept_codg, adm_dept_name, diagnoses,
      request_mac, response, treat_first_pay_later, primary_category, list_version, status, client, created_at, updated_at)
      VALUES ('ZY-OLD', ?, '01', '张*丰', '2026-05-30 09:00:00', '21', 'A03', '心血管内科', '[]', 'mac', ?, 1, 'extreme_poverty', 'import-1', 'open', 'his', ?, ?)`).run(PK, response, now, now)
    db.prepare("INSERT INTO audit (at, client, action, subject_key, mdtrt_id, decision) VALUES (?, 'his', 'admission.lookup', ?, 'ZY-OLD', 'granted')").run(now, PK.toString('hex'))
    db.prepare("INSERT INTO api_token (id, name, role, secret_hash, created_at) VALUES (?, 'his-vendor', 'his', ?, ?)").run(TOKEN_ID, createHash('sha256').update(TOKEN_SECRET).digest(), now)
  }
  if (version >= 2) {
    db.prepare("INSERT INTO sync_run (trigger, started_at, finished_at, result, message) VALUES ('cron', ?, ?, 'failed', 'registry unreachable')").run(now, now)
    db.prepare("INSERT INTO alert (created_at, kind, level, message) VALUES (?, 'sync_failed', 'warning', '名单同步失败')").run(now)
  }
  if (version >= 3) {
    // 9,000.00 yuan in the catalog and 1,200.00 outside it: a breach (11.8 % out of catalog).
    // From version 3 on, an admission was recorded together with its stay.
    db.prepare(`INSERT INTO stay (mdtrt_id, medfee_fen, in_catalog_fen, out_catalog_fen, line_count, monitored, monitored_since, monitored_reason, primary_category, updated_at)
      VALUES ('ZY-OLD', 1020000, 900000, 120000, 2, 1, ?, 'admission', 'extreme_poverty', ?)`).run(now, now)
    const ins = db.prepare(`INSERT INTO charge_line (mdtrt_id, feedetl_sn, fee_ocur_time, med_list_codg, med_list_name, chrgitm_lv, cnt, pric, amount_fen, out_fen, content_hash, client, created_at)
      VALUES ('ZY-OLD', ?, '2026-05-30 10:00:00', ?, ?, ?, '1', ?, ?, ?, ?, 'his', ?)`)
    ins.run('F1', 'XB01', '目录内药品', '02', '9000.00', 900000, 0, 'h1', now)
    ins.run('F2', 'C99', '自费材料', '03', '1200.00', 120000, 120000, 'h2', now)
  }
  if (version >= 4) {
    db.prepare("INSERT INTO staff_user (name, role, password_hash, created_at) VALUES ('王会计', 'billing', ?, ?)").run(await hashPassword('an old but long password'), now)
  }
  if (version >= 6) {
    // A lock of an address that is still running when the new release starts.
    db.prepare("INSERT INTO signin_failure (key, scope, address, name_key, failures, window_until, locked_until, expires_at) VALUES ('address:10.0.0.9', 'address', '10.0.0.9', NULL, 20, ?, ?, ?)")
      .run('2999-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')
  }
  if (version >= 8) {
    // From version 8 the stay keeps the serious diseases matched on all its diagnoses.
    db.prepare("UPDATE admission SET procedures = '[{\"oprn_oprt_code\":\"39.9500\",\"oprn_oprt_name\":\"血液透析\"}]' WHERE mdtrt_id = 'ZY-OLD'").run()
    db.prepare('UPDATE stay SET severe_disease = ? WHERE mdtrt_id = \'ZY-OLD\'').run(JSON.stringify(SEVERE))
  }
  if (version >= 9) {
    const amounts = { medfee_fen: 1020000, fulamt_fen: 120000, overlmt_fen: 0, preselfpay_fen: 0, inscp_fen: 900000, hifp_fen: 630000, hifmi_fen: 0, hifob_fen: 0, hifes_fen: 0, cvlserv_fen: 0, maf_fen: 150000, oth_fen: 0, fund_fen: 780000, psn_part_fen: 240000, acct_fen: 0, psn_cash_fen: 240000, hosp_part_fen: 0 }
    db.prepare(`INSERT INTO settlement (setl_id, mdtrt_id, person_key, setl_type, setl_time, year, ${Object.keys(amounts).join(', ')}, main_diag, drg_codg, monitored, before_discharge, content_hash, client, created_at)
      VALUES ('S-OLD', 'ZY-OLD', ?, 'final', '2026-05-31 16:00:00', 2026, ${Object.keys(amounts).map((k) => '@' + k).join(', ')}, 'N18', 'LR19', 1, 1, 'h', 'his', ?)`).run(PK, now, amounts)
    db.prepare("INSERT INTO person_ytd (person_key, psn_part_fen, medfee_fen, fulamt_fen, as_of) VALUES (?, 300000, 2000000, 100000, '2026-05-01')").run(PK)
    db.prepare("INSERT INTO drg_tariff (drg_codg, drg_name, pay_std_fen, imported_at, source) VALUES ('LR19', '慢性肾衰竭', 1500000, ?, 'tariff.xlsx')").run(now)
  }
}

t.same([...EARLIER, NEWEST], [0, ...migrations.map((m) => m.version).sort((a, b) => a - b)], 'every schema a release could leave is tried')

// This release's own schema too: its rows, as it writes them, read back after a reopen (and the
// checks for them run for every version after it without editing this file).
for (const from of [...EARLIER, NEWEST]) {
  const title = from === NEWEST
    ? `a database made at this release's schema version ${NEWEST} reopens as it is and its data reads back`
    : `a database made at schema version ${from} migrates to ${NEWEST} and its data reads back through today's code`
  t.test(title, async (t) => {
    const dataDir = tempDir(t)
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(join(dataDir, 'subject.key'), KEY.toString('hex') + '\n', { mode: 0o600 })
    // The release at `from`: its migrations only, its data.
    const old = openDatabase(dataDir, { migrations: migrations.filter((m) => m.version <= from) })
    t.equal(schemaVersion(old), from)
    await fill(old, from)
    old.close()

    const store = openStore(dataDir)
    t.teardown(() => store.close())
    t.equal(schemaVersion(store.db), NEWEST, 'migrated to this release')
    t.equal(store.db.pragma('integrity_check', { simple: true }), 'ok')
    t.equal((store.db.pragma('foreign_key_check') as unknown[]).length, 0, 'no broken reference')
    const rules = createRules(testContext(store, loadProfile('guangxi-liuzhou')))
    if (from === 0) {
      t.equal(store.list.state().active_gen, null, 'an empty database stays empty')
      return
    }
    const decision = await rules.checkEligibility(CLERK, { certno: PERSON, psn_cert_type: '01', at: '2026-06-01 10:00:00' })
    t.equal(decision.treat_first_pay_later, true, 'the person on the old list is still found')
    t.same(decision.identities.map((i) => i.category), ['extreme_poverty'], 'with the identity valid then')
    t.equal(store.tokens.verify(`fp_${TOKEN_ID}_${TOKEN_SECRET}`)?.name, 'his-vendor', 'the HIS token still works')
    const stay = rules.stayDetail('ZY-OLD')
    t.equal(stay.state, 'open')
    if (from >= 3) {
      t.equal(stay.totals.medfee_sumamt, 10200)
      t.equal(stay.totals.out_of_catalog_amt, 1200)
      t.equal(stay.status, 'breach', 'the stay keeps its totals and status')
      t.equal(stay.line_count, 2)
    } else {
      // Before the spending monitor, an admission became a stay with no charges at version 3.
      t.equal(stay.totals.medfee_sumamt, 0)
      t.equal(stay.monitored, true, 'monitored from its admission answer')
    }
    t.same(stay.severe_disease, SEVERE, 'the serious disease matched at admission is kept with the stay (copied by migration 8 when older)')
    if (from >= 6) t.ok(store.db.prepare("SELECT locked_until FROM signin_failure WHERE key = 'address:10.0.0.9'").pluck().get() === '2999-01-01T00:00:00.000Z', 'a running sign-in lock is kept')
    if (from >= 8) {
      t.equal(store.db.prepare("SELECT procedures FROM admission WHERE mdtrt_id = 'ZY-OLD'").pluck().get(), '[{"oprn_oprt_code":"39.9500","oprn_oprt_name":"血液透析"}]', 'the admission keeps its operations')
    } else {
      t.equal(store.db.prepare("SELECT procedures FROM admission WHERE mdtrt_id = 'ZY-OLD'").pluck().get(), '[]', 'an older admission has no operations recorded')
    }
    if (from >= 9) {
      const settled = store.settlements.forStay('ZY-OLD')
      t.same(settled.map((r) => [r.setl_id, r.setl_type, r.psn_part_fen, r.hifp_fen, r.cancelled_at]), [['S-OLD', 'final', 240000, 630000, null]], 'the settlement and its figures are kept')
      t.equal(store.settlements.personYear(PK, 2026).length, 1, 'and count for the person\'s year')
      t.equal(store.burden.ytd(PK)?.psn_part_fen, 300000, 'the registry\'s year-to-date figures are kept')
      t.equal(store.tariffs.get('LR19')?.pay_std_fen, 1500000, 'the DRG tariff is kept')
    } else {
      t.equal(store.settlements.forStay('ZY-OLD').length, 0)
      t.equal(store.tariffs.count(), 0)
    }
    if (from >= 2) t.ok(store.alerts.all().some((a) => a.kind === 'sync_failed'), 'alerts kept')
    if (from >= 4) {
      const signIn = await rules.signIn('王会计', 'an old but long password', '10.0.0.5')
      t.equal(signIn.user.name, '王会计', 'staff sign in with their old password')
    }
    t.ok((store.db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'admission.lookup'").pluck().get() as number) >= 1, 'the audit trail is kept')
  })
}

// Migration numbers are handed out per issue, and they land in the order the work is finished: 8
// and 9 shipped before 7. A database made by a release without a lower-numbered migration gets it at
// the upgrade, after its own higher ones; skipping it for being below MAX(version) would leave that
// database without the tables the code now uses.
t.test('a database made by a release that lacked a lower-numbered migration gets it at the upgrade', async (t) => {
  const late = migrations.find((m) => m.version === 7)
  if (late === undefined) {
    t.pass('no migration landed after a higher-numbered one')
    return
  }
  const dataDir = tempDir(t)
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(join(dataDir, 'subject.key'), KEY.toString('hex') + '\n', { mode: 0o600 })
  // The releases between 9 and 7's landing: every migration but 7.
  const old = openDatabase(dataDir, { migrations: migrations.filter((m) => m.version !== late.version && m.version <= 9) })
  t.equal(schemaVersion(old), 9)
  await fill(old, 9)
  old.close()

  const store = openStore(dataDir)
  t.teardown(() => store.close())
  const applied = store.db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()
  t.same(applied, migrations.map((m) => m.version).sort((a, b) => a - b), 'every migration is recorded, the late one too')
  t.equal(store.db.pragma('integrity_check', { simple: true }), 'ok')
  t.same(store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('catalog_state', 'catalog_generation', 'catalog_item') ORDER BY name").pluck().all(), ['catalog_generation', 'catalog_item', 'catalog_state'], 'the catalog tables of migration 7 exist')
  const rules = createRules(testContext(store, loadProfile('guangxi-liuzhou')))
  const stay = rules.stayDetail('ZY-OLD')
  t.equal(stay.totals.medfee_sumamt, 10200, 'the stay reads back through the code that uses migration 7')
  t.same(store.settlements.forStay('ZY-OLD').map((r) => r.setl_id), ['S-OLD'])
})

t.test('a database from a newer release is refused with a message naming both versions', async (t) => {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  store.db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(NEWEST + 3, 'a later release', new Date().toISOString())
  store.close()
  t.throws(() => openStore(dataDir), new RegExp(`schema version ${NEWEST + 3}, newer than this fangpin \\(schema version ${NEWEST}\\).*restore a backup taken before the upgrade`))
  const db = new Database(join(dataDir, 'fangpin.db'))
  t.teardown(() => db.close())
  t.throws(() => migrate(db, migrations), /schema version \d+, newer than this fangpin/)
  t.equal(schemaVersion(db), NEWEST + 3, 'and nothing was changed')
})
