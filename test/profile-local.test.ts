// A hospital's local settings: a file that `extends` a shipped profile and sets only what is local,
// named by FANGPIN_PROFILE; `fangpin profile check` and `fangpin profile show` for IT; and the
// agent started as IT starts it, warning about each missing setting until the file gives it.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fangpin, startAgent, tempDir } from './helper.ts'
import { loadProfile, ProfileError } from '../profile/profile.ts'

function file (t: Parameters<typeof tempDir>[0], data: unknown): string {
  const path = join(tempDir(t, 'fangpin-local-'), 'local.json')
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data))
  return path
}

const SHANXI_LOCAL = { extends: 'shanxi', name: '太原市某县医院', local: { treat_first_pay_later: ['extreme_poverty', 'minimum_living'], one_stop_city_opt_in: true } }

t.test('a local file keeps the shipped profile and changes only what it sets', async (t) => {
  const p = loadProfile(file(t, SHANXI_LOCAL))
  t.equal(p.id, 'shanxi')
  t.equal(p.kind, 'local')
  t.equal(p.hospitalName, '太原市某县医院')
  t.same(p.missingLocal, [])
  t.equal(p.categoryById.get('minimum_living')?.treat_first_pay_later, true)
  t.equal(p.categoryById.get('orphan')?.treat_first_pay_later, false)
  t.equal(p.categoryById.get('near_minimum_living')?.one_stop_settlement, true)
  t.same(p.burden.annual.map((a) => a.threshold.amount_fen), [600000, 2000000], 'the text\'s numbers are not the hospital\'s to change')
})

t.test('a local file cannot name a category the region does not have, a setting that does not exist, or an unshipped profile', async (t) => {
  const err = (data: unknown): string => {
    try { loadProfile(file(t, data)); return 'loaded' } catch (e) { if (e instanceof ProfileError) return e.message; throw e }
  }
  t.match(err({ extends: 'shanxi', local: { treat_first_pay_later: ['registered_poor'] } }), 'local.treat_first_pay_later names "registered_poor", which is not a category of this profile')
  t.match(err({ extends: 'shanxi', local: { out_of_catalog_limit: 0.1 } }), 'must NOT have additional properties (out_of_catalog_limit)')
  t.match(err({ extends: 'atlantis', local: {} }), 'unknown profile "atlantis"')
  t.match(err({ extends: 'zhejiang-quzhou', local: { out_of_catalog_max: 1.5 } }), 'out_of_catalog_max must be <= 1')
  t.match(err({ extends: 'zhejiang-quzhou', local: { annual_burden_fen: 12.5 } }), 'annual_burden_fen must be integer')
})

t.test('fangpin profile check: 0 complete, 2 valid with settings missing (each named), 65 invalid', async (t) => {
  const complete = await fangpin(['profile', 'check', file(t, SHANXI_LOCAL)], {})
  t.equal(complete.code, 0, complete.stderr)
  t.match(complete.stdout, 'local settings extending shanxi（太原市某县医院）')
  t.match(complete.stdout, 'local settings: complete')
  const partial = await fangpin(['profile', 'check', file(t, { extends: 'zhejiang-quzhou', local: { out_of_catalog_max: 0.1 } })], {})
  t.equal(partial.code, 2)
  t.match(partial.stdout, 'missing local settings (3;')
  t.match(partial.stdout, 'local.treat_first_pay_later:')
  t.match(partial.stdout, 'local.annual_burden_fen:')
  t.notMatch(partial.stdout, 'local.out_of_catalog_max:')
  const bad = await fangpin(['profile', 'check', file(t, '{ "extends": ')], {})
  t.equal(bad.code, 65)
  t.match(bad.stderr, 'invalid: profile')
  t.match(bad.stderr, 'is not valid JSON')
})

t.test('fangpin profile show prints each rule with its clause, defaulting to FANGPIN_PROFILE', async (t) => {
  const show = await fangpin(['profile', 'show'], { FANGPIN_PROFILE: 'shandong-wenshang' })
  t.equal(show.code, 0, show.stderr)
  t.match(show.stdout, '山东省济宁市汶上县（shandong-wenshang')
  t.match(show.stdout, '【一站式结算】')
  t.match(show.stdout, '依据：004_5dd05a6463dc1b61.txt 三(三)')
  t.match(show.stdout, '缺少的本地设置（2项')
  const gx = await fangpin(['profile', 'show', 'guangxi-liuzhou'], {})
  t.match(gx.stdout, '住院目录外费用占总费用超过10%即超标')
  t.match(gx.stdout, '超出部分由医院承担')
  t.match(gx.stdout, '本地设置：齐全')
  const unknown = await fangpin(['profile', 'show', 'atlantis'], {})
  t.equal(unknown.code, 78, 'a profile that does not exist is a configuration error')
  t.match(unknown.stderr, 'FANGPIN_PROFILE: unknown profile "atlantis"')
})

t.test('started on a shipped profile alone the agent warns per missing setting and raises one alert; given them, it resolves it', async (t) => {
  const dataDir = tempDir(t)
  const first = await startAgent(t, { FANGPIN_DATA_DIR: dataDir, FANGPIN_PROFILE: 'shanxi' })
  t.match(first.output(), 'local setting missing: local.treat_first_pay_later')
  t.match(first.output(), 'local setting missing: local.one_stop_city_opt_in')
  const degraded = await (await fetch(first.url + '/readyz')).json()
  t.same(degraded.local_settings_missing, ['treat_first_pay_later', 'one_stop_city_opt_in'])
  first.child.kill('SIGTERM')
  await new Promise((r) => first.child.once('exit', r))

  const second = await startAgent(t, { FANGPIN_DATA_DIR: dataDir, FANGPIN_PROFILE: file(t, SHANXI_LOCAL) })
  t.notMatch(second.output(), 'local setting missing')
  const ready = await (await fetch(second.url + '/readyz')).json()
  t.same(ready.local_settings_missing, [])
  second.child.kill('SIGTERM')
  await new Promise((r) => second.child.once('exit', r))
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(join(dataDir, 'fangpin.db'), { readonly: true })
  t.teardown(() => db.close())
  const rows = db.prepare("SELECT resolved_at FROM alert WHERE kind = 'local_setting_missing'").all() as Array<{ resolved_at: string | null }>
  t.equal(rows.length, 1, 'one alert for all the missing settings')
  t.not(rows[0].resolved_at, null, 'resolved once the settings are given')
})

t.test('a FANGPIN_PROFILE that names a bad file stops the start with the variable named', async (t) => {
  const res = await fangpin(['serve'], { FANGPIN_DATA_DIR: tempDir(t), FANGPIN_PORT: '0', FANGPIN_PROFILE: file(t, { extends: 'shanxi', local: { treat_first_pay_later: ['nobody'] } }) })
  t.equal(res.code, 78)
  t.match(res.stderr, 'fangpin cannot start, fix the configuration:')
  t.match(res.stderr, /FANGPIN_PROFILE=".*local\.json": profile shanxi: local\.treat_first_pay_later names "nobody"/)
})
