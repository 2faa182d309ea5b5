// Serious-disease flags (000 附件1, Guangxi's only: no other region's text has such a list): for each
// group a real code of the 医保版 ICD-10 2.0 table that must match and a neighbour that must not, the
// name, co-diagnosis and co-procedure rules, the code forms HIS systems send, and a check that every
// code the profile lists exists in the table.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { indexProfile, loadProfile, shippedProfiles, shippedSpec } from '../profile/profile.ts'
import { matchSevereDiseases, normaliseCode, type DiagnosisInput, type ProcedureInput } from '../profile/severe-disease.ts'

const gx = loadProfile('guangxi-liuzhou')

// The reference table sits next to the repository in the workspace (shared/data); a clean clone
// elsewhere can point FANGPIN_ICD10_TABLE at it, or the table checks are skipped.
const here = dirname(fileURLToPath(import.meta.url))
const TABLE = process.env.FANGPIN_ICD10_TABLE ?? resolve(here, '..', '..', 'shared', 'data', 'icd10-chs-2.0-diagnoses.txt')
const table: Array<{ code: string, name: string }> | null = existsSync(TABLE)
  ? readFileSync(TABLE, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => {
    const i = l.indexOf(' ')
    return { code: l.slice(0, i), name: l.slice(i + 1).trim() }
  })
  : null
const noTable = table === null ? `the ICD-10 table is not at ${TABLE}` : false

function groups (p: Parameters<typeof matchSevereDiseases>[0], diagnoses: DiagnosisInput[], procedures: ProcedureInput[] = []): string[] {
  return matchSevereDiseases(p, diagnoses, procedures).map((m) => m.group)
}

const d = (diag_code: string, diag_name?: string): DiagnosisInput => ({ diag_code, diag_name })

// Per group: admissions that must put the patient in the group and neighbours that must not.
// Codes and names are rows of the table unless the comment says the code is a local one.
interface Case { dx?: DiagnosisInput[], px?: string[], why: string, /** a local code or a doctor's wording, not a table row */ madeUp?: true }
const cases: Record<string, { yes: Case[], no: Case[] }> = {
  malignant_tumour: {
    yes: [
      { dx: [d('C34.900x001', '肺恶性肿瘤')], why: 'a lung cancer extension code' },
      { dx: [d('C00.000', '外上唇恶性肿瘤')], why: 'the first category of the range' },
      { dx: [d('C97.x00', '独立（原发）多个部位的恶性肿瘤')], why: 'the last category of the range' }
    ],
    no: [{ dx: [d('D00.000', '唇、口腔和咽原位癌')], why: 'carcinoma in situ just past the range' }]
  },
  malignant_tumour_therapy: {
    yes: [
      { dx: [d('Z51.103', '恶性肿瘤维持性化学治疗')], why: 'a chemotherapy stay coded only Z51.1 whose code names a malignant tumour' },
      { dx: [d('Z51.003', '恶性肿瘤放射治疗')], why: 'a radiotherapy stay coded only Z51.0 whose code names a malignant tumour' },
      { dx: [d('Z51.100', '为肿瘤化学治疗疗程（肺癌）')], why: 'the broad chemotherapy code with the doctor naming the cancer', madeUp: true }
    ],
    no: [
      { dx: [d('Z51.000', '放射治疗疗程')], why: 'radiotherapy that does not say the tumour is malignant' },
      { dx: [d('Z51.104', '姑息性化疗')], why: 'palliative chemotherapy that does not say what for' }
    ]
  },
  renal_dialysis: {
    yes: [
      { dx: [d('N18.500', '慢性肾脏病5期'), d('Z49.101', '血液透析')], why: 'stage 5 CKD with haemodialysis' },
      { dx: [d('Z49.100', '体外透析')], why: 'a dialysis stay on its own' },
      { dx: [d('Z99.200', '依赖肾透析')], why: 'dependence on dialysis on its own' },
      { dx: [d('N18.500', '慢性肾脏病5期')], px: ['39.95'], why: 'stage 5 CKD with haemodialysis recorded as a procedure (39.95)' },
      { dx: [d('N18.500', '慢性肾脏病5期')], px: ['54.9800'], why: 'stage 5 CKD with peritoneal dialysis recorded as a procedure (54.98)' }
    ],
    no: [
      { dx: [d('N18.500', '慢性肾脏病5期')], px: ['99.04'], why: 'stage 5 CKD without dialysis (a transfusion is not one)' },
      { dx: [d('N18.500', '慢性肾脏病5期'), d('Z99.100', '依赖呼吸机')], why: 'stage 5 CKD with another dependence' }
    ]
  },
  organ_transplant: {
    yes: [
      { dx: [d('Z94.000', '肾移植状态')], why: 'a kidney transplant' },
      { dx: [d('T86.100x002', '肾移植排斥')], why: 'rejection of a kidney transplant' },
      { dx: [d('T86.000x003', '急性移植物抗宿主病')], why: 'graft-versus-host disease after an allogeneic stem-cell transplant' }
    ],
    no: [
      { dx: [d('Z94.001', '自体肾移植状态')], why: 'an autologous kidney needs no anti-rejection drugs' },
      { dx: [d('Z94.800x011', '自体造血干细胞移植状态')], why: 'an autologous stem-cell transplant' },
      { dx: [d('Z94.500', '皮肤移植状态')], why: 'a skin graft is not an organ' },
      { dx: [d('T86.801', '移植角膜排斥反应')], why: 'a corneal graft is not an organ' }
    ]
  },
  thalassaemia: {
    yes: [
      { dx: [d('D56.101', '中间型地中海贫血')], why: 'thalassaemia intermedia' },
      { dx: [d('D56.100x003', '重型β型地中海贫血')], why: 'β-thalassaemia major' },
      { dx: [d('D56.900', '重型β地中海贫血')], why: 'an unspecified code whose name says major', madeUp: true }
    ],
    no: [
      { dx: [d('D56.300', '地中海贫血特性')], why: 'thalassaemia trait' },
      { dx: [d('D56.301', '（β型）地中海贫血轻型')], why: 'thalassaemia minor' },
      { dx: [d('D56.000', 'α型地中海贫血')], why: 'α-thalassaemia of unstated severity, mostly carriers in Guangxi' },
      { dx: [d('D50.900', '缺铁性贫血')], why: 'iron-deficiency anaemia' }
    ]
  },
  haemophilia: {
    yes: [
      { dx: [d('D66.x01', '血友病A型')], why: 'haemophilia A' },
      { dx: [d('D67.x01', '血友病B型')], why: 'haemophilia B' },
      { dx: [d('D68.101', '血友病C型')], why: 'haemophilia C (factor XI)' }
    ],
    no: [
      { dx: [d('D68.000x001', '血管性血友病')], why: 'von Willebrand disease, despite its Chinese name' },
      { dx: [d('D68.400', '后天性凝血因子缺乏')], why: 'an acquired coagulation factor deficiency' }
    ]
  },
  mdr_tuberculosis: {
    yes: [
      { dx: [d('A15.000x016', '继发性肺结核（初治,耐多药）涂阳培阳')], why: 'the table\'s MDR extension code' },
      { dx: [d('A15.000x016')], why: 'the MDR extension code without a name' },
      { dx: [d('A15.000x014', '继发性肺结核（初治,广泛耐药）涂阳培阳')], why: 'extensively drug-resistant TB' },
      { dx: [d('A16.200x099', '肺结核（耐多药）')], why: 'a local extension code (not in the table) whose name says 耐多药', madeUp: true },
      { dx: [d('A15.000x901', '继发性肺结核（利福平耐药）')], why: 'a local RR-TB code named 利福平耐药', madeUp: true },
      { dx: [d('A16.200x902', '肺结核（耐利福平）')], why: 'a local code named 耐利福平', madeUp: true }
    ],
    no: [
      { dx: [d('A15.000', '肺结核，经显微镜下痰检查证实，伴有或不伴有痰培养')], why: 'plain pulmonary TB' },
      { dx: [d('A15.000x012', '继发性肺结核（初治,多耐药）涂阳培阳')], why: 'poly-resistant TB is not MDR' },
      { dx: [d('A16.200x099')], why: 'a local extension code without a name', madeUp: true }
    ]
  },
  aids_opportunistic_infection: {
    yes: [
      { dx: [d('B20.600', '人类免疫缺陷病毒[HIV]病造成的卡氏肺囊虫肺炎[肺孢子虫病]')], why: 'HIV with pneumocystis pneumonia' },
      { dx: [d('B22.001+F02.4*', '人类免疫缺陷病毒病性痴呆')], why: 'a dagger/asterisk pair matched on its first code' }
    ],
    no: [
      { dx: [d('Z21.x00', '无症状的人类免疫缺陷病毒[HIV]感染状态')], why: 'asymptomatic HIV infection' },
      { dx: [d('B25.900', '巨细胞病毒病')], why: 'CMV disease without HIV' }
    ]
  },
  severe_mental_illness: {
    yes: [
      { dx: [d('F20.000', '偏执型精神分裂症')], why: 'schizophrenia' },
      { dx: [d('F31.900', '双相情感障碍')], why: 'bipolar disorder' }
    ],
    no: [
      { dx: [d('F21.x00', '分裂型障碍')], why: 'schizotypal disorder' },
      { dx: [d('F32.900', '抑郁发作')], why: 'a depressive episode' }
    ]
  },
  epileptic_mental_disorder: {
    yes: [
      { dx: [d('F06.801', '癫痫性精神病')], why: 'epileptic psychosis' },
      { dx: [d('F06.801')], why: 'epileptic psychosis without a name' }
    ],
    no: [
      { dx: [d('F06.300', '器质性心境［情感］障碍')], why: 'an organic mood disorder not due to epilepsy' },
      { dx: [d('G40.900', '癫痫')], why: 'epilepsy itself' },
      { dx: [d('F07.901', '癫痫性人格改变')], why: 'an epileptic personality change is not psychosis' }
    ]
  },
  intellectual_disability_mental_disorder: {
    yes: [
      { dx: [d('F70.100', '轻度精神发育迟缓，需要加以关注或治疗的显著行为缺陷')], why: 'intellectual disability with significant behavioural impairment' },
      { dx: [d('F79.900', '精神发育迟滞伴发精神障碍')], why: 'a code whose name says 伴发精神障碍', madeUp: true }
    ],
    no: [
      { dx: [d('F70.000', '轻度精神发育迟缓，无或轻微行为缺陷的')], why: 'intellectual disability alone' },
      { dx: [d('F79.900', '精神发育迟缓，未提及行为缺陷')], why: 'the table\'s own name of F79.900' }
    ]
  },
  acute_myocardial_infarction: {
    yes: [
      { dx: [d('I21.000', '前壁急性透壁性心肌梗死')], why: 'an acute infarction' },
      { dx: [d('I22.000', '前壁的随后性心肌梗死')], why: 'a subsequent infarction' }
    ],
    no: [
      { dx: [d('I25.200', '陈旧性心肌梗死')], why: 'an old infarction' },
      { dx: [d('I20.000', '不稳定型心绞痛')], why: 'unstable angina' }
    ]
  },
  acute_cerebral_infarction: {
    yes: [{ dx: [d('I63.900', '脑梗死')], why: 'cerebral infarction' }],
    no: [{ dx: [d('I69.300x002', '陈旧性脑梗死')], why: 'an old cerebral infarction' }]
  },
  pneumoconiosis: {
    yes: [
      { dx: [d('J62.803', '矽肺')], why: 'silicosis' },
      { dx: [d('J60.x00', '煤炭工肺尘埃沉着病')], why: 'the first category of the range' },
      { dx: [d('J65.x00', '与结核有关的肺尘埃沉着病')], why: 'the last category of the range' }
    ],
    no: [{ dx: [d('J66.000', '棉屑沉着病')], why: 'byssinosis, an organic dust disease' }]
  },
  hypospadias: {
    yes: [{ dx: [d('Q54.100', '阴茎部尿道下裂')], why: 'penile hypospadias' }],
    no: [
      { dx: [d('Q54.400', '先天性痛性阴茎勃起')], why: 'congenital chordee without hypospadias' },
      { dx: [d('Q53.900', '睾丸未降')], why: 'an undescended testicle' }
    ]
  },
  human_avian_influenza: {
    yes: [
      { dx: [d('J09.x01', '人感染H5N1禽流感')], why: 'H5N1 avian influenza' },
      { dx: [d('J09.x02', '人感染H7N9禽流感')], why: 'H7N9 avian influenza' },
      { dx: [d('J09.x02')], why: 'the H7N9 code without a name' },
      { dx: [d('J09.x00x901', '人感染H5N6禽流感')], why: 'a local code under J09 whose name says 禽流感', madeUp: true }
    ],
    no: [
      { dx: [d('J10.101', '甲型H1N1流行性感冒')], why: 'seasonal influenza A(H1N1)' },
      { dx: [d('J09.x00', '被标明的人畜共患或大流行性流感病毒引起的流感')], why: 'pandemic (non-avian) influenza under J09' },
      { dx: [d('J09.x04+G05.1*', '已确认的人畜共病或大流行性流感病毒性脑炎')], why: 'pandemic influenza encephalitis' }
    ]
  },
  stroke: {
    yes: [
      { dx: [d('I61.900', '脑内出血')], why: 'intracerebral haemorrhage' },
      { dx: [d('I64.x00', '脑卒中')], why: 'stroke not specified' }
    ],
    no: [
      { dx: [d('I65.200', '颈动脉闭塞和狭窄')], why: 'carotid stenosis without infarction' },
      { dx: [d('I69.300x002', '陈旧性脑梗死')], why: 'sequelae of stroke' }
    ]
  },
  copd: {
    yes: [
      { dx: [d('J44.100', '慢性阻塞性肺病伴有急性加重')], why: 'an exacerbation of COPD' },
      { dx: [d('J43.900', '肺气肿')], why: 'emphysema' }
    ],
    no: [
      { dx: [d('J43.901', '肺大疱')], why: 'a lung bulla alone' },
      { dx: [d('J45.900', '哮喘')], why: 'asthma' }
    ]
  },
  heart_surgery: {
    yes: [
      { px: ['36.1000x001'], why: 'a coronary bypass (36.1x)' },
      { px: ['36.11'], why: 'a one-vessel bypass written with four characters' },
      { px: ['35.5200x001'], why: 'a percutaneous ASD closure' },
      { px: ['37.3401'], why: 'a catheter ablation' }
    ],
    no: [
      { px: ['37.2100'], why: 'a diagnostic cardiac catheterisation' },
      { px: ['37.7800'], why: 'a temporary pacemaker' },
      { px: ['37.0x00x002'], why: 'a pericardiocentesis' },
      { dx: [d('I21.000', '前壁急性透壁性心肌梗死')], why: 'a heart diagnosis without an operation' }
    ]
  },
  intracranial_surgery: {
    yes: [
      { px: ['01.2400x005'], why: 'an exploratory craniotomy' },
      { px: ['01.0900x007'], why: 'a stereotactic drainage of an intracranial haematoma' },
      { px: ['04.4204'], why: 'a microvascular decompression of the facial nerve' }
    ],
    no: [
      { px: ['01.6x00'], why: 'excision of a lesion of the skull bone' },
      { px: ['02.0600x003'], why: 'a cranioplasty' },
      { px: ['02.9401'], why: 'skull tongs' },
      { px: ['04.4201'], why: 'an optic nerve decompression' }
    ]
  }
}

t.test('every serious-disease group of the Guangxi profile has cases in this file', async (t) => {
  t.same(gx.severe_diseases.map((g) => g.id).sort(), Object.keys(cases).sort())
})

t.test('only Guangxi has a serious-disease list: the other four texts have none', async (t) => {
  for (const id of shippedProfiles().filter((x) => x !== 'guangxi-liuzhou')) {
    const p = loadProfile(id)
    t.same(p.severe_diseases, [], id)
    t.same(matchSevereDiseases(p, [d('C34.900x001', '肺恶性肿瘤'), d('Z49.101', '血液透析')], [{ oprn_oprt_code: '36.1000' }]), [], `${id} flags nothing`)
  }
})

for (const [group, { yes, no }] of Object.entries(cases)) {
  t.test(`${group}: the codes that must match do, and their neighbours do not`, async (t) => {
    for (const p of [gx]) {
      for (const c of yes) {
        t.ok(groups(p, c.dx ?? [], (c.px ?? []).map((code) => ({ oprn_oprt_code: code }))).includes(group), `${p.id}: ${c.why} matches`)
      }
      for (const c of no) {
        t.notOk(groups(p, c.dx ?? [], (c.px ?? []).map((code) => ({ oprn_oprt_code: code }))).includes(group), `${p.id}: ${c.why} does not match`)
      }
    }
  })
}

t.test('stage 5 CKD with haemodialysis reports both codes under dialysis', async (t) => {
  const m = matchSevereDiseases(gx, [d('N18.500', '慢性肾脏病5期'), d('J18.900', '肺炎'), d('Z49.101', '血液透析')])
  t.same(m, [{ group: 'renal_dialysis', label: '慢性肾功能不全的肾透析', codes: ['N18.500', 'Z49.101'] }])
})

t.test('a CKD stage outside the group is not reported even when the patient is on dialysis', async (t) => {
  const m = matchSevereDiseases(gx, [d('N18.400', '慢性肾脏病4期'), d('Z49.101', '血液透析')])
  t.same(m.map((x) => x.codes), [['Z49.101']])
})

t.test('case, dot and extension variants of one code all match the tumour range', async (t) => {
  for (const code of ['C34.9', 'C34.900', 'C34.900x001', 'C34.900X001', 'c34.900x001', 'C34900X001', ' C34.900x001 ', 'C34']) {
    t.same(groups(gx, [d(code)]), ['malignant_tumour'], JSON.stringify(code))
  }
})

t.test('an explicit extension code matches whichever case the HIS writes its x in', async (t) => {
  for (const code of ['A15.000x016', 'A15.000X016', 'a15.000x016', 'A15000X016']) {
    t.same(groups(gx, [d(code)]), ['mdr_tuberculosis'], code)
  }
})

t.test('a dagger/asterisk pair matches on its first code only', async (t) => {
  t.same(groups(gx, [d('A01.000x005+J17.0*', '伤寒并发肺炎')]), [])
  // made-up pair: the asterisk part names a stroke code, the aetiology is epilepsy
  t.same(groups(gx, [d('G40.900+I63.9*')]), [])
  t.same(groups(gx, [d('N18.500x001+D63.8*', '慢性肾脏病5期相关性贫血'), d('Z49.101')]), ['renal_dialysis'])
})

t.test('the code normaliser keeps the extension and drops the dot and the asterisk part', async (t) => {
  t.equal(normaliseCode(' a15.000x016 '), 'A15000X016')
  t.equal(normaliseCode('A01.000x005+J17.0*'), 'A01000X005')
  t.equal(normaliseCode('J17.0*'), 'J170')
  t.equal(normaliseCode('A33.x00'), 'A33X00')
  t.equal(normaliseCode('36.1000x001'), '361000X001')
})

t.test('results come in profile order, one per group, with the codes as given and without repeats', async (t) => {
  const m = matchSevereDiseases(gx, [d('I63.900', '脑梗死'), d('C34.900'), d('C34.900'), d('c34.901'), d('I63.900')], [{ oprn_oprt_code: '01.2400x005' }, { oprn_oprt_code: '01.2400x005' }])
  t.same(m, [
    { group: 'malignant_tumour', label: '恶性肿瘤', codes: ['C34.900', 'c34.901'] },
    { group: 'acute_cerebral_infarction', label: '脑梗死（急性期）', codes: ['I63.900'] },
    { group: 'stroke', label: '脑卒中', codes: ['I63.900'] },
    { group: 'intracranial_surgery', label: '颅内手术', codes: ['01.2400x005'] }
  ])
})

t.test('no diagnoses, empty codes and junk match nothing and never throw', async (t) => {
  t.same(matchSevereDiseases(gx, []), [])
  t.same(matchSevereDiseases(gx, [d(''), d('   '), d('???'), d('12'), d('C'), d('CXX.1')], [{ oprn_oprt_code: '' }, { oprn_oprt_code: 'AB' }]), [])
  t.same(matchSevereDiseases(gx, [{ diag_code: 'C34.900', diag_name: null }]).map((m) => m.group), ['malignant_tumour'])
  t.same(matchSevereDiseases(gx, [{ diag_code: 'D56.900', diag_name: null }]), [], 'a name-gated code with a null name')
})

t.test('a name match ignores width, blanks and letter case', async (t) => {
  t.same(groups(gx, [d('D56.000', 'ＨｂＨ 病')]), ['thalassaemia'])
  t.same(groups(gx, [d('D56.000', 'α地中海贫血（血红蛋白 H 病）')]), ['thalassaemia'])
})

t.test('each profile object gets its own compiled lists', async (t) => {
  const base: any = { ...gx }
  const only = indexProfile({
    ...base,
    severe_diseases: [{ id: 'only_j09', label: '人感染禽流感', codes: ['J09'] }]
  })
  t.same(groups(only, [d('C34.900'), d('J09.x01')]), ['only_j09'])
  t.same(groups(gx, [d('C34.900'), d('J09.x01')]), ['malignant_tumour', 'human_avian_influenza'])
})

t.test('requires_any is met by the diagnosis itself when it matches (dialysis codes stand alone)', async (t) => {
  const p = indexProfile({
    ...shippedSpec('guangxi-liuzhou'),
    severe_diseases: [{ id: 'x', label: 'x', codes: ['N18.5', 'Z49'], requires_any: ['Z49'] }]
  })
  t.same(groups(p, [d('Z49.101')]), ['x'])
  t.same(groups(p, [d('N18.500')]), [])
  t.same(matchSevereDiseases(p, [d('N18.500'), d('Z49.101')])[0].codes, ['N18.500', 'Z49.101'])
})

t.test('a group without name_contains matches its bare categories and ranges on the code alone', async (t) => {
  const p = indexProfile({ ...shippedSpec('guangxi-liuzhou'), severe_diseases: [{ id: 'x', label: 'x', codes: ['D56', 'A15-A16'] }] })
  t.same(groups(p, [d('D56.300')]), ['x'])
  t.same(groups(p, [d('A16.200')]), ['x'])
  t.same(groups(p, [d('A17.000+G01*')]), [])
})

t.test('a range may cross letters', async (t) => {
  const p = indexProfile({ ...shippedSpec('guangxi-liuzhou'), severe_diseases: [{ id: 'x', label: 'x', codes: ['C90-D09'] }] })
  t.same(groups(p, [d('C96.000')]), ['x'])
  t.same(groups(p, [d('D00.000')]), ['x'])
  t.same(groups(p, [d('D09.900')]), ['x'])
  t.same(groups(p, [d('D10.000')]), [])
  t.same(groups(p, [d('C89.000')]), [])
})

t.test('none of five common non-severe diagnoses matches, however often it is asked', async (t) => {
  const dx = [d('J18.900', '肺炎'), d('I10.x00', '高血压'), d('E11.900', '2型糖尿病'), d('A15.000', '肺结核'), d('D56.000', 'α型地中海贫血')]
  const px = [{ oprn_oprt_code: '99.0400' }]
  // The compiled profile is cached: repeated calls must give the same (empty) answer.
  const answers = Array.from({ length: 1000 }, () => matchSevereDiseases(gx, dx, px).length)
  t.same([...new Set(answers)], [0])
})

t.test('every code and prefix the profiles list exists in the ICD-10 table', { skip: noTable }, async (t) => {
  const codes = new Set(table!.map((r) => normaliseCode(r.code)))
  const all = [...codes]
  const full = /^[A-Z][0-9]{2}\.[0-9x]{3}(x[0-9]{3})?$/
  for (const p of [gx]) {
    for (const g of p.severe_diseases) {
      for (const code of [...g.codes, ...(g.requires_any ?? [])]) {
        const range = /^([A-Z][0-9]{2})-([A-Z][0-9]{2})$/.exec(code)
        if (range !== null) {
          for (const end of [range[1], range[2]]) t.ok(all.some((c) => c.startsWith(end)), `${p.id} ${g.id}: range end ${end} is a category of the table`)
        } else if (full.test(code)) {
          t.ok(codes.has(normaliseCode(code)), `${p.id} ${g.id}: ${code} is a code of the table`)
        } else {
          t.ok(all.some((c) => c.startsWith(normaliseCode(code))), `${p.id} ${g.id}: ${code} prefixes codes of the table`)
        }
      }
    }
  }
})

t.test('every diagnosis the cases above take from the table is a real row with that name', { skip: noTable }, async (t) => {
  const rows = new Map(table!.map((r) => [r.code, r.name]))
  for (const [group, { yes, no }] of Object.entries(cases)) {
    for (const c of [...yes, ...no]) {
      if (c.madeUp === true) continue
      for (const dx of c.dx ?? []) {
        t.ok(rows.has(dx.diag_code), `${group}: ${dx.diag_code} is in the table`)
        if (dx.diag_name !== undefined) t.equal(rows.get(dx.diag_code), dx.diag_name, `${group}: ${dx.diag_code} is named ${dx.diag_name}`)
      }
    }
  }
})

t.test('in the table, exactly the A15-A19 rows named 耐多药, 广泛耐药 or 利福平耐药 are MDR-TB', { skip: noTable }, async (t) => {
  const rows = table!.filter((r) => /^A1[5-9]/.test(r.code))
  t.ok(rows.length > 400)
  let mdr = 0
  for (const r of rows) {
    const want = /耐多药|广泛耐药|利福平耐药|耐利福平/.test(r.name)
    if (want) mdr++
    const got = groups(gx, [d(r.code, r.name)]).includes('mdr_tuberculosis')
    if (got !== want) t.fail(`${r.code} ${r.name}: expected ${want ? '' : 'no '}match`)
  }
  t.equal(mdr, 24)
})

t.test('in the table, the D56 rows that match are exactly those named 重型, 中间型 or 库利', { skip: noTable }, async (t) => {
  for (const r of table!.filter((r) => r.code.startsWith('D56'))) {
    const want = /重型|中间型|库利/.test(r.name)
    t.equal(groups(gx, [d(r.code, r.name)]).includes('thalassaemia'), want, `${r.code} ${r.name}`)
  }
})

t.test('in the table, no row outside the 附件1 chapters matches any group', { skip: noTable }, async (t) => {
  // Every group's codes lie in these categories; a stray match elsewhere would be a bad prefix.
  const allowed = /^(C|A1[5-9]|B2[0-4]|D56|D6[678]|F06|F2[025]|F31|F7|I2[12]|I6[0-4]|J09|J4[34]|J6[0-5]|N18|Q54|T86|Z49|Z51|Z94|Z99)/
  let checked = 0
  for (const r of table!) {
    if (allowed.test(r.code)) continue
    checked++
    const m = groups(gx, [d(r.code, r.name)])
    if (m.length > 0) t.fail(`${r.code} ${r.name} matched ${m.join(', ')}`)
  }
  t.ok(checked > 30000, `${checked} rows checked`)
})

t.test('in the table, the J09 rows that match are exactly the avian ones', { skip: noTable }, async (t) => {
  const rows = table!.filter((r) => r.code.startsWith('J09'))
  t.ok(rows.length >= 5)
  for (const r of rows) t.equal(groups(gx, [d(r.code, r.name)]).includes('human_avian_influenza'), /禽流感/.test(r.name), `${r.code} ${r.name}`)
})

t.test('in the table, the Z51.0/Z51.1 rows that count as 恶性肿瘤 are exactly those whose name says so', { skip: noTable }, async (t) => {
  for (const r of table!.filter((r) => /^Z51\.[01]/.test(r.code))) {
    t.equal(groups(gx, [d(r.code, r.name)]).includes('malignant_tumour_therapy'), /恶性/.test(r.name), `${r.code} ${r.name}`)
  }
})
