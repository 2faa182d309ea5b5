// Region scenarios: a real server per test on one region's profile (or a hospital's local settings
// over it), patients of that region's categories, and helpers that read every sentence the agent
// said so a test can check that a region never hears another region's rule.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, certno, person, tempDir, type Built } from './helper.ts'
import { loadProfile, type LocalSettings } from '../profile/profile.ts'
import { line, yuan } from './charge-fixture.ts'
import type { LoadRecord } from '../agent/store/list.ts'

export { line, yuan }

interface Teardown { teardown: (fn: () => unknown) => void }

/** A synthetic ID number for the n-th patient of a scenario. */
export function patient (n: number): string {
  return certno(`14010219700101${String(n).padStart(3, '0')}`)
}

/** One person with identities [category, begntime, endtime]. */
export function listed (n: number, ...identities: Array<[string, string?, (string | null)?]>): LoadRecord {
  return person(patient(n), `患者${n}`, identities.map(([c, b, e]) => [c, b ?? '2020-01-01 00:00:00', e ?? null]))
}

/** Writes a hospital's local settings file over a shipped profile; returns its path. */
export function localFile (t: Teardown, extendsId: string, local: LocalSettings, name = '测试县人民医院'): string {
  const file = join(tempDir(t, 'fangpin-local-'), 'local.json')
  writeFileSync(file, JSON.stringify({ extends: extendsId, name, local }))
  return file
}

/** A server on a shipped profile, or on a hospital's local settings over it. */
export async function region (t: Teardown, id: string, records: LoadRecord[], local?: LocalSettings): Promise<Built> {
  const profile = loadProfile(local === undefined ? id : localFile(t, id, local))
  return await build(t, { records, profile })
}

export async function admitAs (b: Built, mdtrtId: string, n: number, over: Record<string, unknown> = {}): Promise<any> {
  const res = await b.post('/v1/admissions', {
    mdtrt_id: mdtrtId,
    certno: patient(n),
    psn_name: `患者${n}`,
    begntime: '2026-11-20 09:30:00',
    med_type: '21',
    adm_dept_codg: 'A03',
    adm_dept_name: '内科',
    ...over
  })
  if (res.status !== 201) throw new Error(`admission failed: ${res.status} ${res.text}`)
  return res.json
}

/** Charges a stay to `totalFen` with `outFen` of it out of catalog, in two lines. */
export async function spend (b: Built, mdtrtId: string, totalFen: number, outFen: number): Promise<any> {
  const lines = [line(`${mdtrtId}-in`, totalFen - outFen, '01')]
  if (outFen > 0) lines.push(line(`${mdtrtId}-out`, outFen, '03'))
  const res = await b.post(`/v1/admissions/${mdtrtId}/charges`, { feedetail: lines })
  if (res.status !== 200) throw new Error(`charges failed: ${res.status} ${res.text}`)
  return res.json
}

/** Every sentence the agent has kept about stays: stored answers, alert messages, discharge answers. */
export function everythingSaid (b: Built): string {
  const alerts = b.store.db.prepare('SELECT message, detail FROM alert').all() as Array<{ message: string, detail: string | null }>
  const answers = b.store.db.prepare('SELECT response FROM admission').all() as Array<{ response: string }>
  const finals = b.store.db.prepare('SELECT final FROM stay WHERE final IS NOT NULL').all() as Array<{ final: string }>
  return [...alerts.map((a) => a.message + (a.detail ?? '')), ...answers.map((a) => a.response), ...finals.map((f) => f.final)].join('\n')
}
