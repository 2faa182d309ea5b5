// People are found by a keyed hash of their ID number, never by the number itself: a copied
// database file reveals nobody without the key file, and the key never leaves the data directory.
import { createHmac, randomBytes, createHash } from 'node:crypto'
import { existsSync, readFileSync, chmodSync, statSync } from 'node:fs'
import { writeFileAtomic } from '../base/files.ts'
import { join } from 'node:path'

export const SUBJECT_KEY_FILE = 'subject.key'

export class SubjectKeyError extends Error {}

/** Reads the data directory's key, creating it (32 random bytes, mode 0600) on first start. */
export function loadOrCreateSubjectKey (dataDir: string): Buffer {
  const file = join(dataDir, SUBJECT_KEY_FILE)
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777
    // A key readable by others defeats the purpose of hashing; tighten it rather than refuse to serve patients.
    if ((mode & 0o077) !== 0) chmodSync(file, 0o600)
    const hex = readFileSync(file, 'utf8').trim()
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      throw new SubjectKeyError(`${file} is damaged (expected 64 hex characters): restore it from backup; without it the stored list and admissions cannot be matched`)
    }
    return Buffer.from(hex, 'hex')
  }
  const key = randomBytes(32)
  // Never a half-written key that would orphan the data; never one replacing another's (two
  // processes starting at once: the loser reads the winner's).
  try {
    writeFileAtomic(file, key.toString('hex') + '\n', 0o600, false)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSubjectKey(dataDir)
    throw err
  }
  return key
}

/** Short public fingerprint of a key, stored in the database to detect a swapped key file. */
export function keyFingerprint (key: Buffer): string {
  return createHash('sha256').update('fangpin-subject-key-fingerprint').update(key).digest('hex').slice(0, 16)
}

export function personKey (key: Buffer, certType: string, certno: string): Buffer {
  return createHmac('sha256', key).update(certType).update(':').update(certno).digest()
}

/** A keyed MAC of arbitrary text (e.g. a request body that contains an ID number). */
export function keyedMac (key: Buffer, text: string): string {
  return createHmac('sha256', key).update('mac:').update(text).digest('hex')
}
