// The offline install: `npm run bundle` makes one archive; unpacked into an empty directory it
// starts with `npm start` while npm cannot reach any registry, and its install.sh installs it as a
// release behind a `current` link that the service unit follows.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readlinkSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './helper.ts'
import { serve } from './ops-fixture.ts'
import { bundle } from '../scripts/bundle.ts'
import { sha256File } from '../base/files.ts'

// The bundle copies and compresses the production node_modules (about 150 MB) and install.sh copies
// them again: on two busy cores that can take minutes, more than other test files.
t.setTimeout(600_000)

t.test('the bundle unpacked into an empty directory starts with npm start offline and answers /healthz; install.sh installs it as a release', async (t) => {
  const dir = tempDir(t, 'fangpin-bundle-test-')
  const made = await bundle(join(dir, 'dist'))
  t.match(made.archive, /fangpin-[\d.]+-\d{8}T\d{4}Z-linux-x64-node\d+\.tar\.gz$/)
  t.equal(await sha256File(made.archive), made.sha256)
  t.equal(readFileSync(`${made.archive}.sha256`, 'utf8').split(/\s+/)[0], made.sha256, 'the .sha256 file for sha256sum -c')
  if (existsSync('/usr/bin/sha256sum')) {
    const check = spawnSync('sha256sum', ['-c', `${made.archive.split('/').pop()!}.sha256`], { cwd: join(dir, 'dist'), encoding: 'utf8' })
    t.equal(check.status, 0, check.stdout + check.stderr)
  }

  const unpacked = join(dir, 'empty')
  mkdirSync(unpacked)
  const untar = spawnSync('tar', ['-xzf', made.archive, '-C', unpacked], { encoding: 'utf8' })
  t.equal(untar.status, 0, untar.stderr)
  const [top] = readdirSync(unpacked)
  const app = join(unpacked, top)
  for (const f of ['install.sh', 'bin/fangpin.js', 'agent/cli/main.ts', 'node_modules/better-sqlite3', 'node_modules/tsx', 'node_modules/fastify']) t.ok(existsSync(join(app, f)), `${f} is in the bundle`)
  for (const f of ['test', 'bench', 'node_modules/tap', 'node_modules/typescript', 'node_modules/playwright-core']) t.notOk(existsSync(join(app, f)), `${f} is not`)

  // npm with no registry it could reach: offline, an empty cache, a registry address nothing serves.
  const offline = {
    npm_config_offline: 'true',
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_cache: join(dir, 'empty-npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    FANGPIN_DATA_DIR: join(dir, 'data')
  }
  const agent = await serve(t, offline, { cwd: app, command: 'npm', args: ['start'], group: true })
  const health = await fetch(`${agent.url}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  const ready = await (await fetch(`${agent.url}/readyz`)).json() as { list: { demo: boolean } }
  t.equal(ready.list.demo, true, 'the bundled demo list loaded from the bundle alone')
  process.kill(-agent.child.pid!, 'SIGTERM')
  await agent.exited

  const prefix = join(dir, 'opt')
  const install = spawnSync('sh', [join(app, 'install.sh'), '--prefix', prefix], { encoding: 'utf8' })
  t.equal(install.status, 0, install.stderr)
  const current = readlinkSync(join(prefix, 'current'))
  t.match(current, /^releases\/[\d.]+-\d{8}T\d{4}Z$/)
  t.match(install.stdout, /service install --app-dir/)
  const again = spawnSync('sh', [join(app, 'install.sh'), '--prefix', prefix], { encoding: 'utf8' })
  t.equal(again.status, 1)
  t.match(again.stderr, /is installed already/)
  // The unit written from the installed release follows the `current` link (upgrades and rollbacks
  // switch the link, not the unit).
  const unitFile = join(dir, 'fangpin.service')
  const unit = spawnSync(process.execPath, [join(prefix, 'current', 'bin', 'fangpin.js'), 'service', 'install', '--data-dir', join(dir, 'data'), '--environment-file', join(dir, 'fangpin.env'), '--out', unitFile], { encoding: 'utf8', env: { ...process.env, ...offline } })
  t.equal(unit.status, 0, unit.stderr)
  t.match(readFileSync(unitFile, 'utf8'), `ExecStart=${process.execPath} ${join(prefix, 'current', 'bin', 'fangpin.js')} serve`)
})
