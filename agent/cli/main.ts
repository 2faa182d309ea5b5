// The `fangpin` command: one file per command under agent/cli/, dispatched here. Every agent
// command reads the same FANGPIN_* configuration as the server; the county's registry tools
// (`fangpin registry …`) read their own flags.
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { loadConfig, ConfigError } from '../config.ts'
import { CATALOGUE, isFangpinCode } from '../errors.ts'
import { EX_USAGE, UsageError, processIo, type Io } from '../../base/terminal.ts'
import { serveCommand } from './serve.ts'
import { importCommand } from './import.ts'
import { tokenCommand } from './token.ts'
import { userCommand } from './user.ts'
import { statusCommand } from './status.ts'
import { syncCommand } from './sync.ts'
import { tlsCommand } from './tls.ts'
import { serviceCommand } from './service.ts'
import { backupCommand, restoreCommand } from './backup.ts'
import { catalogCommand } from './catalog.ts'
import { profileCommand } from './profile.ts'
import { tariffCommand } from './tariff.ts'
import { reportCommand } from './report.ts'
import { ProfileError } from '../../profile/profile.ts'

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
  fangpin catalog import <file>… [--mapping <file>]… [--vbp <file>]… [--allow-partial]
                                             load the insurance catalog, the hospital's code mapping
                                             and the 集采中选 list (xlsx, csv, 1301/1302/1305/1306 downloads)
  fangpin catalog status                     what catalog is loaded; items whose HIS level disagrees
  fangpin catalog sync                       fetch the registry's catalog now
  fangpin profile show [id|file]             the region's rules in Chinese, each with its clause
                                             (default: FANGPIN_PROFILE)
  fangpin profile check <file>               validate a hospital's local settings file and list the
                                             local settings still missing (exit 0 complete,
                                             2 valid but incomplete, 65 invalid)
  fangpin tariff import <file> [--point-value N] [--allow-partial]
                                             the hospital's DRG payment table (病组编码, 病组名称,
                                             支付标准 or 次均费用, or 基准点数 with 点值): the
                                             admission estimate's tariff basis
  fangpin report burden --month YYYY-MM [--out FILE.xlsx|FILE.csv]
                                             the month's burden list: people over their annual
                                             threshold, stays below the reimbursement targets

operations (README, Operations):
  fangpin tls init --host <name or IP> [--host …] [--out DIR] [--days N] [--force]
                                             make a TLS key and self-signed certificate (prints its
                                             SHA-256 fingerprint for the HIS vendor to pin)
  fangpin service install [--user fangpin] [--data-dir DIR] [--environment-file FILE] [--unit-dir DIR] [--app-dir DIR] [--out FILE]
                                             write the systemd unit and print the systemctl commands
  fangpin service install --windows [--data-dir DIR] [--environment-file FILE] [--app-dir DIR] [--node PATH] [--out FILE]
                                             write a WinSW service definition (fangpin.xml)
  fangpin service uninstall [--unit-dir DIR] remove the systemd unit (data and backups are kept)
  fangpin backup [--out DIR]                 online backup of the database and subject key (one file)
  fangpin restore <file> [--data-dir DIR] [--check]
                                             restore a backup into the STOPPED data directory
                                             (--check: only verify the file)

county registry (publisher side):
  fangpin registry keygen --out <dir>
  fangpin registry publish --from <xlsx|csv|ndjson> --out <dir> --key <private key> [--region <code>] [--expires-days N]
  fangpin registry serve <dir> [--port N]
  fangpin registry publish-catalog --from <file>… [--vbp <file>]… --out <dir> --key <private key> [--region <code>]

configuration (environment):
  FANGPIN_DATA_DIR     data directory (default ./data)
  FANGPIN_HOST         listen address (default 127.0.0.1)
  FANGPIN_PORT         listen port (default 8080)
  FANGPIN_PROFILE      region profile id, or a hospital's local settings file that extends one
                       (default guangxi-liuzhou; shipped: guangxi-liuzhou, shanxi, zhejiang-quzhou,
                       anhui-yeji, shandong-wenshang)
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
  FANGPIN_TLS_CERT, FANGPIN_TLS_KEY  PEM certificate and key: serve HTTPS (both or neither)
  FANGPIN_ALLOW_PLAINTEXT  true: serve plain HTTP on a non-loopback FANGPIN_HOST anyway (refused otherwise)
  FANGPIN_BACKUP_DIR       scheduled backups go here (unset: none)
  FANGPIN_BACKUP_CRON      when, hospital time (default "30 3 * * *", after the nightly sync)
  FANGPIN_BACKUP_KEEP      scheduled backups kept (default 14)
  FANGPIN_LOG_FILE         write the log to this file, rotated daily and by size (unset: stdout)
  FANGPIN_LOG_KEEP         rotated log files kept (default 14)
  FANGPIN_LOG_MAX_SIZE     rotate a log file at this size (default 50m; k, m, g)
  FANGPIN_NOTICE_FONT      a Chinese font file (.ttf, .otf, .ttc) for the admission notice PDF,
                           used before the font that comes with the agent (default: none)
  FANGPIN_INSU_ADMDVS  the hospital's 6-digit insurance region for the catalog (default the profile's region)
`

/** EX_CONFIG: the configuration stops the command (sysexits.h). */
const EX_CONFIG = 78

/** A mistake the rules refuse (a taken name, a short password, an unknown account): the operator's to fix. */
function operatorMistake (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return isFangpinCode(code) && CATALOGUE[code].status < 500
}

export async function main (argv: string[], io: Io = processIo()): Promise<number> {
  const [cmd, ...args] = argv
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out.write(USAGE)
    return cmd === undefined ? 1 : 0
  }
  if (cmd === 'registry') {
    const { registryCommand } = await import('../../registry/cli.ts')
    return await registryCommand(args, io)
  }
  try {
    if (cmd === 'profile') return await profileCommand(args, io)
    const config = loadConfig(io.env)
    switch (cmd) {
      case 'serve': await serveCommand(config, io); return -1
      case 'import': return await importCommand(config, args, io)
      case 'token': return await tokenCommand(config, args, io)
      case 'user': return await userCommand(config, args, io)
      case 'status': return await statusCommand(config, io)
      case 'sync': return await syncCommand(config, io)
      case 'tls': return await tlsCommand(config, args, io)
      case 'service': return await serviceCommand(config, args, io)
      case 'backup': return await backupCommand(config, args, io)
      case 'restore': return await restoreCommand(config, args, io)
      case 'tariff': return await tariffCommand(config, args, io)
      case 'report': return await reportCommand(config, args, io)
      case 'catalog': return await catalogCommand(config, args, io)
      default: throw new UsageError(`unknown command "${cmd}"\n\n${USAGE}`)
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err.write(err.message + '\n')
      return EX_CONFIG
    }
    if (err instanceof ProfileError) {
      io.err.write(`FANGPIN_PROFILE: ${err.message}\n`)
      return EX_CONFIG
    }
    if (err instanceof UsageError || operatorMistake(err)) {
      io.err.write((err as Error).message + '\n')
      return EX_USAGE
    }
    io.err.write(`fangpin ${cmd}: ${(err as Error).message}\n`)
    return 1
  }
}

// Run when this file is the entry point (npm start, bin/fangpin.js), not when a test imports it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exitCode = code
}
