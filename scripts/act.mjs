#!/usr/bin/env node
// nektos/act as a real workflow runner for the end-to-end tests. It runs
// workflow files on this host without Docker (`-P <label>=-self-hosted`) with
// the runner behaviour the tests rely on: ::add-mask:: masking, the file
// commands (GITHUB_ENV/STATE/OUTPUT/STEP_SUMMARY), post steps after a failed
// step and in reverse order, and cancellation on SIGINT. /work/notes/act.md
// records what was verified and the gaps.
//
//   node scripts/act.mjs build [--force]      go install act into .cache/bin
//   node scripts/act.mjs run -W FILE [...]    run one workflow; `help` lists options
//
// Environment:
//   GO   go binary (default: go on PATH, else /usr/local/go/bin/go)
//
// Plain Node ESM with built-ins only, like scripts/cluster.mjs: it must run
// before `npm ci` and on Node 20 and 24. The tests import the same functions
// (__tests__/e2e/support/act.ts).

import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { findGo } from './go.mjs'

export const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..'
)
export const ACT_MODULE = 'github.com/nektos/act'
export const ACT_VERSION = 'v0.2.89'
export const ACT_BIN = path.join(ROOT, '.cache', 'bin', 'act')

// runs-on labels mapped to the host. '-self-hosted' is act's host mode: steps
// run as plain processes here, so no Docker engine is needed.
const HOST_LABELS = [
  'ubuntu-latest',
  'ubuntu-24.04',
  'ubuntu-22.04',
  'self-hosted',
  'linux'
]
// After SIGINT act cancels the running step and still runs the post steps
// (as GitHub does on cancel); SIGKILL only if that takes longer than this.
const CANCEL_GRACE_MS = 60_000

const log = (msg) => console.log(`act: ${msg}`)
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1)

// ---------------------------------------------------------------- build

/** The version the installed binary reports, or '' when there is none. */
function installedVersion(bin) {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  if (res.status !== 0) return ''
  // "act version 0.2.89"
  return (res.stdout.trim().split(' ').pop() ?? '').replace(/^v?/, 'v')
}

/**
 * Build act into .cache/bin unless the pinned version is already there.
 * Call it once before running workflows in parallel (go install replaces the
 * binary in place). Returns the binary's path.
 */
export function buildAct({ force = false } = {}) {
  if (!force && installedVersion(ACT_BIN) === ACT_VERSION) return ACT_BIN
  const go = findGo()
  fs.mkdirSync(path.dirname(ACT_BIN), { recursive: true })
  log(`building ${ACT_MODULE}@${ACT_VERSION} (cold: ~3 min on 2 cores)...`)
  const started = Date.now()
  const res = spawnSync(
    go,
    ['install', '-trimpath', '-ldflags=-s -w', `${ACT_MODULE}@${ACT_VERSION}`],
    {
      stdio: 'inherit',
      // local: never download a toolchain; no cgo: a static binary.
      env: {
        ...process.env,
        GOBIN: path.dirname(ACT_BIN),
        GOTOOLCHAIN: 'local',
        CGO_ENABLED: '0'
      }
    }
  )
  if (res.error) throw new Error(`cannot run ${go}: ${res.error.message}`)
  if (res.status !== 0)
    throw new Error(
      `go install ${ACT_MODULE}@${ACT_VERSION} failed (exit ${res.status})`
    )
  const got = installedVersion(ACT_BIN)
  if (got !== ACT_VERSION)
    throw new Error(
      `${ACT_BIN} reports ${got || 'no version'}, expected ${ACT_VERSION}`
    )
  log(`built ${path.relative(ROOT, ACT_BIN)} in ${seconds(started)} s`)
  return ACT_BIN
}

// ---------------------------------------------------------------- run

/**
 * Copy what a release of the action contains (action.yml and dist/) into
 * `dest`, for `localActions`. act tars a mapped directory whole (no
 * .gitignore), so mapping the repository root would also pack node_modules.
 */
export function stageAction(dest, from = ROOT) {
  fs.mkdirSync(dest, { recursive: true })
  fs.copyFileSync(path.join(from, 'action.yml'), path.join(dest, 'action.yml'))
  fs.cpSync(path.join(from, 'dist'), path.join(dest, 'dist'), {
    recursive: true
  })
  return dest
}

function writePrivateJson(file, value) {
  // act reads *.yml/*.yaml env, secret, input and var files as YAML; JSON is
  // YAML, so values (multi-line kubeconfigs included) arrive byte for byte.
  fs.writeFileSync(file, JSON.stringify(value), { mode: 0o600 })
  return file
}

/** Relative paths of everything left in `dir`, depth first. */
function listTree(dir, prefix = '') {
  const found = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name)
    found.push(rel)
    if (entry.isDirectory()) found.push(...listTree(path.join(dir, rel), rel))
  }
  return found
}

/**
 * What is left in the RUNNER_TEMP directories act keeps. act deletes a job's
 * RUNNER_TEMP (and workspace) after a successful job and keeps them after a
 * failed one, so this sees leftovers of failed jobs only.
 */
function runnerTempLeftovers(cacheDir) {
  const found = []
  if (!fs.existsSync(cacheDir)) return found
  for (const entry of fs.readdirSync(cacheDir, { withFileTypes: true })) {
    // act names each job's directory with 16 hex digits: <id>/{act,hostexecutor,tmp}
    if (!entry.isDirectory() || !/^[0-9a-f]{16}$/.test(entry.name)) continue
    const temp = path.join(cacheDir, entry.name, 'tmp')
    if (fs.existsSync(temp)) found.push(...listTree(temp))
  }
  return found
}

function actArgs(o, files) {
  const args = [o.event ?? 'push', '-W', o.workflow, '-C', o.repoDir]
  if (o.job) args.push('-j', o.job)
  for (const label of HOST_LABELS) args.push('-P', `${label}=-self-hosted`)
  args.push(
    // act's cache server would bind an outbound address; nothing here uses it.
    '--no-cache-server',
    '--action-cache-path',
    files.cache,
    // Explicit files, so a developer's .env/.secrets/.vars/.input in the
    // repository never reach a test run; secrets never appear in argv.
    '--env-file',
    files.env,
    '--secret-file',
    files.secrets,
    '--input-file',
    files.inputs,
    '--var-file',
    files.vars
  )
  if (files.event) args.push('-e', files.event)
  for (const [uses, dir] of Object.entries(o.localActions ?? {}))
    args.push('--local-repository', `${uses}=${dir}`)
  if (o.verbose) args.push('-v')
  return args
}

/**
 * Run one workflow file through act on this host.
 *
 * options:
 *   workflow      workflow file (absolute, or relative to repoDir)
 *   repoDir       act's working directory: the repository a checkout step
 *                 copies into the workspace and `./` paths resolve against
 *   job           run only this job id
 *   event         event name (default 'push'); eventPayload: the event JSON
 *   env, secrets, inputs, vars    Record<string, string>
 *   secretEnv     env variables act also masks as secrets (for example the
 *                 stand-in ACTIONS_ID_TOKEN_REQUEST_TOKEN)
 *   localActions  { 'owner/repo@ref': dir } runs `uses: owner/repo@ref`
 *                 (actions and reusable workflows) from dir, offline
 *   path          directories put on PATH after Node 24 (e.g. .cache/bin)
 *   hostEnv       extra variables for act itself; act copies its whole
 *                 environment into every step, so keep secrets out of it
 *   verbose       act -v (also shows ::debug:: lines)
 *   timeoutMs     SIGINT after this long (default 10 min), SIGKILL 60 s later
 *   signal        AbortSignal; abort = SIGINT, i.e. cancel the run
 *   keepRunDir    keep the private run directory (returned as runDir)
 *
 * Resolves to { code, output, runId, leftovers, timedOut, runDir }: act's exit
 * code (0 only if every job succeeded), its merged stdout and stderr, the
 * GITHUB_RUN_ID the run had, and the files left in the RUNNER_TEMP of failed
 * jobs.
 */
export async function runWorkflow(options) {
  const o = { ...options }
  if (!o.workflow || !o.repoDir)
    throw new Error('runWorkflow needs workflow and repoDir')
  o.repoDir = path.resolve(o.repoDir)
  o.workflow = path.resolve(o.repoDir, o.workflow)
  const bin = o.actBin ?? ACT_BIN
  if (!fs.existsSync(bin))
    throw new Error(`${bin} is missing: run 'node scripts/act.mjs build' first`)

  // Everything of this run lives in one private directory: HOME, act's
  // action cache (workspace and RUNNER_TEMP of each job) and the input files.
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'act-run-'))
  const home = path.join(runDir, 'home')
  fs.mkdirSync(home, { mode: 0o700 })
  // A fresh run id per run (act's default is 1) so concurrent runs and their
  // per-run Secrets (labelled with it) can be told apart.
  const runId = String(1_000_000 + crypto.randomInt(1_000_000_000))
  const env = {
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_REPOSITORY: 'e2e-owner/e2e-repo',
    GITHUB_REF: 'refs/heads/main',
    // act takes the commit from SHA_REF; set, it also stops act asking git
    // about repoDir (which need not be a git repository).
    SHA_REF: '0'.repeat(40),
    ...o.secretEnv,
    ...o.env
  }
  const files = {
    cache: path.join(runDir, 'cache'),
    env: writePrivateJson(path.join(runDir, 'env.yml'), env),
    secrets: writePrivateJson(path.join(runDir, 'secrets.yml'), {
      ...o.secretEnv,
      ...o.secrets
    }),
    inputs: writePrivateJson(path.join(runDir, 'inputs.yml'), o.inputs ?? {}),
    vars: writePrivateJson(path.join(runDir, 'vars.yml'), o.vars ?? {}),
    event: o.eventPayload
      ? writePrivateJson(path.join(runDir, 'event.json'), o.eventPayload)
      : undefined
  }

  // act copies its own environment into every step, so it gets a clean one:
  // Node 24 first on PATH (act runs `node` from PATH for node24 actions).
  const hostEnv = {
    PATH: [
      path.join(ROOT, 'node_modules', '.bin'),
      ...(o.path ?? []),
      process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'
    ].join(path.delimiter),
    HOME: home,
    LANG: 'C.UTF-8',
    // No request to api.nektosact.com for version notices.
    ACT_DISABLE_VERSION_CHECK: '1',
    ...o.hostEnv
  }

  const child = spawn(bin, actArgs(o, files), {
    cwd: o.repoDir,
    env: hostEnv,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk.toString()))
  child.stderr.on('data', (chunk) => (output += chunk.toString()))

  let timedOut = false
  let killTimer
  const cancel = () => {
    if (child.exitCode !== null || killTimer) return
    child.kill('SIGINT')
    killTimer = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS)
  }
  const timer = setTimeout(() => {
    timedOut = true
    cancel()
  }, o.timeoutMs ?? 600_000)
  o.signal?.addEventListener('abort', cancel, { once: true })

  const code = await new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (exit, sig) => resolve(exit ?? (sig ? 128 : 1)))
  }).finally(() => {
    clearTimeout(timer)
    clearTimeout(killTimer)
    o.signal?.removeEventListener('abort', cancel)
  })

  const leftovers = runnerTempLeftovers(files.cache)
  if (!o.keepRunDir) fs.rmSync(runDir, { recursive: true, force: true })
  return {
    code,
    output,
    runId,
    leftovers,
    timedOut,
    runDir: o.keepRunDir ? runDir : undefined
  }
}

// ---------------------------------------------------------------- cli

function usage() {
  return `usage:
  node scripts/act.mjs build [--force]
  node scripts/act.mjs run -W FILE [--repo DIR] [-j JOB] [--event NAME]
      [--env K=V]... [--secret NAME[=VALUE]]... [--input K=V]... [--var K=V]...
      [--local OWNER/REPO@REF=DIR]... [--stage-action OWNER/REPO@REF]
      [-v] [--keep] [--timeout SECONDS]

  --secret NAME      takes the value from this process's environment (keeps
                     it out of argv); NAME=VALUE is accepted for throwaways
  --stage-action     stage this repository's action.yml + dist/ and run
                     \`uses: OWNER/REPO@REF\` from it (no checkout needed)
  --repo             act's working directory (default: current directory)`
}

function pairs(list, what, fromEnv = false) {
  const out = {}
  for (const item of list ?? []) {
    const eq = item.indexOf('=')
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1)
    else if (fromEnv && process.env[item] !== undefined)
      out[item] = process.env[item]
    else throw new Error(`${what} '${item}' needs the form NAME=VALUE`)
  }
  return out
}

async function cli(argv) {
  const [command, ...rest] = argv
  if (command === 'build') {
    const { values } = parseArgs({
      args: rest,
      options: { force: { type: 'boolean' } }
    })
    buildAct({ force: values.force })
    return 0
  }
  if (command !== 'run') {
    console.log(usage())
    return command === 'help' || command === undefined ? 0 : 2
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      workflow: { type: 'string', short: 'W' },
      repo: { type: 'string', default: process.cwd() },
      job: { type: 'string', short: 'j' },
      event: { type: 'string' },
      env: { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      input: { type: 'string', multiple: true },
      var: { type: 'string', multiple: true },
      local: { type: 'string', multiple: true },
      'stage-action': { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      keep: { type: 'boolean' },
      timeout: { type: 'string' }
    }
  })
  if (!values.workflow) throw new Error('run needs -W FILE')
  buildAct()
  const localActions = pairs(values.local, '--local')
  let staged
  if (values['stage-action']) {
    staged = fs.mkdtempSync(path.join(os.tmpdir(), 'act-action-'))
    localActions[values['stage-action']] = stageAction(staged)
  }
  const started = Date.now()
  try {
    const result = await runWorkflow({
      workflow: values.workflow,
      repoDir: values.repo,
      job: values.job,
      event: values.event,
      env: pairs(values.env, '--env'),
      secrets: pairs(values.secret, '--secret', true),
      inputs: pairs(values.input, '--input'),
      vars: pairs(values.var, '--var'),
      localActions,
      verbose: values.verbose,
      keepRunDir: values.keep,
      timeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined
    })
    process.stdout.write(result.output)
    log(
      `exit ${result.code} in ${seconds(started)} s (GITHUB_RUN_ID ${result.runId})` +
        (result.timedOut ? ', timed out' : '')
    )
    if (result.leftovers.length > 0)
      log(`left in RUNNER_TEMP: ${result.leftovers.join(', ')}`)
    if (result.runDir) log(`run directory kept: ${result.runDir}`)
    return result.code
  } finally {
    if (staged) fs.rmSync(staged, { recursive: true, force: true })
  }
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(
        `act: ${error instanceof Error ? error.message : String(error)}`
      )
      process.exit(1)
    }
  )
}
