// The house in layers, checked on every `npm test`. Each rule says what may not import what; a
// forbidden import fails the check with the rule's name and its comment. The layers, bottom up:
//
//   base ← identity, profile ← lists ← catalog ← (registry: the county's tools)
//   base, identity, profile ← agent/errors ← agent/store ← agent/rules ← agent/intake
//        ← agent/config, agent/demo ← agent/plugins, agent/routes ← agent/app, server, cli
//   base, profile, agent/errors ← agent/notice (renders the admission notice) ← agent/config,
//        agent/plugins, agent/routes, agent/cli — never the rules, which build its data
//
// The registry tool imports no agent code, and the staff page's browser code imports nothing.
/** @type {import('dependency-cruiser').IConfiguration} */
const AGENT_ABOVE_STORE = '^agent/(rules|intake|demo|plugins|routes|cli)/|^agent/(app|server|config)\\.ts$'
const AGENT_ABOVE_RULES = '^agent/(intake|demo|plugins|routes|cli)/|^agent/(app|server|config)\\.ts$'

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files that import each other cannot be understood, tested or moved one at a time.',
      from: {},
      to: { circular: true }
    },
    {
      name: 'base-imports-nothing-above',
      severity: 'error',
      comment: 'base/ holds the low-level helpers (time, files, processes, terminals): it imports nothing of the project above it.',
      from: { path: '^base/' },
      to: { path: '^(identity|profile|lists|registry|agent)/' }
    },
    {
      name: 'foundations-stay-foundations',
      severity: 'error',
      comment: 'identity/ and profile/ are shared by the agent and the county\'s tools: they import only base/ (and each other).',
      from: { path: '^(identity|profile)/' },
      to: { path: '^(lists|registry|agent)/' }
    },
    {
      name: 'list-files-are-shared',
      severity: 'error',
      comment: 'lists/ reads the county\'s list files for the agent and for the registry publisher alike: it imports neither.',
      from: { path: '^lists/' },
      to: { path: '^(registry|agent)/' }
    },
    {
      name: 'catalog-files-are-shared',
      comment: 'catalog/ reads the insurance catalog\'s files for the agent and for the registry publisher alike: like lists/, it imports base, identity, profile and lists, never the registry tool, the agent, tests or benchmarks.',
      severity: 'error',
      from: { path: '^catalog/' },
      to: { path: '^(registry|agent|test|bench)/' }
    },
    {
      name: 'foundations-know-no-catalog',
      comment: 'base/, identity/, profile/ and lists/ sit below catalog/: they import nothing of it.',
      severity: 'error',
      from: { path: '^(base|identity|profile|lists)/' },
      to: { path: '^catalog/' }
    },
    {
      name: 'registry-imports-no-agent-code',
      severity: 'error',
      comment: 'The county\'s registry tool (keygen, publish, serve) runs without the agent: it imports nothing under agent/.',
      from: { path: '^registry/' },
      to: { path: '^agent/' }
    },
    {
      name: 'error-catalogue-at-the-bottom',
      severity: 'error',
      comment: 'agent/errors.ts is the catalogue every layer throws from: it imports no project code.',
      from: { path: '^agent/errors\\.ts$' },
      to: { path: '^(base|identity|profile|lists|registry|agent)/' }
    },
    {
      name: 'store-below-rules',
      severity: 'error',
      comment: 'agent/store/ holds all SQL and knows no rule, route, plugin or command: the rules call the store, never the other way.',
      from: { path: '^agent/store/' },
      to: { path: AGENT_ABOVE_STORE }
    },
    {
      name: 'rules-know-no-http',
      severity: 'error',
      comment: 'agent/rules/ is the service layer: a plain context and an actor in, no Fastify, no plugins, routes or commands.',
      from: { path: '^agent/rules/' },
      to: { path: AGENT_ABOVE_RULES }
    },
    {
      name: 'rules-import-no-fastify',
      severity: 'error',
      comment: 'agent/rules/ must run without a web server (tests, the command line, background jobs).',
      from: { path: '^agent/rules/' },
      to: { path: '^node_modules/(fastify|fastify-plugin|@fastify/[^/]+)/' }
    },
    {
      name: 'intake-below-the-app',
      severity: 'error',
      comment: 'agent/intake/ (lists in: import, registry sync) uses the rules and the store; what ends the demo is passed in as a callback, not imported.',
      from: { path: '^agent/intake/' },
      to: { path: '^agent/(demo|plugins|routes|cli)/|^agent/(app|server|config)\\.ts$' }
    },
    {
      name: 'config-reads-only-the-environment',
      severity: 'error',
      comment: 'agent/config.ts turns FANGPIN_* variables into settings: it imports no store, rule, plugin or route.',
      from: { path: '^agent/config\\.ts$' },
      to: { path: '^agent/(store|rules|intake|demo|plugins|routes|cli)/|^agent/(app|server)\\.ts$' }
    },
    {
      name: 'demo-below-the-app',
      severity: 'error',
      comment: 'agent/demo/ is wired in by the app and the commands; it imports no plugin, route or command.',
      from: { path: '^agent/demo/' },
      to: { path: '^agent/(plugins|routes|cli)/|^agent/(app|server)\\.ts$' }
    },
    {
      name: 'plugins-below-routes',
      severity: 'error',
      comment: 'agent/plugins/ decorate the app for the routes; they import no route, command or the app itself.',
      from: { path: '^agent/plugins/' },
      to: { path: '^agent/(routes|cli)/|^agent/(app|server)\\.ts$' }
    },
    {
      name: 'routes-call-rules-not-the-store',
      severity: 'error',
      comment: 'agent/routes/ validate, call one rule and answer: they import no repository, command or the app.',
      from: { path: '^agent/routes/' },
      to: { path: '^agent/(store|cli)/|^agent/(app|server)\\.ts$' }
    },
    {
      name: 'the-notice-renders-plain-data',
      severity: 'error',
      comment: 'agent/notice/ turns a NoticeData into HTML and PDF: it imports base/, profile/ (types) and the error catalogue, nothing that holds a patient\'s data or serves a request.',
      from: { path: '^agent/notice/' },
      to: { path: '^(identity|lists|registry)/|^agent/(store|rules|intake|demo|plugins|routes|cli|web)/|^agent/(app|server|config)\\.ts$' }
    },
    {
      name: 'rules-build-the-notice-not-render-it',
      severity: 'error',
      comment: 'The rules (and what lies under them) build the notice\'s data; rendering it is for the routes and the command line.',
      from: { path: '^agent/(store|rules|intake|demo)/' },
      to: { path: '^agent/notice/' }
    },
    {
      name: 'only-the-command-line-imports-the-command-line',
      severity: 'error',
      comment: 'agent/cli/ is the top: nothing but itself (and bin/) imports it.',
      from: { pathNot: '^(agent/cli/|bin/)' },
      to: { path: '^agent/cli/' }
    },
    {
      name: 'the-staff-page-stands-alone',
      severity: 'error',
      comment: 'agent/web/ is browser code served as it is: it imports nothing (no build step, nothing from a CDN).',
      from: { path: '^agent/web/' },
      to: { pathNot: '^agent/web/' }
    },
    {
      name: 'no-tests-in-the-product',
      severity: 'error',
      comment: 'Product code never imports tests or benchmarks.',
      from: { path: '^(base|identity|profile|lists|catalog|registry|agent)/' },
      to: { path: '^(test|bench)/' }
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file is a typo or a missing package.',
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a rule that imports a type from a route still depends on the route.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(test|bench|\\.tap)/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
