// A list that has not been confirmed current for FANGPIN_STALE_HOURS is still served (care comes
// first) but staff must know: a list_stale alert is raised for the staff page, and resolved once a
// sync or an import brings the list up to date again.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Store } from '../../store/store.ts'
import { listView } from '../../rules/eligibility.ts'

const CHECK_EVERY_MS = 5 * 60_000

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
  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    check()
    timer = setInterval(check, CHECK_EVERY_MS)
    timer.unref()
  })
  fastify.addHook('onClose', async () => clearInterval(timer))
}

export default fp(listWatchPlugin, { name: 'list-watch', fastify: '5.x', dependencies: ['store', 'profile'] })
