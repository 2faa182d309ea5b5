// Configuration comes from FANGPIN_* environment variables only, validated once at start:
// a hospital IT person reading the message must know which variable is wrong and how to fix it.
import { resolve } from 'node:path'
import { isValidTimeZone } from './rules/local-time.ts'

export interface Config {
  dataDir: string
  host: string
  port: number
  profile: string
  tz: string
  staleHours: number
  logLevel: string
  bodyLimit: number
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
  const tz = env.FANGPIN_TZ ?? 'Asia/Shanghai'
  if (!isValidTimeZone(tz)) {
    problems.push(`FANGPIN_TZ="${tz}" is not a time zone this Node.js knows: use an IANA name such as Asia/Shanghai`)
  }
  const logLevel = env.FANGPIN_LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`FANGPIN_LOG_LEVEL="${logLevel}" is not valid: use one of ${LOG_LEVELS.join(', ')}`)
  }
  const dataDir = env.FANGPIN_DATA_DIR ?? './data'
  if (dataDir.trim() === '') problems.push('FANGPIN_DATA_DIR is empty: set the directory for the database and key files, or unset it for ./data')
  const profile = env.FANGPIN_PROFILE ?? 'guangxi-liuzhou'
  if (profile.trim() === '') problems.push('FANGPIN_PROFILE is empty: set a region profile id (guangxi-liuzhou, shanxi) or the path of a profile JSON file')
  // 1,000 charge lines of ~600 bytes fit well inside 2 MiB; anything larger is not an HIS call.
  const bodyLimit = integer(env, 'FANGPIN_BODY_LIMIT', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024, problems, 'set the largest request body in bytes')
  if (problems.length > 0) throw new ConfigError(problems)
  return { dataDir: resolve(dataDir), host, port, profile, tz, staleHours, logLevel, bodyLimit }
}
