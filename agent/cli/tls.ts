// `fangpin tls init --host <name or IP>… [--out DIR] [--days N] [--force]`: a private key and a
// self-signed certificate for the agent's names on the hospital LAN. Hospitals rarely have a CA the
// HIS trusts; a self-signed certificate whose SHA-256 fingerprint the HIS vendor pins is as strong
// and needs nothing from outside.
import { parseArgs } from 'node:util'
import { X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import type { Config } from '../config.ts'
import { writeFileAtomic } from '../../base/files.ts'
import { UsageError, type Io } from '../../base/terminal.ts'

export const TLS_CERT_FILE = 'tls-cert.pem'
export const TLS_KEY_FILE = 'tls-key.pem'

const USAGE = 'usage: fangpin tls init --host <name or IP> [--host …] [--out DIR] [--days N] [--force]'
// 825 days: the longest validity Apple's systems accept for a TLS server certificate from a
// locally trusted root; other clients accept it too.
const DEFAULT_DAYS = 825
const DNS_NAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/

export interface MadeCertificate {
  certFile: string
  keyFile: string
  fingerprint256: string
  validTo: Date
}

/** Makes the key and certificate for `hosts` in `dir` (files refused if present unless `force`). */
export async function makeCertificate (hosts: string[], dir: string, days: number, force = false): Promise<MadeCertificate> {
  const names = hosts.map((h) => h.trim().replace(/^\[(.*)\]$/, '$1'))
  for (const h of names) {
    if (isIP(h) === 0 && !DNS_NAME.test(h)) throw new UsageError(`--host "${h}" is neither an IP address nor a host name: give the name or address the HIS uses to reach this server`)
  }
  const certFile = join(dir, TLS_CERT_FILE)
  const keyFile = join(dir, TLS_KEY_FILE)
  if (!force) {
    for (const f of [certFile, keyFile]) {
      if (existsSync(f)) throw new UsageError(`${f} exists: the HIS may have pinned its certificate. Pass --force to replace it (then give the HIS vendor the new fingerprint), or --out another directory`)
    }
  }
  // selfsigned (maintained, 40M+ downloads a month) writes X.509 with @peculiar/x509 over Node's own
  // WebCrypto: pure JavaScript, no native build and no openssl binary, so it installs from the
  // offline bundle and works on Windows servers. Loaded here only: the server never needs it.
  const { generate } = await import('selfsigned')
  const notBefore = new Date(Date.now() - 5 * 60_000) // a few minutes of clock skew on the HIS side
  const pems = await generate([{ name: 'commonName', value: names[0] }, { name: 'organizationName', value: 'fangpin agent' }], {
    keyType: 'rsa', // RSA 2048 over ECDSA: older HIS clients (Windows 7, .NET Framework) handshake with it
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: new Date(notBefore.getTime() + days * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((h) => isIP(h) === 0 ? { type: 2 as const, value: h } : { type: 7 as const, ip: h }) }
    ]
  })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // The key first and 0600 from its first byte; the certificate is public.
  writeFileAtomic(keyFile, pems.private, 0o600)
  writeFileAtomic(certFile, pems.cert, 0o644)
  const x509 = new X509Certificate(pems.cert)
  return { certFile, keyFile, fingerprint256: x509.fingerprint256, validTo: new Date(x509.validTo) }
}

export async function tlsCommand (config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'init') throw new UsageError(USAGE)
  const { values, positionals } = parseArgs({
    args: rest,
    options: { host: { type: 'string', multiple: true }, out: { type: 'string' }, days: { type: 'string' }, force: { type: 'boolean', default: false } },
    allowPositionals: true
  })
  if (positionals.length > 0 || values.host === undefined || values.host.length === 0) throw new UsageError(`${USAGE}\n  (each --host is a name or address the HIS uses for this server, e.g. --host his-agent.hospital.lan --host 10.20.1.15)`)
  const days = values.days === undefined ? DEFAULT_DAYS : Number(values.days)
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new UsageError(`--days "${values.days ?? ''}" is not valid: the certificate's validity in days, 1–3650 (default ${DEFAULT_DAYS})`)
  const dir = resolve(values.out ?? config.dataDir)
  const made = await makeCertificate(values.host, dir, days, values.force)
  io.out.write([
    `certificate: ${made.certFile}`,
    `private key: ${made.keyFile} (mode 0600; keep it on this server)`,
    `SHA-256 fingerprint: ${made.fingerprint256}`,
    `valid until: ${made.validTo.toISOString()}`,
    `names: ${values.host.join(', ')}`,
    '',
    'Serve HTTPS with it (in the environment file of the service):',
    `  FANGPIN_TLS_CERT=${made.certFile}`,
    `  FANGPIN_TLS_KEY=${made.keyFile}`,
    'Give the HIS vendor the fingerprint above to pin (or the certificate file to trust); staff browsers will ask to accept it once.',
    ''
  ].join('\n'))
  return 0
}
