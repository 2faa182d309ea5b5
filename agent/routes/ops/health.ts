// Probes for hospital IT and their monitoring. /healthz: the process answers. /readyz: a list is
// loaded and whether it can be trusted (demo or stale lists answer but are "degraded", and so does
// an agent whose region profile still needs local settings: the rules that need them are off).
import type { FastifyInstance } from 'fastify'
import { isLoopbackHost } from '../../config.ts'
import { BACKUP_STALE_HOURS } from '../../plugins/app/backup.ts'

/** A certificate this close to its end is announced while there is time to replace it. */
const TLS_EXPIRY_WARN_DAYS = 30

/** What IT should fix in how the agent is run: plain HTTP on the LAN, a certificate near its end, backups. */
function operationsWarnings (fastify: FastifyInstance): string[] {
  const { config } = fastify
  const warnings: string[] = []
  if (config.tls === null && !isLoopbackHost(config.host)) {
    warnings.push('plaintext HTTP on the hospital LAN (FANGPIN_ALLOW_PLAINTEXT): ID numbers, tokens and passwords cross the network unencrypted; set FANGPIN_TLS_CERT and FANGPIN_TLS_KEY')
  }
  if (config.tls !== null) {
    const days = (config.tls.validTo.getTime() - Date.now()) / 86_400_000
    if (days < 0) warnings.push(`the TLS certificate ${config.tls.certFile} expired on ${config.tls.validTo.toISOString()}: the HIS will refuse it; make a new one (fangpin tls init) and give the HIS vendor its fingerprint`)
    else if (days < TLS_EXPIRY_WARN_DAYS) warnings.push(`the TLS certificate ${config.tls.certFile} expires on ${config.tls.validTo.toISOString()}: make a new one (fangpin tls init) and give the HIS vendor its fingerprint before then`)
  }
  const b = fastify.backup.status()
  if (b.scheduled && b.failed) warnings.push(`backup: the last backup failed at ${b.last_failure_at ?? '?'}: ${b.last_failure ?? ''}`)
  else if (b.scheduled && b.stale && !b.running) {
    warnings.push(b.last_success_at === null
      ? `backup: no backup has been made yet into ${b.dir ?? ''}`
      : `backup: the last backup is ${b.age_hours ?? '?'} hours old (more than ${BACKUP_STALE_HOURS}); check the agent's log and ${b.dir ?? ''}`)
  }
  return warnings
}

/** For an alert rule such as "no successful sync for 36 hours" or "the last sync failed". */
function syncGauges (fastify: FastifyInstance): Array<{ name: string, help: string, value: number }> {
  const runs = fastify.store.syncRuns
  const ok = runs.lastSuccess()
  const state = fastify.store.list.state()
  return [
    { name: 'fangpin_list_seq', help: 'Registry sequence of the serving list (-1: not from the registry).', value: state.source === 'registry' ? state.seq ?? -1 : -1 },
    { name: 'fangpin_sync_last_success_timestamp_seconds', help: 'When a registry sync last worked (0: never).', value: ok === null ? 0 : Math.floor(Date.parse(ok) / 1000) },
    { name: 'fangpin_sync_last_failed', help: '1 when the last registry sync failed.', value: runs.lastEnded() === 'failed' ? 1 : 0 },
    { name: 'fangpin_sync_failures', help: 'Registry syncs that failed, since the data directory was made.', value: runs.failures() }
  ]
}

/** For an alert rule such as "no backup for two days" or "the last backup failed". */
function backupGauges (fastify: FastifyInstance): Array<{ name: string, help: string, value: number }> {
  const b = fastify.backup.status()
  return [
    { name: 'fangpin_backup_scheduled', help: '1 when scheduled backups are configured (FANGPIN_BACKUP_DIR).', value: b.scheduled ? 1 : 0 },
    { name: 'fangpin_backup_last_success_timestamp_seconds', help: 'When a backup last worked (0: never).', value: b.last_success_at === null ? 0 : Math.floor(Date.parse(b.last_success_at) / 1000) },
    { name: 'fangpin_backup_last_failed', help: '1 when the last backup failed.', value: b.failed ? 1 : 0 },
    { name: 'fangpin_tls', help: '1 when the agent serves HTTPS.', value: fastify.config.tls === null ? 0 : 1 },
    { name: 'fangpin_tls_cert_expiry_timestamp_seconds', help: 'When the TLS certificate ends (0: no TLS).', value: fastify.config.tls === null ? 0 : Math.floor(fastify.config.tls.validTo.getTime() / 1000) }
  ]
}

export default async function healthRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/healthz', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness',
      response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } }
    }
  }, async () => ({ status: 'ok' }))

  fastify.get('/readyz', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: is a trustworthy list loaded?',
      response: { 200: { $ref: 'readiness#' }, 503: { $ref: 'readiness#' } }
    }
  }, async (request, reply) => {
    const state = fastify.store.list.state()
    const view = fastify.rules.listView()
    const warnings: string[] = []
    const loaded = state.active_gen !== null
    // A monitoring probe is the first to notice that space was freed: it tries a write itself.
    const storage = fastify.store.health.probe() ? null : fastify.store.health.failing
    if (storage !== null) warnings.push(`storage: writes fail since ${storage.since}: ${storage.message}`)
    if (!loaded) warnings.push('no identity list loaded: run `fangpin import <file>` or configure the registry')
    if (state.demo) warnings.push('DEMO DATA: the bundled synthetic demo list is loaded (演示数据，不得用于真实患者); import the county list or configure the registry')
    if (view.stale) warnings.push(`the list is stale: ${view.age_hours ?? '?'} hours old, more than FANGPIN_STALE_HOURS=${fastify.config.staleHours}`)
    for (const m of fastify.profile.missingLocal) warnings.push(`local setting missing: local.${m.key} (profile ${fastify.profile.id}): ${m.message}`)
    warnings.push(...operationsWarnings(fastify))
    const backup = fastify.backup.status()
    const status = !loaded || storage !== null ? 'not_ready' : warnings.length > 0 ? 'degraded' : 'ready'
    return reply.code(status === 'not_ready' ? 503 : 200).send({
      status,
      profile: fastify.profile.id,
      local_settings_missing: fastify.profile.missingLocal.map((m) => m.key),
      list: {
        loaded,
        version: state.version,
        source: state.source,
        region: state.region,
        persons: state.person_count,
        identities: state.identity_count,
        loaded_at: state.loaded_at,
        age_hours: view.age_hours,
        stale: view.stale,
        demo: state.demo
      },
      backup: { scheduled: backup.scheduled, last_success_at: backup.last_success_at, age_hours: backup.age_hours, last_failure_at: backup.last_failure_at, failed: backup.failed, next_run: backup.next_run },
      tls: fastify.config.tls !== null,
      warnings
    })
  })

  fastify.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      response: { 200: { type: 'string' } }
    }
  }, async (request, reply) => {
    const state = fastify.store.list.state()
    const view = fastify.rules.listView()
    const body = fastify.metrics.render([
      { name: 'fangpin_list_persons', help: 'People in the serving list.', value: state.person_count },
      { name: 'fangpin_list_identities', help: 'Identities in the serving list.', value: state.identity_count },
      { name: 'fangpin_list_in_memory_persons', help: 'People of the serving list answered from memory (0: lookups read the database, while the in-memory list is built or when the list is too large for it).', value: fastify.store.list.inMemory() },
      { name: 'fangpin_list_age_seconds', help: 'Age of the serving list in seconds (-1: none loaded).', value: view.age_hours === null ? -1 : Math.round(view.age_hours * 3600) },
      { name: 'fangpin_list_stale', help: '1 when the list is older than FANGPIN_STALE_HOURS.', value: view.stale ? 1 : 0 },
      { name: 'fangpin_list_demo', help: '1 when the bundled demo list is loaded.', value: state.demo ? 1 : 0 },
      { name: 'fangpin_admissions_open', help: 'Admissions recorded and not discharged.', value: fastify.store.admissions.countOpen() },
      { name: 'fangpin_storage_failing', help: '1 while writes to the database fail (disk full or failing).', value: fastify.store.health.failing === null ? 0 : 1 },
      ...syncGauges(fastify),
      ...backupGauges(fastify),
      ...memoryGauges(),
      ...checkpointGauges(fastify)
    ])
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(body)
  })
}

/** Where the process's memory is: a server that runs for years must show a slow leak before it hurts. */
function memoryGauges (): Array<{ name: string, help: string, value: number }> {
  const m = process.memoryUsage()
  return [
    { name: 'process_resident_memory_bytes', help: 'Resident memory of the agent process (RSS).', value: m.rss },
    { name: 'nodejs_heap_size_used_bytes', help: 'JavaScript heap in use.', value: m.heapUsed },
    { name: 'nodejs_heap_size_total_bytes', help: 'JavaScript heap reserved.', value: m.heapTotal },
    { name: 'nodejs_external_memory_bytes', help: 'Memory of buffers and native objects the JavaScript heap points at.', value: m.external }
  ]
}

/** The thread that copies the write-ahead log into the database (store/checkpointer.ts). */
function checkpointGauges (fastify: FastifyInstance): Array<{ name: string, help: string, value: number }> {
  const c = fastify.store.checkpoints()
  if (c === null) return []
  return [
    { name: 'fangpin_checkpoint_thread_running', help: '1 while the write-ahead log is copied into the database by its own thread (0: the writer does it inside its commits).', value: c.running ? 1 : 0 },
    { name: 'fangpin_checkpoint_failures', help: 'Checkpoint rounds of that thread that failed since the start (a busy or failing disk).', value: c.failures }
  ]
}
