// The profile format and its loader: the schema that guards every profile, the five shipped ones,
// category names as county exports write them, and the errors an author gets for a bad file.
// What each region's rules do is in test/region-*.test.ts; local settings in test/profile-local.test.ts.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { indexProfile, loadProfile, normaliseLabel, resolveCategory, shippedProfiles, shippedSpec, ProfileError, type ProfileSpec } from '../profile/profile.ts'

const ALL = shippedProfiles().map((id) => loadProfile(id))
const gx = loadProfile('guangxi-liuzhou')
const sx = loadProfile('shanxi')

// The eleven categories of DESIGN's table, which 000 and 001 both use.
const CANONICAL = [
  'extreme_poverty', 'orphan', 'unsupported_child', 'minimum_living', 'near_minimum_living', 'returned_to_poverty',
  'unstable_out_of_poverty', 'marginal_at_risk', 'sudden_hardship', 'out_of_poverty', 'illness_poverty'
]

function plain (id = 'guangxi-liuzhou'): ProfileSpec {
  return shippedSpec(id)
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

t.test('five profiles ship, each for its own region and citing only its own text', async (t) => {
  t.same(shippedProfiles(), ['guangxi-liuzhou', 'shanxi', 'zhejiang-quzhou', 'anhui-yeji', 'shandong-wenshang'])
  const expected: Record<string, [string, string]> = {
    'guangxi-liuzhou': ['450206', '000_c13c6dfe42a59df5.txt'],
    shanxi: ['140000', '001_1e1915f0a19a8352.txt'],
    'zhejiang-quzhou': ['330800', '002_0d2281d7bbc70ae8.txt'],
    'anhui-yeji': ['341504', '003_e224e886618c999f.txt'],
    'shandong-wenshang': ['370830', '004_5dd05a6463dc1b61.txt']
  }
  for (const p of ALL) {
    const [region, source] = expected[p.id]
    t.equal(p.region, region, `${p.id} region`)
    t.same(p.sources, [source], `${p.id} cites its own text only`)
    // A clause of another region's text in a rule's source would be a borrowed rule.
    const own = source.slice(0, 3)
    const text = JSON.stringify({ spending: p.spending, burden: p.burden, benefits: p.benefits })
    for (const m of text.matchAll(/"source":"(\d{3})_/g)) t.equal(m[1], own, `${p.id}: a rule cites ${m[1]}`)
  }
})

t.test('a profile loads by path as well as by id', async (t) => {
  const file = tempFile(t, plain())
  const p = loadProfile(file)
  t.equal(p.categories.length, 11)
  t.equal(p.localFile, file)
})

t.test('Guangxi and Shanxi define the eleven categories of the design table', async (t) => {
  for (const p of [gx, sx]) t.same(p.categories.map((c) => c.id).sort(), [...CANONICAL].sort(), p.id)
})

t.test('every alias, label and id resolves to its own category and to no other, in every profile', async (t) => {
  for (const p of ALL) {
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

t.test('the local codes of the design table resolve to their categories where the region has the category', async (t) => {
  const codes: Record<string, string> = {
    7131: 'extreme_poverty', 7041: 'orphan', 7141: 'unsupported_child', 7201: 'near_minimum_living', 7202: 'returned_to_poverty',
    7203: 'unstable_out_of_poverty', 7204: 'marginal_at_risk', 7205: 'sudden_hardship', 7110: 'illness_poverty'
  }
  for (const p of [gx, sx]) {
    for (const [code, id] of Object.entries(codes)) t.equal(resolveCategory(p, code)?.id, id, `${p.id}: ${code}`)
  }
  t.equal(resolveCategory(loadProfile('zhejiang-quzhou'), '7131')?.id, 'extreme_poverty')
  t.equal(resolveCategory(loadProfile('shandong-wenshang'), '7131')?.id, 'extreme_poverty')
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

t.test('generic names that do not say which kind of person are not aliases', async (t) => {
  for (const p of ALL) {
    for (const name of ['防止返贫监测对象', '监测对象', '监测户', '农村低收入人口', '困难群众', '边缘户']) {
      t.equal(resolveCategory(p, name), undefined, `${p.id}: ${name}`)
    }
  }
})

t.test('category priorities are unique in every profile, and say whether the order is the text\'s or the product\'s', async (t) => {
  for (const p of ALL) {
    const priorities = p.categories.map((c) => c.priority)
    t.equal(new Set(priorities).size, priorities.length, `${p.id}: no two categories share a priority`)
    t.equal(p.categories.slice().sort((a, b) => b.priority - a.priority)[0].id, 'extreme_poverty', `${p.id}: 特困 first`)
  }
  // 待遇就高不就低 is 001 四: Shanxi's rule; elsewhere the order is the product's and says so.
  t.equal(sx.priority_basis.source, 'policy')
  for (const p of ALL.filter((x) => x.id !== 'shanxi')) t.equal(p.priority_basis.source, 'product', p.id)
  t.match((gx.priority_basis as { $comment?: string }).$comment, /产品选择/)
})

t.test('no shipped profile excludes a 医疗类别 from 先诊疗后付费: no text names one', async (t) => {
  for (const p of ALL) t.same(p.treat_first_pay_later.excluded_med_types, [], p.id)
})

t.test('requires_local in each file lists exactly the local settings the loader finds missing', async (t) => {
  for (const id of shippedProfiles()) {
    const p = loadProfile(id)
    const listed = (shippedSpec(id) as ProfileSpec & { requires_local?: string[] }).requires_local ?? []
    t.same(p.missingLocal.map((m) => m.key).sort(), [...listed].sort(), id)
  }
})

t.test('the schema rejects an out-of-range share with a message naming the field', async (t) => {
  const bad = plain()
  bad.spending!.limit.out_of_catalog_share = 1.5
  t.match(loadError(tempFile(t, bad)), '/spending')
  t.match(loadError(tempFile(t, bad)), 'out_of_catalog_share must be <= 1')
})

t.test('the schema rejects a fractional amount in fen with a message naming the field', async (t) => {
  const bad = plain('shanxi')
  bad.burden.annual[0].threshold.amount_fen = 6000.5
  t.match(loadError(tempFile(t, bad)), '/burden/annual/0/threshold/amount_fen must be integer')
})

t.test('the schema rejects a comparison that is not ≥ or >', async (t) => {
  const bad: any = plain()
  bad.spending.limit.breach_when = '=>'
  t.match(loadError(tempFile(t, bad)), '/spending')
})

t.test('the schema rejects a misspelt key and the message names the key', async (t) => {
  const bad: any = plain()
  bad.spending.hospital_bears = bad.spending.hospital_bears_excess
  delete bad.spending.hospital_bears_excess
  const msg = loadError(tempFile(t, bad))
  t.match(msg, 'must NOT have additional properties (hospital_bears)')
  t.match(msg, "must have required property 'hospital_bears_excess'")
})

t.test('the schema rejects a category id that is not lower-case snake case', async (t) => {
  const bad = plain()
  bad.categories[0].id = 'ExtremePoverty'
  t.match(loadError(tempFile(t, bad)), '/categories/0/id must match pattern')
})

t.test('the schema rejects a non-integer priority', async (t) => {
  const bad = plain()
  bad.categories[1].priority = 95.5
  t.match(loadError(tempFile(t, bad)), '/categories/1/priority must be integer')
})

t.test('the schema rejects a 先诊疗后付费 flag that is neither a boolean nor "local"', async (t) => {
  const bad: any = plain()
  bad.categories[0].treat_first_pay_later = 'yes'
  t.match(loadError(tempFile(t, bad)), '/categories/0/treat_first_pay_later')
})

t.test('the schema rejects a malformed ICD-10 code in a serious-disease group', async (t) => {
  const bad = plain()
  bad.severe_diseases[0].codes = ['C00 - C97']
  t.match(loadError(tempFile(t, bad)), '/severe_diseases/0/codes/0 must match pattern')
})

t.test('the schema rejects a serious-disease group with neither codes nor procedures', async (t) => {
  const bad = plain()
  bad.severe_diseases[0].codes = []
  t.match(loadError(tempFile(t, bad)), '/severe_diseases/0')
})

t.test('a $comment is allowed where a number or a choice needs its source, and nowhere is any other extra key', async (t) => {
  const ok: any = plain()
  ok.$comment = 'x'
  ok.categories[0].$comment = 'x'
  ok.spending.$comment = 'x'
  ok.spending.limit.$comment = 'x'
  ok.burden.$comment = 'x'
  ok.treat_first_pay_later.$comment = 'x'
  ok.severe_diseases[0].$comment = 'x'
  t.equal(loadProfile(tempFile(t, ok)).id, 'guangxi-liuzhou')
  const bad: any = plain()
  bad.categories[0].note = 'x'
  t.match(loadError(tempFile(t, bad)), '/categories/0 must NOT have additional properties (note)')
})

t.test('every number in a shipped profile sits next to a $comment that gives its source', async (t) => {
  for (const id of shippedProfiles()) {
    const spec = shippedSpec(id) as any
    for (const part of ['spending', 'burden', 'benefits', 'treat_first_pay_later']) {
      if (spec[part] === null) continue
      t.ok(typeof spec[part].$comment === 'string' && spec[part].$comment.length > 10, `${id}.${part} has a $comment`)
    }
  }
})

t.test('a file that is not JSON is refused with its path', async (t) => {
  const file = tempFile(t, '{ "id": ')
  t.match(loadError(file), 'is not valid JSON')
})

t.test('an unknown profile id is refused and the shipped ones are named', async (t) => {
  t.throws(() => loadProfile('atlantis'), /unknown profile "atlantis".*guangxi-liuzhou, shanxi, zhejiang-quzhou, anhui-yeji, shandong-wenshang/)
})

t.test('an alias that names two categories is refused', async (t) => {
  const bad = plain()
  bad.categories[1].aliases.push('特困')
  t.throws(() => indexProfile(bad), /alias "特困" names both extreme_poverty and orphan/)
})

t.test('a category listed twice is refused rather than silently replaced', async (t) => {
  const bad = plain()
  bad.categories.push({ ...bad.categories[0], aliases: [], priority: 1 })
  t.throws(() => indexProfile(bad), /category extreme_poverty is listed twice/)
})

t.test('a burden or benefit rule that names a category the profile lacks is refused', async (t) => {
  const bad = plain()
  bad.burden.annual[0].categories = ['registered_poor']
  t.throws(() => indexProfile(bad), /names category "registered_poor"/)
})

t.test('a warning margin wider than the limit is refused', async (t) => {
  const bad = plain()
  bad.spending!.warning_margin = 0.2
  t.throws(() => indexProfile(bad), /warning_margin 20% is larger than the limit 10%/)
})

t.test('a serious-disease group listed twice or with a backwards range is refused at load', async (t) => {
  const twice = plain()
  twice.severe_diseases.push({ ...twice.severe_diseases[0] })
  t.throws(() => indexProfile(twice), /group malignant_tumour is listed twice/)
  const backwards = plain()
  backwards.severe_diseases[0].codes = ['C97-C00']
  t.throws(() => indexProfile(backwards), /range C97-C00 runs backwards/)
})
