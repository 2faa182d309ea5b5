// The shipped region profiles and the schema that guards them: the category names counties use,
// 多重身份就高不就低 order, which identities qualify for 先诊疗后付费 in each region, the numbers.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { indexProfile, loadProfile, normaliseLabel, resolveCategory, shippedProfiles, ProfileError, type LoadedProfile, type Profile } from '../profile/profile.ts'

const CANONICAL = [
  'extreme_poverty', 'orphan', 'unsupported_child', 'minimum_living', 'near_minimum_living', 'returned_to_poverty',
  'unstable_out_of_poverty', 'marginal_at_risk', 'sudden_hardship', 'out_of_poverty', 'illness_poverty'
]

const gx = loadProfile('guangxi-liuzhou')
const sx = loadProfile('shanxi')

// The bare JSON of a shipped profile, for variations written to a temp file.
function plain (p: LoadedProfile): Profile {
  const { categoryIndex: _i, categoryById: _b, ...rest } = p
  return JSON.parse(JSON.stringify(rest)) as Profile
}

function tempFile (t: { teardown: (fn: () => void) => void }, data: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'fangpin-profile-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'profile.json')
  writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data))
  return file
}

function loadError (file: string): string {
  try {
    loadProfile(file)
  } catch (err) {
    if (err instanceof ProfileError) return err.message
    throw err
  }
  throw new Error('the profile loaded')
}

t.test('both shipped profiles load and validate against the schema', async (t) => {
  t.same(shippedProfiles(), ['guangxi-liuzhou', 'shanxi'])
  for (const p of [gx, sx]) {
    t.equal(p.id, shippedProfiles()[p === gx ? 0 : 1])
    t.ok(p.sources.length > 0, `${p.id} cites its sources`)
    t.ok(p.severe_diseases.length > 0, `${p.id} has serious-disease groups`)
  }
  t.equal(gx.region, '450206', '柳江区')
  t.equal(sx.region, '140000', '山西省')
  t.same(gx.sources, ['000_c13c6dfe42a59df5.txt'])
  t.ok(sx.sources.includes('001_1e1915f0a19a8352.txt'))
})

t.test('a profile loads by path as well as by id', async (t) => {
  const file = tempFile(t, plain(gx))
  t.equal(loadProfile(file).categories.length, 11)
})

t.test('each shipped profile defines exactly the eleven canonical categories', async (t) => {
  for (const p of [gx, sx]) t.same(p.categories.map((c) => c.id).sort(), [...CANONICAL].sort(), p.id)
})

t.test('every alias, label and id resolves to its own category and to no other', async (t) => {
  for (const p of [gx, sx]) {
    const owners = new Map<string, Set<string>>()
    for (const c of p.categories) {
      for (const name of [c.id, c.label, ...c.aliases]) {
        t.equal(resolveCategory(p, name)?.id, c.id, `${p.id}: ${name} → ${c.id}`)
        const key = normaliseLabel(name)
        const set = owners.get(key) ?? new Set<string>()
        set.add(c.id)
        owners.set(key, set)
      }
    }
    for (const [name, ids] of owners) t.equal(ids.size, 1, `${p.id}: ${name} names one category`)
  }
})

t.test('the local codes of the design table resolve to their categories in both regions', async (t) => {
  const codes: Record<string, string> = {
    7131: 'extreme_poverty', 7041: 'orphan', 7141: 'unsupported_child', 7201: 'near_minimum_living', 7202: 'returned_to_poverty',
    7203: 'unstable_out_of_poverty', 7204: 'marginal_at_risk', 7205: 'sudden_hardship', 7110: 'illness_poverty'
  }
  for (const p of [gx, sx]) {
    for (const [code, id] of Object.entries(codes)) t.equal(resolveCategory(p, code)?.id, id, `${p.id}: ${code}`)
  }
})

t.test('the Chinese names county exports use resolve, whatever their width and spacing', async (t) => {
  const names: Record<string, string> = {
    特困: 'extreme_poverty',
    特困供养人员: 'extreme_poverty',
    农村特困: 'extreme_poverty',
    城市特困: 'extreme_poverty',
    低保: 'minimum_living',
    农村低保: 'minimum_living',
    城市低保: 'minimum_living',
    低保户: 'minimum_living',
    低保边缘: 'near_minimum_living',
    '低保 边缘户': 'near_minimum_living',
    脱贫户: 'out_of_poverty',
    已脱贫人口: 'out_of_poverty',
    '防止返贫监测对象-脱贫不稳定户': 'unstable_out_of_poverty',
    '防止返贫监测对象－脱贫不稳定户': 'unstable_out_of_poverty',
    '脱贫不稳定户(监测对象)': 'unstable_out_of_poverty',
    脱贫不稳定人口: 'unstable_out_of_poverty',
    边缘易致贫人口: 'marginal_at_risk',
    突发严重困难人口: 'sudden_hardship',
    返贫致贫人口: 'returned_to_poverty',
    因病致贫: 'illness_poverty',
    重病患者: 'illness_poverty',
    '　孤儿　': 'orphan'
  }
  for (const p of [gx, sx]) {
    for (const [name, id] of Object.entries(names)) t.equal(resolveCategory(p, name)?.id, id, `${p.id}: ${name}`)
  }
})

t.test('generic names that do not say which kind of monitored person are not aliases', async (t) => {
  for (const p of [gx, sx]) {
    for (const name of ['防止返贫监测对象', '监测对象', '监测户', '农村低收入人口', '困难群众', '边缘户']) {
      t.equal(resolveCategory(p, name), undefined, `${p.id}: ${name}`)
    }
  }
})

t.test('category priorities are unique and follow 多重身份就高不就低 from 特困 down to 脱贫人口', async (t) => {
  const order = [
    'extreme_poverty', 'orphan', 'unsupported_child', 'minimum_living', 'returned_to_poverty', 'near_minimum_living',
    'unstable_out_of_poverty', 'sudden_hardship', 'marginal_at_risk', 'illness_poverty', 'out_of_poverty'
  ]
  for (const p of [gx, sx]) {
    const priorities = p.categories.map((c) => c.priority)
    t.equal(new Set(priorities).size, priorities.length, `${p.id}: no two categories share a priority`)
    const sorted = [...p.categories].sort((a, b) => b.priority - a.priority).map((c) => c.id)
    t.same(sorted, order, p.id)
  }
})

t.test('in Guangxi every category qualifies for 先诊疗后付费', async (t) => {
  for (const c of gx.categories) t.equal(c.treat_first_pay_later, true, c.id)
  t.equal(gx.categoryById.get('near_minimum_living')?.treat_first_pay_later, true)
})

t.test('in Shanxi 低保边缘, 孤儿, 事实无人抚养儿童 and 因病致贫重病患者 do not qualify on their own', async (t) => {
  const yes = ['extreme_poverty', 'minimum_living', 'returned_to_poverty', 'unstable_out_of_poverty', 'marginal_at_risk', 'sudden_hardship', 'out_of_poverty']
  const no = ['near_minimum_living', 'orphan', 'unsupported_child', 'illness_poverty']
  for (const id of yes) t.equal(sx.categoryById.get(id)?.treat_first_pay_later, true, `${id} qualifies`)
  for (const id of no) t.equal(sx.categoryById.get(id)?.treat_first_pay_later, false, `${id} does not`)
})

t.test('neither region excludes a 医疗类别 from 先诊疗后付费', async (t) => {
  t.same(gx.treat_first_pay_later.excluded_med_types, [])
  t.same(sx.treat_first_pay_later.excluded_med_types, [])
})

t.test('the spending and burden numbers are the ones the policies set', async (t) => {
  for (const p of [gx, sx]) {
    t.match(p.spending, { in_catalog_min: 0.9, warning_out_of_catalog_share: 0.08, min_alert_total_fen: 100000, overlmt_counts_as_out_of_catalog: false, single_disease_med_types: ['26'] }, p.id)
  }
  t.match(gx.burden, { annual_monitored_fen: 500000, annual_other_fen: 1000000, stay_estimate_alert_fen: 500000 }, 'Guangxi 000 三, 四(二)2, 四(三)1')
  t.match(sx.burden, { annual_monitored_fen: 600000, annual_other_fen: 2000000, stay_estimate_alert_fen: 500000 }, 'Shanxi 001 三')
})

t.test('Shanxi, which sets no serious-disease list, uses the Guangxi 附件1 groups unchanged', async (t) => {
  const strip = (p: Profile) => p.severe_diseases.map(({ $comment: _c, ...g }: any) => g)
  t.same(strip(sx), strip(gx))
})

t.test('the schema rejects an out-of-range share with a message naming the field', async (t) => {
  const bad = plain(gx)
  bad.spending.in_catalog_min = 1.5
  t.match(loadError(tempFile(t, bad)), '/spending/in_catalog_min must be <= 1')
})

t.test('the schema rejects a fractional amount in fen with a message naming the field', async (t) => {
  const bad = plain(sx)
  bad.burden.annual_monitored_fen = 6000.5
  t.match(loadError(tempFile(t, bad)), '/burden/annual_monitored_fen must be integer')
})

t.test('the schema rejects a misspelt key and the message names the key', async (t) => {
  const bad: any = plain(gx)
  bad.spending.in_catalog_minimum = bad.spending.in_catalog_min
  delete bad.spending.in_catalog_min
  const msg = loadError(tempFile(t, bad))
  t.match(msg, '/spending must NOT have additional properties (in_catalog_minimum)')
  t.match(msg, "/spending must have required property 'in_catalog_min'")
})

t.test('the schema rejects a category id that is not lower-case snake case', async (t) => {
  const bad = plain(gx)
  bad.categories[0].id = 'ExtremePoverty'
  t.match(loadError(tempFile(t, bad)), '/categories/0/id must match pattern')
})

t.test('the schema rejects a non-integer priority', async (t) => {
  const bad = plain(gx)
  bad.categories[1].priority = 95.5
  t.match(loadError(tempFile(t, bad)), '/categories/1/priority must be integer')
})

t.test('the schema rejects a malformed ICD-10 code in a serious-disease group', async (t) => {
  const bad = plain(gx)
  bad.severe_diseases[0].codes = ['C00 - C97']
  t.match(loadError(tempFile(t, bad)), '/severe_diseases/0/codes/0 must match pattern')
})

t.test('the schema rejects a serious-disease group with neither codes nor procedures', async (t) => {
  const bad = plain(gx)
  bad.severe_diseases[0].codes = []
  t.match(loadError(tempFile(t, bad)), '/severe_diseases/0')
})

t.test('a $comment is allowed where a number or a choice needs its source, and nowhere is any other extra key', async (t) => {
  const ok: any = plain(gx)
  ok.$comment = 'x'
  ok.categories[0].$comment = 'x'
  ok.spending.$comment = 'x'
  ok.burden.$comment = 'x'
  ok.treat_first_pay_later.$comment = 'x'
  ok.severe_diseases[0].$comment = 'x'
  t.equal(loadProfile(tempFile(t, ok)).id, 'guangxi-liuzhou')
  const bad: any = plain(gx)
  bad.categories[0].note = 'x'
  t.match(loadError(tempFile(t, bad)), '/categories/0 must NOT have additional properties (note)')
})

t.test('a file that is not JSON is refused with its path', async (t) => {
  const file = tempFile(t, '{ "id": ')
  t.match(loadError(file), 'is not valid JSON')
})

t.test('an unknown profile id is refused and the shipped ones are named', async (t) => {
  t.throws(() => loadProfile('atlantis'), /unknown profile "atlantis".*guangxi-liuzhou, shanxi/)
})

t.test('an alias that names two categories is refused', async (t) => {
  const bad = plain(gx)
  bad.categories[1].aliases.push('特困')
  t.throws(() => indexProfile(bad), /alias "特困" names both extreme_poverty and orphan/)
})

t.test('a category listed twice is refused rather than silently replaced', async (t) => {
  const bad = plain(gx)
  bad.categories.push({ ...bad.categories[0], aliases: [], priority: 1 })
  t.throws(() => indexProfile(bad), /category extreme_poverty is listed twice/)
})

t.test('a serious-disease group listed twice or with a backwards range is refused at load', async (t) => {
  const twice = plain(gx)
  twice.severe_diseases.push({ ...twice.severe_diseases[0] })
  t.throws(() => indexProfile(twice), /group malignant_tumour is listed twice/)
  const backwards = plain(gx)
  backwards.severe_diseases[0].codes = ['C97-C00']
  t.throws(() => indexProfile(backwards), /range C97-C00 runs backwards/)
})
