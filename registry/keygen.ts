// The county's registry key pair. The private key signs every manifest, so whoever reads it can
// put any list into every hospital: it is written readable by its owner only, and never replaced
// by accident — a new key silently cuts every hospital configured with the old public key off.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateRegistryKeys, publicKeyBase64 } from './manifest.ts'
import { writeFileAtomic } from '../base/files.ts'

export const PRIVATE_KEY_FILE = 'registry.key'
export const PUBLIC_KEY_FILE = 'registry.pub'

export class KeyExists extends Error {
  override name = 'KeyExists'
}

export interface KeygenResult {
  privateKeyFile: string
  publicKeyFile: string
  publicKey: KeyObject
  /** the raw 32-byte public key in base64: what hospitals put in FANGPIN_REGISTRY_PUBKEY */
  publicKeyBase64: string
}


export function keygen (outDir: string, opts: { force?: boolean } = {}): KeygenResult {
  const dir = resolve(outDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const privateKeyFile = join(dir, PRIVATE_KEY_FILE)
  const publicKeyFile = join(dir, PUBLIC_KEY_FILE)
  const overwrite = opts.force === true
  if (!overwrite && existsSync(privateKeyFile)) {
    throw new KeyExists(`${privateKeyFile} already exists: not replaced. A new key means every hospital must be given the new public key, and the published directory must start again; if that is what you want, run again with --force`)
  }
  const { privatePem, publicPem } = generateRegistryKeys()
  try {
    writeFileAtomic(privateKeyFile, privatePem, 0o600, overwrite)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyExists(`${privateKeyFile} already exists: not replaced (use --force)`)
    throw err
  }
  // The public key follows the private one: an old registry.pub beside a new key would mislead.
  writeFileAtomic(publicKeyFile, publicPem, 0o644, true)
  const publicKey = createPublicKey(createPrivateKey(privatePem))
  return { privateKeyFile, publicKeyFile, publicKey, publicKeyBase64: publicKeyBase64(publicKey) }
}
