// Attacks on the list store's promise: "readers see the old list or the new one, never a mix,
// never an empty one" and "kill -9 at any moment never leaves a partial list".
// Tests marked BUG fail against the current code on purpose.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openStore } from '../agent/store/store.ts'
import { DB_FILE } from '../agent/store/db.ts'
import { tempDir, person, syntheticCertno } from './helper.ts'

async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''])
  await once(child, 'exit')
  return child.pid!
}

t.test('a clean-up that started while an import was loading never deletes the list that import made active', async (t) => {
  // BUG (store/list.ts purgeRetired): the generations to purge are read once, with their state,
  // before the chunked deletes start. A generation that was 'loading' in a live `fangpin import`
  // when the server started its clean-up is skipped only if that process is still alive when the
  // loop reaches it. If the import flipped to its generation and exited meanwhile (the loop was
  // busy with an abandoned load from an earlier crash), the stale 'loading' state plus a dead pid
  // make the serving generation look abandoned and its rows are deleted: every patient is then
  // "not on the list". Fix: re-read the generation's state and list_state.active_gen inside the
  // transaction of each delete chunk.
  const dir = tempDir(t)
  const store = openStore(dir)
  t.teardown(() => store.close())
  await store.list.replace([person(syntheticCertno(1), '甲乙丙', [['extreme_poverty', '2021-01-01 00:00:00', null]])], { source: 'import', label: 'old list' })
  const oldGen = store.list.state().active_gen!
  const newcomer = syntheticCertno(2)
  const pk = store.list.keyOf('01', newcomer)
  const now = new Date().toISOString()
  const insert = store.db.prepare("INSERT INTO list_identity (gen, person_key, n, name_masked, category, begntime, endtime, source) VALUES (?, ?, 0, NULL, ?, '2021-01-01 00:00:00', NULL, NULL)")

  // An earlier `fangpin import` crashed mid-load: a big abandoned generation.
  const crashed = await deadPid()
  store.db.transaction(() => {
    store.db.prepare("INSERT INTO list_generation (gen, state, source, label, started_at, pid) VALUES (50, 'loading', 'import', 'crashed', ?, ?)").run(now, crashed)
    for (let i = 0; i < 300_000; i++) insert.run(50, randomBytes(32), 'minimum_living')
  })()

  // The operator's new `fangpin import` (another process) is loading generation 60.
  const importer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
  t.teardown(() => { if (importer.exitCode === null) importer.kill('SIGKILL') })
  await once(importer, 'spawn')
  store.db.transaction(() => {
    store.db.prepare("INSERT INTO list_generation (gen, state, source, label, started_at, pid) VALUES (60, 'loading', 'import', 'new list', ?, ?)").run(now, importer.pid)
    insert.run(60, pk, 'extreme_poverty')
  })()

  // The server starts and begins cleaning up in the background …
  const purge = store.list.purgeRetired()
  // … while the import finishes: it flips to generation 60 (the statements of ListRepository.replace)
  // through its own connection, and exits.
  const other = new Database(join(dir, DB_FILE))
  other.transaction(() => {
    other.prepare(`UPDATE list_state SET active_gen = 60, version = 'import-new', source = 'import', demo = 0, region = NULL, seq = NULL,
      person_count = 1, identity_count = 1, loaded_at = ?, data_as_of = NULL WHERE id = 1`).run(new Date().toISOString())
    other.prepare("UPDATE list_generation SET state = 'active', rows = 1 WHERE gen = 60").run()
    other.prepare("UPDATE list_generation SET state = 'retired' WHERE gen = ?").run(oldGen)
  }).immediate()
  other.close()
  importer.kill('SIGKILL')
  await once(importer, 'exit')
  await purge

  t.equal(store.list.state().active_gen, 60, 'generation 60 serves')
  const rows = (store.db.prepare('SELECT COUNT(*) AS n FROM list_identity WHERE gen = 60').get() as { n: number }).n
  t.equal(rows, 1, 'the serving generation keeps its rows')
  t.not(store.list.lookup(pk).person, null, 'the new list\'s person is found')
  t.equal((store.db.prepare('SELECT COUNT(*) AS n FROM list_identity WHERE gen = 50').get() as { n: number }).n, 0, 'the abandoned load is gone')
})

t.test('a list load that fails half way leaves the old list serving and nothing of the new one', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  t.teardown(() => store.close())
  const old = syntheticCertno(10)
  await store.list.replace([person(old, '老名单', [['minimum_living', '2020-01-01 00:00:00', null]])], { source: 'import', label: 'old' })
  const before = store.list.state()
  async function * broken (): AsyncIterable<ReturnType<typeof person>> {
    for (let i = 0; i < 12_000; i++) yield person(syntheticCertno(1000 + i), '新名单', [['extreme_poverty', '2021-01-01 00:00:00', null]])
    throw new Error('the file ended early')
  }
  await t.rejects(store.list.replace(broken(), { source: 'import', label: 'broken' }), /ended early/)
  t.same(store.list.state(), before)
  t.not(store.list.lookup(store.list.keyOf('01', old)).person, null)
  t.equal(store.list.lookup(store.list.keyOf('01', syntheticCertno(1000))).person, null)
  t.equal((store.db.prepare('SELECT COUNT(*) AS n FROM list_identity WHERE gen != ?').get(before.active_gen) as { n: number }).n, 0)
})

t.test('the same person twice in one list is refused, whichever chunk the second one is in', async (t) => {
  const dir = tempDir(t)
  const store = openStore(dir)
  t.teardown(() => store.close())
  const twice = syntheticCertno(7)
  const list = [
    person(twice, '甲', [['minimum_living', '2020-01-01 00:00:00', null]]),
    ...Array.from({ length: 6000 }, (_, i) => person(syntheticCertno(2000 + i), '乙', [['out_of_poverty', '2016-12-31 00:00:00', null]])),
    person(twice, '甲', [['extreme_poverty', '2021-01-01 00:00:00', null], ['minimum_living', '2020-01-01 00:00:00', null]])
  ]
  await t.rejects(store.list.replace(list, { source: 'import', label: 'dup' }), /same person twice/)
  t.equal(store.list.state().active_gen, null)
})
