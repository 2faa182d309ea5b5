// The layering check (.dependency-cruiser.cjs, run by `npm test`) fails on a forbidden import and
// names the rule: shown on small trees of the project's shape, built in a temporary directory.
import t from 'tap'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { tempDir, ROOT } from './helper.ts'

function cruise (t: { teardown: (fn: () => unknown) => void }, files: Record<string, string>): { status: number | null, out: string } {
  const dir = tempDir(t)
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }))
  for (const [file, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), body)
  }
  const bin = join(ROOT, 'node_modules', '.bin', 'depcruise')
  const r = spawnSync(bin, ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...new Set(Object.keys(files).map((f) => f.split('/')[0]))], { cwd: dir, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

t.test('the project as it stands passes the layering check', async (t) => {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'depcruise'), ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'base', 'identity', 'profile', 'lists', 'registry', 'agent'], { cwd: ROOT, encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.match(r.stdout, /no dependency violations found/)
})

t.test('a rule that imports a route fails the check, naming the rule', async (t) => {
  const r = cruise(t, {
    'agent/routes/his/charges.ts': 'export const route = 1\n',
    'agent/rules/charges.ts': "import { route } from '../routes/his/charges.ts'\nexport const rule = route\n"
  })
  t.not(r.status, 0, 'the check fails')
  t.match(r.out, /error rules-know-no-http: agent\/rules\/charges\.ts → agent\/routes\/his\/charges\.ts/)
})

t.test('the county\'s registry tool importing agent code fails the check', async (t) => {
  const r = cruise(t, {
    'agent/store/list.ts': 'export const store = 1\n',
    'registry/publish.ts': "import { store } from '../agent/store/list.ts'\nexport const p = store\n"
  })
  t.not(r.status, 0, 'the check fails')
  t.match(r.out, /error registry-imports-no-agent-code: registry\/publish\.ts → agent\/store\/list\.ts/)
})

t.test('the store importing a rule, and two files importing each other, fail the check', async (t) => {
  const r = cruise(t, {
    'agent/rules/stay.ts': "import { a } from '../store/stays.ts'\nexport const b = a\n",
    'agent/store/stays.ts': "import { b } from '../rules/stay.ts'\nexport const a = 1\nexport const c = b\n"
  })
  t.not(r.status, 0, 'the check fails')
  t.match(r.out, /error store-below-rules: agent\/store\/stays\.ts → agent\/rules\/stay\.ts/)
  t.match(r.out, /error no-circular/)
})

t.test('a rule that renders the admission notice, or the notice reaching into the store, fails the check', async (t) => {
  const r = cruise(t, {
    'agent/notice/notice-html.ts': "import { stays } from '../store/stays.ts'\nexport const html = stays\n",
    'agent/store/stays.ts': 'export const stays = 1\n',
    'agent/rules/notice.ts': "import { html } from '../notice/notice-html.ts'\nexport const rule = html\n"
  })
  t.not(r.status, 0, 'the check fails')
  t.match(r.out, /error rules-build-the-notice-not-render-it: agent\/rules\/notice\.ts → agent\/notice\/notice-html\.ts/)
  t.match(r.out, /error the-notice-renders-plain-data: agent\/notice\/notice-html\.ts → agent\/store\/stays\.ts/)
})

t.test('a route and the command line may render the admission notice', async (t) => {
  const r = cruise(t, {
    'agent/notice/notice-html.ts': 'export const html = 1\n',
    'agent/routes/his/notice.ts': "import { html } from '../../notice/notice-html.ts'\nexport const route = html\n",
    'agent/cli/notice.ts': "import { html } from '../notice/notice-html.ts'\nexport const cmd = html\n"
  })
  t.equal(r.status, 0, r.out)
})
