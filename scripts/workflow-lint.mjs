#!/usr/bin/env node
// The workflow checkers users run, over every workflow a user reads or
// copies: actionlint (with shellcheck) and zizmor (offline) over
// .github/workflows/, examples/workflows/ and each workflow-shaped snippet
// of README.md and docs/*.md (scripts/readme-snippets.mjs); zizmor also over action.yml and
// .github/dependabot.yml. Every finding prints as one line that names the
// file and line it is in (README.md:<line> or docs/<page>.md:<line> for a
// snippet), and as a GitHub
// annotation when run by GitHub Actions. Exit 1 on any finding.
//
//   node scripts/workflow-lint.mjs            install the pinned tools if needed, then check
//   node scripts/workflow-lint.mjs install    only install them
//
// actionlint is a Go module: `go install` into .cache/bin like act
// (scripts/act.mjs). zizmor comes from PyPI, hash-pinned, with pip
// --target into .cache/zizmor. shellcheck comes from the system (Debian's
// package; .ci/run installs it); without it actionlint skips `run:` scripts,
// so under CI its absence is an error.
//
// How the examples are checked as they are meant to be copied: actionlint
// gets a scratch repository (a .git marker, .github/workflows/ with this
// repository's workflows, the examples and the README snippets side by side,
// and the action's action.yml with dist/ at its root). There a caller's
// `uses: ./.github/workflows/k8s-scan.yml` reads the example reusable
// workflow (inputs, secrets and outputs are type-checked), and the
// placeholder `your-org/ephemeral-scan-token@v1` (`<org>/...` in the README)
// is rewritten to `./`, padded to the same width, so every `with:` is checked
// against action.yml (actionlint cannot fetch the action, and a remote action
// it does not know is not checked at all). zizmor reads the files as they are
// (its config, .github/zizmor.yml, documents the exceptions).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { findGo } from './go.mjs'
import { documents, snippets, toSource } from './readme-snippets.mjs'

export const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..'
)
export const ACTIONLINT_MODULE = 'github.com/rhysd/actionlint/cmd/actionlint'
export const ACTIONLINT_VERSION = 'v1.7.12'
export const ACTIONLINT_BIN = path.join(ROOT, '.cache', 'bin', 'actionlint')
export const ZIZMOR_VERSION = '1.33.1'
// The manylinux x86_64 wheel (GitHub's ubuntu runners and this project's
// machines); another platform needs its wheel's sha256 added here.
const ZIZMOR_SHA256 = [
  '49eb92a95347e7da58c3123e4d5b297dbb6fe8ecc328e9db68df14c08e25e151'
]
export const ZIZMOR_DIR = path.join(ROOT, '.cache', 'zizmor')
export const ZIZMOR_BIN = path.join(ZIZMOR_DIR, 'bin', 'zizmor')
export const ZIZMOR_CONFIG = path.join(ROOT, '.github', 'zizmor.yml')

const PLACEHOLDER = /(uses:\s*)((?:<org>|your-org)\/ephemeral-scan-token@v1)/g

const log = (msg) => console.log(`workflow-lint: ${msg}`)
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1)

function run(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options
  })
  if (res.error) throw new Error(`cannot run ${cmd}: ${res.error.message}`)
  return res
}

function versionOf(bin, args) {
  if (!fs.existsSync(bin)) return ''
  const res = spawnSync(bin, args, { encoding: 'utf8' })
  return res.status === 0 ? res.stdout.trim().split('\n')[0].trim() : ''
}

// ---------------------------------------------------------------- install

/** go install actionlint into .cache/bin unless the pinned version is there. */
export function installActionlint() {
  if (versionOf(ACTIONLINT_BIN, ['-version']) === ACTIONLINT_VERSION)
    return ACTIONLINT_BIN
  const go = findGo()
  const started = Date.now()
  log(`building ${ACTIONLINT_MODULE}@${ACTIONLINT_VERSION}...`)
  const res = run(
    go,
    [
      'install',
      '-trimpath',
      '-ldflags=-s -w',
      `${ACTIONLINT_MODULE}@${ACTIONLINT_VERSION}`
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        GOBIN: path.dirname(ACTIONLINT_BIN),
        GOTOOLCHAIN: 'local',
        CGO_ENABLED: '0'
      }
    }
  )
  if (res.status !== 0)
    throw new Error(
      `go install ${ACTIONLINT_MODULE} failed (exit ${res.status})`
    )
  const got = versionOf(ACTIONLINT_BIN, ['-version'])
  if (got !== ACTIONLINT_VERSION)
    throw new Error(`${ACTIONLINT_BIN} reports ${got || 'no version'}`)
  log(`built ${path.relative(ROOT, ACTIONLINT_BIN)} in ${seconds(started)} s`)
  return ACTIONLINT_BIN
}

/** pip install the hash-pinned zizmor wheel into .cache/zizmor unless it is there. */
export function installZizmor() {
  if (versionOf(ZIZMOR_BIN, ['--version']) === `zizmor ${ZIZMOR_VERSION}`)
    return ZIZMOR_BIN
  const python = process.env.PYTHON ?? 'python3'
  const started = Date.now()
  log(`installing zizmor ${ZIZMOR_VERSION} from PyPI...`)
  fs.rmSync(ZIZMOR_DIR, { recursive: true, force: true })
  const req = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'zizmor-req-')),
    'requirements.txt'
  )
  fs.writeFileSync(
    req,
    `zizmor==${ZIZMOR_VERSION} ${ZIZMOR_SHA256.map((h) => `--hash=sha256:${h}`).join(' ')}\n`
  )
  try {
    const res = run(
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--root-user-action=ignore',
        '--no-cache-dir',
        '--no-deps',
        '--only-binary',
        ':all:',
        '--require-hashes',
        '--target',
        ZIZMOR_DIR,
        '-q',
        '-r',
        req
      ],
      { stdio: 'inherit' }
    )
    if (res.status !== 0)
      throw new Error(
        `pip install zizmor==${ZIZMOR_VERSION} failed (exit ${res.status})`
      )
  } finally {
    fs.rmSync(path.dirname(req), { recursive: true, force: true })
  }
  const got = versionOf(ZIZMOR_BIN, ['--version'])
  if (got !== `zizmor ${ZIZMOR_VERSION}`)
    throw new Error(`${ZIZMOR_BIN} reports ${got || 'no version'}`)
  log(`installed ${path.relative(ROOT, ZIZMOR_BIN)} in ${seconds(started)} s`)
  return ZIZMOR_BIN
}

/** shellcheck on PATH, or '' (an error under CI, where .ci/run installs it). */
function findShellcheck() {
  const res = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' })
  if (res.status === 0) return 'shellcheck'
  const msg =
    'shellcheck is not on PATH, so actionlint cannot check run: scripts (apt-get install shellcheck)'
  if (process.env.CI) throw new Error(msg)
  log(`warning: ${msg}`)
  return ''
}

// ---------------------------------------------------------------- inputs

const ymlIn = (dir) =>
  fs.existsSync(path.join(ROOT, dir))
    ? fs
        .readdirSync(path.join(ROOT, dir))
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => path.join(dir, f))
    : []

/** The workflow files checked, relative to the repository root. */
export function workflowFiles() {
  return [...ymlIn('.github/workflows'), ...ymlIn('examples/workflows')]
}

/** `uses: <placeholder>` → `uses: ./` padded to the same width (columns stay). */
const localAction = (text) =>
  text.replace(PLACEHOLDER, (_, uses, ref) => uses + './'.padEnd(ref.length))

// ---------------------------------------------------------------- findings

/** One finding: where (source file, 1-based line and column), tool, rule, text. */
function finding(file, line, column, tool, rule, message) {
  return {
    file,
    line,
    column,
    tool,
    rule,
    message: message.replace(/\s+/g, ' ')
  }
}

/** A position in a staged file as one in the repository. */
function mapBack(staged, line, column) {
  if (!staged.snippet) return { file: staged.source, line, column }
  return { file: staged.source, ...toSource(staged.snippet, line, column) }
}

function actionlint(bin, shellcheck, snippetList, scratch) {
  const repo = path.join(scratch, 'actionlint')
  const workflows = path.join(repo, '.github', 'workflows')
  fs.mkdirSync(workflows, { recursive: true })
  fs.mkdirSync(path.join(repo, '.git')) // actionlint finds the project by it
  fs.copyFileSync(path.join(ROOT, 'action.yml'), path.join(repo, 'action.yml'))
  fs.symlinkSync(path.join(ROOT, 'dist'), path.join(repo, 'dist'))
  for (const config of ['actionlint.yaml', 'actionlint.yml']) {
    const from = path.join(ROOT, '.github', config)
    if (fs.existsSync(from))
      fs.copyFileSync(from, path.join(repo, '.github', config))
  }
  const staged = new Map()
  const stage = (name, text, entry) => {
    if (staged.has(name))
      throw new Error(
        `two workflows are named ${name}: ${staged.get(name).source} and ${entry.source}`
      )
    fs.writeFileSync(path.join(workflows, name), localAction(text))
    staged.set(name, entry)
  }
  for (const file of workflowFiles())
    stage(path.basename(file), fs.readFileSync(path.join(ROOT, file), 'utf8'), {
      source: file
    })
  for (const s of snippetList)
    stage(s.name, s.workflow, { source: s.source, snippet: s })

  const res = run(
    bin,
    [
      '-format',
      '{{json .}}',
      `-shellcheck=${shellcheck}`,
      ...[...staged.keys()].map((n) => path.join('.github', 'workflows', n))
    ],
    { cwd: repo }
  )
  if (res.status !== 0 && res.status !== 1)
    throw new Error(
      `actionlint failed (exit ${res.status}): ${res.stderr.trim()}`
    )
  const errors = JSON.parse(res.stdout || '[]')
  return errors.map((e) => {
    const entry = staged.get(path.basename(e.filepath)) ?? {
      source: e.filepath
    }
    const at = mapBack(entry, e.line, e.column)
    // `./` is the placeholder rewritten above: name what it stands for.
    const message = e.message.replaceAll(
      'defined at "./"',
      'defined at "action.yml" (the placeholder uses:)'
    )
    return finding(at.file, at.line, at.column, 'actionlint', e.kind, message)
  })
}

function zizmor(bin, snippetList, scratch) {
  const dir = path.join(scratch, 'zizmor')
  fs.mkdirSync(dir)
  const staged = new Map()
  for (const s of snippetList) {
    const file = path.join(dir, s.name)
    // The README's placeholder owner, spelled as in the examples, so that
    // one policy in the config names it (zizmor rejects `<org>` there).
    fs.writeFileSync(
      file,
      s.workflow.replaceAll('uses: <org>/', 'uses: your-org/')
    )
    staged.set(file, { source: s.source, snippet: s })
  }
  const inputs = [
    ...workflowFiles(),
    'action.yml',
    ...['.github/dependabot.yml', '.github/dependabot.yaml'].filter((f) =>
      fs.existsSync(path.join(ROOT, f))
    ),
    ...staged.keys()
  ]
  const res = run(
    bin,
    [
      '--offline',
      '--no-progress',
      '--format',
      'json',
      '--no-exit-codes',
      '--config',
      ZIZMOR_CONFIG,
      ...inputs
    ],
    { cwd: ROOT }
  )
  if (res.status !== 0)
    throw new Error(`zizmor failed (exit ${res.status}): ${res.stderr.trim()}`)
  const results = JSON.parse(res.stdout || '[]')
  return results
    .filter((r) => !r.ignored)
    .map((r) => {
      const primary =
        r.locations.find((l) => l.symbolic.kind === 'Primary') ?? r.locations[0]
      const given = primary.symbolic.key.Local?.verbatim_path ?? '?'
      const entry = staged.get(path.resolve(ROOT, given)) ?? { source: given }
      const point = primary.concrete.location.start_point
      const at = mapBack(entry, point.row + 1, point.column + 1)
      const severity = r.determinations.severity.toLowerCase()
      const annotation = primary.symbolic.annotation
        ? `: ${primary.symbolic.annotation}`
        : ''
      return finding(
        at.file,
        at.line,
        at.column,
        'zizmor',
        r.ident,
        `${r.desc}${annotation} (${severity}; ${r.url})`
      )
    })
}

/** Run both checkers; returns the findings (empty when clean). */
export function check() {
  const all = documents().flatMap((file) => snippets(file))
  const unknown = all
    .filter((s) => s.kind === 'invalid' || s.kind === 'other')
    .map((s) =>
      finding(
        s.source,
        s.line,
        1,
        'readme-snippets',
        s.kind,
        s.kind === 'invalid'
          ? `the YAML does not parse: ${s.error}`
          : 'a YAML snippet of no known shape (scripts/readme-snippets.mjs)'
      )
    )
  const list = all.filter((s) => s.workflow !== undefined)
  const shellcheck = findShellcheck()
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-lint-'))
  try {
    const found = [
      ...unknown,
      ...actionlint(installActionlint(), shellcheck, list, scratch),
      ...zizmor(installZizmor(), list, scratch)
    ]
    return {
      found,
      checked: {
        workflows: workflowFiles().length,
        snippets: list.length,
        shellcheck: shellcheck !== ''
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

const escapeData = (s) =>
  s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
const escapeProperty = (s) =>
  escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')

function cli(argv) {
  const [command] = argv
  if (command === 'install') {
    installActionlint()
    installZizmor()
    return 0
  }
  if (command !== undefined && command !== 'check') {
    console.error('usage: node scripts/workflow-lint.mjs [install|check]')
    return 2
  }
  const started = Date.now()
  const { found, checked } = check()
  for (const f of found) {
    console.log(
      `${f.file}:${f.line}:${f.column}: ${f.tool} [${f.rule}] ${f.message}`
    )
    if (process.env.GITHUB_ACTIONS === 'true')
      console.log(
        `::error file=${escapeProperty(f.file)},line=${f.line},col=${f.column},title=${escapeProperty(`${f.tool} ${f.rule}`)}::${escapeData(f.message)}`
      )
  }
  log(
    `actionlint ${ACTIONLINT_VERSION}${checked.shellcheck ? ' + shellcheck' : ''} and zizmor ${ZIZMOR_VERSION} over ${checked.workflows} workflow files, ${checked.snippets} README and docs/ snippets and action.yml: ${found.length} finding${found.length === 1 ? '' : 's'} (${seconds(started)} s)`
  )
  return found.length === 0 ? 0 : 1
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  try {
    process.exit(cli(process.argv.slice(2)))
  } catch (error) {
    console.error(
      `workflow-lint: ${error instanceof Error ? error.message : String(error)}`
    )
    process.exit(1)
  }
}
