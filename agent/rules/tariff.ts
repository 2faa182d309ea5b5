// The hospital's DRG payment table, the admission estimate's tariff basis (000 四(二)2). Imported as a
// whole: the new table replaces the old one in one write, with an audit row naming the file.
import type { TariffRecord } from '../../lists/read-tariff.ts'
import { actorName, type Actor, type RulesContext } from './context.ts'

export async function replaceTariffs (ctx: RulesContext, actor: Actor, rows: TariffRecord[], source: string): Promise<{ groups: number }> {
  const { store } = ctx
  return await store.write(() => {
    store.tariffs.replace(rows, source, new Date().toISOString())
    store.audit.write({ client: actorName(actor), action: 'tariff.import', detail: { groups: rows.length, source } })
    return { groups: rows.length }
  })
}
