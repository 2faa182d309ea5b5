// The one write path's fsyncs: an admission is answered only once its group is on disk; a lookup's
// audit row (durable: false) once committed, and it reaches the disk with the next fsync, which
// nobody starts for it alone before LAZY_SYNC_MS. Counted on the real fdatasync of the log.
import t from 'tap'
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { tempDir } from './helper.ts'
import { openStore, type Store } from '../agent/store/store.ts'

let fsyncs = 0
let syncFsyncs = 0
const real = fs.fdatasync
const realSync = fs.fdatasyncSync
fs.fdatasyncSync = ((fd: number) => {
  syncFsyncs++
  realSync(fd)
}) as typeof fs.fdatasyncSync
fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
  fsyncs++
  real(fd, cb)
}) as typeof fs.fdatasync
syncBuiltinESMExports()
t.teardown(() => {
  fs.fdatasync = real
  fs.fdatasyncSync = realSync
  syncBuiltinESMExports()
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A store whose opening fsyncs are behind it, with the counts from zero. */
async function quietStore (t: Parameters<typeof tempDir>[0]): Promise<Store> {
  const store = openStore(tempDir(t))
  await sleep(100)
  fsyncs = 0
  syncFsyncs = 0
  return store
}

function lookupRow (store: Store, i: number): Promise<void> {
  return store.write(() => store.audit.write({ client: 'wq', action: 'eligibility.lookup', decision: 'granted', detail: { i } }), { durable: false, oneStatement: true })
}

t.test('lookup audit rows are answered once committed, and share one fsync a little later', async (t) => {
  const store = await quietStore(t)
  t.teardown(() => store.close())
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => lookupRow(store, round * 20 + i)))
  }
  t.equal(store.db.prepare("SELECT COUNT(*) FROM audit WHERE client = 'wq'").pluck().get(), 100, 'every row is committed when answered')
  t.equal(fsyncs, 0, 'five groups of lookups started no fsync of their own')
  await sleep(150)
  t.equal(fsyncs, 1, 'one fsync took them all to the disk')
})

t.test('an admission is answered only after an fsync that also carries the lookups before it', async (t) => {
  const store = await quietStore(t)
  t.teardown(() => store.close())
  await lookupRow(store, 1)
  t.equal(fsyncs, 0)
  await store.write(() => store.audit.write({ client: 'wq', action: 'admission.lookup', decision: 'granted' }))
  t.equal(fsyncs, 1, 'the admission waited for its fsync, started at once')
  await sleep(150)
  t.equal(fsyncs, 1, 'the lookup before it needed no other')
})

t.test('a one-statement write that fails takes nothing of the others in its group with it', async (t) => {
  const store = openStore(tempDir(t))
  t.teardown(() => store.close())
  const results = await Promise.allSettled([
    lookupRow(store, 1),
    store.write(() => store.db.prepare('INSERT INTO audit (at, client, action) VALUES (NULL, ?, ?)').run('wq', 'x'), { durable: false, oneStatement: true }),
    lookupRow(store, 2)
  ])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { code: 'SQLITE_CONSTRAINT_NOTNULL' })
  t.equal(store.db.prepare("SELECT COUNT(*) FROM audit WHERE client = 'wq'").pluck().get(), 2)
})

t.test('closing the store syncs what is still waiting for its lazy fsync', async (t) => {
  const store = await quietStore(t)
  await lookupRow(store, 1)
  store.close()
  t.equal(syncFsyncs, 1, 'close fsynced the log before it closed')
  t.equal(fsyncs, 0, 'and no lazy fsync is left to run after it')
  await sleep(150)
  t.equal(fsyncs, 0)
})
