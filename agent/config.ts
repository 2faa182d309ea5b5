// Configuration comes from FANGPIN_* environment variables only, validated once at start:
// a hospital IT person reading the message must know which variable is wrong and how to fix it.
import { resolve } from 'node:path'
import { readFileSync } from 'node:fs'
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import cron from 'node-cron'
import { DEFAULT_PROFILE } from '../profile/profile.ts'
import { DEFAULT_TZ, isValidTimeZone } from '../base/local-time.ts'
import { readPublicKey } from '../registry/manifest.ts'
import { fontFileProblem } from './notice/font-file.ts'

export interface Config {
  dataDir: string
  host: string
  port: number
  profile: string
  tz: string
  staleHours: number
  /** staff page sessions end after this many minutes without a request */
  sessionIdleMinutes: number
  logLevel: string
  bodyLimit: number
  /** base URL of the county registry (manifest.json beside the data files); null: no sync */
  registryUrl: string | null
  registryPublicKey: KeyObject | null
  /** node-cron expression, in the hospital's local time (FANGPIN_TZ) */
  syncCron: string
  /** a sync still going after this many minutes is stopped (a registry that never finishes a download) */
  syncTimeoutMinutes: number
  /** a registry transfer slower than this over 30 s is cut; 0: no minimum */
  syncMinBytesPerSec: number
  /** set by serve, not by the environment: the registry is the bundled demo registry */
  registryDemo: boolean
  /** HTTPS with this certificate and key (FANGPIN_TLS_CERT, FANGPIN_TLS_KEY); null: plain HTTP */
  tls: TlsConfig | null
  /** FANGPIN_ALLOW_PLAINTEXT: plain HTTP off loopback was asked for, knowingly */
  allowPlaintext: boolean
  /** where scheduled backups go (FANGPIN_BACKUP_DIR); null: no scheduled backup */
  backupDir: string | null
  /** node-cron expression, hospital time */
  backupCron: string
  /** scheduled backups kept in backupDir (older ones are removed after a successful one) */
  backupKeep: number
  /** pino logs to this file, rotated (FANGPIN_LOG_FILE); null: standard output */
  logFile: string | null
  /** rotated log files kept besides the active one */
  logKeep: number
  /** a log file is rotated at this size (pino-roll notation: 50m, 500k) and every day */
  logMaxSize: string
  /** a Chinese font file for the admission notice PDF, before the packaged and system fonts; null: none set */
  noticeFont: string | null
  /** FANGPIN_INSU_ADMDVS: the hospital's insurance region for catalog rows; null: the profile's region */
  insuAdmdvs: string | null
}

export interface TlsConfig {
  certFile: string
  keyFile: string
  cert: string
  key: string
  /** SHA-256 fingerprint (AA:BB:…), what an HIS vendor pins */
  fingerprint256: string
  validTo: Date
}

export class ConfigError extends Error {
  constructor (public readonly problems: string[]) {
    super('fangpin cannot start, fix the configuration:\n  - ' + problems.join('\n  - '))
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Addresses that only this machine can reach: plain HTTP there does not cross the LAN. */
export function isLoopbackHost (host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1'
}

/**
 * Patient lookups cross the hospital LAN: ID numbers in bodies, bearer tokens and staff cookies in
 * headers. Plain HTTP off this machine is refused unless IT says, in so many words, that it is meant.
 * Checked when the agent starts to listen (not for the other commands, which share the env file).
 */
export function plaintextProblem (config: Pick<Config, 'host' | 'tls' | 'allowPlaintext'>): ConfigError | null {
  if (config.tls !== null || config.allowPlaintext || isLoopbackHost(config.host)) return null
  return new ConfigError([`FANGPIN_HOST="${config.host}" serves the hospital LAN over plain HTTP, which would carry ID numbers, tokens and staff passwords readable by anyone on the network: ` +
    'set FANGPIN_TLS_CERT and FANGPIN_TLS_KEY (`fangpin tls init --host <this server\'s name or IP>` makes a certificate), ' +
    'or listen on 127.0.0.1 behind a TLS proxy, or set FANGPIN_ALLOW_PLAINTEXT=true to accept plain HTTP knowingly (every answer then carries a warning)'])
}

function readTls (env: NodeJS.ProcessEnv, problems: string[]): TlsConfig | null {
  const certFile = env.FANGPIN_TLS_CERT?.trim() ?? ''
  const keyFile = env.FANGPIN_TLS_KEY?.trim() ?? ''
  if (certFile === '' && keyFile === '') return null
  if (certFile === '' || keyFile === '') {
    problems.push(`${certFile === '' ? 'FANGPIN_TLS_KEY' : 'FANGPIN_TLS_CERT'} is set but ${certFile === '' ? 'FANGPIN_TLS_CERT' : 'FANGPIN_TLS_KEY'} is not: set both (the PEM certificate and its private key, e.g. from \`fangpin tls init\`), or neither for plain HTTP`)
    return null
  }
  let cert = ''
  let key = ''
  try { cert = readFileSync(certFile, 'utf8') } catch (err) {
    problems.push(`FANGPIN_TLS_CERT="${certFile}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): set the path of the PEM certificate, readable by the user running fangpin`)
  }
  try { key = readFileSync(keyFile, 'utf8') } catch (err) {
    problems.push(`FANGPIN_TLS_KEY="${keyFile}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): set the path of the PEM private key, readable by the user running fangpin`)
  }
  if (cert === '' || key === '') return null
  let x509: X509Certificate
  try { x509 = new X509Certificate(cert) } catch {
    problems.push(`FANGPIN_TLS_CERT="${certFile}" is not a PEM certificate (-----BEGIN CERTIFICATE-----): set the certificate file, not the key or a request`)
    return null
  }
  let privateKey: KeyObject
  try { privateKey = createPrivateKey(key) } catch {
    problems.push(`FANGPIN_TLS_KEY="${keyFile}" is not an unencrypted PEM private key: set the key file made with the certificate (a key with a passphrase cannot be read at start)`)
    return null
  }
  // A key from another certificate fails only at the first handshake, as an obscure client error.
  if (!x509.checkPrivateKey(privateKey)) {
    problems.push(`FANGPIN_TLS_KEY="${keyFile}" is not the key of the certificate FANGPIN_TLS_CERT="${certFile}": set the key made together with this certificate`)
    return null
  }
  return { certFile: resolve(certFile), keyFile: resolve(keyFile), cert, key, fingerprint256: x509.fingerprint256, validTo: new Date(x509.validTo) }
}

/** pino-roll's size notation, kept to what IT can read at a glance: 50m, 500k, 1g. */
const LOG_SIZE = /^[1-9]\d{0,5}[kmg]$/

function integer (env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number, problems: string[], hint: string): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return def
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name}="${raw}" is not valid: ${hint} (an integer ${min}–${max}; default ${def})`)
    return def
  }
  return Number(raw)
}

export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const host = env.FANGPIN_HOST ?? '127.0.0.1'
  if (host.trim() === '' || /\s/.test(host)) {
    problems.push(`FANGPIN_HOST="${host}" is not valid: set an IP address or host name to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (the hospital LAN)`)
  }
  const port = integer(env, 'FANGPIN_PORT', 8080, 0, 65535, problems, 'set the TCP port the HIS will call')
  const staleHours = integer(env, 'FANGPIN_STALE_HOURS', 36, 1, 24 * 366, problems, 'set after how many hours without a list update lookups are marked stale')
  const sessionIdleMinutes = integer(env, 'FANGPIN_SESSION_IDLE_MINUTES', 30, 1, 24 * 60, problems, 'set after how many idle minutes a staff sign-in ends')
  const tz = env.FANGPIN_TZ ?? DEFAULT_TZ
  if (!isValidTimeZone(tz)) {
    problems.push(`FANGPIN_TZ="${tz}" is not a time zone this Node.js knows: use an IANA name such as Asia/Shanghai`)
  }
  const logLevel = env.FANGPIN_LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`FANGPIN_LOG_LEVEL="${logLevel}" is not valid: use one of ${LOG_LEVELS.join(', ')}`)
  }
  const dataDir = env.FANGPIN_DATA_DIR ?? './data'
  if (dataDir.trim() === '') problems.push('FANGPIN_DATA_DIR is empty: set the directory for the database and key files, or unset it for ./data')
  const profile = env.FANGPIN_PROFILE ?? DEFAULT_PROFILE
  if (profile.trim() === '') problems.push('FANGPIN_PROFILE is empty: set a region profile id (guangxi-liuzhou, shanxi, zhejiang-quzhou, anhui-yeji, shandong-wenshang) or the path of a local settings file')
  // 1,000 charge lines of ~600 bytes fit well inside 2 MiB; anything larger is not an HIS call.
  const bodyLimit = integer(env, 'FANGPIN_BODY_LIMIT', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024, problems, 'set the largest request body in bytes')
  const registryUrl = env.FANGPIN_REGISTRY_URL?.trim() === '' ? null : env.FANGPIN_REGISTRY_URL?.trim() ?? null
  let registryPublicKey: KeyObject | null = null
  if (registryUrl !== null) {
    let url: URL | null = null
    try { url = new URL(registryUrl) } catch { url = null }
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.push(`FANGPIN_REGISTRY_URL="${registryUrl}" is not an http(s) URL: set the address where the county publishes manifest.json`)
    }
    const pub = env.FANGPIN_REGISTRY_PUBKEY?.trim() ?? ''
    if (pub === '') {
      // There is no unsigned mode: a list nobody can vouch for must never decide who pays a deposit.
      problems.push('FANGPIN_REGISTRY_URL is set but FANGPIN_REGISTRY_PUBKEY is not: set the county\'s registry public key (the path of registry.pub or its base64 form from `fangpin registry keygen`)')
    } else {
      try {
        registryPublicKey = readPublicKey(pub)
      } catch (err) {
        problems.push(`FANGPIN_REGISTRY_PUBKEY is not usable: ${(err as Error).message}`)
      }
    }
  } else if ((env.FANGPIN_REGISTRY_PUBKEY ?? '').trim() !== '') {
    problems.push('FANGPIN_REGISTRY_PUBKEY is set but FANGPIN_REGISTRY_URL is not: set the registry URL too, or unset the key')
  }
  const syncCron = env.FANGPIN_SYNC_CRON ?? '30 2 * * *'
  if (!cron.validate(syncCron)) {
    problems.push(`FANGPIN_SYNC_CRON="${syncCron}" is not a cron expression: e.g. "30 2 * * *" (02:30 every night, hospital time)`)
  }
  // A registry that keeps a download alive with a byte now and then must not hold the sync (and the
  // next one) for ever: a deadline for the whole run, and a minimum rate for every transfer.
  const syncTimeoutMinutes = integer(env, 'FANGPIN_SYNC_TIMEOUT_MINUTES', 30, 1, 24 * 60, problems, 'set after how many minutes a registry sync that has not finished is stopped')
  const syncMinBytesPerSec = integer(env, 'FANGPIN_SYNC_MIN_BYTES_PER_SEC', 1024, 0, 1024 * 1024 * 1024, problems, 'set the slowest registry transfer, in bytes per second over 30 s, before it is cut (0: no minimum)')
  const tls = readTls(env, problems)
  const plain = (env.FANGPIN_ALLOW_PLAINTEXT ?? '').trim().toLowerCase()
  if (!['', 'true', 'false', '1', '0'].includes(plain)) {
    problems.push(`FANGPIN_ALLOW_PLAINTEXT="${env.FANGPIN_ALLOW_PLAINTEXT ?? ''}" is not valid: set true (serve plain HTTP on the LAN knowingly) or false, or unset it`)
  }
  const allowPlaintext = plain === 'true' || plain === '1'
  const backupDirRaw = env.FANGPIN_BACKUP_DIR?.trim() ?? ''
  const backupDir = backupDirRaw === '' ? null : resolve(backupDirRaw)
  if (backupDir !== null && backupDir === resolve(dataDir)) {
    problems.push(`FANGPIN_BACKUP_DIR="${backupDirRaw}" is the data directory itself: set a directory on another disk (or at least outside FANGPIN_DATA_DIR), so that one failure does not take the data and its backups`)
  }
  // Nightly after the sync (FANGPIN_SYNC_CRON defaults to 02:30): the backup holds the new list.
  const backupCron = env.FANGPIN_BACKUP_CRON ?? '30 3 * * *'
  if (!cron.validate(backupCron)) {
    problems.push(`FANGPIN_BACKUP_CRON="${backupCron}" is not a cron expression: e.g. "30 3 * * *" (03:30 every night, hospital time)`)
  }
  const backupKeep = integer(env, 'FANGPIN_BACKUP_KEEP', 14, 1, 10_000, problems, 'set how many scheduled backups to keep in FANGPIN_BACKUP_DIR')
  const logFileRaw = env.FANGPIN_LOG_FILE?.trim() ?? ''
  const logFile = logFileRaw === '' ? null : resolve(logFileRaw)
  if (logFile !== null && /[<>:"|?*]/.test(logFile.replace(/^[A-Za-z]:/, ''))) {
    problems.push(`FANGPIN_LOG_FILE="${logFileRaw}" has a character a log file name cannot have (< > : " | ? *): set a plain path such as /var/log/fangpin/fangpin.log`)
  }
  const logKeep = integer(env, 'FANGPIN_LOG_KEEP', 14, 1, 1000, problems, 'set how many rotated log files to keep besides the current one')
  const logMaxSize = (env.FANGPIN_LOG_MAX_SIZE ?? '50m').trim().toLowerCase()
  if (!LOG_SIZE.test(logMaxSize)) {
    problems.push(`FANGPIN_LOG_MAX_SIZE="${env.FANGPIN_LOG_MAX_SIZE ?? ''}" is not valid: a size with its unit, e.g. 50m (megabytes), 500k or 1g; a log file is also rotated every day`)
  }
  // The notice PDF embeds its font. Checked here by its first bytes only (no font engine at every
  // start); whether it has Chinese characters is seen when the first notice is made.
  const noticeFontRaw = env.FANGPIN_NOTICE_FONT?.trim() ?? ''
  const noticeFont = noticeFontRaw === '' ? null : resolve(noticeFontRaw)
  if (noticeFont !== null) {
    const problem = fontFileProblem(noticeFont)
    if (problem !== null) {
      problems.push(`FANGPIN_NOTICE_FONT="${noticeFontRaw}" is not usable: ${problem}. Set the path of a TrueType or OpenType font with Chinese characters (e.g. C:\\Windows\\Fonts\\simsun.ttc, /usr/share/fonts/truetype/wqy/wqy-microhei.ttc), or unset it to use the font that comes with the agent`)
    }
  }
  // Catalogs are provincial and regions are nested (450206 ⊂ 450200 ⊂ 450000): the code decides
  // which rows count, so a mistyped one would silently classify by another region's catalog.
  const insuRaw = env.FANGPIN_INSU_ADMDVS?.trim() ?? ''
  const insuAdmdvs = insuRaw === '' ? null : insuRaw
  if (insuAdmdvs !== null && !/^\d{6}$/.test(insuAdmdvs)) {
    problems.push(`FANGPIN_INSU_ADMDVS="${insuRaw}" is not valid: set the hospital's 6-digit insurance region code (医保区划, e.g. 450206), or unset it to use the profile's region`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    insuAdmdvs, dataDir: resolve(dataDir), host, port, profile, tz, staleHours, sessionIdleMinutes, logLevel, bodyLimit, registryUrl, registryPublicKey, syncCron, syncTimeoutMinutes, syncMinBytesPerSec, registryDemo: false,
    tls, allowPlaintext, backupDir, backupCron, backupKeep, logFile, logKeep, logMaxSize, noticeFont
  }
}
