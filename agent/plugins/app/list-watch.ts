// A list that has not been confirmed current for FANGPIN_STALE_HOURS is still served (care comes
// first) but staff must know: a list_stale alert is raised for the staff page, and resolved once a
// sync or an import brings the list up to date again.
// Open stays are also re-checked against the list at start and every hour, not only after a list
// change: an identity that starts during a stay (民政 approvals valid 当月, 000 四(四)3) needs no
// new list to take effect, and a re-check cut off by a crash after a list change is done again.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Store } from '../../store/store.ts'
import { listView } from '../../rules/eligibility.ts'
import { recheckOpenAdmissions } from '../../rules/recheck.ts'

const CHECK_EVERY_MS = 5 * 60_000
const RECHECK_EVERY_MS = 60 * 60_000

/** Raises or resolves the list_stale alert; returns whether the list is stale now. */
export function checkListStale (store: Store, staleHours: number): boolean {
  const state = store.list.state()
  if (state.active_gen === null) return false
  const view = listView(state, staleHours)
  if (!view.stale) {
    store.alerts.resolve('list_stale')
    return false
  }
  // Refreshing the open alert keeps one alert however long the outage lasts.
  store.alerts.raise({
    kind: 'list_stale',
    level: 'warning',
    message: `困难群众名单已超过${staleHours}小时未更新（版本${view.version ?? '无'}），入院识别结果可能不是最新，请联系信息科检查名单同步`,
    detail: { version: view.version, age_hours: view.age_hours }
  })
  return true
}

async function listWatchPlugin (fastify: FastifyInstance): Promise<void> {
  const check = (): void => {
    try {
      checkListStale(fastify.store, fastify.config.staleHours)
    } catch (err) {
      fastify.log.warn({ err }, 'could not check the list age')
    }
  }
  let rechecking: Promise<unknown> | null = null
  const recheck = (): void => {
    if (rechecking !== null || fastify.store.list.state().active_gen === null) return
    rechecking = recheckOpenAdmissions(fastify.store, fastify.profile, fastify.config.tz, null)
      .catch((err: unknown) => fastify.log.warn({ err }, 'could not re-check open admissions'))
      .finally(() => { rechecking = null })
  }
  let timer: NodeJS.Timeout | undefined
  let recheckTimer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    check()
    recheck()
    timer = setInterval(check, CHECK_EVERY_MS)
    timer.unref()
    recheckTimer = setInterval(recheck, RECHECK_EVERY_MS)
    recheckTimer.unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    clearInterval(recheckTimer)
    // The database must not close under a re-check.
    await rechecking
  })
}

export default fp(listWatchPlugin, { name: 'list-watch', fastify: '5.x', dependencies: ['store', 'profile'] })
