// Running as a service: the systemd unit `fangpin service install` writes passes systemd's own
// check and carries the restart policy and hardening; uninstall removes it; --windows writes a
// WinSW definition with the same environment.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir, ROOT } from './helper.ts'
import { main } from '../agent/cli/main.ts'

/** The command in this process (as bin/fangpin.js runs it), its output captured. */
async function fangpin (args: string[], env: Record<string, string>): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { out: { write: (s: string) => { stdout += s } }, err: { write: (s: string) => { stderr += s } }, stdin: process.stdin, env: { ...env } })
  return { code, stdout, stderr }
}

function systemdAnalyze (): string | null {
  for (const p of ['/usr/bin/systemd-analyze', '/bin/systemd-analyze']) if (existsSync(p)) return p
  return null
}

t.test('service install writes a systemd unit that systemd-analyze verify accepts without a warning, with restart and hardening', async (t) => {
  const dir = tempDir(t)
  const unitFile = join(dir, 'fangpin.service')
  const envFile = join(dir, 'fangpin.env')
  const dataDir = join(dir, 'data')
  writeFileSync(envFile, `FANGPIN_HOST=0.0.0.0\nFANGPIN_BACKUP_DIR=${join(dir, 'backups')}\nFANGPIN_LOG_FILE=${join(dir, 'log', 'fangpin.log')}\nFANGPIN_TLS_KEY=${join(dataDir, 'tls-key.pem')}\n`)
  const run = await fangpin(['service', 'install', '--user', 'fangpin', '--data-dir', dataDir, '--environment-file', envFile, '--out', unitFile], {})
  t.equal(run.code, 0, run.stderr)
  const unit = readFileSync(unitFile, 'utf8')
  const lines = new Set(unit.split('\n'))
  for (const expected of [
    'User=fangpin', 'Group=fangpin', `EnvironmentFile=${envFile}`, `Environment=FANGPIN_DATA_DIR=${dataDir}`,
    `ExecStart=${process.execPath} ${join(ROOT, 'bin', 'fangpin.js')} serve`, 'Restart=on-failure', 'KillSignal=SIGTERM',
    'NoNewPrivileges=true', 'ProtectSystem=strict', `ReadWritePaths=${dataDir} ${join(dir, 'backups')} ${join(dir, 'log')}`,
    'PrivateTmp=true', 'PrivateDevices=true', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6', 'CapabilityBoundingSet=',
    'WantedBy=multi-user.target'
  ]) t.ok(lines.has(expected), expected)
  t.notOk(/^MemoryDenyWriteExecute=/m.test(unit), 'no W^X memory: V8 needs to write the code it compiles')
  // The stop grace inside the agent (10 s) is shorter than systemd's.
  t.ok(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]) > 10)
  t.match(run.stdout, /systemctl daemon-reload\n\s+systemctl enable --now fangpin/)
  t.match(run.stdout, new RegExp(`install -d -o fangpin -g fangpin -m 700 ${dataDir}`))
  t.match(run.stdout, new RegExp(`chown fangpin:fangpin ${join(dataDir, 'tls-key.pem')}`), 'the TLS key is handed to the service user')
  t.equal(statSync(unitFile).mode & 0o777, 0o644)

  const analyze = systemdAnalyze()
  if (analyze === null) {
    t.pass('systemd-analyze is not installed here (Debian package systemd): the unit was not verified by systemd')
  } else {
    // systemd-analyze verify checks syntax, every directive and that ExecStart's binary exists; it
    // reports unknown or bad directives as warnings on stderr with exit 0, so stderr must be empty.
    const verify = spawnSync(analyze, ['verify', unitFile], { encoding: 'utf8' })
    t.equal(verify.status, 0, verify.stderr)
    t.equal(verify.stderr.trim(), '', 'no warning from systemd-analyze verify')
    // And it does catch a broken unit (the check can fail).
    const broken = join(dir, 'broken.service')
    writeFileSync(broken, unit.replace('ProtectSystem=strict', 'ProtectSystem=sometimes'))
    const bad = spawnSync(analyze, ['verify', broken], { encoding: 'utf8' })
    t.match(bad.stderr, /protect system value/i)
  }

  const again = await fangpin(['service', 'install', '--data-dir', dataDir, '--environment-file', envFile, '--out', unitFile], {})
  t.match(again.stdout, /^replaced /, 'running install again after an upgrade replaces the unit')

  const gone = await fangpin(['service', 'uninstall', '--out', unitFile], {})
  t.equal(gone.code, 0, gone.stderr)
  t.notOk(existsSync(unitFile))
  t.match(gone.stdout, /systemctl disable --now fangpin/)
  t.match(gone.stdout, /The data directory, the environment file and the backups are kept/)
  t.ok(existsSync(envFile))
})

t.test('service install writes an environment file template when there is none, and refuses one that moves the data directory', async (t) => {
  const dir = tempDir(t)
  const envFile = join(dir, 'etc', 'fangpin.env')
  const run = await fangpin(['service', 'install', '--data-dir', join(dir, 'data'), '--environment-file', envFile, '--out', join(dir, 'u.service')], {})
  t.equal(run.code, 0, run.stderr)
  t.equal(statSync(envFile).mode & 0o777, 0o600)
  t.match(readFileSync(envFile, 'utf8'), /^#FANGPIN_TLS_CERT=/m)
  writeFileSync(envFile, 'FANGPIN_DATA_DIR=/somewhere/else\n')
  const clash = await fangpin(['service', 'install', '--data-dir', join(dir, 'data'), '--environment-file', envFile, '--out', join(dir, 'u.service')], {})
  t.equal(clash.code, 64)
  t.match(clash.stderr, /sets FANGPIN_DATA_DIR=\/somewhere\/else/)
  const relative = await fangpin(['service', 'install', '--environment-file', 'fangpin.env', '--out', join(dir, 'u.service')], {})
  t.equal(relative.code, 64)
  t.match(relative.stderr, /--environment-file "fangpin.env" must be an absolute path/)
})

t.test('service install --windows writes a WinSW definition with node.exe, the arguments, the environment, restart on failure and log rolling', async (t) => {
  const dir = tempDir(t)
  const envFile = join(dir, 'fangpin.env')
  writeFileSync(envFile, '# hospital settings\nFANGPIN_HOST=0.0.0.0\nFANGPIN_REGISTRY_URL="http://registry.county.lan:8090/?a=1&b=<2>"\n')
  const out = join(dir, 'fangpin.xml')
  const run = await fangpin(['service', 'install', '--windows', '--environment-file', envFile, '--app-dir', 'D:\\fangpin\\current', '--data-dir', 'D:\\fangpin-data', '--out', out], {})
  t.equal(run.code, 0, run.stderr)
  const xml = readFileSync(out, 'utf8')
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/)
  t.match(xml, /<executable>C:\\Program Files\\nodejs\\node\.exe<\/executable>/)
  t.match(xml, /<arguments>"D:\\fangpin\\current\\bin\\fangpin\.js" serve<\/arguments>/)
  t.match(xml, /<env name="FANGPIN_DATA_DIR" value="D:\\fangpin-data"\/>/)
  t.match(xml, /<env name="FANGPIN_HOST" value="0\.0\.0\.0"\/>/)
  t.match(xml, /<env name="FANGPIN_REGISTRY_URL" value="http:\/\/registry\.county\.lan:8090\/\?a=1&amp;b=&lt;2&gt;"\/>/, 'values are XML-escaped')
  t.match(xml, /<onfailure action="restart" delay="10 sec"\/>/)
  t.match(xml, /<stoptimeout>20 sec<\/stoptimeout>/)
  t.match(xml, /<log mode="roll-by-size">/)
  t.match(xml, /<startmode>Automatic<\/startmode>/)
  // Well-formed: every element opened is closed, in order.
  const stack: string[] = []
  for (const m of xml.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue
    if (m[1] === '/') t.equal(stack.pop(), m[2], `</${m[2]}> closes its element`)
    else stack.push(m[2])
  }
  t.same(stack, [], 'all elements closed')
  t.notMatch(xml.replace(/<!--[\s\S]*?-->/g, ''), /&(?!amp;|lt;|gt;|quot;|apos;)/, 'no bare ampersand')
  t.match(run.stdout, /fangpin\.exe install/)
})
