// Configuration comes from FANGPIN_* environment variables only, validated once at start:
// a hospital IT person reading the message must know which variable is wrong and how to fix it.
import { resolve } from 'node:path'
import type { KeyObject } from 'node:crypto'
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
  /** a Chinese font file for the admission notice PDF, before the packaged and system fonts; null: none set */
  noticeFont: string | null
  /** FANGPIN_INSU_ADMDVS: the hospital's insurance region for catalog rows; null: the profile's region */
  insuAdmdvs: string | null
}

export class ConfigError extends Error {
  constructor (public readonly problems: string[]) {
    super('fangpin cannot start, fix the configuration:\n  - ' + problems.join('\n  - '))
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

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
  return { insuAdmdvs, dataDir: resolve(dataDir), host, port, profile, tz, staleHours, sessionIdleMinutes, logLevel, bodyLimit, registryUrl, registryPublicKey, syncCron, syncTimeoutMinutes, syncMinBytesPerSec, registryDemo: false, noticeFont }
}
