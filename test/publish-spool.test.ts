// A province publishes millions of people: the publisher sorts on disk in batches and merges them,
// so what it writes must be exactly what an in-memory sort would write, whatever the batch size.
import t from 'tap'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { join } from 'node:path'
import { syntheticCertno, tempDir } from './helper.ts'
import { publish, PublishList } from '../registry/publish.ts'
import { registryCommand } from '../registry/cli.ts'
import type { ListRecord } from '../lists/list-record.ts'

function person (who: string, category: string): ListRecord {
  return { op: 'upsert', certno: who, psn_cert_type: '01', psn_name: '某某', identities: [{ category, begntime: '2020-01-01 00:00:00', endtime: null, source: null }] }
}

function published (dir: string, file: string): Array<Record<string, unknown>> {
  return gunzipSync(readFileSync(join(dir, file))).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

t.test('a list sorted in many small batches on disk publishes the same sorted files, and leaves no run behind', async (t) => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const people = Array.from({ length: 3000 }, (_, i) => person(syntheticCertno((i * 7919) % 3000), 'minimum_living'))
  const spillDir = tempDir(t)
  const list = new PublishList({ tmpDir: spillDir, batchChars: 20_000 })
  for (const p of people) await list.add(p)
  const out = join(tempDir(t), 'www')
  const r = await publish({ records: list, outDir: out, privateKey, region: '450206' })
  t.equal(r.manifest.record_count, 3000)
  const certnos = published(out, r.manifest.file).map((x) => x.certno as string)
  t.same(certnos, people.map((p) => p.certno).sort(), 'every person once, in certificate-number order')
  t.same(readdirSync(spillDir), [], 'the run files are removed')

  // the next publish merges against this one: 10 changed, 5 gone
  const next = new PublishList({ tmpDir: spillDir, batchChars: 20_000 })
  for (let i = 5; i < 3000; i++) await next.add(person(syntheticCertno(i), i < 15 ? 'orphan' : 'minimum_living'))
  const d = await publish({ records: next, outDir: out, privateKey, region: '450206' })
  t.equal(d.manifest.kind, 'delta')
  t.equal(d.upserts, 10)
  t.equal(d.deletes, 5)
})

t.test('a person twice in different batches is found; the CLI reports both lines of an NDJSON file and publishes nothing', async (t) => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const list = new PublishList({ tmpDir: tempDir(t), batchChars: 5_000 })
  for (let i = 0; i < 500; i++) await list.add(person(syntheticCertno(i), 'minimum_living'), i + 1)
  await list.add(person(syntheticCertno(7), 'orphan'), 501)
  const out = join(tempDir(t), 'www')
  await t.rejects(publish({ records: list, outDir: out, privateKey, region: '450206' }), { name: 'PublishRefused', message: /twice/ })
  t.same(readdirSync(out), [], 'nothing written')

  const dir = tempDir(t)
  const keyDir = join(dir, 'keys')
  t.equal((await registryCommand(['keygen', '--out', keyDir], { out: { write: () => true }, err: { write: () => true }, env: {} })), 0)
  const from = join(dir, 'province.ndjson')
  const recs = Array.from({ length: 20 }, (_, i) => JSON.stringify({ op: 'upsert', certno: syntheticCertno(i), psn_name: '某某', identities: [{ category: '低保对象', begntime: '2020-01-01' }] }))
  recs.push(JSON.stringify({ op: 'upsert', certno: syntheticCertno(3), psn_name: '某某', identities: [{ category: '特困人员', begntime: '2020-01-01' }] }))
  writeFileSync(from, recs.join('\n') + '\n')
  let err = ''
  let stdout = ''
  const io = { out: { write: (s: string) => { stdout += s; return true } }, err: { write: (s: string) => { err += s; return true } }, env: { FANGPIN_PROFILE: 'guangxi-liuzhou' } }
  const www = join(dir, 'www')
  t.equal(await registryCommand(['publish', '--from', from, '--out', www, '--key', join(keyDir, 'registry.key')], io), 2, err)
  t.match(err, /第21行.*与第4行重复/)
  t.match(err, /1 of 21 rows are wrong; nothing was published/)
  t.same(readdirSync(www), [])
  err = ''
  t.equal(await registryCommand(['publish', '--from', from, '--out', www, '--key', join(keyDir, 'registry.key'), '--allow-partial'], io), 0, err)
  t.match(stdout, /20 people \(from 21 rows, ndjson\)/)
  t.match(stdout, /1 bad rows left out/)
})
