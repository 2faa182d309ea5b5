// The checkpointer's thread (checkpointer.ts says why it exists). Plain JavaScript: it needs no
// TypeScript loader, so it starts in a few milliseconds. It owns a connection of its own to the
// database and, while the shared state word says OPEN, looks every `intervalMs` at how much of the
// write-ahead log is not yet in the database and, from `minFrames` pages on (SQLite's own
// threshold), copies it with a PASSIVE checkpoint: one that never waits for a lock, never blocks a
// writer or a reader, and with synchronous=FULL fsyncs the log before it copies and the database
// after, so nothing committed depends on this thread having run.
import { workerData } from 'node:worker_threads'
import { closeSync, openSync, readSync } from 'node:fs'
import Database from 'better-sqlite3'

const STARTING = 0
const OPEN = 1
const CLOSED = 3

const { file, shared, intervalMs, minFrames } = workerData
// [0] the state; [1] checkpoints run; [2] checkpoints that failed; [3] frames copied (low 31 bits)
const state = new Int32Array(shared)

/**
 * Log pages not yet copied, read from the WAL index (the -shm file SQLite keeps mapped): mxFrame of
 * the header (offset 16) less nBackfill of the checkpoint info (offset 96), in the machine's byte
 * order. A racy read is fine for deciding when to copy; null when the file cannot be read.
 */
function pendingFrames (fd, buf) {
  if (fd === null) return null
  try {
    if (readSync(fd, buf, 0, 100, 0) < 100) return null
  } catch {
    return null
  }
  const le = new Uint16Array(new Uint8Array([1, 0]).buffer)[0] === 1
  const mxFrame = le ? buf.readUInt32LE(16) : buf.readUInt32BE(16)
  const nBackfill = le ? buf.readUInt32LE(96) : buf.readUInt32BE(96)
  return mxFrame - nBackfill
}

// The main thread may have asked to stop before this thread got here: then it never opens.
if (Atomics.compareExchange(state, 0, STARTING, OPEN) === STARTING) {
  let db = null
  let shm = null
  try {
    db = new Database(file, { fileMustExist: true })
    db.pragma('synchronous = FULL')
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
    try { shm = openSync(`${file}-shm`, 'r') } catch { shm = null }
    const header = Buffer.alloc(100)
    while (Atomics.load(state, 0) === OPEN) {
      Atomics.wait(state, 0, OPEN, intervalMs)
      if (Atomics.load(state, 0) !== OPEN) break
      const pending = pendingFrames(shm, header)
      // Unknown (no index file to read): copy every round; a round with nothing to copy is cheap.
      if (pending !== null && pending < minFrames) continue
      try {
        const r = checkpoint.get()
        Atomics.add(state, 1, 1)
        if (r !== undefined && r.checkpointed > 0) Atomics.store(state, 3, (Atomics.load(state, 3) + r.checkpointed) & 0x7fffffff)
      } catch {
        // A busy or failing disk: the next round tries again; the main connection's own
        // automatic checkpoint (at a larger size) stays as the backstop.
        Atomics.add(state, 2, 1)
      }
    }
  } finally {
    try { if (shm !== null) closeSync(shm) } catch { /* the process is ending */ }
    try { db?.close() } catch { /* the process is ending */ }
    Atomics.store(state, 0, CLOSED)
    Atomics.notify(state, 0)
  }
}
