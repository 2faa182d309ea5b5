import { indexProfile } from './agent/profile/profile.ts'
import { readListFile } from './sync/import/read-list.ts'
const cat = (id: string, label: string, aliases: string[]) => ({ id, label, aliases, priority: 1, treat_first_pay_later: true })
const profile = indexProfile({ id: 't', name: 't', region: 'x', sources: [], categories: [cat('extreme_poverty', '特困人员', []), cat('minimum_living', '低保对象', ['低保']), cat('out_of_poverty', '脱贫人口', [])], treat_first_pay_later: { excluded_med_types: [] }, spending: {} as any, burden: {} as any, severe_diseases: [] })
const t0 = performance.now()
const res = await readListFile('/tmp/exp/big.csv', { profile })
console.log(res.rows, res.badRows, ((performance.now() - t0) / 1000).toFixed(2), 's')
