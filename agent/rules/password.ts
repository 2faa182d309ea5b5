// Staff passwords: scrypt (memory-hard, in Node's crypto) with a random salt per password. The
// parameters are stored with the hash, so they can be raised later without breaking old hashes.
import { scrypt, randomBytes, timingSafeEqual, type ScryptOptions } from 'node:crypto'

const N = 16384
const R = 8
const P = 1
const KEYLEN = 32

function derive (password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEYLEN, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => err === null ? resolve(key) : reject(err))
  })
}

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, { N, r: R, p: P })
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`
}

export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64')
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** A staff password must be long enough to resist guessing from the hospital LAN. */
export function passwordProblem (password: string): string | null {
  if (Array.from(password).length < 8) return 'the password must have at least 8 characters'
  if (password.length > 200) return 'the password is longer than 200 characters'
  return null
}

// Compared against when the user does not exist, so a wrong name costs the same time as a wrong
// password and sign-in does not reveal which names exist.
let decoy: Promise<string> | undefined
export function decoyHash (): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'))
  return decoy
}
