// The county side of the registry: keygen and publish as a county IT office runs them, and the
// files an agent will trust — signed manifest, full snapshot, delta — checked byte for byte.
import t from 'tap'
import fc from 'fast-check'
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { join } from 'node:path'
import { certno, syntheticCertno, tempDir } from './helper.ts'
import { registryCommand } from '../registry/cli.ts'
import { manifestSchemaErrors, publish, PublishRefused } from '../registry/publish.ts'
import { publicKeyBase64, readPrivateKey, readPublicKey, verifyManifest, type Manifest } from '../registry/manifest.ts'
import { readNdjson } from '../lists/read-ndjson.ts'
import { loadProfile } from '../profile/profile.ts'
import type { ListRecord } from '../lists/list-record.ts'

const ZHANG = certno('45020619580312001')
const LI = certno('45020619700101004')
const WANG = certno('45020619900808008')
const ZHAO = certno('45020619850505002')
const BAD = ZHANG.slice(0, 17) + (ZHANG[17] === '1' ? '2' : '1')
const ENV = { FANGPIN_PROFILE: 'guangxi-liuzhou' }
const profile = loadProfile('guangxi-liuzhou')

async function run (args: string[], env: Record<string, string> = ENV): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await registryCommand(args, { out: { write: (s: string) => { out += s } }, err: { write: (s: string) => { err += s } }, env })
  return { code, out, err }
}

function manifestOf (dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest
}

function lines (file: string): Array<Record<string, any>> {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
}

function sha256 (file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

function csv (rows: Array<[string, string, string, string]>): string {
  return '姓名,身份证号码,人员类别,身份生效时间\n' + rows.map((r) => r.join(',')).join('\n') + '\n'
}

function person (who: string, name: string, category: string, begntime = '2020-01-01 00:00:00'): ListRecord {
  return { op: 'upsert', certno: who, psn_cert_type: '01', psn_name: name, identities: [{ category, begntime, endtime: null, source: '民政' }] }
}

async function countyKey (t: Parameters<typeof tempDir>[0]): Promise<{ dir: string, keyFile: string, key: KeyObject, pub: KeyObject }> {
  const dir = tempDir(t)
  const r = await run(['keygen', '--out', join(dir, 'keys')])
  if (r.code !== 0) throw new Error(r.err)
  const keyFile = join(dir, 'keys', 'registry.key')
  return { dir, keyFile, key: readPrivateKey(keyFile), pub: readPublicKey(join(dir, 'keys', 'registry.pub')) }
}

t.test('keygen writes a private key only its owner can read, the public key, and its base64 form for hospitals', async (t) => {
  const dir = tempDir(t)
  const r = await run(['keygen', '--out', dir])
  t.equal(r.code, 0, r.err)
  const keyFile = join(dir, 'registry.key')
  t.equal(statSync(keyFile).mode & 0o777, 0o600)
  t.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
  t.match(readFileSync(join(dir, 'registry.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/)
  const pub = readPublicKey(join(dir, 'registry.pub'))
  const b64 = publicKeyBase64(pub)
  t.equal(Buffer.from(b64, 'base64').length, 32)
  t.ok(r.out.includes(`FANGPIN_REGISTRY_PUBKEY=${b64}`), 'says what hospitals set, with the key')
  t.equal(publicKeyBase64(createPublicKey(readPrivateKey(keyFile))), b64, 'the public key belongs to the private key')
  t.same(readdirSync(dir).sort(), ['registry.key', 'registry.pub'], 'no temporary files left behind')
})

t.test('keygen refuses to replace an existing key, and replaces it only with --force', async (t) => {
  const dir = tempDir(t)
  t.equal((await run(['keygen', '--out', dir])).code, 0)
  const before = readFileSync(join(dir, 'registry.key'), 'utf8')
  const again = await run(['keygen', '--out', dir])
  t.equal(again.code, 1)
  t.match(again.err, /already exists/)
  t.match(again.err, /--force/)
  t.equal(readFileSync(join(dir, 'registry.key'), 'utf8'), before, 'the key is untouched')
  const forced = await run(['keygen', '--out', dir, '--force'])
  t.equal(forced.code, 0, forced.err)
  t.not(readFileSync(join(dir, 'registry.key'), 'utf8'), before)
  t.equal(statSync(join(dir, 'registry.key')).mode & 0o777, 0o600)
  t.equal(publicKeyBase64(readPublicKey(join(dir, 'registry.pub'))), publicKeyBase64(createPublicKey(readPrivateKey(join(dir, 'registry.key')))),
    'registry.pub follows the new key')
})

t.test('bad arguments print the usage and exit 64', async (t) => {
  for (const args of [[], ['nonsense'], ['keygen'], ['keygen', '--out', 'x', '--bogus'], ['publish', '--from', 'a.csv'], ['publish', '--from', 'a', '--out', 'b', '--key', 'c', '--region', '45'],
    ['publish', '--from', 'a', '--out', 'b', '--key', 'c', '--expires-days', '0'], ['serve'], ['serve', 'a', 'b'], ['serve', 'a', '--port', 'http']]) {
    const r = await run(args)
    t.equal(r.code, 64, args.join(' '))
    t.match(r.err, /usage:/)
  }
})

t.test('a first publish is list 1, a full snapshot described twice, signed, and sorted', async (t) => {
  const { dir, keyFile, pub } = await countyKey(t)
  const from = join(dir, '名单.csv')
  writeFileSync(from, csv([['王五', WANG, '边缘易致贫户', '2023-07-01'], ['张三', ZHANG, '特困人员', '2021-01-01'], ['李四', LI, '低保对象', '2020-01-01']]))
  const out = join(dir, 'www')
  const now = Date.now()
  const r = await run(['publish', '--from', from, '--out', out, '--key', keyFile])
  t.equal(r.code, 0, r.err)
  t.match(r.out, /published list 1 for region 450206/)
  t.match(r.out, /full-1\.ndjson\.gz\s+3 people/)
  t.match(r.out, /expires/)

  const m = manifestOf(out)
  t.equal(m.seq, 1)
  t.equal(m.kind, 'full')
  t.equal(m.base_seq, null)
  t.equal(m.region, '450206', 'the profile\'s region by default')
  t.equal(m.schema_version, 1)
  t.same(m.full, { kind: 'full', seq: 1, base_seq: null, file: m.file, record_count: m.record_count, size: m.size, sha256: m.sha256 })
  t.equal(m.file, 'full-1.ndjson.gz')
  t.same(manifestSchemaErrors(m), [], 'the manifest matches schemas/manifest.schema.json')
  t.ok(verifyManifest(m, pub), 'the signature verifies with registry.pub')
  const created = Date.parse(m.created_at)
  t.ok(Math.abs(created - now) < 60_000)
  t.equal(Date.parse(m.expires_at) - created, 40 * 86_400_000, 'expires 40 days later by default')

  const file = join(out, m.file)
  t.equal(statSync(file).size, m.size)
  t.equal(sha256(file), m.sha256)
  const records = lines(file)
  t.equal(records.length, 3)
  t.same(records.map((x) => x.certno), [ZHANG, LI, WANG].sort(), 'sorted by certificate number')
  t.ok(records.every((x) => x.op === 'upsert' && x.psn_cert_type === '01'))
  t.same(records.find((x) => x.certno === WANG)?.identities, [{ category: 'marginal_at_risk', begntime: '2023-07-01 00:00:00', endtime: null, source: null }])
  t.same(readdirSync(out).sort(), ['full-1.ndjson.gz', 'manifest.json'], 'no temporary files or lock left behind')
})

t.test('changing any field of a signed manifest by one character breaks the signature', async (t) => {
  const { dir, key, pub } = await countyKey(t)
  const { manifest } = await publish({ records: [person(ZHANG, '张三', 'extreme_poverty')], outDir: join(dir, 'www'), privateKey: key, region: '450206' })
  t.ok(verifyManifest(manifest, pub))
  const tweak = (v: unknown): unknown => {
    if (typeof v === 'number') return v + 1
    if (v === null) return 1
    const s = String(v)
    const last = s.at(-1) === '0' ? '1' : '0'
    return s.slice(0, -1) + last
  }
  const fields: Array<[string, string | null]> = []
  for (const k of Object.keys(manifest)) {
    if (k === 'signature') continue
    if (k === 'full') for (const f of Object.keys(manifest.full)) fields.push(['full', f])
    else fields.push([k, null])
  }
  t.equal(fields.length, 11 + 7)
  for (const [k, f] of fields) {
    const copy = JSON.parse(JSON.stringify(manifest)) as Record<string, any>
    if (f === null) copy[k] = tweak(copy[k])
    else copy[k][f] = tweak(copy[k][f])
    t.notOk(verifyManifest(copy as Manifest, pub), `${k}${f === null ? '' : '.' + f} changed`)
  }
  const sig = Buffer.from(manifest.signature!, 'base64')
  sig[10] ^= 1
  t.notOk(verifyManifest({ ...manifest, signature: sig.toString('base64') }, pub), 'one bit of the signature changed')
  t.notOk(verifyManifest(manifest, generateKeyPairSync('ed25519').publicKey), 'another key')
})

t.test('a second publish is a delta from list 1 with exactly the new, changed and removed people', async (t) => {
  const { dir, keyFile, pub } = await countyKey(t)
  const out = join(dir, 'www')
  const first = join(dir, '11月.csv')
  writeFileSync(first, csv([['张三', ZHANG, '特困人员', '2021-01-01'], ['李四', LI, '低保对象', '2020-01-01'], ['赵六', ZHAO, '脱贫人口', '2019-05-01']]))
  t.equal((await run(['publish', '--from', first, '--out', out, '--key', keyFile])).code, 0)
  const m1 = manifestOf(out)

  // 张三 changes category, 李四 leaves, 赵六 is unchanged, 王五 is new.
  const second = join(dir, '12月.csv')
  writeFileSync(second, csv([['赵六', ZHAO, '脱贫人口', '2019-05-01'], ['王五', WANG, '孤儿', '2022-03-01'], ['张三', ZHANG, '低保对象', '2021-01-01']]))
  const r = await run(['publish', '--from', second, '--out', out, '--key', keyFile, '--expires-days', '35'])
  t.equal(r.code, 0, r.err)
  t.match(r.out, /published list 2/)
  t.match(r.out, /delta-1-2\.ndjson\.gz\s+2 upserts, 1 deletes since list 1/)

  const m = manifestOf(out)
  t.equal(m.seq, 2)
  t.equal(m.kind, 'delta')
  t.equal(m.base_seq, 1)
  t.equal(m.file, 'delta-1-2.ndjson.gz')
  t.equal(m.full.file, 'full-2.ndjson.gz')
  t.equal(m.full.seq, 2)
  t.equal(Date.parse(m.expires_at) - Date.parse(m.created_at), 35 * 86_400_000)
  t.ok(verifyManifest(m, pub))
  t.same(manifestSchemaErrors(m), [])

  const delta = lines(join(out, m.file))
  t.equal(m.record_count, 3)
  t.same(delta.map((x) => [x.op, x.certno]), [['upsert', ZHANG], ['delete', LI], ['upsert', WANG]].sort((a, b) => a[1] < b[1] ? -1 : 1))
  t.same(delta.find((x) => x.op === 'delete'), { op: 'delete', certno: LI, psn_cert_type: '01' })
  t.same(delta.find((x) => x.certno === ZHANG)?.identities.map((i: any) => i.category), ['minimum_living'])
  for (const entry of [{ file: m.file, size: m.size, sha256: m.sha256, record_count: m.record_count }, m.full]) {
    const f = join(out, entry.file)
    t.equal(statSync(f).size, entry.size, `${entry.file} size`)
    t.equal(sha256(f), entry.sha256, `${entry.file} sha256`)
    t.equal(lines(f).length, entry.record_count, `${entry.file} record_count`)
  }
  t.same(lines(join(out, m.full.file)).map((x) => x.certno), [ZHANG, WANG, ZHAO].sort())
  t.ok(existsSync(join(out, m1.file)), 'the previous full snapshot is kept for agents still downloading it')
})

t.test('the agent reads every published file without a problem and with the counts the manifest gives', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  const many = Array.from({ length: 500 }, (_, i) => person(syntheticCertno(i), `测试${i}`, i % 2 === 0 ? 'minimum_living' : 'out_of_poverty'))
  await publish({ records: many, outDir: out, privateKey: key, region: '450206' })
  const next = many.slice(50).map((p, i) => i % 10 === 0 ? { ...p, ytd_oop: 123_456 } : p)
  const r = await publish({ records: next, outDir: out, privateKey: key, region: '450206' })
  t.equal(r.deletes, 50)
  t.equal(r.upserts, 45)
  for (const entry of [r.manifest, r.manifest.full]) {
    const read = await readNdjson(join(out, entry.file), { profile })
    t.same(read.problems, [], entry.file)
    t.equal(read.rows, entry.record_count, entry.file)
  }
})

t.test('a delta applied to the previous list always gives the new list', async (t) => {
  const { dir, key } = await countyKey(t)
  const pool = Array.from({ length: 12 }, (_, i) => syntheticCertno(i * 7919))
  const categories = ['minimum_living', 'extreme_poverty', 'out_of_poverty']
  const list = fc.uniqueArray(fc.record({ i: fc.nat({ max: pool.length - 1 }), c: fc.nat({ max: 2 }), n: fc.nat({ max: 1 }) }), { selector: (x) => x.i, minLength: 1, maxLength: pool.length })
    .map((xs) => xs.map((x) => person(pool[x.i], x.n === 0 ? '甲' : '乙', categories[x.c])))
  let run = 0
  await fc.assert(fc.asyncProperty(list, list, async (before, after) => {
    const out = join(dir, `run-${run++}`)
    await publish({ records: before, outDir: out, privateKey: key, region: '450206' })
    const r = await publish({ records: after, outDir: out, privateKey: key, region: '450206' })
    const state = new Map(lines(join(out, 'full-1.ndjson.gz')).map((x) => [x.certno, JSON.stringify(x)]))
    for (const x of lines(join(out, r.manifest.file))) {
      if (x.op === 'delete') {
        if (!state.delete(x.certno)) throw new Error(`delete of someone not on the list: ${x.certno}`)
      } else {
        if (state.get(x.certno) === JSON.stringify(x)) throw new Error(`upsert of an unchanged person: ${x.certno}`)
        state.set(x.certno, JSON.stringify(x))
      }
    }
    const full = lines(join(out, r.manifest.full.file)).map((x) => JSON.stringify(x))
    t.same([...state.values()].sort(), full.sort())
    t.equal(full.length, after.length)
  }), { numRuns: 40 })
})

t.test('the same people with their identities listed in another order publish an empty delta', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  const two: ListRecord = {
    ...person(ZHANG, '张三', 'extreme_poverty'),
    identities: [
      { category: 'out_of_poverty', begntime: '2019-01-01 00:00:00', endtime: null, source: '乡村振兴' },
      { category: 'extreme_poverty', begntime: '2021-01-01 00:00:00', endtime: null, source: '民政' }
    ]
  }
  await publish({ records: [two, person(LI, '李四', 'minimum_living')], outDir: out, privateKey: key, region: '450206' })
  const r = await publish({ records: [person(LI, '李四', 'minimum_living'), { ...two, identities: [...two.identities].reverse() }], outDir: out, privateKey: key, region: '450206' })
  t.equal(r.manifest.kind, 'delta')
  t.equal(r.manifest.record_count, 0)
  t.equal(r.upserts + r.deletes, 0)
  t.same(lines(join(out, r.manifest.file)), [])
  const read = await readNdjson(join(out, r.manifest.file), { profile })
  t.equal(read.rows, 0, 'an empty delta is still a valid gzip file the agent reads')
  t.ok(Date.parse(r.manifest.expires_at) > Date.now(), 'republishing an unchanged list still moves the expiry on')
})

t.test('only the files of this publish and the one before it are kept', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  const lists = [[ZHANG], [ZHANG, LI], [LI, WANG], [WANG, ZHAO]]
  const results = []
  for (const l of lists) results.push(await publish({ records: l.map((c) => person(c, '某某', 'minimum_living')), outDir: out, privateKey: key, region: '450206' }))
  t.same(results.map((r) => r.manifest.seq), [1, 2, 3, 4])
  t.same(readdirSync(out).sort(), ['delta-2-3.ndjson.gz', 'delta-3-4.ndjson.gz', 'full-3.ndjson.gz', 'full-4.ndjson.gz', 'manifest.json'])
  t.same(results[3].removed.sort(), ['delta-1-2.ndjson.gz', 'full-2.ndjson.gz'])
})

t.test('a directory whose manifest another key signed is refused and left as it was', async (t) => {
  const { dir, keyFile } = await countyKey(t)
  const out = join(dir, 'www')
  const other = generateKeyPairSync('ed25519').privateKey
  await publish({ records: [person(ZHANG, '张三', 'minimum_living')], outDir: out, privateKey: other, region: '450206' })
  const before = readFileSync(join(out, 'manifest.json'), 'utf8')
  const from = join(dir, 'list.csv')
  writeFileSync(from, csv([['李四', LI, '低保对象', '2020-01-01']]))
  const r = await run(['publish', '--from', from, '--out', out, '--key', keyFile])
  t.equal(r.code, 1)
  t.match(r.err, /nothing was published/)
  t.match(r.err, /not signed with this key/)
  t.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), before)
  t.same(readdirSync(out).sort(), ['full-1.ndjson.gz', 'manifest.json'])
})

t.test('a manifest edited by hand is refused like a foreign one', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  const { manifest } = await publish({ records: [person(ZHANG, '张三', 'minimum_living')], outDir: out, privateKey: key, region: '450206' })
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ ...manifest, expires_at: '2099-01-01T00:00:00Z' }))
  await t.rejects(publish({ records: [person(LI, '李四', 'minimum_living')], outDir: out, privateKey: key, region: '450206' }), PublishRefused)
})

t.test('a publish for another region than the directory\'s is refused', async (t) => {
  const { dir, keyFile } = await countyKey(t)
  const out = join(dir, 'www')
  const from = join(dir, 'list.csv')
  writeFileSync(from, csv([['李四', LI, '低保对象', '2020-01-01']]))
  t.equal((await run(['publish', '--from', from, '--out', out, '--key', keyFile])).code, 0)
  const r = await run(['publish', '--from', from, '--out', out, '--key', keyFile, '--region', '450205'])
  t.equal(r.code, 1)
  t.match(r.err, /region 450206.*region 450205/)
  t.equal(manifestOf(out).seq, 1)
})

t.test('one bad row refuses the publish, names the row with the number masked, and writes the report beside the file', async (t) => {
  const { dir, keyFile } = await countyKey(t)
  const out = join(dir, 'www')
  const from = join(dir, 'bad.csv')
  writeFileSync(from, csv([['张三', ZHANG, '特困人员', '2021-01-01'], ['李四', BAD, '低保对象', '2020-01-01'], ['王五', WANG, '火星人', '2020-01-01']]))
  const r = await run(['publish', '--from', from, '--out', out, '--key', keyFile])
  t.equal(r.code, 2)
  t.match(r.err, /第3行/)
  t.match(r.err, /校验位/)
  t.match(r.err, /第4行/)
  t.match(r.err, /火星人/)
  t.match(r.err, /nothing was published/)
  t.notOk(r.err.includes(BAD), 'the bad ID number is masked')
  t.notOk(existsSync(join(out, 'manifest.json')), 'nothing was published')
  const report = readdirSync(dir).find((f) => f.startsWith('bad.csv.errors-'))
  t.ok(report, 'the report is beside the file')
  t.match(readFileSync(join(dir, report!), 'utf8'), /^\uFEFF行号,列,值,原因/)

  const partial = await run(['publish', '--from', from, '--out', out, '--key', keyFile, '--allow-partial'])
  t.equal(partial.code, 0, partial.err)
  t.match(partial.out, /2 bad rows left out/)
  t.same(lines(join(out, manifestOf(out).file)).map((x) => x.certno), [ZHANG], '--allow-partial publishes the good rows')
})

t.test('an empty list is never published', async (t) => {
  const { dir, keyFile, key } = await countyKey(t)
  const out = join(dir, 'www')
  const from = join(dir, 'empty.csv')
  writeFileSync(from, csv([]))
  const r = await run(['publish', '--from', from, '--out', out, '--key', keyFile])
  t.not(r.code, 0)
  t.notOk(existsSync(join(out, 'manifest.json')))
  await t.rejects(publish({ records: [], outDir: out, privateKey: key, region: '450206' }), { name: 'PublishRefused', message: /empty/ })
})

t.test('a list with a person twice, or a delete record, is refused before anything is written', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  await t.rejects(publish({ records: [person(ZHANG, '张三', 'minimum_living'), person(ZHANG, '张三', 'orphan')], outDir: out, privateKey: key, region: '450206' }), { message: /twice/ })
  await t.rejects(publish({ records: [{ ...person(ZHANG, '张三', 'minimum_living'), op: 'delete' }], outDir: out, privateKey: key, region: '450206' }), { message: /delete record/ })
  await t.rejects(publish({ records: [{ ...person(ZHANG, '张三', 'minimum_living'), identities: [] }], outDir: out, privateKey: key, region: '450206' }), { message: /registry-record/ })
  t.same(existsSync(out) ? readdirSync(out) : [], [], 'no file, temporary or not, is left')
})

t.test('when the previous full snapshot is missing, the publish is a full snapshot only and says so', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  await publish({ records: [person(ZHANG, '张三', 'minimum_living')], outDir: out, privateKey: key, region: '450206' })
  unlinkSync(join(out, 'full-1.ndjson.gz'))
  const r = await publish({ records: [person(LI, '李四', 'minimum_living')], outDir: out, privateKey: key, region: '450206' })
  t.equal(r.manifest.seq, 2)
  t.equal(r.manifest.kind, 'full')
  t.equal(r.manifest.base_seq, null)
  t.equal(r.manifest.file, 'full-2.ndjson.gz')
  t.match(r.notes.join('\n'), /full-1\.ndjson\.gz is missing/)
  t.notOk(existsSync(join(out, 'delta-1-2.ndjson.gz')))
  t.same(manifestSchemaErrors(r.manifest), [])
})

t.test('when the previous full snapshot does not match its manifest, no delta is computed from it', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  await publish({ records: [person(ZHANG, '张三', 'minimum_living')], outDir: out, privateKey: key, region: '450206' })
  const f = join(out, 'full-1.ndjson.gz')
  const bytes = readFileSync(f)
  bytes[bytes.length - 5] ^= 0xff
  writeFileSync(f, bytes)
  const r = await publish({ records: [person(ZHANG, '张三', 'minimum_living')], outDir: out, privateKey: key, region: '450206' })
  t.equal(r.manifest.kind, 'full')
  t.match(r.notes.join('\n'), /does not match its manifest/)
})

t.test('a publish already running in the directory is not joined by a second one', async (t) => {
  const { dir, key } = await countyKey(t)
  const out = join(dir, 'www')
  const records = Array.from({ length: 2000 }, (_, i) => person(syntheticCertno(i), '某某', 'minimum_living'))
  const results = await Promise.allSettled([
    publish({ records, outDir: out, privateKey: key, region: '450206' }),
    publish({ records, outDir: out, privateKey: key, region: '450206' })
  ])
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
  t.match(refused.reason.message, /already running/)
  t.equal(manifestOf(out).seq, 1)
})
