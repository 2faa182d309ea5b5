// A list that has not been confirmed current for FANGPIN_STALE_HOURS is still served (care comes
// first) but staff must know: a list_stale alert is raised for the staff page, and resolved once a
// sync or an import brings the list up to date again.
import { listView, type ListView } from './eligibility.ts'
import type { RulesContext } from './context.ts'

export function listViewOf (ctx: RulesContext): ListView {
  return listView(ctx.store.list.state(), ctx.settings.staleHours, ctx.now())
}

/** Raises or resolves the list_stale alert; returns whether the list is stale now. */
export async function checkListStale (ctx: RulesContext): Promise<boolean> {
  const { store, settings } = ctx
  const state = store.list.state()
  if (state.active_gen === null) return false
  const view = listView(state, settings.staleHours, ctx.now())
  return await store.write(() => {
    if (!view.stale) {
      store.alerts.resolve('list_stale')
      return false
    }
    // Refreshing the open alert keeps one alert however long the outage lasts.
    store.alerts.raise({
      kind: 'list_stale',
      level: 'warning',
      message: `困难群众名单已超过${settings.staleHours}小时未更新（版本${view.version ?? '无'}），入院识别结果可能不是最新，请联系信息科检查名单同步`,
      detail: { version: view.version, age_hours: view.age_hours }
    })
    return true
  })
}
