import { writeFileSync } from 'node:fs'
import { checkCharacter } from './agent/identity/certno.ts'
import { indexProfile } from './agent/profile/profile.ts'
import { readListFile } from './sync/import/read-list.ts'
const id18 = (f: string) => f + checkCharacter(f)
function synthId (i: number): string {
  return id18('45020619' + String(60 + (i % 40)) + String(1 + (Math.floor(i / 40) % 12)).padStart(2, '0') +
    String(1 + (Math.floor(i / 480) % 28)).padStart(2, '0') + String(Math.floor(i / 13440)).padStart(3, '0'))
}
const cat = (id: string, label: string, aliases: string[]) => ({ id, label, aliases, priority: 1, treat_first_pay_later: true })
const profile = indexProfile({ id: 't', name: 't', region: 'x', sources: [], categories: [cat('extreme_poverty', '特困人员', []), cat('minimum_living', '低保对象', ['低保']), cat('out_of_poverty', '脱贫人口', [])], treat_first_pay_later: { excluded_med_types: [] }, spending: {} as any, burden: {} as any, severe_diseases: [] })
const parts = ['序号,姓名,身份证号,人员类别,认定时间,退出时间,家庭住址\n']
for (let i = 0; i < 200_000; i++) parts.push(`${i + 1},人员${i},${synthId(i)},${i % 3 === 0 ? '低保、脱贫人口' : '特困人员'},2026-03-01,2026-12-31,某村${i}号\n`)
writeFileSync('/tmp/exp/big.csv', parts.join(''))
for (let k = 0; k < 2; k++) {
const t0 = performance.now()
const res = await readListFile('/tmp/exp/big.csv', { profile })
console.log(res.rows, res.badRows, ((performance.now() - t0) / 1000).toFixed(2), 's')
}
