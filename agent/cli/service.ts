// `fangpin service install|uninstall`: the agent as a service that starts with the server, restarts
// after a crash and runs with as little power as it needs. Linux: a systemd unit (written, and the
// systemctl commands printed for IT to run: nothing is started behind their back). Windows: a WinSW
// service definition (XML) beside which IT puts WinSW's executable.
import { parseArgs } from 'node:util'
import { existsSync, readFileSync, realpathSync, unlinkSync, mkdirSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve, win32 } from 'node:path'
import type { Config } from '../config.ts'
import { PROJECT_DIR } from '../../base/paths.ts'
import { fsyncDir, writeFileAtomic } from '../../base/files.ts'
import { UsageError, type Io } from '../../base/terminal.ts'

export const UNIT_NAME = 'fangpin.service'
const DEFAULTS = { user: 'fangpin', dataDir: '/var/lib/fangpin', envFile: '/etc/fangpin/fangpin.env', unitDir: '/etc/systemd/system' }
// --environment-file, not --env-file: Node 20 takes --env-file for itself even after the script's name.
const USAGE = `usage: fangpin service install [--user fangpin] [--data-dir DIR] [--environment-file FILE] [--unit-dir DIR] [--app-dir DIR] [--out FILE]
       fangpin service install --windows [--data-dir DIR] [--environment-file FILE] [--app-dir DIR] [--node PATH] [--out FILE]
       fangpin service uninstall [--unit-dir DIR] [--out FILE]`

/** KEY=VALUE lines of an environment file (systemd's EnvironmentFile syntax, the simple part). */
export function readEnvFile (file: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    let value = line.slice(eq + 1).trim()
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1)
    out[line.slice(0, eq).trim()] = value
  }
  return out
}

/**
 * Where the application is: an install by install.sh runs from releases/<version> behind a
 * `current` link, and the service must follow the link (so an upgrade or a rollback is a link
 * switch), not the release it was installed from.
 */
export function defaultAppDir (): string {
  const project = PROJECT_DIR.replace(/[\\/]$/, '')
  if (basename(dirname(project)) === 'releases') {
    const current = join(dirname(dirname(project)), 'current')
    try {
      if (realpathSync(current) === realpathSync(project)) return current
    } catch { /* no current link */ }
  }
  return project
}

function unitValue (v: string): string {
  // systemd splits ExecStart on spaces and expands % specifiers: quote and escape what needs it.
  const escaped = v.replace(/%/g, '%%')
  return /[\s"\\]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped
}

export interface UnitOptions {
  user: string
  dataDir: string
  envFile: string
  appDir: string
  node: string
  /** further directories the agent writes (backups, logs) */
  writable: string[]
}

export function systemdUnit (o: UnitOptions): string {
  const underHome = [o.appDir, o.dataDir, ...o.writable].some((p) => /^\/(home|root|run\/user)(\/|$)/.test(p))
  return `# fangpin hospital agent, written by \`fangpin service install\`. Re-run that command after moving
# the application or the data; \`systemctl daemon-reload\` after editing this file.
[Unit]
Description=fangpin hospital agent (先诊疗后付费 eligibility and spending monitor)
Documentation=file://${o.appDir}/README.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
WorkingDirectory=${o.dataDir}
Environment=NODE_ENV=production
Environment=${unitValue(`FANGPIN_DATA_DIR=${o.dataDir}`)}
# FANGPIN_* settings (host, TLS, registry, backups, logs). Not optional: a missing file must stop
# the start rather than serve with defaults.
EnvironmentFile=${o.envFile}
ExecStart=${unitValue(o.node)} ${unitValue(join(o.appDir, 'bin', 'fangpin.js'))} serve
# SIGTERM: the agent finishes requests in flight, stops a running sync or backup, closes the
# database and exits within 10 s; systemd waits a little longer before it kills.
KillSignal=SIGTERM
TimeoutStopSec=20
Restart=on-failure
RestartSec=5
# A configuration error (exit 78) is not fixed by restarting.
RestartPreventExitStatus=78
UMask=0077
LimitNOFILE=65536

# Hardening. The agent needs its data directory (and backup and log directories) writable, the
# network, and nothing else. Not set: MemoryDenyWriteExecute (V8 compiles JavaScript to machine
# code in writable memory: Node would crash) and a SystemCallFilter narrower than @system-service.
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=${[o.dataDir, ...o.writable].map(unitValue).join(' ')}
PrivateTmp=true
PrivateDevices=true
ProtectHome=${underHome ? 'read-only' : 'true'}
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
ProtectProc=invisible
RestrictSUIDSGID=true
RestrictRealtime=true
RestrictNamespaces=true
LockPersonality=true
RemoveIPC=true
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service
# No capabilities: the agent listens on a port above 1024. For 443, add
#   AmbientCapabilities=CAP_NET_BIND_SERVICE  and  CapabilityBoundingSet=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=
AmbientCapabilities=

[Install]
WantedBy=multi-user.target
`
}

function xml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

export interface WinswOptions {
  node: string
  appDir: string
  dataDir: string
  env: Record<string, string>
}

/** A WinSW (v2/v3) service definition: name it fangpin.xml beside WinSW's exe renamed fangpin.exe. */
export function winswXml (o: WinswOptions): string {
  const env = { ...o.env, FANGPIN_DATA_DIR: o.dataDir, NODE_ENV: 'production' }
  const script = win32.join(o.appDir, 'bin', 'fangpin.js')
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- fangpin hospital agent as a Windows service, written by \`fangpin service install --windows\`.
     Put WinSW's executable beside this file as fangpin.exe, then (as administrator):
       fangpin.exe install      fangpin.exe start      fangpin.exe status
     Stopping sends Ctrl+C: the agent finishes requests in flight and closes its database. -->
<service>
  <id>fangpin</id>
  <name>fangpin hospital agent</name>
  <description>先诊疗后付费 eligibility lookups and in-catalog spending monitor for the HIS</description>
  <executable>${xml(o.node)}</executable>
  <arguments>"${xml(script)}" serve</arguments>
  <workingdirectory>${xml(o.dataDir)}</workingdirectory>
${Object.entries(env).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  <env name="${xml(k)}" value="${xml(v)}"/>`).join('\n')}
  <startmode>Automatic</startmode>
  <delayedAutoStart>true</delayedAutoStart>
  <onfailure action="restart" delay="10 sec"/>
  <onfailure action="restart" delay="30 sec"/>
  <onfailure action="restart" delay="60 sec"/>
  <resetfailure>1 hour</resetfailure>
  <stoptimeout>20 sec</stoptimeout>
  <log mode="roll-by-size">
    <sizeThreshold>10240</sizeThreshold>
    <keepFiles>8</keepFiles>
  </log>
</service>
`
}

export async function serviceCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      user: { type: 'string' },
      'data-dir': { type: 'string' },
      'environment-file': { type: 'string' },
      'unit-dir': { type: 'string' },
      'app-dir': { type: 'string' },
      node: { type: 'string' },
      windows: { type: 'boolean', default: false },
      out: { type: 'string' }
    },
    allowPositionals: true
  })
  if (positionals.length > 0 || (sub !== 'install' && sub !== 'uninstall')) throw new UsageError(USAGE)
  if (sub === 'uninstall') {
    const file = values.out !== undefined ? resolve(values.out) : join(values['unit-dir'] ?? DEFAULTS.unitDir, UNIT_NAME)
    if (!existsSync(file)) {
      io.err.write(`no unit at ${file}: nothing to remove\n`)
      return 1
    }
    unlinkSync(file)
    fsyncDir(dirname(file))
    io.out.write([`removed ${file}`, 'Then, as root:', '  systemctl disable --now fangpin', '  systemctl daemon-reload',
      'The data directory, the environment file and the backups are kept.', ''].join('\n'))
    return 0
  }

  const envFile = values['environment-file'] ?? (values.windows ? undefined : DEFAULTS.envFile)
  if (envFile !== undefined && !isAbsolute(envFile) && !values.windows) throw new UsageError(`--environment-file "${envFile}" must be an absolute path (systemd reads it)`)
  const fileEnv = envFile !== undefined && existsSync(envFile) ? readEnvFile(envFile) : {}
  const pick = (name: string): string | undefined => fileEnv[name] ?? (io.env[name]?.trim() === '' ? undefined : io.env[name])

  if (values.windows) {
    const onWindows = process.platform === 'win32'
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...Object.fromEntries(Object.entries(io.env).filter(([k]) => k.startsWith('FANGPIN_'))), ...fileEnv })) {
      if (k.startsWith('FANGPIN_') && v !== undefined) env[k] = v
    }
    const body = winswXml({
      node: values.node ?? (onWindows ? process.execPath : 'C:\\Program Files\\nodejs\\node.exe'),
      appDir: values['app-dir'] ?? (onWindows ? defaultAppDir() : 'C:\\fangpin\\current'),
      dataDir: values['data-dir'] ?? pick('FANGPIN_DATA_DIR') ?? (onWindows ? 'C:\\ProgramData\\fangpin\\data' : 'C:\\ProgramData\\fangpin\\data'),
      env
    })
    const out = resolve(values.out ?? 'fangpin.xml')
    writeFileAtomic(out, body, 0o600)
    io.out.write([`wrote ${out} (WinSW service definition)`,
      'On the Windows server, as administrator, with WinSW\'s executable copied beside it as fangpin.exe:',
      '  fangpin.exe install', '  fangpin.exe start', '  fangpin.exe status',
      'Check the paths in it (node.exe, the application, the data directory) first.', ''].join('\n'))
    return 0
  }

  const user = values.user ?? DEFAULTS.user
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new UsageError(`--user "${user}" is not a valid user name`)
  const dataDir = resolve(values['data-dir'] ?? pick('FANGPIN_DATA_DIR') ?? DEFAULTS.dataDir)
  if (fileEnv.FANGPIN_DATA_DIR !== undefined && resolve(fileEnv.FANGPIN_DATA_DIR) !== dataDir) {
    // The environment file would override the unit's FANGPIN_DATA_DIR, and the agent would write
    // where the hardening does not allow it.
    throw new UsageError(`${envFile ?? ''} sets FANGPIN_DATA_DIR=${fileEnv.FANGPIN_DATA_DIR}, not ${dataDir}: remove it from the file (the unit sets it) or pass --data-dir ${fileEnv.FANGPIN_DATA_DIR}`)
  }
  const writable: string[] = []
  const backupDir = pick('FANGPIN_BACKUP_DIR')
  if (backupDir !== undefined) writable.push(resolve(dataDir, backupDir))
  const logFile = pick('FANGPIN_LOG_FILE')
  if (logFile !== undefined) writable.push(dirname(resolve(dataDir, logFile)))
  const appDir = resolve(values['app-dir'] ?? defaultAppDir())
  const unit = systemdUnit({ user, dataDir, envFile: envFile ?? DEFAULTS.envFile, appDir, node: values.node ?? process.execPath, writable: [...new Set(writable)].filter((d) => d !== dataDir) })
  const out = values.out !== undefined ? resolve(values.out) : join(values['unit-dir'] ?? DEFAULTS.unitDir, UNIT_NAME)
  mkdirSync(dirname(out), { recursive: true })
  const replaced = existsSync(out)
  writeFileAtomic(out, unit, 0o644)
  const lines = [`${replaced ? 'replaced' : 'wrote'} ${out}`, '']
  if (envFile !== undefined && !existsSync(envFile)) {
    mkdirSync(dirname(envFile), { recursive: true, mode: 0o755 })
    writeFileAtomic(envFile, envTemplate(), 0o600)
    lines.push(`wrote ${envFile} (a template: set FANGPIN_HOST, TLS, the registry and backups in it)`, '')
  }
  const tlsKey = pick('FANGPIN_TLS_KEY')
  lines.push('Then, as root:',
    `  id ${user} >/dev/null 2>&1 || useradd --system --user-group --home-dir ${dataDir} --shell /usr/sbin/nologin ${user}`,
    ...[dataDir, ...writable].map((d) => `  install -d -o ${user} -g ${user} -m 700 ${d}`),
    `  chown -R ${user}:${user} ${dataDir}`,
    ...(tlsKey !== undefined ? [`  chown ${user}:${user} ${resolve(dataDir, tlsKey)}     # the TLS key must be readable by the service`] : []),
    '  systemctl daemon-reload',
    '  systemctl enable --now fangpin',
    '  systemctl status fangpin',
    '  journalctl -u fangpin -f                  # the log (unless FANGPIN_LOG_FILE is set)',
    '')
  io.out.write(lines.join('\n'))
  return 0
}

function envTemplate (): string {
  return `# fangpin settings for the service (systemd EnvironmentFile: KEY=VALUE, no quotes needed).
# FANGPIN_DATA_DIR is set by the unit. See the README's configuration table for every variable.
FANGPIN_HOST=0.0.0.0
FANGPIN_PORT=8080
# HTTPS (fangpin tls init --host <this server's name or IP>):
#FANGPIN_TLS_CERT=/var/lib/fangpin/tls-cert.pem
#FANGPIN_TLS_KEY=/var/lib/fangpin/tls-key.pem
# The county registry:
#FANGPIN_REGISTRY_URL=http://registry.county.lan:8090/
#FANGPIN_REGISTRY_PUBKEY=/etc/fangpin/registry.pub
# Nightly backups (another disk; create the directory owned by the service user):
#FANGPIN_BACKUP_DIR=/srv/backup/fangpin
#FANGPIN_BACKUP_KEEP=14
#FANGPIN_LOG_FILE=/var/log/fangpin/fangpin.log
`
}
