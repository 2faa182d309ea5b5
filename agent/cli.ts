// The `fangpin` command. Every subcommand reads the same FANGPIN_* configuration as the server,
// so `fangpin import` and `fangpin token create` act on the data directory the server uses.
import { parseArgs } from 'node:util'
import { existsSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { basename } from 'node:path'
import { loadConfig, ConfigError, type Config } from './config.ts'
import { loadProfile, ProfileError, type LoadedProfile } from '../profile/profile.ts'
import { openStore, type Store } from './store/store.ts'
import { schemaVersion } from './store/db.ts'
import { startServer } from './server.ts'
import { listView } from './rules/eligibility.ts'
import { statusCounts } from './rules/stay.ts'
import type { TokenRole } from './store/tokens.ts'
import { demoCertno } from './demo/demo-list.ts'

const USAGE = `fangpin — hospital agent for 先诊疗后付费 and in-catalog spending

usage:
  fangpin serve                              run the agent (HTTP API for the HIS)
  fangpin import <file> [--allow-partial]    load a county list (.xlsx, .csv, .ndjson) as the serving list
  fangpin token create --name <client> [--role his|admin]
                                             create an API token (printed once)
  fangpin token list                         list tokens (never their secrets)
  fangpin token revoke <id|name>             revoke a token
  fangpin user add --name <name> --role billing|admin [--password-stdin]
                                             create a staff account for the billing page
                                             (password asked on the terminal, or read from stdin)
  fangpin user list                          list staff accounts
  fangpin user passwd <name> [--password-stdin]  set a new password
  fangpin user disable <name>                disable an account and end its sessions
  fangpin user unlock <name>                 end every sign-in lock on an account (too many wrong
                                             passwords), from every address
  fangpin status                             list version, age, counts, tokens
  fangpin sync                               fetch the registry's list now (exit 0 when current)

county registry (publisher side):
  fangpin registry keygen --out <dir>
  fangpin registry publish --from <xlsx|csv|ndjson> --out <dir> --key <private key> [--region <code>] [--expires-days N]
  fangpin registry serve <dir> [--port N]

configuration (environment):
  FANGPIN_DATA_DIR     data directory (default ./data)
  FANGPIN_HOST         listen address (default 127.0.0.1)
  FANGPIN_PORT         listen port (default 8080)
  FANGPIN_PROFILE      region profile id or JSON file (default guangxi-liuzhou; shipped: guangxi-liuzhou, shanxi)
  FANGPIN_TZ           the HIS's time zone (default Asia/Shanghai)
  FANGPIN_STALE_HOURS  hours after which the list is marked stale (default 36)
  FANGPIN_SESSION_IDLE_MINUTES  staff page sign-in ends after this many idle minutes (default 30)
  FANGPIN_LOG_LEVEL    info, warn, debug … (default info)
  FANGPIN_BODY_LIMIT   largest request body in bytes (default 2097152)
  FANGPIN_REGISTRY_URL     county registry base URL (manifest.json); unset: no sync
  FANGPIN_REGISTRY_PUBKEY  the registry's Ed25519 public key: registry.pub path or base64
  FANGPIN_SYNC_CRON        when to sync, hospital time (default "30 2 * * *")
  FANGPIN_SYNC_TIMEOUT_MINUTES    a sync not finished after this is stopped (default 30)
  FANGPIN_SYNC_MIN_BYTES_PER_SEC  a registry transfer slower than this over 30 s is cut
                                  (default 1024; 0: no minimum)
`

class UsageError extends Error {}

function profileFrom (config: Config): LoadedProfile {
  try {
    return loadProfile(config.profile)
  } catch (err) {
    if (err instanceof ProfileError) throw new ConfigError([`FANGPIN_PROFILE="${config.profile}": ${err.message}`])
    throw err
  }
}

/** A one-line progress bar on a terminal; nothing when output goes to a file or a pipe. */
function progressBar (label: string, threshold: number): { update: (done: number, total?: number) => void, done: () => void } {
  const tty = process.stderr.isTTY === true
  let shown = false
  let last = 0
  return {
    update (done, total) {
      if (!tty) return
      if ((total ?? done) < threshold) return
      const now = Date.now()
      if (now - last < 100 && (total === undefined || done < total)) return
      last = now
      shown = true
      const width = 30
      if (total !== undefined && total > 0) {
        const f = Math.min(1, done / total)
        const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.')
        process.stderr.write(`\r${label} [${bar}] ${done}/${total} ${Math.round(f * 100)}%`)
      } else {
        process.stderr.write(`\r${label} ${done}`)
      }
    },
    done () {
      if (shown) process.stderr.write('\n')
      shown = false
    }
  }
}

/** How long `serve` waits on SIGTERM/SIGINT for a clean close before it exits anyway. */
const STOP_GRACE_MS = 10_000

async function cmdServe (config: Config): Promise<void> {
  profileFrom(config)
  const running = await startServer(config)
  // Plain line whatever the log level: operators and scripts wait for it.
  process.stderr.write(`fangpin listening on ${running.address}\n`)
  for (const w of running.warnings) process.stderr.write(`warning: ${w}\n`)
  if (running.demo.loaded) {
    process.stderr.write([
      '',
      '  ================================================================',
      '   DEMO MODE — bundled synthetic list (演示数据，不得用于真实患者)',
      `   demo HIS token: ${running.demo.token ?? '(revoked)'}`,
      running.demo.staff === null
        ? `   staff page: http://${config.host}:${config.port}/`
        : `   staff page: http://${config.host}:${config.port}/  (sign in as ${running.demo.staff.name} / ${running.demo.staff.password})`,
      `   try: curl -s -X POST http://${config.host}:${config.port}/v1/eligibility \\`,
      '          -H "Authorization: Bearer <demo token>" -H "Content-Type: application/json" \\',
      `          -d '{"certno":"${demoCertno('extreme_poverty')}"}'`,
      '  ================================================================',
      ''
    ].join('\n') + '\n')
  }
  const stop = async (signal: string): Promise<void> => {
    running.app.log.info(`${signal}: closing`)
    // Closing stops a running sync and waits for requests in flight; whatever still holds it after
    // this long (a client that never finishes) must not keep a service manager waiting for ever.
    const forced = setTimeout(() => {
      running.app.log.error(`${signal}: not closed after ${STOP_GRACE_MS / 1000} s; exiting anyway`)
      process.stderr.write(`fangpin: not closed ${STOP_GRACE_MS / 1000} s after ${signal}; exiting anyway\n`)
      process.exit(1)
    }, STOP_GRACE_MS)
    try {
      await running.app.close()
    } catch (err) {
      running.app.log.error({ err }, `${signal}: closing failed`)
      process.exit(1)
    }
    clearTimeout(forced)
    process.exit(0)
  }
  process.once('SIGINT', () => { void stop('SIGINT') })
  process.once('SIGTERM', () => { void stop('SIGTERM') })
}

async function cmdImport (config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { 'allow-partial': { type: 'boolean', default: false } }, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('usage: fangpin import <file> [--allow-partial]')
  const file = positionals[0]
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`)
  const profile = profileFrom(config)
  // The readers pull in exceljs and csv-parse; only `import` needs them, so `serve` starts lighter.
  const { importList, ImportRejected } = await import('./intake/import.ts')
  const { formatProblems } = await import('../lists/row-report.ts')
  const store = openStore(config.dataDir)
  const reading = progressBar(`reading ${basename(file)}`, 10_000)
  const loading = progressBar('loading', 10_000)
  try {
    const out = await importList(store, profile, file, {
      allowPartial: values['allow-partial'],
      tz: config.tz,
      client: `cli:${process.env.USER ?? 'unknown'}`,
      onReadProgress: (d, t) => reading.update(d, t),
      onLoadProgress: (p, total) => { reading.done(); loading.update(p, total) }
    })
    loading.done()
    if (out.problems.length > 0) {
      process.stdout.write(formatProblems(out.problems, 20).join('\n') + '\n')
      process.stdout.write(`${out.read.badRows} bad rows skipped (--allow-partial); full report: ${out.reportFile ?? ''}\n`)
    }
    process.stdout.write(`loaded ${out.load.persons} people with ${out.load.identities} identities from ${out.read.rows} rows (${out.read.format}); list version ${out.load.version}\n`)
    return 0
  } catch (err) {
    reading.done()
    loading.done()
    if (err instanceof ImportRejected) {
      process.stderr.write(formatProblems(err.problems, 50).join('\n') + '\n')
      process.stderr.write(`\n${err.message}\nfull report: ${err.reportFile ?? ''}\n`)
      return 2
    }
    throw err
  } finally {
    store.close()
  }
}

async function cmdToken (config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const store = openStore(config.dataDir)
  try {
    if (sub === 'create') {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, role: { type: 'string', default: 'his' } } })
      const name = values.name?.trim() ?? ''
      if (name === '') throw new UsageError('usage: fangpin token create --name <client> [--role his|admin]')
      if (values.role !== 'his' && values.role !== 'admin') throw new UsageError('--role must be his or admin')
      const { token, info } = store.tokens.create(name, values.role as TokenRole)
      store.audit.write({ client: `cli:${process.env.USER ?? 'unknown'}`, action: 'token.create', detail: { id: info.id, name, role: info.role } })
      process.stderr.write(`token for "${name}" (role ${info.role}, id ${info.id}); it is shown only this once:\n`)
      process.stdout.write(token + '\n')
      return 0
    }
    if (sub === 'list') {
      for (const t of store.tokens.list()) {
        process.stdout.write(`${t.id}  ${t.name.padEnd(20)} ${t.role.padEnd(6)} created ${t.created_at}${t.revoked_at !== null ? `  REVOKED ${t.revoked_at}` : ''}${t.last_used_at !== null ? `  last used ${t.last_used_at}` : ''}\n`)
      }
      return 0
    }
    if (sub === 'revoke') {
      if (rest.length !== 1) throw new UsageError('usage: fangpin token revoke <id|name>')
      const n = store.tokens.revoke(rest[0])
      store.audit.write({ client: `cli:${process.env.USER ?? 'unknown'}`, action: 'token.revoke', detail: { token: rest[0], revoked: n } })
      process.stdout.write(n > 0 ? `revoked ${n} token(s)\n` : `no active token with id or name "${rest[0]}"\n`)
      return n > 0 ? 0 : 1
    }
    throw new UsageError('usage: fangpin token create --name <client> | token list | token revoke <id|name>')
  } finally {
    store.close()
  }
}

/** A password from stdin (--password-stdin) or typed on the terminal without echo. */
async function readPassword (fromStdin: boolean, prompt: string): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    if (!fromStdin) throw new UsageError('stdin is not a terminal: pass --password-stdin to read the password from it')
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  }
  const ask = (label: string): Promise<string> => new Promise((resolve) => {
    process.stderr.write(label)
    const stdin = process.stdin
    stdin.setRawMode(true)
    stdin.resume()
    let typed = ''
    const onData = (d: Buffer): void => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false)
          stdin.pause()
          stdin.off('data', onData)
          process.stderr.write('\n')
          resolve(typed)
          return
        }
        if (ch === '\u0003') process.exit(130)
        if (ch === '\u007f') typed = typed.slice(0, -1)
        else typed += ch
      }
    }
    stdin.on('data', onData)
  })
  const first = await ask(prompt)
  const second = await ask('repeat the password: ')
  if (first !== second) throw new UsageError('the two passwords differ; nothing was changed')
  return first
}

async function cmdUser (config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { StaffUserError } = await import('./store/staff.ts')
  const store = openStore(config.dataDir)
  const who = `cli:${process.env.USER ?? 'unknown'}`
  try {
    if (sub === 'add') {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } } })
      const name = values.name?.trim() ?? ''
      if (name === '' || (values.role !== 'billing' && values.role !== 'admin')) throw new UsageError('usage: fangpin user add --name <name> --role billing|admin [--password-stdin]')
      if (store.staff.byName(name) !== undefined) throw new UsageError(`a staff user named ${name} already exists`)
      const password = await readPassword(values['password-stdin'] === true, `password for ${name}: `)
      const user = await store.staff.createUser({ name, role: values.role, password })
      store.audit.write({ client: who, action: 'staff.user_add', detail: { name: user.name, role: user.role } })
      process.stdout.write(`staff user ${user.name} (${user.role}) created; sign in at the agent's address with a browser\n`)
      return 0
    }
    if (sub === 'list') {
      const now = Date.now()
      for (const u of store.staff.list()) {
        const locks = store.signInLimits.accountLocks(u.name, now).map((l) => `  LOCKED from ${l.address} until ${l.until}`).join('')
        process.stdout.write(`${u.name.padEnd(20)} ${u.role.padEnd(8)} created ${u.created_at}${u.disabled_at !== null ? `  DISABLED ${u.disabled_at}` : ''}${u.last_login_at !== null ? `  last sign-in ${u.last_login_at}` : ''}${locks}\n`)
      }
      return 0
    }
    if (sub === 'passwd') {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'password-stdin': { type: 'boolean', default: false } } })
      if (positionals.length !== 1) throw new UsageError('usage: fangpin user passwd <name> [--password-stdin]')
      if (store.staff.byName(positionals[0]) === undefined) throw new UsageError(`no staff user named ${positionals[0]}`)
      await store.staff.setPassword(positionals[0], await readPassword(values['password-stdin'] === true, `new password for ${positionals[0]}: `))
      store.audit.write({ client: who, action: 'staff.passwd', detail: { name: positionals[0] } })
      process.stdout.write(`password of ${positionals[0]} changed\n`)
      return 0
    }
    if (sub === 'disable') {
      if (rest.length !== 1) throw new UsageError('usage: fangpin user disable <name>')
      const done = store.staff.disable(rest[0])
      if (done) store.audit.write({ client: who, action: 'staff.disable', detail: { name: rest[0] } })
      process.stdout.write(done ? `staff user ${rest[0]} disabled\n` : `no active staff user named ${rest[0]}\n`)
      return done ? 0 : 1
    }
    if (sub === 'unlock') {
      if (rest.length !== 1) throw new UsageError('usage: fangpin user unlock <name>')
      const user = store.staff.byName(rest[0].trim())
      if (user === undefined) throw new UsageError(`no staff user named ${rest[0]}`)
      // The running agent reads the locks from the database at each sign-in: this takes effect at once.
      const n = store.db.transaction(() => {
        const ended = store.signInLimits.unlockAccount(user.name, Date.now())
        store.audit.write({ client: who, action: 'staff.unlock', detail: { name: user.name, locks: ended } })
        return ended
      }).immediate()
      process.stdout.write(n > 0 ? `staff user ${user.name} unlocked: ${n} lock(s) ended\n` : `staff user ${user.name} was not locked (0 locks)\n`)
      return 0
    }
    throw new UsageError('usage: fangpin user add --name <name> --role billing|admin [--password-stdin] | user list | user passwd <name> | user disable <name> | user unlock <name>')
  } catch (err) {
    if (err instanceof StaffUserError) throw new UsageError(err.message)
    throw err
  } finally {
    store.close()
  }
}

async function cmdSync (config: Config): Promise<number> {
  if (config.registryUrl === null || config.registryPublicKey === null) {
    throw new ConfigError(['fangpin sync needs FANGPIN_REGISTRY_URL and FANGPIN_REGISTRY_PUBKEY'])
  }
  const profile = profileFrom(config)
  const { runSync } = await import('./intake/registry-sync.ts')
  const store = openStore(config.dataDir)
  const bar = progressBar('sync', 0)
  // Ctrl-C or a SIGTERM stops the download and records the run as interrupted; a second one kills.
  const stop = new AbortController()
  const onSignal = (signal: string): void => { stop.abort(new Error(`${signal} received`)) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const result = await runSync({
      store,
      profile,
      url: config.registryUrl,
      publicKey: config.registryPublicKey,
      tz: config.tz,
      timeoutMs: config.syncTimeoutMinutes * 60_000,
      client: { minBytesPerSec: config.syncMinBytesPerSec },
      signal: stop.signal,
      onProgress: (phase, done, total) => { if (phase === 'download') bar.update(done, total) }
    }, 'cli')
    bar.done()
    const line = `${result.result}: ${result.message}`
    if (result.result === 'failed') {
      process.stderr.write(line + '\n')
      return 1
    }
    process.stdout.write(line + '\n')
    return 0
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    bar.done()
    store.close()
  }
}

function monitoredSummary (store: Store, profile: LoadedProfile): string {
  const counts = statusCounts(store, profile)
  return `${counts.breach + counts.warning + counts.ok + counts.exempt} (超标 ${counts.breach}, 预警 ${counts.warning}, 正常 ${counts.ok}, 豁免 ${counts.exempt})`
}

async function cmdStatus (config: Config): Promise<number> {
  const profile = profileFrom(config)
  const store = openStore(config.dataDir)
  try {
    const state = store.list.state()
    const view = listView(state, config.staleHours)
    const tokens = store.tokens.list().filter((t) => t.revoked_at === null)
    const lines = [
      `data directory   ${config.dataDir} (schema v${schemaVersion(store.db)})`,
      `profile          ${profile.id} (${profile.name})`,
      state.active_gen === null
        ? 'list             NONE LOADED — run fangpin import <file>'
        : `list             ${state.version ?? ''} from ${state.source ?? ''}${state.demo ? ' — DEMO DATA' : ''}; ${state.person_count} people, ${state.identity_count} identities`,
      `loaded           ${state.loaded_at ?? '-'} (${view.age_hours ?? '-'} h ago${view.stale ? `, STALE: older than ${config.staleHours} h` : ''})`,
      `open admissions  ${store.admissions.countOpen()}`,
      `monitored stays  ${monitoredSummary(store, profile)}`,
      `open alerts      ${store.alerts.unattended().length}`,
      `active tokens    ${tokens.length}${tokens.length > 0 ? ` (${tokens.map((t) => t.name).join(', ')})` : ''}`,
      `staff accounts   ${store.staff.list().filter((u) => u.disabled_at === null).length} active`
    ]
    process.stdout.write(lines.join('\n') + '\n')
    return state.active_gen === null ? 1 : 0
  } finally {
    store.close()
  }
}

export async function main (argv: string[]): Promise<number> {
  const [cmd, ...args] = argv
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE)
    return cmd === undefined ? 1 : 0
  }
  if (cmd === 'registry') {
    // The county's tools (keygen, publish, serve) read their own flags, not the agent's configuration.
    const { registryCommand } = await import('../registry/cli.ts')
    return await registryCommand(args)
  }
  try {
    const config = loadConfig()
    switch (cmd) {
      case 'serve': await cmdServe(config); return -1
      case 'import': return await cmdImport(config, args)
      case 'token': return await cmdToken(config, args)
      case 'user': return await cmdUser(config, args)
      case 'status': return await cmdStatus(config)
      case 'sync': return await cmdSync(config)
      default: throw new UsageError(`unknown command "${cmd}"\n\n${USAGE}`)
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(err.message + '\n')
      return err instanceof ConfigError ? 78 : 64
    }
    process.stderr.write(`fangpin ${cmd}: ${(err as Error).message}\n`)
    return 1
  }
}

// Run when this file is the entry point (npm start, bin/fangpin.js), not when a test imports it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exitCode = code
}
