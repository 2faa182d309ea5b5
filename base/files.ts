// Files that must never be seen half-written: keys, manifests, data files, reports. The durability
// contract: write under a temporary name with the final mode from the start, fsync the file,
// rename (or link, to refuse replacing) it into place, fsync the directory. A crash at any point
// leaves the old file or the new one, never a mix and never a moment with looser permissions.
import { createHash } from 'node:crypto'
import { closeSync, createReadStream, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'

export function fsyncFile (file: string): void {
  const fd = openSync(file, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}

/** Makes renames in `dir` durable. Not possible on every platform (Windows); best effort there. */
export function fsyncDir (dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // a directory cannot be opened or synced here; the rename itself is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Writes `body` to `file` atomically with `mode`. Without `overwrite`, an existing file makes it
 * fail with EEXIST: link() refuses to replace, so there is no check-then-write race.
 */
export function writeFileAtomic (file: string, body: string | Buffer, mode: number, overwrite = true): void {
  const tmp = join(dirname(file), `.${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tmp`)
  writeFileSync(tmp, body, { mode, flag: 'wx' })
  try {
    fsyncFile(tmp)
    if (overwrite) renameSync(tmp, file)
    else linkSync(tmp, file)
  } finally {
    try { unlinkSync(tmp) } catch { /* renamed away */ }
  }
  fsyncDir(dirname(file))
}

export async function sha256File (file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}
