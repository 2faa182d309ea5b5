// The registry protocol's trust anchor: a manifest signed with the county's Ed25519 key. The agent
// loads nothing the manifest does not vouch for (size and sha256 of every file), and nothing whose
// manifest does not verify against the public key the hospital configured.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'

/** The record format version this agent understands (schemas/registry-record.schema.json). */
export const SCHEMA_VERSION = 1

/** The signed manifest's name in a registry directory. */
export const MANIFEST_FILE = 'manifest.json'

/** Names a manifest may point at: bare names, so a manifest never leads outside its directory. */
export const DATA_FILE = /^(?:full-(\d+)|delta-(\d+)-(\d+))\.ndjson\.gz$/

export interface FileEntry {
  kind: 'full' | 'delta'
  /** sequence number this file brings the list to */
  seq: number
  /** for a delta: the sequence it applies on */
  base_seq: number | null
  file: string
  record_count: number
  size: number
  sha256: string
}

/**
 * manifest.json. Its top level describes the newest file (the delta against the previous publish,
 * or the full snapshot for a first publish); `full` always describes the full snapshot of the same
 * sequence, so a client that fell behind can catch up.
 */
export interface Manifest {
  seq: number
  kind: 'full' | 'delta'
  base_seq: number | null
  created_at: string
  expires_at: string
  region: string
  record_count: number
  size: number
  sha256: string
  schema_version: number
  file: string
  full: FileEntry
  signature?: string
}

/** Keys sorted at every level, no blanks: the bytes the signature covers. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']'
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}'
  }
  return JSON.stringify(value)
}

function signedBytes (m: Manifest): Buffer {
  const { signature: _signature, ...rest } = m
  return Buffer.from(canonicalJson(rest), 'utf8')
}

export function signManifest (m: Manifest, privateKey: KeyObject): Manifest {
  const unsigned = { ...m }
  delete unsigned.signature
  return { ...unsigned, signature: sign(null, signedBytes(unsigned), privateKey).toString('base64') }
}

export function verifyManifest (m: Manifest, publicKey: KeyObject): boolean {
  if (typeof m.signature !== 'string' || m.signature === '') return false
  try {
    return verify(null, signedBytes(m), publicKey, Buffer.from(m.signature, 'base64'))
  } catch {
    return false
  }
}

export function generateRegistryKeys (): { privatePem: string, publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}

export class RegistryKeyError extends Error {
  override name = 'RegistryKeyError'
}

export function readPrivateKey (file: string): KeyObject {
  try {
    const key = createPrivateKey(readFileSync(file))
    if (key.asymmetricKeyType !== 'ed25519') throw new RegistryKeyError(`${file} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`)
    return key
  } catch (err) {
    if (err instanceof RegistryKeyError) throw err
    throw new RegistryKeyError(`${file} is not a readable Ed25519 private key (PEM): ${(err as Error).message}`)
  }
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/**
 * The registry's public key as hospitals configure it (FANGPIN_REGISTRY_PUBKEY): the path of a
 * PEM file, the PEM text itself, or base64 of the raw 32-byte key or of its SPKI DER form.
 */
export function readPublicKey (value: string): KeyObject {
  const text = value.trim()
  try {
    let key: KeyObject
    if (text.includes('-----BEGIN')) {
      key = createPublicKey(text)
    } else if (existsSync(text)) {
      key = createPublicKey(readFileSync(text))
    } else {
      const der = Buffer.from(text, 'base64')
      if (der.length === 32) key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, der]), format: 'der', type: 'spki' })
      else key = createPublicKey({ key: der, format: 'der', type: 'spki' })
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new RegistryKeyError(`the key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`)
    return key
  } catch (err) {
    if (err instanceof RegistryKeyError) throw err
    throw new RegistryKeyError(`not an Ed25519 public key (a PEM file path, PEM text, or base64 of the 32-byte key): ${(err as Error).message}`)
  }
}

/** The raw 32-byte public key in base64: the short form to paste into FANGPIN_REGISTRY_PUBKEY. */
export function publicKeyBase64 (key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' })
  return der.subarray(der.length - 32).toString('base64')
}

// ---------------------------------------------------------------------------------------------
// The second channel: the insurance catalog, published by the same county office with the same
// key, beside the list: catalog-manifest.json and catalog-<seq>.ndjson.gz (catalog/ndjson.ts).

export const CATALOG_MANIFEST_FILE = 'catalog-manifest.json'

/** Names a catalog manifest may point at: bare names only, like the list's. */
export const CATALOG_DATA_FILE = /^catalog-(\d+)\.ndjson\.gz$/

/** The catalog record format this agent reads (catalog/ndjson.ts). */
export const CATALOG_SCHEMA_VERSION = 1

/**
 * catalog-manifest.json. `channel` is signed with the rest: a list manifest can never pass for a
 * catalog manifest, nor the other way round.
 */
export interface CatalogManifest {
  channel: 'catalog'
  seq: number
  created_at: string
  expires_at: string
  region: string
  schema_version: number
  file: string
  size: number
  sha256: string
  record_count: number
  /** item records (catalog rows) in the file */
  items: number
  /** 集采中选 records in the file (0: the publish carries no 集采 list) */
  vbp: number
  signature?: string
}

function documentBytes (doc: { signature?: string }): Buffer {
  const { signature: _signature, ...rest } = doc
  return Buffer.from(canonicalJson(rest), 'utf8')
}

/** Signs any manifest-like document (canonical JSON of every field but the signature). */
export function signDocument<T extends { signature?: string }> (doc: T, privateKey: KeyObject): T {
  const unsigned = { ...doc }
  delete unsigned.signature
  return { ...unsigned, signature: sign(null, documentBytes(unsigned), privateKey).toString('base64') }
}

export function verifyDocument (doc: { signature?: unknown }, publicKey: KeyObject): boolean {
  if (typeof doc.signature !== 'string' || doc.signature === '') return false
  try {
    return verify(null, documentBytes(doc as { signature?: string }), publicKey, Buffer.from(doc.signature, 'base64'))
  } catch {
    return false
  }
}
