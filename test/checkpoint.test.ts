// A serving process copies its write-ahead log into the database on a thread of its own, so that
// no commit (an admission, a chunk of a delta) waits for a checkpoint's writes and fsyncs; the
// writer's own automatic checkpoint stays as the backstop, and close() still leaves no log behind.
import t from 'tap'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { tempDir, ROOT, build, certno, person } from './helper.ts'
import { openStore, type Store } from '../agent/store/store.ts'
import { Checkpointer } from '../agent/store/checkpointer.ts'
import { openDatabase, DB_FILE } from '../agent/store/db.ts'

async function until (what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Writes `n` audit rows through the one write path, in groups of 200. */
async function writeRows (store: Store, n: number): Promise<void> {
  for (let i = 0; i < n; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) =>
      store.write(() => store.audit.write({ client: 'test', action: 'eligibility.lookup', decision: 'granted', detail: { i: i + j, pad: 'x'.repeat(400) } }))))
  }
}

t.test('the log is copied into the database by the thread, not by the commits', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  t.teardown(() => store.close())
  t.equal(store.checkpoints(), null, 'a store that does not serve checkpoints inside its commits')
  t.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000)
  store.checkpointInBackground()
  store.checkpointInBackground()
  await until('the thread to start', () => store.checkpoints()?.running === true)
  t.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 16_384, 'the writer keeps its own checkpoint only as a backstop (64 MB of log)')
  await writeRows(store, 400)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(store.checkpoints()?.checkpoints, 0, 'a log under 1,000 pages is left alone (no more fsyncs than SQLite makes by itself)')
  await writeRows(store, 20_000)
  await until('the thread to copy the log', () => (store.checkpoints()?.frames ?? 0) > 1000)
  const stats = store.checkpoints()!
  t.ok(stats.checkpoints > 0, `the thread checkpointed (${stats.checkpoints} rounds, ${stats.frames} frames)`)
  t.equal(stats.failures, 0)
  // Everything the thread copied is in the database file: a reader of the file alone sees it.
  await until('the whole log to be copied', () => {
    const r = store.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number, checkpointed: number }>
    return r[0].log === r[0].checkpointed
  })
  t.equal(store.db.prepare("SELECT COUNT(*) FROM audit WHERE client = 'test'").pluck().get(), 20_400)
})

t.test('closing waits for the thread, and the last connection folds the log in and removes it', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  store.checkpointInBackground()
  await until('the thread to start', () => store.checkpoints()?.running === true)
  await writeRows(store, 2000)
  store.close()
  t.notOk(existsSync(join(dir, `${DB_FILE}-wal`)), 'no write-ahead log is left after close')
  const again = openStore(dir)
  t.teardown(() => again.close())
  t.equal(again.db.prepare("SELECT COUNT(*) FROM audit WHERE client = 'test'").pluck().get(), 2000, 'every row is there after reopening')
})

t.test('a store closed before its thread started does not wait for it', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  store.checkpointInBackground()
  const t0 = Date.now()
  store.close()
  t.ok(Date.now() - t0 < 1000, 'close returned at once')
  t.notOk(existsSync(join(dir, `${DB_FILE}-wal`)))
})

t.test('a thread that cannot work gives the checkpoints back to the writer', async (t) => {
  const dir = tempDir(t)
  const db = openDatabase(dir)
  t.teardown(() => db.close())
  const c = new Checkpointer(db, join(dir, 'no-such-database.db'), 0)
  await until('the thread to fail', () => c.failure !== null)
  t.match(c.failure, /unable to open|no such|SQLITE_CANTOPEN|directory does not exist/i, 'the failure is kept')
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, "SQLite's own checkpoint is back")
  t.equal(c.stats().running, false)
  c.stop()
})

t.test('a serving agent killed with -9 while it writes loses nothing it answered, and its log is recovered', async (t) => {
  const dir = tempDir(t)
  // A child process that serves (checkpoint thread on), writes rows in a loop and reports each
  // answered write on stdout; killed while the thread copies.
  const script = `
    import { openStore } from './agent/store/store.ts'
    const store = openStore(process.argv[1])
    store.checkpointInBackground()
    while (store.checkpoints()?.running !== true) await new Promise((resolve) => setTimeout(resolve, 20))
    let i = 0
    for (;;) {
      const batch = []
      for (let j = 0; j < 50; j++, i++) {
        const n = i
        batch.push(store.write(() => store.audit.write({ client: 'crash', action: 'eligibility.lookup', decision: 'granted', detail: { n, pad: 'y'.repeat(300) } })))
      }
      await Promise.all(batch)
      process.stdout.write(i + ' ' + store.checkpoints().checkpoints + '\\n')
    }`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let answered = 0
  let checkpoints = 0
  child.stdout.on('data', (d: Buffer) => {
    const lines = d.toString().trim().split('\n')
    const [n, c] = lines[lines.length - 1].split(' ').map(Number)
    answered = Math.max(answered, n)
    checkpoints = Math.max(checkpoints, c)
  })
  await until('the child to write through several checkpoints', () => answered >= 20_000 || child.exitCode !== null, 60_000)
  t.equal(child.exitCode, null, 'the child was still writing')
  t.ok(checkpoints > 0, `its thread had checkpointed (${checkpoints} rounds)`)
  child.kill('SIGKILL')
  await once(child, 'exit')
  t.ok(statSync(join(dir, DB_FILE)).size > 0)
  const store = openStore(dir)
  t.teardown(() => store.close())
  t.equal(store.db.pragma('integrity_check', { simple: true }), 'ok', 'the database is intact')
  const rows = store.db.prepare("SELECT COUNT(*) FROM audit WHERE client = 'crash'").pluck().get() as number
  t.ok(rows >= answered, `every answered row is there (${rows} rows, ${answered} answered)`)
})

t.test('a serving agent checkpoints on its thread and shows it, and its memory, in /metrics', async (t) => {
  const b = await build(t, { records: [person(certno('45020619580312001'), '张三', [['minimum_living', '2020-01-01 00:00:00', null]])] })
  const m = await b.get('/metrics')
  t.equal(m.status, 200)
  t.match(m.text, /^fangpin_checkpoint_thread_running [01]$/m)
  t.match(m.text, /^fangpin_checkpoint_failures 0$/m)
  const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(m.text)?.[1])
  const heapUsed = Number(/^nodejs_heap_size_used_bytes (\d+)$/m.exec(m.text)?.[1])
  t.ok(rss > heapUsed && heapUsed > 1_000_000, `RSS ${rss} holds the JavaScript heap ${heapUsed}`)
  t.match(m.text, /^nodejs_external_memory_bytes \d+$/m)
  await until('the thread to start', () => b.app.store.checkpoints()?.running === true)
  t.match((await b.get('/metrics')).text, /^fangpin_checkpoint_thread_running 1$/m)
})
