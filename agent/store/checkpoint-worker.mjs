// The checkpointer's thread (checkpointer.ts says why it exists). Plain JavaScript: it needs no
// TypeScript loader, so it starts in a few milliseconds. It owns a connection of its own to the
// database and, while the shared state word says OPEN, copies the write-ahead log into the
// database file every `intervalMs` with a PASSIVE checkpoint: one that never waits for a lock,
// never blocks a writer or a reader, and with synchronous=FULL fsyncs the log before it copies
// and the database after, so nothing committed depends on this thread having run.
import { workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const STARTING = 0
const OPEN = 1
const CLOSED = 3

const { file, shared, intervalMs } = workerData
// [0] the state; [1] checkpoints run; [2] checkpoints that failed; [3] frames copied (low 31 bits)
const state = new Int32Array(shared)

// The main thread may have asked to stop before this thread got here: then it never opens.
if (Atomics.compareExchange(state, 0, STARTING, OPEN) === STARTING) {
  let db = null
  try {
    db = new Database(file, { fileMustExist: true })
    db.pragma('synchronous = FULL')
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
    while (Atomics.load(state, 0) === OPEN) {
      Atomics.wait(state, 0, OPEN, intervalMs)
      if (Atomics.load(state, 0) !== OPEN) break
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
    try { db?.close() } catch { /* the process is ending */ }
    Atomics.store(state, 0, CLOSED)
    Atomics.notify(state, 0)
  }
}
