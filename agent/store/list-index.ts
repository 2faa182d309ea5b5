// The serving list in memory, for the answer every admission and lookup needs: is this person on
// the list, and with which identities. Asking SQLite costs a read transaction (three system calls)
// and a b-tree descent — 15–25 µs a lookup on the hospital's virtual machines, the largest single
// part of an eligibility answer. Here a person is 16 bytes: the first 96 bits of the keyed hash
// (never the ID number; the same hash the database holds) and a reference to their identities,
// which are shared between everyone with the same set (a county list repeats a few dozen category,
// date and source combinations over a million people). A directory on the hash's first 16 bits
// leaves a binary search of a few steps.
//
// Exactness: two different people whose keyed hashes agree in 96 bits are the only way this index
// can confuse them; for a list of n people that chance is n / 2^96 per lookup (1.3e-23 for a
// million). Two people of one list that share the 96 bits are not answered from here (the lookup
// falls back to SQLite), nor is anyone whose identities this index cannot hold exactly.
import type { SpooledIdentity } from './list-spool.ts'

/** Not on the list (the index is exact for absence). */
export const MISS = 0
/** The index cannot answer for this person: ask SQLite. */
export const UNKNOWN = 1

const NOT_HELD = 0xFFFFFFFF
const TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/
/** Distinct identity sets shared before new ones are stored without looking for a twin. */
const MAX_SHARED_SETS = 200_000

function timeNumber (t: string | null): number | null {
  if (t === null) return -1
  const m = TIME.exec(t)
  if (m === null) return null
  return Number(m[1] + m[2] + m[3] + m[4] + m[5] + m[6])
}

function pad2 (n: number): string {
  return n < 10 ? '0' + String(n) : String(n)
}

function timeText (n: number): string | null {
  if (n < 0) return null
  const s = n % 100
  const mi = Math.floor(n / 100) % 100
  const h = Math.floor(n / 10_000) % 100
  const d = Math.floor(n / 1_000_000) % 100
  const mo = Math.floor(n / 100_000_000) % 100
  const y = Math.floor(n / 10_000_000_000)
  return `${y}-${pad2(mo)}-${pad2(d)} ${pad2(h)}:${pad2(mi)}:${pad2(s)}`
}

export class ListIndex {
  private constructor (
    readonly gen: number,
    readonly seq: number | null,
    readonly persons: number,
    private readonly keys: Uint32Array,
    private readonly refs: Uint32Array,
    private readonly dir: Uint32Array,
    private readonly pool: Float64Array,
    private readonly strings: string[]
  ) {}

  /** Bytes held (for the log and the budget). */
  get bytes (): number {
    return this.keys.byteLength + this.refs.byteLength + this.dir.byteLength + this.pool.byteLength
  }

  /** The identities of the person with this key, MISS when not on the list, UNKNOWN when this index cannot say. */
  find (key: Buffer): SpooledIdentity[] | typeof MISS | typeof UNKNOWN {
    const k0 = key.readUInt32BE(0)
    const k1 = key.readUInt32BE(4)
    const k2 = key.readUInt32BE(8)
    const keys = this.keys
    let lo = this.dir[k0 >>> 16]
    let hi = this.dir[(k0 >>> 16) + 1]
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const o = mid * 3
      const a = keys[o]
      const c = a !== k0 ? (a < k0 ? -1 : 1) : keys[o + 1] !== k1 ? (keys[o + 1] < k1 ? -1 : 1) : keys[o + 2] !== k2 ? (keys[o + 2] < k2 ? -1 : 1) : 0
      if (c === 0) {
        const ref = this.refs[mid]
        if (ref === NOT_HELD) return UNKNOWN
        return this.identities(ref)
      }
      if (c < 0) lo = mid + 1
      else hi = mid
    }
    return MISS
  }

  private identities (ref: number): SpooledIdentity[] {
    const pool = this.pool
    const n = pool[ref]
    const out: SpooledIdentity[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const o = ref + 1 + i * 4
      const cat = pool[o]
      const src = pool[o + 3]
      out[i] = { category: this.strings[cat], begntime: timeText(pool[o + 1])!, endtime: timeText(pool[o + 2]), source: src < 0 ? null : this.strings[src] }
    }
    return out
  }

  /**
   * This index with a registry delta applied, for list sequence `seq`: a merge of the two sorted
   * runs (tens of milliseconds for two million people), so that lookups stay in memory across a
   * delta instead of reading SQLite while the whole index is read again. `changes` are in key
   * order, each with the person's identities after the delta (none: removed) and whether the
   * person was on the list before it. A new person whose 96 bits equal someone else's, or anyone
   * this index could not hold before, is left to SQLite, as in a build.
   */
  patched (seq: number | null, changes: ReadonlyArray<{ key: Buffer, identities: SpooledIdentity[], existed: boolean }>): ListIndex {
    const b = new ListIndexBuilder(this.gen, seq, { pool: this.pool, strings: this.strings })
    const keys = this.keys
    let i = 0
    const copyOld = (): void => { b.addRef(keys[i * 3], keys[i * 3 + 1], keys[i * 3 + 2], this.refs[i]); i++ }
    for (const c of changes) {
      const k0 = c.key.readUInt32BE(0)
      const k1 = c.key.readUInt32BE(4)
      const k2 = c.key.readUInt32BE(8)
      let cmp = 1
      while (i < this.persons) {
        const o = i * 3
        cmp = keys[o] !== k0 ? (keys[o] < k0 ? -1 : 1) : keys[o + 1] !== k1 ? (keys[o + 1] < k1 ? -1 : 1) : keys[o + 2] !== k2 ? (keys[o + 2] < k2 ? -1 : 1) : 0
        if (cmp >= 0) break
        copyOld()
      }
      if (i < this.persons && cmp === 0) {
        if (!c.existed || this.refs[i] === NOT_HELD) {
          // Two people in 96 bits, or one this index never held: SQLite answers for them.
          b.addRef(k0, k1, k2, NOT_HELD)
          i++
          continue
        }
        i++
      }
      if (c.identities.length > 0) b.add(c.key, c.identities)
    }
    while (i < this.persons) copyOld()
    return b.build()
  }

  /** Takes people in key order (as the database returns them) and makes the index. */
  static builder (gen: number, seq: number | null): ListIndexBuilder {
    return new ListIndexBuilder(gen, seq)
  }

  /** @internal */
  static make (b: { gen: number, seq: number | null, count: number, keys: Uint32Array, refs: Uint32Array, dir: Uint32Array, pool: Float64Array, strings: string[] }): ListIndex {
    return new ListIndex(b.gen, b.seq, b.count, b.keys, b.refs, b.dir, b.pool, b.strings)
  }
}

export class ListIndexBuilder {
  private keys = new Uint32Array(3 * 1024)
  private refs = new Uint32Array(1024)
  private pool = new Float64Array(4096)
  private poolAt = 0
  private count = 0
  private readonly strings: string[] = []
  private readonly stringIds = new Map<string, number>()
  private readonly sets = new Map<string, number>()

  constructor (private readonly gen: number, private readonly seq: number | null, from?: { pool: Float64Array, strings: string[] }) {
    if (from !== undefined) {
      // A patched index goes on with the identity sets of the one it replaces (refs point into them).
      this.pool = new Float64Array(Math.max(4096, from.pool.length * 2))
      this.pool.set(from.pool)
      this.poolAt = from.pool.length
      for (const s of from.strings) this.stringId(s)
    }
  }

  private stringId (s: string): number {
    let id = this.stringIds.get(s)
    if (id === undefined) {
      id = this.strings.length
      this.strings.push(s)
      this.stringIds.set(s, id)
    }
    return id
  }

  private setRef (ids: SpooledIdentity[]): number {
    const sig = ids.map((i) => `${i.category}\u0001${i.begntime}\u0001${i.endtime ?? ''}\u0001${i.source ?? '\u0002'}`).join('\u0003')
    const shared = this.sets.get(sig)
    if (shared !== undefined) return shared
    const numbers: number[] = [ids.length]
    for (const i of ids) {
      const b = timeNumber(i.begntime)
      const e = timeNumber(i.endtime)
      if (b === null || b < 0 || e === null) return NOT_HELD
      numbers.push(this.stringId(i.category), b, e, i.source === null ? -1 : this.stringId(i.source))
    }
    if (this.poolAt + numbers.length > this.pool.length) {
      const next = new Float64Array(Math.max(this.pool.length * 2, this.poolAt + numbers.length))
      next.set(this.pool.subarray(0, this.poolAt))
      this.pool = next
    }
    const ref = this.poolAt
    this.pool.set(numbers, ref)
    this.poolAt += numbers.length
    if (this.sets.size < MAX_SHARED_SETS) this.sets.set(sig, ref)
    return ref
  }

  /** The next person, in strictly increasing key order. */
  add (key: Buffer, identities: SpooledIdentity[]): void {
    this.addRef(key.readUInt32BE(0), key.readUInt32BE(4), key.readUInt32BE(8),
      identities.length === 0 || identities.length > 255 ? NOT_HELD : this.setRef(identities))
  }

  /** The next person by the 96 bits of their key and a reference into the identity sets. */
  addRef (k0: number, k1: number, k2: number, ref: number): void {
    if (this.count === this.refs.length) {
      const keys = new Uint32Array(this.keys.length * 2)
      keys.set(this.keys)
      this.keys = keys
      const refs = new Uint32Array(this.refs.length * 2)
      refs.set(this.refs)
      this.refs = refs
    }
    const o = this.count * 3
    this.keys[o] = k0
    this.keys[o + 1] = k1
    this.keys[o + 2] = k2
    if (this.count > 0 && this.keys[o] === this.keys[o - 3] && this.keys[o + 1] === this.keys[o - 2] && this.keys[o + 2] === this.keys[o - 1]) {
      // Two people agree in 96 bits: neither is answered from memory.
      this.refs[this.count - 1] = NOT_HELD
      ref = NOT_HELD
    }
    this.refs[this.count] = ref
    this.count++
  }

  build (): ListIndex {
    const n = this.count
    const keys = this.keys.slice(0, 3 * n)
    const refs = this.refs.slice(0, n)
    const dir = new Uint32Array(65537)
    let p = 0
    for (let b = 0; b <= 65536; b++) {
      while (p < n && (keys[p * 3] >>> 16) < b) p++
      dir[b] = p
    }
    this.sets.clear()
    this.stringIds.clear()
    return ListIndex.make({ gen: this.gen, seq: this.seq, count: n, keys, refs, dir, pool: this.pool.slice(0, this.poolAt), strings: this.strings })
  }
}
