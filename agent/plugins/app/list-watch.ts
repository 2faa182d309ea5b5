// The list as time passes: a list older than FANGPIN_STALE_HOURS raises one list_stale alert
// (checked every few minutes), and open stays are re-checked against the list at start and every
// hour, not only after a list change: an identity that starts during a stay (民政 approvals valid
// 当月, 000 四(四)3) needs no new list to take effect, and a re-check cut off by a crash after a
// list change is done again.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

const CHECK_EVERY_MS = 5 * 60_000
const RECHECK_EVERY_MS = 60 * 60_000

async function listWatchPlugin (fastify: FastifyInstance): Promise<void> {
  const { rules, store } = fastify
  const check = (): void => {
    rules.checkListStale().catch((err: unknown) => fastify.log.warn({ err }, 'could not check the list age'))
  }
  let rechecking: Promise<unknown> | null = null
  const recheck = (): void => {
    if (rechecking !== null || store.list.state().active_gen === null) return
    rechecking = rules.recheckOpenAdmissions(null)
      .catch((err: unknown) => fastify.log.warn({ err }, 'could not re-check open admissions'))
      .finally(() => { rechecking = null })
  }
  let timer: NodeJS.Timeout | undefined
  let recheckTimer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    await rules.checkListStale().catch((err: unknown) => fastify.log.warn({ err }, 'could not check the list age'))
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

export default fp(listWatchPlugin, { name: 'list-watch', fastify: '5.x', dependencies: ['store', 'rules'] })
