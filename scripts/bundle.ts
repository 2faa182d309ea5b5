// `npm run bundle [-- --out DIR]`: one .tar.gz for a hospital server without internet. It holds the
// application, its production node_modules exactly as installed here (better-sqlite3 compiled for
// this platform and this Node major; tsx, because the agent runs its TypeScript directly) and
// install.sh. Built from this checkout's node_modules, so it needs no registry either; prints the
// archive's path and SHA-256 and writes <archive>.sha256 for `sha256sum -c`.
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { PROJECT_DIR } from '../base/paths.ts'
import { sha256File } from '../base/files.ts'

/** What the agent needs at run time (tests, benchmarks and CI files stay out). */
const APP_FILES = ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'bin', 'agent', 'base', 'identity', 'profile', 'lists', 'catalog', 'registry', 'schemas', 'docs']

/** The top-level package folders of the production dependency tree (nested ones come with them). */
function productionPackages (root: string): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const top = new Set<string>()
  for (const line of out.split('\n')) {
    const rel = relative(root, line.trim()).split(/[\\/]/)
    if (rel[0] !== 'node_modules' || rel.length < 2) continue
    top.add(rel[1].startsWith('@') ? join(rel[0], rel[1], rel[2]) : join(rel[0], rel[1]))
  }
  return [...top].sort()
}

/**
 * Of better-sqlite3 only the compiled module is needed at run time: its C sources (deps/, src/) and
 * the compiler's intermediate files are a third of the bundle.
 */
function runtimeFile (src: string): boolean {
  const m = /[\\/]node_modules[\\/]better-sqlite3[\\/](.*)$/.exec(src)
  if (m === null) return true
  const rel = m[1].replace(/\\/g, '/')
  if (rel === 'deps' || rel.startsWith('deps/') || rel === 'src' || rel.startsWith('src/')) return false
  if (rel.startsWith('build/')) return rel === 'build/Release' || rel === 'build/Release/better_sqlite3.node'
  return true
}

function installScript (o: { version: string, stamp: string, major: string, platform: string }): string {
  return `#!/bin/sh
# fangpin offline installer (made by npm run bundle). Linux: ./install.sh [--prefix /opt/fangpin]
# Installs this release into PREFIX/releases/<release> and points PREFIX/current at it; the
# release before stays in releases/ for a rollback (see the README, Operations).
set -eu
RELEASE_NAME='${o.version}-${o.stamp}'
NEED_MAJOR='${o.major}'
NEED_PLATFORM='${o.platform}'
PREFIX=/opt/fangpin
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=\${1#*=}; shift ;;
    -h|--help) echo "usage: ./install.sh [--prefix DIR]   (default /opt/fangpin)"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (usage: ./install.sh [--prefix DIR])" >&2; exit 64 ;;
  esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
NODE=\${NODE:-$(command -v node || true)}
if [ -z "$NODE" ]; then
  echo "Node.js is not installed: install Node.js $NEED_MAJOR.x ($NEED_PLATFORM) first, e.g. the Debian/Ubuntu nodejs package or the official tarball" >&2
  exit 1
fi
major=$("$NODE" -p 'process.versions.node.split(".")[0]')
platform=$("$NODE" -p 'process.platform + "-" + process.arch')
if [ "$major" != "$NEED_MAJOR" ] || [ "$platform" != "$NEED_PLATFORM" ]; then
  echo "this bundle is built for Node.js $NEED_MAJOR.x on $NEED_PLATFORM (its SQLite module is compiled for them); found $("$NODE" --version) on $platform" >&2
  exit 1
fi
if ! (cd "$HERE" && "$NODE" -e "new (require('better-sqlite3'))(':memory:').close()"); then
  echo "the bundled SQLite module (better-sqlite3) does not load on this server: build the bundle on a machine like this one (npm run bundle)" >&2
  exit 1
fi
TARGET="$PREFIX/releases/$RELEASE_NAME"
if [ -e "$TARGET" ]; then
  echo "$TARGET exists: this release is installed already (remove it first to install it again)" >&2
  exit 1
fi
mkdir -p "$PREFIX/releases"
cp -a "$HERE" "$TARGET.partial"
mv "$TARGET.partial" "$TARGET"
PREVIOUS=$(readlink "$PREFIX/current" 2>/dev/null || true)
ln -sfn "releases/$RELEASE_NAME" "$PREFIX/current.new"
mv -T "$PREFIX/current.new" "$PREFIX/current"
echo "installed $TARGET"
echo "  $PREFIX/current -> releases/$RELEASE_NAME"
if [ -n "$PREVIOUS" ]; then
  echo "  the previous release ($PREVIOUS) is kept: to roll back, stop the agent, restore the backup taken before this upgrade, and"
  echo "    ln -sfn $PREVIOUS $PREFIX/current.new && mv -T $PREFIX/current.new $PREFIX/current"
fi
echo "next (first install): $PREFIX/current/bin/fangpin.js service install --app-dir $PREFIX/current   (see README, Operations)"
echo "next (upgrade): systemctl restart fangpin"
`
}

export async function bundle (outDir: string): Promise<{ archive: string, sha256: string }> {
  const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string }
  const major = process.versions.node.split('.')[0]
  const platform = `${process.platform}-${process.arch}`
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z'
  const name = `fangpin-${pkg.version}`
  const stage = mkdtempSync(join(tmpdir(), 'fangpin-bundle-'))
  try {
    const app = join(stage, name)
    mkdirSync(app)
    for (const f of APP_FILES) {
      if (existsSync(join(PROJECT_DIR, f))) cpSync(join(PROJECT_DIR, f), join(app, f), { recursive: true, filter: (src) => !/[\\/](data|\.tap)$/.test(src) })
    }
    for (const p of productionPackages(PROJECT_DIR)) cpSync(join(PROJECT_DIR, p), join(app, p), { recursive: true, verbatimSymlinks: true, filter: runtimeFile })
    writeFileSync(join(app, 'install.sh'), installScript({ version: pkg.version, stamp, major, platform }))
    chmodSync(join(app, 'install.sh'), 0o755)
    writeFileSync(join(app, 'BUNDLE.txt'), `fangpin ${pkg.version}, bundled ${new Date().toISOString()}\nfor Node.js ${major}.x on ${platform} (built with ${process.version})\n`)
    mkdirSync(outDir, { recursive: true })
    const archive = join(outDir, `${name}-${stamp}-${platform}-node${major}.tar.gz`)
    execFileSync('tar', ['-czf', archive, '-C', stage, name], { stdio: 'inherit' })
    const sha256 = await sha256File(archive)
    writeFileSync(`${archive}.sha256`, `${sha256}  ${basename(archive)}\n`)
    return { archive, sha256 }
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(PROJECT_DIR, 'scripts', 'bundle.ts')) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  const { archive, sha256 } = await bundle(resolve(values.out ?? join(PROJECT_DIR, 'dist')))
  process.stdout.write(`${archive}\nsha256 ${sha256}\ncheck it on the server: sha256sum -c ${basename(archive)}.sha256\n`)
}
