// `fangpin status`: what the data directory holds, at a glance (exit 1 when no list is loaded).
import type { Config } from '../config.ts'
import type { Io } from '../../base/terminal.ts'
import { schemaVersion } from '../store/db.ts'
import { withAgent } from './agent.ts'
import type { BackupState } from '../store/backup.ts'

function backupLine (b: BackupState, dir: string | null): string {
  const failed = b.last_failure_at !== null && (b.last_success_at === null || b.last_failure_at > b.last_success_at)
  const last = b.last_success_at === null ? 'NONE made yet' : `${b.last_success_at} (${b.last_file ?? ''})`
  return `last backup      ${last}${failed ? `; FAILED since ${b.last_failure_at ?? ''}: ${b.last_failure ?? ''}` : ''}${dir === null ? '; not scheduled (FANGPIN_BACKUP_DIR)' : `; scheduled into ${dir}`}`
}

export async function statusCommand (config: Config, io: Io): Promise<number> {
  return await withAgent(config, io, async ({ rules, store, profile }) => {
    const state = store.list.state()
    const view = rules.listView()
    const tokens = rules.listTokens().filter((t) => t.revoked_at === null)
    const counts = rules.statusCounts()
    const lines = [
      `data directory   ${config.dataDir} (schema v${schemaVersion(store.db)})`,
      `profile          ${profile.id} (${profile.name})`,
      state.active_gen === null
        ? 'list             NONE LOADED — run fangpin import <file>'
        : `list             ${state.version ?? ''} from ${state.source ?? ''}${state.demo ? ' — DEMO DATA' : ''}; ${state.person_count} people, ${state.identity_count} identities`,
      `loaded           ${state.loaded_at ?? '-'} (${view.age_hours ?? '-'} h ago${view.stale ? `, STALE: older than ${config.staleHours} h` : ''})`,
      `open admissions  ${store.admissions.countOpen()}`,
      `monitored stays  ${counts.breach + counts.warning + counts.ok + counts.no_limit + counts.exempt} (超标 ${counts.breach}, 预警 ${counts.warning}, 正常 ${counts.ok}, 无比例上限 ${counts.no_limit}, 豁免 ${counts.exempt})`,
      ...(profile.missingLocal.length > 0 ? [`local settings   MISSING: ${profile.missingLocal.map((m) => `local.${m.key}`).join(', ')} — see fangpin profile check`] : []),
      `open alerts      ${rules.listAlerts('open').count}`,
      `active tokens    ${tokens.length}${tokens.length > 0 ? ` (${tokens.map((t) => t.name).join(', ')})` : ''}`,
      `staff accounts   ${rules.listStaff().filter((u) => u.disabled_at === null).length} active`,
      backupLine(store.backups.state(), config.backupDir)
    ]
    io.out.write(lines.join('\n') + '\n')
    return state.active_gen === null ? 1 : 0
  })
}
