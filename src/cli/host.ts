import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { getProxyUrl } from '@actions/http-client/lib/proxy'
import { InputError } from '../core/errors.js'
import { useHost, type Host } from '../core/ports.js'
import type { StateFile } from './state-file.js'

/** Which log masker the CI system running the CLI has, if any. */
export type Redactor = 'github' | 'buildkite' | 'none'

/**
 * Variables only another CI system sets: with any of them, GITHUB_ACTIONS
 * is planted or inherited (a job started from a GitHub workflow, a
 * copied environment), not GitHub's runner.
 */
const OTHER_CI_MARKERS = [
  'GITLAB_CI',
  'BUILDKITE',
  'JENKINS_URL',
  'TF_BUILD',
  'CIRCLECI',
  'TRAVIS',
  'TEAMCITY_VERSION',
  'BITBUCKET_BUILD_NUMBER',
  'DRONE',
  'CODEBUILD_BUILD_ID',
  'APPVEYOR',
  'BUILD_BUILDID'
]

/** A file the runner made for this job: a regular file (not a link) inside RUNNER_TEMP. */
function runnerFile(file: string | undefined, runnerTemp: string): boolean {
  if (!file || !path.isAbsolute(file)) return false
  const inside = path.relative(runnerTemp, file)
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    return false
  }
  try {
    return fs.lstatSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * GitHub's runner, really there: GITHUB_ACTIONS=true, no other CI's
 * marker, and the per-step command files (GITHUB_ENV, GITHUB_STATE) only
 * the runner creates, as regular files under RUNNER_TEMP. A lone
 * GITHUB_ACTIONS=true would otherwise make the CLI print `::add-mask::`
 * lines, that is every credential, into a log nothing masks.
 */
export function onGitHubRunner(env: NodeJS.ProcessEnv): boolean {
  if (env.GITHUB_ACTIONS !== 'true') return false
  if (OTHER_CI_MARKERS.some((name) => (env[name] ?? '') !== '')) return false
  if ((env.CI_JOB_ID ?? '') !== '' && (env.CI_SERVER_URL ?? '') !== '') {
    return false
  }
  const temp = env.RUNNER_TEMP ?? ''
  if (!path.isAbsolute(temp)) return false
  return runnerFile(env.GITHUB_ENV, temp) && runnerFile(env.GITHUB_STATE, temp)
}

/**
 * A Buildkite agent's job: BUILDKITE=true and the agent's own access token
 * or job API socket, so a `buildkite-agent` that merely comes first on
 * PATH is not handed credentials because one variable says Buildkite.
 */
export function onBuildkiteAgent(env: NodeJS.ProcessEnv): boolean {
  return (
    env.BUILDKITE === 'true' &&
    ((env.BUILDKITE_AGENT_ACCESS_TOKEN ?? '') !== '' ||
      (env.BUILDKITE_AGENT_JOB_API_SOCKET ?? '') !== '')
  )
}

/**
 * GitHub's `::add-mask::` only on GitHub's runner and Buildkite's redactor
 * only in a Buildkite agent's job: anywhere else (GitLab, Jenkins, a
 * shell) such a line would print the value it means to hide. Elsewhere
 * nothing masks, and the CLI simply never prints a credential. When
 * GITHUB_ACTIONS=true but the rest says otherwise, the CLI refuses to run
 * rather than guess.
 */
export function redactorFor(env: NodeJS.ProcessEnv): Redactor {
  if (env.GITHUB_ACTIONS === 'true') {
    if (onGitHubRunner(env)) return 'github'
    throw new InputError(
      "GITHUB_ACTIONS is 'true' but this is not GitHub's runner (another CI's variables are set, or GITHUB_ENV and GITHUB_STATE are not the runner's files under RUNNER_TEMP): unset GITHUB_ACTIONS in this job's environment."
    )
  }
  if (onBuildkiteAgent(env)) return 'buildkite'
  return 'none'
}

/** Lines of the CLI's own: stderr, never a workflow command outside GitHub Actions. */
function line(text: string): void {
  process.stderr.write(`${text}\n`)
}

/**
 * Tell Buildkite's log redactor a value: on its stdin, never in argv (which
 * other processes can read). A failure is said once; the CLI prints no
 * credential either way.
 */
function buildkiteRedact(value: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync('buildkite-agent', ['redactor', 'add'], {
    input: value,
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 10_000,
    env
  })
  if (result.status !== 0) {
    line(
      `Warning: buildkite-agent redactor add did not accept a value (${result.error ? 'not found' : `exit ${String(result.status)}`}); ephemeral-scan-token prints no credential, so nothing is exposed, but the agent will not redact it from other commands' output.`
    )
  }
}

/**
 * The core's host for the command line: log lines on stderr (stdout is the
 * one JSON object), masking by the CI system's own redactor where it has
 * one, and main's record written to the state file.
 */
export function cliHost(
  redactor: Redactor,
  state: StateFile | undefined,
  env: NodeJS.ProcessEnv = process.env,
  idTokenVariable?: string
): Host {
  // The redactor is a child process: it gets the agent's variables, never
  // an ID token (the one the identity names, or GitHub's request tokens).
  const childEnv = { ...env }
  for (const name of [
    'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    'ACTIONS_RUNTIME_TOKEN',
    ...(idTokenVariable ? [idTokenVariable] : [])
  ]) {
    Reflect.deleteProperty(childEnv, name)
  }
  return {
    mask: (value): void => {
      if (redactor === 'github') line(`::add-mask::${value}`)
      else if (redactor === 'buildkite') buildkiteRedact(value, childEnv)
    },
    info: line,
    warning: (text): void => {
      line(redactor === 'github' ? `::warning::${text}` : `Warning: ${text}`)
    },
    // The core's debug lines are for the runner's step debug log; the CLI
    // has none.
    debug: () => undefined,
    saveRecord: (json): void => {
      if (!state) throw new Error('this command saves no record')
      state.write(json)
    },
    // The CLI never exports KUBECONFIG; it prints the path instead.
    exportVariable: () => undefined,
    proxyFor: (url) => getProxyUrl(url)?.href
  }
}

/** Install the CLI's host; called first by mint and revoke. */
export function useCliHost(
  env: NodeJS.ProcessEnv,
  state?: StateFile,
  idTokenVariable?: string
): Redactor {
  const redactor = redactorFor(env)
  useHost(cliHost(redactor, state, env, idTokenVariable))
  return redactor
}
