// Demo credentials (the README's token and sign-in) must never reach a real person: they end in the
// same transaction that makes a real list serve, a running agent sees that at once, and a load that
// dies right after going live has already ended them and written its audit row.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { certno, tempDir, fangpin, ROOT } from './helper.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import { loadConfig } from '../agent/config.ts'
import { loadProfile } from '../profile/profile.ts'
import { buildApp } from '../agent/app.ts'
import { grantDemoAccess } from '../agent/demo/demo-access.ts'
import { DEMO_TOKEN, DEMO_STAFF, demoRecords } from '../agent/demo/demo-list.ts'

const REAL = certno('45020619580312001')

async function demoDataDir (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dataDir = tempDir(t)
  const store = openStore(dataDir)
  await store.list.replace(demoRecords(), { source: 'registry', label: 'demo', version: 'demo-1', demo: true, seq: 1, region: '450206' })
  await grantDemoAccess(store)
  store.close()
  return dataDir
}

function realCsv (dir: string, rows: number): string {
  const file = join(dir, 'county.csv')
  const lines = ['姓名,证件号码,人员类别,认定时间', `张三,${REAL},特困人员,2021-01-01`]
  for (let i = 0; i < rows; i++) {
    const first17 = `450206${1960 + (i % 40)}${String(1 + (Math.floor(i / 40) % 12)).padStart(2, '0')}${String(1 + (Math.floor(i / 480) % 28)).padStart(2, '0')}${String(Math.floor(i / 13440) % 1000).padStart(3, '0')}`
    lines.push(`某某,${certno(first17)},脱贫人口,2016-01-01`)
  }
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function demoState (store: Store): { token: boolean, staff: boolean } {
  return {
    token: store.tokens.list().some((x) => x.name === 'demo-his' && x.revoked_at === null),
    staff: store.staff.passwordHash(DEMO_STAFF.name) !== undefined
  }
}

t.test('an import killed right after its list went live has ended the demo access and written its audit row', async (t) => {
  const dataDir = await demoDataDir(t)
  const file = realCsv(tempDir(t), 20_000)
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'fixtures', 'import-stuck-after-flip.ts'), dataDir, file], { cwd: ROOT, stdio: 'ignore' })
  const probe = openStore(dataDir)
  let live = false
  for (let i = 0; i < 3000 && !live; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    live = probe.list.state().demo === false
  }
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  probe.close()
  t.ok(live, 'the real list went live before the import was killed')

  const store = openStore(dataDir)
  t.teardown(() => store.close())
  const state = store.list.state()
  t.equal(state.demo, false)
  t.same(demoState(store), { token: false, staff: false }, 'the demo token and sign-in ended with the flip')
  t.equal(store.tokens.verify(DEMO_TOKEN), null)
  const audit = store.audit.recent(50, 'list.import')
  t.equal(audit.length, 1, 'the list did not go live without its audit row')
  t.match(JSON.parse(audit[0].detail ?? '{}'), { version: state.version, persons: 20_001 })
})

t.test('an import after a crashed one still ends demo access that the crash left behind', async (t) => {
  // The state a crash between the flip and the end of the demo left before this fix: real people
  // served, the demo token still valid. The next complete import must end it.
  const dataDir = await demoDataDir(t)
  const store = openStore(dataDir)
  await store.list.replace([{ op: 'upsert', certno: REAL, psn_cert_type: '01', psn_name: '张三', identities: [{ category: 'extreme_poverty', begntime: '2021-01-01 00:00:00', endtime: null, source: '民政' }] }], { source: 'import', label: 'crashed' })
  t.same(demoState(store), { token: true, staff: true }, 'the left-over state: real list, demo access')
  store.close()
  const out = await fangpin(['import', realCsv(tempDir(t), 10)], { FANGPIN_DATA_DIR: dataDir })
  t.equal(out.code, 0, out.stderr)
  const after = openStore(dataDir)
  t.teardown(() => after.close())
  t.same(demoState(after), { token: false, staff: false })
})

t.test('a running agent refuses the demo token at once when an import in another process makes real people live', async (t) => {
  const dataDir = await demoDataDir(t)
  const store = openStore(dataDir)
  const config = loadConfig({ FANGPIN_DATA_DIR: dataDir, FANGPIN_LOG_LEVEL: 'silent' })
  const app = await buildApp({ config, profile: loadProfile(config.profile), store, autoSync: false, logger: false })
  t.teardown(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const ask = async (): Promise<{ status: number, json: any }> => {
    const res = await fetch(url + '/v1/eligibility', { method: 'POST', headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ certno: REAL }) })
    return { status: res.status, json: await res.json() }
  }
  t.equal((await ask()).status, 200, 'the demo token works on the demo list')
  const importing = fangpin(['import', realCsv(tempDir(t), 5_000)], { FANGPIN_DATA_DIR: dataDir })
  let done = false
  void importing.then(() => { done = true })
  let realAnswers = 0
  while (!done) {
    const r = await ask()
    // Served from the real list with the demo token: the finding.
    if (r.status === 200 && r.json.list.demo === false) realAnswers++
  }
  const out = await importing
  t.equal(out.code, 0, out.stderr)
  const after = await ask()
  t.equal(after.status, 401, 'refused the moment the import returned')
  t.equal(realAnswers, 0, 'no answer from the real list ever went to the demo token')
})
