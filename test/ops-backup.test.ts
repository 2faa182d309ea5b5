// Backups on the real thing: an online backup of a database being written to, restored with the
// command into another data directory, and an agent there answering as the original did; restore
// refusing a running agent, a damaged or cut-short file and a newer schema; a kill -9 at varied
// moments of a backup leaving nothing restore would accept; scheduled backups with retention,
// /readyz, /metrics and a staff alert when one fails.
import t from 'tap'
import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build, fangpin, person, syntheticCertno, tempDir, ROOT, type Built } from './helper.ts'
import { admit, charge, line, POOR, POOR2, records as poorRecords } from './charge-fixture.ts'
import { settleFinal } from './settlement-fixture.ts'
import { loadConfig } from '../agent/config.ts'
import { loadProfile } from '../profile/profile.ts'
import { openStore } from '../agent/store/store.ts'
import { buildApp } from '../agent/app.ts'
import { newestSchemaVersion } from '../agent/store/db.ts'
import { listBackups, readBackupHeader, restoreBackup, verifyBackup, writeBackup, BackupError } from '../agent/store/backup.ts'

const people = [...poorRecords, ...Array.from({ length: 3000 }, (_, i) => person(syntheticCertno(i + 10), '某某', [['minimum_living', '2020-01-01 00:00:00', null]]))]
const AT = '2026-11-25 10:00:00'

/** An agent on an existing data directory (a restored one), listening on loopback. */
async function agentOn (t: { teardown: (fn: () => unknown) => void }, dataDir: string, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const config = loadConfig({ FANGPIN_DATA_DIR: dataDir, FANGPIN_PORT: '0', ...env })
  const app = await buildApp({ config, profile: loadProfile(config.profile), store: openStore(dataDir), autoSync: false, autoBackup: env.FANGPIN_BACKUP_DIR !== undefined, logger: false })
  t.teardown(() => app.close())
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) }
}

async function call (url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, json: await res.json() }
}

/** What the HIS would be told about these people and stays (the clock-dependent list age left out). */
async function answers (url: string, token: string, stays: string[]): Promise<unknown> {
  const out: unknown[] = []
  for (const c of [POOR, POOR2, syntheticCertno(10), syntheticCertno(2500), syntheticCertno(99_999)]) {
    const r = await call(url, token, 'POST', '/v1/eligibility', { certno: c, at: AT })
    delete r.json.list?.age_hours
    out.push(r)
  }
  for (const id of stays) out.push(await call(url, token, 'GET', `/v1/admissions/${id}`))
  for (const id of stays) out.push(await call(url, token, 'POST', `/v1/admissions/${id}/discharge-check`, {}))
  out.push(await call(url, token, 'GET', '/v1/inpatients'))
  return out
}

/** The command in this process (as bin/fangpin.js runs it): exit code and what it printed. */
async function inProcess (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  const { main } = await import('../agent/cli/main.ts')
  let stdout = ''
  let stderr = ''
  const code = await main(args, { out: { write: (s: string) => { stdout += s } }, err: { write: (s: string) => { stderr += s } }, stdin: process.stdin, env })
  return { code, stdout, stderr }
}

function integrity (file: string): string {
  const db = new Database(file, { readonly: true })
  try { return db.pragma('integrity_check', { simple: true }) as string } finally { db.close() }
}

async function seedStays (b: Built): Promise<string[]> {
  await admit(b, 'ZY-B1', POOR)
  await admit(b, 'ZY-B2', POOR2)
  for (const [id, lines] of [['ZY-B1', [line('1', 900_000, '02'), line('2', 120_000, '03')]], ['ZY-B2', [line('1', 50_000, '01'), line('2', 3_000, '03')]]] as const) {
    const res = await charge(b, id, [...lines])
    if (res.status !== 200) throw new Error(res.text)
  }
  // The platform's settlement of one of them: the patient's own burden is restored with the stay.
  await settleFinal(b, 'ZY-B2', 'S-B2', '2026-11-26 09:00:00', { medfee: 53_000, fulamt: 3_000, fund: 40_000 })
  return ['ZY-B1', 'ZY-B2']
}

t.test('an online backup of a database being written to restores into an agent that answers exactly as before', async (t) => {
  const dir = tempDir(t)
  const scheduled = join(dir, 'scheduled')
  const b = await build(t, { records: people, env: { FANGPIN_BACKUP_DIR: scheduled } })
  const stays = await seedStays(b)
  // Some bulk (an audit trail of months), so that the copy takes several steps.
  b.store.db.transaction(() => {
    const ins = b.store.db.prepare("INSERT INTO audit (at, action, detail) VALUES ('2026-11-01T00:00:00Z', 'test.filler', ?)")
    for (let i = 0; i < 3000; i++) ins.run('x'.repeat(2000) + i)
  })()

  // Admissions keep arriving while the scheduled backup copies the database.
  let writing = true
  const acknowledged: string[] = []
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const res = await b.post('/v1/eligibility', { certno: syntheticCertno(i % 3000 + 10) })
      if (res.status !== 200) throw new Error(res.text)
      await admit(b, `ZY-W${i}`, syntheticCertno(i % 3000 + 10))
      acknowledged.push(`ZY-W${i}`)
    }
  })()
  while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 5))
  const before = [...acknowledged]
  const result = await b.app.backup.run('api')
  const during = acknowledged.length - before.length
  writing = false
  await writer
  t.ok(during > 0, `admissions were answered while the backup ran (${during})`)
  t.match(result.file, /fangpin-backup-\d{8}T\d{6}Z\.fpbak$/)
  t.equal(statSync(result.file).mode & 0o777, 0o600, 'the backup holds the key: owner only')
  t.equal(result.header.schema_version, newestSchemaVersion())
  t.same(readdirSync(scheduled).filter((n) => n.startsWith('.')), [], 'no temporary file left beside it')

  // Restored with the command into another data directory: every admission acknowledged before the
  // backup began is in it, and the database is sound.
  const restored = join(dir, 'restored')
  const r1 = await fangpin(['restore', result.file, '--data-dir', restored], {})
  t.equal(r1.code, 0, r1.stderr)
  t.match(r1.stdout, /\(the data directory was empty\)/)
  t.equal(integrity(join(restored, 'fangpin.db')), 'ok')
  const copy = new Database(join(restored, 'fangpin.db'), { readonly: true })
  const ids = new Set(copy.prepare('SELECT mdtrt_id FROM admission').pluck().all() as string[])
  copy.close()
  t.same(before.filter((id) => !ids.has(id)), [], 'every admission acknowledged before the backup is in it')
  t.equal(readFileSync(join(restored, 'subject.key'), 'utf8'), readFileSync(join(b.config.dataDir, 'subject.key'), 'utf8'))
  t.equal(statSync(join(restored, 'subject.key')).mode & 0o777, 0o600)

  // Quiet now: a backup by the command line from another process while the agent serves, restored
  // over an existing data directory, answers exactly as the original agent does.
  const manual = join(dir, 'manual')
  const cli = await fangpin(['backup', '--out', manual], { FANGPIN_DATA_DIR: b.config.dataDir })
  t.equal(cli.code, 0, cli.stderr)
  t.match(cli.stdout, /backup: .*fangpin-backup-.*\.fpbak/)
  const [file] = listBackups(manual)
  const target = join(dir, 'target')
  const older = openStore(target) // some other data directory that is being replaced
  older.close()
  const oldKey = readFileSync(join(target, 'subject.key'), 'utf8')
  const r2 = await fangpin(['restore', join(manual, file), '--data-dir', target], {})
  t.equal(r2.code, 0, r2.stderr)
  const aside = readdirSync(target).find((n) => n.startsWith('replaced-'))
  t.ok(aside, 'the replaced files are kept aside')
  t.equal(readFileSync(join(target, aside!, 'subject.key'), 'utf8'), oldKey, 'including the old subject key')
  t.ok(existsSync(join(target, aside!, 'fangpin.db')))
  t.equal(integrity(join(target, 'fangpin.db')), 'ok')
  const again = await agentOn(t, target)
  const original = await answers(b.url, b.token, [...stays, 'ZY-W0'])
  const fromBackup = await answers(again.url, b.token, [...stays, 'ZY-W0'])
  t.same(fromBackup, original, 'same eligibility answers, same stays, totals and discharge gate, same inpatient list')
  t.equal((original as any[])[0].json.treat_first_pay_later, true, 'and the answers are real ones')
  t.equal((original as any[])[5].json.totals.medfee_sumamt, 10200)
  t.same((original as any[])[6].json.settlements.map((x: any) => x.setl_id), ['S-B2'], 'with its settlement')
})

t.test('restore refuses while an agent has the data directory open, and changes nothing', async (t) => {
  const dir = tempDir(t)
  const b = await build(t, { records: poorRecords })
  const src = join(dir, 'b')
  const made = await writeBackup(b.store.db, b.store.subjectKey, src)
  const files = readdirSync(b.config.dataDir).sort()
  const run = await fangpin(['restore', made.file], { FANGPIN_DATA_DIR: b.config.dataDir })
  t.equal(run.code, 1)
  t.match(run.stderr, /is open in another process \(a running agent, an import\): stop the agent first/)
  t.match(run.stderr, /nothing was changed/)
  t.same(readdirSync(b.config.dataDir).sort(), files)
  t.equal((await b.post('/v1/eligibility', { certno: POOR })).status, 200, 'the agent serves on')
})

t.test('restore refuses a damaged or cut-short backup, and one from a newer schema naming both versions', async (t) => {
  const dir = tempDir(t)
  const store = openStore(join(dir, 'data'))
  await store.list.replace(poorRecords, { source: 'import', label: 'test' })
  const good = await writeBackup(store.db, store.subjectKey, join(dir, 'b'))
  const newest = newestSchemaVersion()
  store.db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(newest + 1, 'from the future', new Date().toISOString())
  const future = await writeBackup(store.db, store.subjectKey, join(dir, 'f'))
  store.close()

  const check = await inProcess(['restore', good.file, '--check'])
  t.equal(check.code, 0, check.stderr)
  t.match(check.stdout, /complete, checksum ok/)

  const damaged = join(dir, 'damaged.fpbak')
  copyFileSync(good.file, damaged)
  const fd = openSync(damaged, 'r+')
  writeSync(fd, Buffer.from([0x55]), 0, 1, 4096 + 5000)
  closeSync(fd)
  await t.rejects(verifyBackup(damaged), /damaged\.fpbak is damaged: its checksum is [0-9a-f]{64}, its header says/)

  const short = join(dir, 'short.fpbak')
  copyFileSync(good.file, short)
  truncateSync(short, statSync(short).size - 100)
  const target = join(dir, 'target')
  const cut = await inProcess(['restore', short, '--data-dir', target])
  t.equal(cut.code, 1)
  t.match(cut.stderr, /short\.fpbak is \d+ bytes but its header says \d+: the file is incomplete or damaged/)

  const newer = await inProcess(['restore', future.file, '--data-dir', target])
  t.equal(newer.code, 1)
  t.match(newer.stderr, new RegExp(`is from schema version ${newest + 1}, newer than this fangpin \\(schema version ${newest}\\)`))
  t.notOk(existsSync(join(target, 'fangpin.db')), 'nothing was restored')

  const notBackup = join(dir, 'notes.txt')
  writeFileSync(notBackup, 'hello')
  await t.rejects(restoreBackup(notBackup, target), BackupError)
})

// The child takes a backup as `fangpin backup` does, saying when it begins.
const CHILD = `
import { openForBackup, writeBackup } from ${JSON.stringify(join(ROOT, 'agent/store/backup.ts'))}
import { loadOrCreateSubjectKey } from ${JSON.stringify(join(ROOT, 'identity/subject-key.ts'))}
const [dataDir, out] = process.argv.slice(2)
const db = openForBackup(dataDir)
const key = loadOrCreateSubjectKey(dataDir)
process.stdout.write('begin\\n')
const r = await writeBackup(db, key, out)
process.stdout.write('done ' + r.file + '\\n')
`

function backupChild (script: string, dataDir: string, out: string, killAfterMs: number | null): Promise<{ ms: number, killed: boolean }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let began = 0
    let text = ''
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString()
      if (began === 0 && text.includes('begin')) {
        began = Date.now()
        if (killAfterMs !== null) setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`backup child failed (${code}): ${err}`))
      else resolveRun({ ms: Date.now() - began, killed: signal === 'SIGKILL' })
    })
  })
}

t.test('a kill -9 at varied moments of a backup leaves no file that restore would accept', async (t) => {
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const store = openStore(dataDir)
  await store.list.replace(poorRecords, { source: 'import', label: 'test' })
  // About 50 MB, so that a backup takes long enough to be cut at different stages.
  const blob = 'x'.repeat(2000)
  store.db.transaction(() => {
    const ins = store.db.prepare("INSERT INTO audit (at, action, detail) VALUES ('2026-11-25T00:00:00Z', 'test.filler', ?)")
    for (let i = 0; i < 12_000; i++) ins.run(blob + i)
  })()
  store.close()
  const script = join(dir, 'child.mts')
  writeFileSync(script, CHILD)

  const full = await backupChild(script, dataDir, join(dir, 'timing'), null)
  t.equal(listBackups(join(dir, 'timing')).length, 1)
  const moments = [0.02, 0.15, 0.3, 0.5, 0.7, 0.85, 0.97, 1.2]
  let cutShort = 0
  for (const f of moments) {
    const out = join(dir, `k${f}`)
    mkdirSync(out)
    const run = await backupChild(script, dataDir, out, Math.round(full.ms * f))
    const names = readdirSync(out)
    const finals = names.filter((n) => n.endsWith('.fpbak'))
    for (const n of finals) {
      // A file under its final name is only ever a complete one.
      const h = await verifyBackup(join(out, n))
      t.equal(h.schema_version, newestSchemaVersion(), `killed at ${f}: ${n} is complete`)
    }
    for (const n of names.filter((x) => !x.endsWith('.fpbak'))) {
      // A temporary file is incomplete, or (killed between its last sync and its rename) complete
      // but still temporary: restore refuses both.
      const complete = await verifyBackup(join(out, n)).then(() => true, (err: unknown) => { if (!(err instanceof BackupError)) throw err; return false })
      if (complete) t.match(n, /\.fpbak\.tmp$/, `killed at ${f}: ${n} was complete (killed just before its rename), yet not restored`)
      const target = join(dir, `never-${f}-${n}`)
      await t.rejects(restoreBackup(join(out, n), target), BackupError, `killed at ${f}: restore refuses the leftover ${n}`)
      t.notOk(existsSync(join(target, 'fangpin.db')), 'and restores nothing')
    }
    if (run.killed && finals.length === 0) cutShort++
  }
  t.ok(cutShort >= 3, `the kills landed mid-backup several times (${cutShort} of ${moments.length})`)

  // The next backup into a directory with leftovers removes them (their process is gone).
  const messy = join(dir, 'k0.5')
  const leftovers = readdirSync(messy).filter((n) => n.startsWith('.'))
  const next = await fangpin(['backup', '--out', messy], { FANGPIN_DATA_DIR: dataDir })
  t.equal(next.code, 0, next.stderr)
  for (const n of leftovers) t.notOk(existsSync(join(messy, n)), `${n} cleaned up`)
  t.equal(readBackupHeader(join(messy, listBackups(messy).at(-1)!)).app, 'fangpin')
})

t.test('scheduled backups: kept to FANGPIN_BACKUP_KEEP, shown on /readyz and /metrics; a failure raises a backup_failed alert until the next success', async (t) => {
  const dir = tempDir(t)
  const backups = join(dir, 'backups')
  const b = await build(t, { records: poorRecords, env: { FANGPIN_BACKUP_DIR: backups, FANGPIN_BACKUP_KEEP: '2' } })
  const fresh = await b.get('/readyz')
  t.equal(fresh.json.status, 'degraded', 'scheduled backups configured but none made yet')
  t.match(fresh.json.warnings.join('\n'), /backup: no backup has been made yet/)

  const made: string[] = []
  for (let i = 0; i < 3; i++) {
    // Within one second the names get -2, -3: still removed oldest first.
    made.push((await b.app.backup.run('api')).file)
  }
  t.same(listBackups(backups), made.slice(1).map((f) => f.slice(backups.length + 1)), 'the oldest is removed after the third')
  writeFileSync(join(backups, 'notes.txt'), 'IT\'s own file')
  await b.app.backup.run('api')
  t.ok(existsSync(join(backups, 'notes.txt')), 'files the agent did not name are never removed')

  const ready = await b.get('/readyz')
  t.equal(ready.json.status, 'ready')
  t.equal(ready.json.backup.scheduled, true)
  t.equal(ready.json.backup.failed, false)
  t.ok(ready.json.backup.age_hours < 0.1)
  let metrics = await b.get('/metrics')
  const ts = Number(/^fangpin_backup_last_success_timestamp_seconds (\d+)$/m.exec(metrics.text)?.[1])
  t.ok(Math.abs(ts - Date.now() / 1000) < 60, 'last success timestamp in /metrics')
  t.match(metrics.text, /^fangpin_backup_last_failed 0$/m)

  // The backup disk goes away (here: a file where the directory was).
  rmSync(backups, { recursive: true })
  writeFileSync(backups, 'not a directory')
  await t.rejects(b.app.backup.run('api'))
  const alerts = await b.get('/v1/alerts')
  const alert = alerts.json.alerts.find((a: any) => a.kind === 'backup_failed')
  t.ok(alert, 'a backup_failed alert for staff')
  t.equal(alert.level, 'warning')
  t.match(alert.message, /数据备份失败.*请信息科检查备份目录/)
  const degraded = await b.get('/readyz')
  t.equal(degraded.json.status, 'degraded')
  t.match(degraded.json.warnings.join('\n'), /backup: the last backup failed at/)
  metrics = await b.get('/metrics')
  t.match(metrics.text, /^fangpin_backup_last_failed 1$/m)

  rmSync(backups)
  await b.app.backup.run('api')
  const after = await b.get('/v1/alerts')
  t.notOk(after.json.alerts.some((a: any) => a.kind === 'backup_failed' && a.state === 'open'), 'resolved by the next success')
  t.equal((await b.get('/readyz')).json.status, 'ready')

  // Two nights without a backup (a stopped schedule, a server that was off) degrade readiness.
  b.store.db.prepare("UPDATE meta SET value = '2026-01-01T00:00:00.000Z' WHERE key = 'backup_last_success_at'").run()
  b.store.db.prepare("UPDATE meta SET value = '2025-12-01T00:00:00.000Z' WHERE key = 'backup_last_failure_at'").run()
  const stale = await b.get('/readyz')
  t.equal(stale.json.status, 'degraded')
  t.match(stale.json.warnings.join('\n'), /backup: the last backup is \d+(\.\d)? hours old \(more than 48\)/)
})

t.test('an agent started with scheduled backups and none recent takes one at once (a server that was off at backup time)', async (t) => {
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const store = openStore(dataDir)
  await store.list.replace(poorRecords, { source: 'import', label: 'test' })
  store.close()
  const backups = join(dir, 'backups')
  const agent = await agentOn(t, dataDir, { FANGPIN_BACKUP_DIR: backups })
  for (let i = 0; i < 100 && listBackups(backups).length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(listBackups(backups).length, 1)
  for (let i = 0; i < 100 && agent.app.backup.status().last_success_at === null; i++) await new Promise((r) => setTimeout(r, 50))
  const status = agent.app.backup.status()
  t.equal(status.scheduled, true)
  t.ok(status.next_run !== null, `the next one is scheduled (${status.next_run ?? ''})`)
  t.equal(status.last_file, join(backups, listBackups(backups)[0]))
})

t.test('backup settings are checked at start and backup refuses to write into the data directory', async (t) => {
  const bad = (env: Record<string, string>): string => { try { loadConfig(env); return '' } catch (e) { return (e as Error).message } }
  t.match(bad({ FANGPIN_BACKUP_CRON: 'nightly' }), /FANGPIN_BACKUP_CRON="nightly" is not a cron expression/)
  t.match(bad({ FANGPIN_BACKUP_KEEP: '0' }), /FANGPIN_BACKUP_KEEP="0" is not valid/)
  t.match(bad({ FANGPIN_DATA_DIR: '/srv/fp', FANGPIN_BACKUP_DIR: '/srv/fp' }), /FANGPIN_BACKUP_DIR="\/srv\/fp" is the data directory itself/)
  const c = loadConfig({})
  t.equal(c.backupDir, null)
  t.equal(c.backupCron, '30 3 * * *', 'nightly, an hour after the default sync')
  t.equal(c.backupKeep, 14)
  const dir = tempDir(t)
  const none = await inProcess(['backup'], { FANGPIN_DATA_DIR: dir })
  t.equal(none.code, 64)
  t.match(none.stderr, /say where the backup goes: fangpin backup --out DIR/)
})

t.test('fangpin status shows the last backup', async (t) => {
  const { main } = await import('../agent/cli/main.ts')
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const store = openStore(dataDir)
  await store.list.replace(poorRecords, { source: 'import', label: 'test' })
  store.close()
  const run = async (args: string[]): Promise<{ code: number, out: string }> => {
    let out = ''
    const code = await main(args, { out: { write: (s: string) => { out += s } }, err: { write: (s: string) => { out += s } }, stdin: process.stdin, env: { FANGPIN_DATA_DIR: dataDir } })
    return { code, out }
  }
  t.match((await run(['status'])).out, /last backup\s+NONE made yet; not scheduled \(FANGPIN_BACKUP_DIR\)/)
  t.equal((await run(['backup', '--out', join(dir, 'b')])).code, 0)
  t.match((await run(['status'])).out, /last backup\s+\d{4}-\d{2}-\d{2}T[\d:.]+Z \(.*fangpin-backup-\d{8}T\d{6}Z\.fpbak\)/)
})

t.test('stopping the agent during a scheduled backup stops the backup and leaves nothing behind', async (t) => {
  const dir = tempDir(t)
  const backups = join(dir, 'backups')
  const b = await build(t, { records: poorRecords, env: { FANGPIN_BACKUP_DIR: backups } })
  b.store.db.transaction(() => {
    const ins = b.store.db.prepare("INSERT INTO audit (at, action, detail) VALUES ('2026-11-01T00:00:00Z', 'test.filler', ?)")
    for (let i = 0; i < 8000; i++) ins.run('x'.repeat(2000) + i)
  })()
  const running = b.app.backup.run('cron')
  const outcome = running.then(() => 'finished', (err: Error) => err.message)
  // The copy is under way once its temporary database exists.
  for (let i = 0; i < 200 && !(existsSync(backups) && readdirSync(backups).some((n) => n.endsWith('.db.tmp'))); i++) await new Promise((r) => setImmediate(r))
  await b.app.close()
  t.equal(await outcome, 'the agent is shutting down')
  t.same(readdirSync(backups), [], 'no temporary file and no backup left')
})
