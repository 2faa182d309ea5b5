// A publisher killed while it sorts (kill -9, a power cut) leaves its run files: a copy of the
// county's list in the temporary directory. The next publish removes them once their process is
// gone, and never touches the runs of a publish that is still going.
import t from 'tap'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { syntheticCertno, tempDir, ROOT } from './helper.ts'
import { publish, PublishList } from '../registry/publish.ts'
import { removeAbandonedRuns } from '../registry/sort-spool.ts'

t.test('the runs of a killed publish are removed by the next one; those of a running one stay', async (t) => {
  const tmp = tempDir(t)
  // A real publish process that spills runs and is killed with -9 before it ends.
  const script = `
    import { PublishList } from './registry/publish.ts'
    const list = new PublishList({ tmpDir: process.argv[1], batchChars: 5000 })
    for (let i = 0; i < 2000; i++) await list.add({ op: 'upsert', certno: String(110101199001010000 + i), psn_cert_type: '01', psn_name: null, identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: null }] })
    process.stdout.write('spilled\\n')
    setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, tmp], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  await once(child.stdout, 'data')
  const left = readdirSync(tmp)
  t.equal(left.length, 1, 'the killed publish had a run directory')
  t.match(left[0], new RegExp(`^fangpin-publish-${child.pid}-`))
  t.ok(readdirSync(join(tmp, left[0])).length > 1, 'with run files in it')
  // a publish still running: its directory stays
  t.same(removeAbandonedRuns(tmp), [], 'a running publish keeps its runs')
  child.kill('SIGKILL')
  await once(child, 'exit')
  // a directory of another program with a similar name is not ours to remove
  mkdirSync(join(tmp, 'fangpin-publish-notapid'))
  writeFileSync(join(tmp, 'fangpin-publish-notapid', 'x'), 'x')

  const { privateKey } = generateKeyPairSync('ed25519')
  const list = new PublishList({ tmpDir: tmp, batchChars: 5000 })
  for (let i = 0; i < 500; i++) {
    await list.add({ op: 'upsert', certno: syntheticCertno(i), psn_cert_type: '01', psn_name: null, identities: [{ category: 'minimum_living', begntime: '2020-01-01 00:00:00', endtime: null, source: null }] })
  }
  const r = await publish({ records: list, outDir: join(tempDir(t), 'www'), privateKey, region: '450206' })
  t.equal(r.manifest.record_count, 500)
  t.notOk(existsSync(join(tmp, left[0])), 'the killed publish\'s runs are gone')
  t.same(readdirSync(tmp), ['fangpin-publish-notapid'], 'and nothing else was touched')
})
