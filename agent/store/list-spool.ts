// The people of a list load between reading and writing, kept compact and in bounded memory. A
// load inserts in key order (random HMAC keys inserted in order fill the b-tree page by page), so
// the whole list must be sorted before the first row is written; held as objects, a province's
// five million people took gigabytes. Here each person is a few dozen bytes in one of 256 buckets
// by the first byte of the key; past a memory budget the buckets are appended to files in a
// private directory of the data directory, and read back one bucket at a time, sorted, in order.
// What is spooled is what the database stores — keyed hashes and masked names, never an ID number.
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { ListYtd } from '../../lists/ytd.ts'

/** One identity as a list row holds it (list.ts re-exports it as SpooledIdentity). */
export interface SpooledIdentity {
  category: string
  begntime: string
  endtime: string | null
  source: string | null
}

const BUCKETS = 256
/** Bytes held in memory before the buckets go to disk (a county list of ~300,000 people stays in memory). */
const MEMORY_BUDGET = 24 * 1024 * 1024
/** A bucket's pending bytes are appended to its file past this. */
const BUCKET_FLUSH = 64 * 1024

export interface SpooledPerson {
  key: Buffer
  /** where the record stood in its file (0: unknown), for the report of a person listed twice */
  line: number
  name: string | null
  identities: SpooledIdentity[]
  /** the registry's year-to-date figures for the person, if it gave them */
  ytd?: ListYtd | null
}

/** The same person (the same key) twice in one list. */
export class SpooledDuplicate extends Error {
  override name = 'SpooledDuplicate'
  constructor (readonly line: number, readonly firstLine: number) {
    super('the list names the same person twice')
  }
}

export class Writer {
  buf = Buffer.allocUnsafe(4096)
  at = 0

  private room (n: number): void {
    if (this.at + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(next, 0, 0, this.at)
    this.buf = next
  }

  bytes (b: Buffer): void {
    this.room(b.length)
    b.copy(this.buf, this.at)
    this.at += b.length
  }

  u32 (n: number): void {
    this.room(4)
    this.buf.writeUInt32LE(n, this.at)
    this.at += 4
  }

  /** A fen amount or null (NaN): fen stay far inside 2^53, exact in a double. */
  f64 (n: number | null): void {
    this.room(8)
    this.buf.writeDoubleLE(n === null ? Number.NaN : n, this.at)
    this.at += 8
  }

  u8 (n: number): void {
    this.room(1)
    this.buf[this.at++] = n
  }

  /** A string with a 16-bit length; null as 0xFFFF. */
  str (s: string | null): void {
    if (s === null) {
      this.room(2)
      this.buf.writeUInt16LE(0xFFFF, this.at)
      this.at += 2
      return
    }
    const max = s.length * 3
    this.room(2 + max)
    const n = this.buf.write(s, this.at + 2, 'utf8')
    if (n >= 0xFFFF) throw new Error('a list field is longer than 65,534 bytes')
    this.buf.writeUInt16LE(n, this.at)
    this.at += 2 + n
  }
}

function readStr (buf: Buffer, at: number): [string | null, number] {
  const n = buf.readUInt16LE(at)
  if (n === 0xFFFF) return [null, at + 2]
  return [buf.toString('utf8', at + 2, at + 2 + n), at + 2 + n]
}

/** Writes one person's spool record (the format ListSpool keeps) at the writer's position. */
export function encodePerson (w: Writer, p: SpooledPerson): void {
  w.bytes(p.key)
  w.u32(p.line)
  w.str(p.name)
  if (p.identities.length > 255) throw new Error('a person has more than 255 identities in the list')
  w.u8(p.identities.length)
  for (const id of p.identities) {
    w.str(id.category)
    w.str(id.begntime)
    w.str(id.endtime)
    w.str(id.source)
  }
  const y = p.ytd ?? null
  w.u8(y === null ? 0 : 1)
  if (y !== null) {
    w.f64(y.psn_part_fen)
    w.f64(y.medfee_fen)
    w.f64(y.fulamt_fen)
    w.str(y.as_of)
  }
}

/**
 * People encoded elsewhere (a worker thread that read, checked and hashed them), many to a
 * buffer; `identities` is their identities' count.
 */
export interface EncodedBatch {
  buf: Buffer
  count: number
  identities: number
}

export class ListSpool {
  private readonly pending: Buffer[][] = Array.from({ length: BUCKETS }, () => [])
  private readonly pendingBytes = new Array<number>(BUCKETS).fill(0)
  private readonly w = new Writer()
  private inMemory = 0
  private onDisk = false
  count = 0

  /** `dir`: where the buckets go when the list is too big for memory; created then, removed by dispose(). */
  constructor (private readonly dir: string, private readonly memoryBudget = MEMORY_BUDGET) {}

  add (p: SpooledPerson): void {
    const w = this.w
    w.at = 0
    encodePerson(w, p)
    this.push(Buffer.from(w.buf.subarray(0, w.at)))
  }

  /** Takes the people of an encoded batch (encodePerson's records, one after the other). */
  addEncoded (buf: Buffer): void {
    for (let at = 0; at < buf.length;) {
      const end = skip(buf, at)
      this.push(buf.subarray(at, end))
      at = end
    }
  }

  private push (rec: Buffer): void {
    const bucket = rec[0]
    this.pending[bucket].push(rec)
    this.pendingBytes[bucket] += rec.length
    this.inMemory += rec.length
    this.count++
    if (!this.onDisk && this.inMemory > this.memoryBudget) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.onDisk = true
      for (let b = 0; b < BUCKETS; b++) this.flush(b)
    } else if (this.onDisk && this.pendingBytes[bucket] >= BUCKET_FLUSH) {
      this.flush(bucket)
    }
  }

  private flush (b: number): void {
    if (this.pendingBytes[b] === 0) return
    appendFileSync(join(this.dir, `bucket-${b}`), Buffer.concat(this.pending[b]), { mode: 0o600 })
    this.inMemory -= this.pendingBytes[b]
    this.pending[b] = []
    this.pendingBytes[b] = 0
  }

  /**
   * Every person in key order, one bucket in memory at a time; a key met twice throws
   * SpooledDuplicate when it is reached.
   */
  * sorted (): Generator<SpooledPerson> {
    for (let b = 0; b < BUCKETS; b++) {
      let parts = this.pending[b]
      if (this.onDisk) {
        this.flush(b)
        let file: Buffer
        try {
          file = readFileSync(join(this.dir, `bucket-${b}`))
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
          throw err
        }
        parts = [file]
      }
      this.pending[b] = []
      const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts)
      const entries: Array<{ at: number, head: number }> = []
      for (let at = 0; at < buf.length;) {
        entries.push({ at, head: buf.readUIntBE(1, 6) })
        at = skip(buf, at)
      }
      // The first byte is the bucket; the next 48 bits as a number order almost every pair.
      entries.sort((x, y) => x.head - y.head || buf.compare(buf, y.at + 7, y.at + 32, x.at + 7, x.at + 32))
      for (let i = 0; i < entries.length; i++) {
        const p = decode(buf, entries[i].at)
        if (i > 0 && entries[i].head === entries[i - 1].head && buf.compare(buf, entries[i - 1].at, entries[i - 1].at + 32, entries[i].at, entries[i].at + 32) === 0) {
          const first = decode(buf, entries[i - 1].at)
          throw new SpooledDuplicate(Math.max(p.line, first.line), Math.min(p.line, first.line))
        }
        yield p
      }
    }
  }

  dispose (): void {
    for (let b = 0; b < BUCKETS; b++) this.pending[b] = []
    if (this.onDisk) rmSync(this.dir, { recursive: true, force: true })
  }
}

function skip (buf: Buffer, at: number): number {
  at += 36
  at += strLen(buf, at)
  const n = buf[at++]
  for (let i = 0; i < n * 4; i++) at += strLen(buf, at)
  if (buf[at++] === 1) {
    at += 24
    at += strLen(buf, at)
  }
  return at
}

function strLen (buf: Buffer, at: number): number {
  const n = buf.readUInt16LE(at)
  return n === 0xFFFF ? 2 : 2 + n
}

function decode (buf: Buffer, at: number): SpooledPerson {
  const key = buf.subarray(at, at + 32)
  const line = buf.readUInt32LE(at + 32)
  let name: string | null
  ;[name, at] = readStr(buf, at + 36)
  const n = buf[at++]
  const identities: SpooledIdentity[] = []
  for (let i = 0; i < n; i++) {
    let category, begntime, endtime, source
    ;[category, at] = readStr(buf, at)
    ;[begntime, at] = readStr(buf, at)
    ;[endtime, at] = readStr(buf, at)
    ;[source, at] = readStr(buf, at)
    identities.push({ category: category!, begntime: begntime!, endtime, source })
  }
  let ytd: ListYtd | null = null
  if (buf[at++] === 1) {
    const f = (o: number): number | null => { const v = buf.readDoubleLE(at + o); return Number.isNaN(v) ? null : v }
    const [asOf] = readStr(buf, at + 24)
    ytd = { psn_part_fen: f(0), medfee_fen: f(8), fulamt_fen: f(16), as_of: asOf! }
  }
  return { key, line, name, identities, ytd }
}
