// Alerts as staff and the HIS see them, and acknowledging one. The HIS API and the staff page
// share this: the same view, the same audited acknowledgement.
import { actorName, type Actor, type RulesContext } from './context.ts'
import type { AlertRow } from '../store/alerts.ts'
import { FangpinNotFound } from '../errors.ts'
import { yuan } from './money.ts'

export interface AlertView {
  id: number
  kind: string
  level: string
  state: 'open' | 'acknowledged' | 'resolved'
  mdtrt_id: string | null
  message: string
  created_at: string
  updated_at: string | null
  in_catalog_ratio: number | null
  medfee_sumamt: number | null
  out_of_catalog_amt: number | null
  acknowledged_by: string | null
  acknowledged_at: string | null
  resolved_at: string | null
}

export function alertView (a: AlertRow): AlertView {
  return {
    id: a.id,
    kind: a.kind,
    level: a.level,
    state: a.resolved_at !== null ? 'resolved' : a.acknowledged_at !== null ? 'acknowledged' : 'open',
    mdtrt_id: a.mdtrt_id,
    message: a.message,
    created_at: a.created_at,
    updated_at: a.updated_at,
    in_catalog_ratio: a.in_catalog_ratio,
    medfee_sumamt: a.medfee_fen === null ? null : yuan(a.medfee_fen),
    out_of_catalog_amt: a.out_catalog_fen === null ? null : yuan(a.out_catalog_fen),
    acknowledged_by: a.acknowledged_by,
    acknowledged_at: a.acknowledged_at,
    resolved_at: a.resolved_at
  }
}

/** Open (neither acknowledged nor resolved) or all alerts, newest first. */
export function listAlerts (ctx: RulesContext, state: 'open' | 'all' | undefined, limit = 500): { count: number, alerts: AlertView[] } {
  const rows = state === 'all' ? ctx.store.alerts.all(limit) : ctx.store.alerts.unattended(limit)
  return { count: rows.length, alerts: rows.map(alertView) }
}

/** Alerts raised after `id`, oldest first (the staff page's live feed), and where a feed starts. */
export function alertsSince (ctx: RulesContext, id: number): AlertView[] {
  return ctx.store.alerts.since(id).map(alertView)
}

export function latestAlertId (ctx: RulesContext): number {
  return ctx.store.alerts.maxId()
}

/**
 * Acknowledges an alert for the actor; the first acknowledgement stands and is the one audited.
 * `named` is a name the caller gave besides its credential, kept in the audit row as a note only:
 * the acknowledgement is the credential's (a staff member's name, an HIS token's name).
 */
export async function acknowledgeAlert (ctx: RulesContext, actor: Actor, id: number, named?: string): Promise<AlertView> {
  const { store } = ctx
  const by = actor.kind === 'staff' ? actor.name : actorName(actor)
  const row = await store.write(() => {
    const alert = store.alerts.get(id)
    if (alert === undefined) throw new FangpinNotFound(`no alert ${id}`)
    if (store.alerts.acknowledge(id, by)) {
      store.audit.write({ client: actorName(actor), action: 'alert.ack', mdtrt_id: alert.mdtrt_id, decision: alert.kind, detail: { alert: id, by, ...(named !== undefined ? { named } : {}) } })
    }
    return store.alerts.get(id)!
  })
  return alertView(row)
}
