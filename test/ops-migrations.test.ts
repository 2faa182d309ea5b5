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
    const response = JSON.stringify({ identities: [{ category: 'extreme_poverty', label: '特困人员', begntime: '2021-01-01 00:00:00', endtime: null, source: '民政', treat_first_pay_later: true }] })
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
}

for (let from = 0; from < NEWEST; from++) {
  t.test(`a database made at schema version ${from} migrates to ${NEWEST} and its data reads back through today's code`, async (t) => {
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
    if (from >= 2) t.ok(store.alerts.all().some((a) => a.kind === 'sync_failed'), 'alerts kept')
    if (from >= 4) {
      const signIn = await rules.signIn('王会计', 'an old but long password', '10.0.0.5')
      t.equal(signIn.user.name, '王会计', 'staff sign in with their old password')
    }
    t.ok((store.db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'admission.lookup'").pluck().get() as number) >= 1, 'the audit trail is kept')
  })
}

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
