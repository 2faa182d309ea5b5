// A stale list raises one alert for staff, and a list brought up to date resolves it.
import t from 'tap'
import { build } from './helper.ts'
import { records } from './charge-fixture.ts'

t.test('a list older than FANGPIN_STALE_HOURS raises one list_stale alert; a fresh list resolves it', async (t) => {
  const b = await build(t, { records, env: { FANGPIN_STALE_HOURS: '2' } })
  t.equal(await b.app.rules.checkListStale(), false, 'a list just loaded is current')
  t.same(b.store.alerts.open().filter((a) => a.kind === 'list_stale'), [])
  const old = new Date(Date.now() - 3 * 3_600_000).toISOString()
  b.store.db.prepare('UPDATE list_state SET data_as_of = ?, loaded_at = ? WHERE id = 1').run(old, old)
  t.equal(await b.app.rules.checkListStale(), true)
  t.equal(await b.app.rules.checkListStale(), true)
  const open = b.store.alerts.open().filter((a) => a.kind === 'list_stale')
  t.equal(open.length, 1, 'checked twice, one alert')
  t.match(open[0].message, /名单已超过2小时未更新/)
  const listed = await b.get('/v1/alerts')
  t.ok(listed.json.alerts.some((a: any) => a.kind === 'list_stale' && a.state === 'open'))
  const now = new Date().toISOString()
  b.store.db.prepare('UPDATE list_state SET data_as_of = ?, loaded_at = ? WHERE id = 1').run(now, now)
  t.equal(await b.app.rules.checkListStale(), false)
  t.same(b.store.alerts.open().filter((a) => a.kind === 'list_stale'), [], 'resolved once the list is current')
})
