// The catalog as the county registry's second signed channel: published with the list's key
// (fangpin registry publish-catalog), served beside the list, synced by agents with the list's
// checks. A tampered, foreign, rolled-back or expired catalog manifest is refused and the catalog
// in service stays.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { loadProfile } from '../profile/profile.ts'
import { openStore } from '../agent/store/store.ts'
import { registryCommand } from '../registry/cli.ts'
import { startRegistryServer } from '../registry/serve.ts'
import { readPrivateKey, readPublicKey, signDocument, verifyDocument, type CatalogManifest } from '../registry/manifest.ts'
import { runCatalogSync } from '../agent/intake/catalog-sync.ts'
import { catalogManifestErrors } from '../registry/publish-catalog.ts'
import { keys } from './registry-fixture.ts'
import { build, tempDir, testContext } from './helper.ts'
import { admit, charge, line, records } from './charge-fixture.ts'
import { writeCsv } from './catalog-fixture.ts'

const profile = loadProfile('guangxi-liuzhou')

function io (): { out: { write: (s: string) => boolean }, err: { write: (s: string) => boolean }, text: () => string, env: NodeJS.ProcessEnv, stdin: NodeJS.ReadStream } {
  let text = ''
  const w = { write: (s: string) => { text += s; return true } }
  return { out: w, err: w, text: () => text, env: {}, stdin: process.stdin }
}

async function county (t: Parameters<typeof tempDir>[0]): Promise<{ dir: string, key: string, pub: string, catalog: string, vbp: string, publish: (...extra: string[]) => Promise<{ code: number, text: string }> }> {
  const base = tempDir(t)
  const keyDir = join(base, 'keys')
  const dir = join(base, 'www')
  const k = io()
  if (await registryCommand(['keygen', '--out', keyDir], k) !== 0) throw new Error(k.text())
  const catalog = join(base, 'catalog.csv')
  writeCsv(catalog, [
    ['med_list_codg', 'med_list_name', 'drug_genname', 'drug_dosform', 'chrgitm_lv', 'insu_admdvs'],
    ['XA', '甲药', '甲', '片剂', '01', '450000'],
    ['XC', '丙药', '甲', '片剂', '03', '450000']
  ])
  const vbp = join(base, 'vbp.csv')
  writeCsv(vbp, [['医保目录编码', '集采批次'], ['XA', '第七批']])
  const publish = async (...extra: string[]): Promise<{ code: number, text: string }> => {
    const o = io()
    const code = await registryCommand(['publish-catalog', '--from', catalog, '--vbp', vbp, '--out', dir, '--key', join(keyDir, 'registry.key'), '--region', '450206', ...extra], o)
    return { code, text: o.text() }
  }
  return { dir, key: join(keyDir, 'registry.key'), pub: join(keyDir, 'registry.pub'), catalog, vbp, publish }
}

t.test('publish-catalog writes a signed catalog manifest and file beside the list, and serve serves them and nothing else', async (t) => {
  const c = await county(t)
  const first = await c.publish()
  t.equal(first.code, 0, first.text)
  t.match(first.text, /published catalog 1 for region 450206 .*: 2 catalog rows, 1 集采中选 products/)
  const m = JSON.parse(readFileSync(join(c.dir, 'catalog-manifest.json'), 'utf8')) as CatalogManifest
  t.match(m, { channel: 'catalog', seq: 1, region: '450206', schema_version: 1, file: 'catalog-1.ndjson.gz', items: 2, vbp: 1, record_count: 3 })
  t.ok(verifyDocument(m, readPublicKey(c.pub)), 'signed with the registry key')
  t.same(catalogManifestErrors(m), [], 'it matches schemas/catalog-manifest.schema.json')
  t.same(catalogManifestErrors({ ...m, channel: 'list' }), ['/channel must be equal to constant'])
  const bytes = readFileSync(join(c.dir, m.file))
  t.equal(bytes.length, m.size)
  t.equal(createHash('sha256').update(bytes).digest('hex'), m.sha256)
  t.notOk(existsSync(join(c.dir, 'manifest.json')), 'the list channel is not touched')

  const server = await startRegistryServer(c.dir, { port: 0 })
  t.teardown(server.close)
  const get = async (path: string): Promise<{ status: number, headers: Record<string, unknown> }> => {
    const r = await request(server.url + path)
    await r.body.dump()
    return { status: r.statusCode, headers: r.headers }
  }
  const man = await get('/catalog-manifest.json')
  t.equal(man.status, 200)
  t.equal(man.headers['content-type'], 'application/json')
  t.equal(man.headers['cache-control'], 'no-cache', 'the manifest is revalidated')
  const data = await get('/catalog-1.ndjson.gz')
  t.equal(data.status, 200)
  t.equal(data.headers['cache-control'], 'public, max-age=31536000, immutable')
  for (const path of ['/catalog-manifest.json/', '/catalog-1.ndjson.gz.tmp', '/catalog-.ndjson.gz', '/catalog-1.ndjson', '/CATALOG-MANIFEST.JSON', '/registry.key', '/catalog-manifest.json%00']) {
    t.equal((await get(path)).status, 404, path)
  }

  t.equal((await c.publish()).code, 0)
  t.equal((await c.publish()).code, 0)
  t.notOk(existsSync(join(c.dir, 'catalog-1.ndjson.gz')), 'files older than the previous publish are removed')
  t.ok(existsSync(join(c.dir, 'catalog-2.ndjson.gz')), 'the previous one stays for agents still downloading it')
  writeCsv(join(c.dir, '..', 'map.csv'), [['medins_list_codg', 'med_list_codg'], ['H1', 'XA']])
  const o = io()
  t.equal(await registryCommand(['publish-catalog', '--from', join(c.dir, '..', 'map.csv'), '--out', c.dir, '--key', c.key], o), 1)
  t.match(o.text(), /is a hospital's code mapping: each hospital imports its own/)
})

t.test('an agent syncs the catalog channel with the registry key: updated, then unchanged', async (t) => {
  const c = await county(t)
  t.equal((await c.publish()).code, 0)
  const server = await startRegistryServer(c.dir, { port: 0 })
  t.teardown(server.close)
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  const ctx = testContext(store, profile)
  const opts = { ctx, url: server.url, publicKey: readPublicKey(c.pub) }
  const r = await runCatalogSync(opts)
  t.match(r, { result: 'updated', seq_before: null, seq_after: 1 })
  const s = store.catalog.state()
  t.match(s, { source: 'registry', seq: 1, region: '450206', version: 'registry-1', item_count: 2, vbp_count: 1, sync_result: 'updated' })
  const gen = store.catalog.serving()!
  t.equal(store.catalog.levelRows(gen.item_gen, 'XC', ['450206', '450200', '450000', ''])[0].lv, '03')
  t.equal(store.catalog.vbpRows(gen.vbp_gen!, 'XA').length, 1)
  t.match(await runCatalogSync(opts), { result: 'unchanged', message: 'catalog 1 is current' })
  t.equal(store.db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'catalog.sync'").pluck().get(), 1, 'the load is audited')
})

t.test('a tampered catalog manifest is refused and the old catalog stays; so are a foreign key, a rollback, an expired manifest and a file that does not match', async (t) => {
  const c = await county(t)
  t.equal((await c.publish()).code, 0)
  const server = await startRegistryServer(c.dir, { port: 0 })
  t.teardown(server.close)
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  const opts = { ctx: testContext(store, profile), url: server.url, publicKey: readPublicKey(c.pub) }
  t.equal((await runCatalogSync(opts)).result, 'updated')
  const serving = store.catalog.serving()!.item_gen
  t.equal((await c.publish()).code, 0)
  const file = join(c.dir, 'catalog-manifest.json')
  const good = JSON.parse(readFileSync(file, 'utf8')) as CatalogManifest
  const privateKey = readPrivateKey(c.key)
  const refusedWith = async (m: unknown, pattern: RegExp, what: string): Promise<void> => {
    writeFileSync(file, JSON.stringify(m))
    const r = await runCatalogSync(opts)
    t.equal(r.result, 'failed', what)
    t.match(r.message, pattern, what)
    t.equal(store.catalog.serving()!.item_gen, serving, `${what}: the old catalog stays`)
    t.equal(store.catalog.state().seq, 1)
  }
  await refusedWith({ ...good, items: 1, vbp: 2 }, /signature does not verify/, 'a manifest changed after signing')
  const alert = store.db.prepare("SELECT level, message FROM alert WHERE kind = 'catalog_sync_failed' AND resolved_at IS NULL").get() as { level: string, message: string }
  t.match(alert, { level: 'warning', message: /医保目录同步失败，仍使用目录版本registry-1：the catalog manifest signature does not verify/ }, 'an alert says why')
  await refusedWith(signDocument({ ...good }, keys().privateKey), /signature does not verify/, 'a manifest signed with another key')
  const { channel: _c, ...listLike } = good
  await refusedWith(signDocument(listLike, privateKey), /not a fangpin catalog manifest/, 'a document of another channel')
  await refusedWith(signDocument({ ...good, seq: 0 }, privateKey), /older than the loaded 1: refused \(rollback\)/, 'a rollback')
  await refusedWith(signDocument({ ...good, expires_at: '2020-01-01T00:00:00Z' }, privateKey), /expired/, 'an expired manifest')
  await refusedWith(signDocument({ ...good, file: '../manifest.json' }, privateKey), /unexpected file/, 'a file outside the directory')
  await refusedWith(signDocument({ ...good, sha256: '0'.repeat(64) }, privateKey), /sha256 .* does not match/, 'a file that does not match its signed sha256')

  writeFileSync(file, JSON.stringify(good))
  t.match(await runCatalogSync(opts), { result: 'updated', seq_after: 2 }, 'the real manifest again')
  t.equal(store.db.prepare("SELECT COUNT(*) FROM alert WHERE kind = 'catalog_sync_failed' AND resolved_at IS NULL").pluck().get(), 0, 'the alert is resolved')
})

t.test('a registry that publishes no catalog: the sync says so, changes nothing and raises nothing', async (t) => {
  const dir = tempDir(t)
  const server = await startRegistryServer(dir, { port: 0 })
  t.teardown(server.close)
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  const r = await runCatalogSync({ ctx: testContext(store, profile), url: server.url, publicKey: keys().publicKey })
  t.match(r, { result: 'absent', message: 'the registry publishes no catalog' })
  t.equal(store.catalog.serving(), null)
  t.equal(store.db.prepare('SELECT COUNT(*) FROM alert').pluck().get(), 0)
})

t.test('an agent configured with the registry runs the catalog channel beside the list and classifies lines with what it loaded', async (t) => {
  const c = await county(t)
  t.equal((await c.publish()).code, 0)
  const server = await startRegistryServer(c.dir, { port: 0 })
  t.teardown(server.close)
  const b = await build(t, { records, env: { FANGPIN_REGISTRY_URL: server.url, FANGPIN_REGISTRY_PUBKEY: c.pub } })
  t.match(await b.app.catalogSync.run('test'), { result: 'updated', seq_after: 1 })
  t.match(b.app.rules.catalogStatus(), { loaded: true, source: 'registry', seq: 1, vbp: 1, last_sync: { result: 'updated' } })
  await admit(b, 'ZY-REG-1')
  const l = line('C1', 12000, '01', { med_list_codg: 'XC' })
  delete l.chrgitm_lv
  const res = await charge(b, 'ZY-REG-1', [l])
  t.match(res.json.lines, [{ level_source: 'catalog', chrgitm_lv: '03', med_list_codg: 'XC' }])
  t.equal(res.json.totals.out_of_catalog_amt, 120)
})
