// The bundled demo list: synthetic people with valid (check-digit correct) ID numbers, at least
// one of every identity category, and the window edges staff ask about (open end, ended, not yet
// started, several identities). Loaded only into an empty data directory with no registry, and
// flagged as demo everywhere it shows (log, /readyz, every answer's cards).
// The address code 450206 is 柳江区; birth dates and sequence numbers are made up.
import { checkCharacter } from '../../identity/certno.ts'
import type { LoadRecord } from '../store/list.ts'

/** A well-known token valid only while the demo list is loaded: the README's curl example uses it. */
export const DEMO_TOKEN = 'fp_demo00000000_DEMO-ONLY-not-a-secret-never-use-for-patients'
export const DEMO_TOKEN_NAME = 'demo-his'
/** A staff sign-in for the demo page, made only with the demo list and only when no staff exist. */
export const DEMO_STAFF = { name: 'demo', password: 'demo-only-password' } as const

function certno (first17: string): string {
  return first17 + checkCharacter(first17)
}

interface DemoPerson {
  key: string
  note: string
  record: LoadRecord
}

function person (key: string, first17: string, name: string, note: string, identities: Array<[string, string, string | null, string]>): DemoPerson {
  return {
    key,
    note,
    record: {
      op: 'upsert',
      certno: certno(first17),
      psn_cert_type: '01',
      psn_name: name,
      identities: identities.map(([category, begntime, endtime, source]) => ({ category, begntime, endtime, source }))
    }
  }
}

const open = null
export const DEMO_PEOPLE: DemoPerson[] = [
  person('extreme_poverty', '45020619580312001', '韦demo一', '特困人员, open end', [['extreme_poverty', '2021-01-01 00:00:00', open, '民政']]),
  person('orphan', '45020620150704002', '覃demo二', '孤儿', [['orphan', '2019-03-01 00:00:00', open, '民政']]),
  person('unsupported_child', '45020620120915003', '蓝demo三', '事实无人抚养儿童', [['unsupported_child', '2022-06-01 00:00:00', open, '民政']]),
  person('minimum_living', '45020619700101004', '黄demo四', '低保对象', [['minimum_living', '2023-01-01 00:00:00', open, '民政']]),
  person('near_minimum_living', '45020619820220005', '莫demo五', '低保边缘家庭成员', [['near_minimum_living', '2024-03-01 00:00:00', open, '民政']]),
  person('returned_to_poverty', '45020619751111006', '梁demo六', '返贫致贫人口', [['returned_to_poverty', '2024-05-01 00:00:00', open, '乡村振兴']]),
  person('unstable_out_of_poverty', '45020619660606007', '陆demo七', '脱贫不稳定户', [['unstable_out_of_poverty', '2022-01-01 00:00:00', open, '乡村振兴']]),
  person('marginal_at_risk', '45020619900808008', '潘demo八', '边缘易致贫户', [['marginal_at_risk', '2023-07-01 00:00:00', open, '乡村振兴']]),
  person('sudden_hardship', '45020619881212009', '卢demo九', '突发严重困难户', [['sudden_hardship', '2025-02-01 00:00:00', open, '乡村振兴']]),
  person('out_of_poverty', '45020619590101010', '廖demo十', '脱贫人口', [['out_of_poverty', '2016-12-31 00:00:00', open, '乡村振兴']]),
  person('illness_poverty', '45020619790303011', '吴demo十一', '因病致贫重病患者', [['illness_poverty', '2025-09-01 00:00:00', open, '卫健']]),
  person('multiple', '45020619500505012', '欧阳demo', '特困人员 + 脱贫人口 + 低保对象: 就高不就低 picks 特困人员', [
    ['out_of_poverty', '2016-12-31 00:00:00', open, '乡村振兴'],
    ['minimum_living', '2020-01-01 00:00:00', open, '民政'],
    ['extreme_poverty', '2024-01-01 00:00:00', open, '民政']
  ]),
  person('ended', '45020619620707013', '罗demo十三', '低保对象, ended 2025-12-31 (date-only end covers that whole day)', [['minimum_living', '2020-01-01 00:00:00', '2025-12-31 23:59:59', '民政']]),
  person('future', '45020619930909014', '冯demo十四', '监测对象 starting 2030-01-01: not yet valid', [['marginal_at_risk', '2030-01-01 00:00:00', open, '乡村振兴']]),
  person('ended_then_new', '45020619711010015', '谭demo十五', '脱贫不稳定户 ended, then 突发严重困难户 from 2026-03-01', [
    ['unstable_out_of_poverty', '2021-01-01 00:00:00', '2025-06-30 23:59:59', '乡村振兴'],
    ['sudden_hardship', '2026-03-01 00:00:00', open, '乡村振兴']
  ]),
  person('legacy15', '45020619580312016', '何demo十六', '特困人员 (also reachable by the 15-digit form 450206580312016)', [['extreme_poverty', '2018-01-01 00:00:00', open, '民政']])
]

/** The demo person standing for a scenario (README and tests use these). */
export function demoCertno (key: string): string {
  const p = DEMO_PEOPLE.find((d) => d.key === key)
  if (p === undefined) throw new Error(`no demo person ${key}`)
  return p.record.certno
}

export function demoRecords (): LoadRecord[] {
  return DEMO_PEOPLE.map((p) => p.record)
}
