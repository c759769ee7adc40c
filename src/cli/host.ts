import { spawnSync } from 'node:child_process'
import { getProxyUrl } from '@actions/http-client/lib/proxy'
import { useHost, type Host } from '../core/ports.js'
import type { StateFile } from './state-file.js'

/** Which log masker the CI system running the CLI has, if any. */
export type Redactor = 'github' | 'buildkite' | 'none'

/**
 * GitHub's `::add-mask::` only on GitHub Actions and Buildkite's redactor
 * only on Buildkite: anywhere else (GitLab, Jenkins, a shell) such a line
 * would print the value it means to hide. Elsewhere nothing masks, and the
 * CLI simply never prints a credential.
 */
export function redactorFor(env: NodeJS.ProcessEnv): Redactor {
  if (env.GITHUB_ACTIONS === 'true') return 'github'
  if (env.BUILDKITE === 'true') return 'buildkite'
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
  env: NodeJS.ProcessEnv = process.env
): Host {
  return {
    mask: (value): void => {
      if (redactor === 'github') line(`::add-mask::${value}`)
      else if (redactor === 'buildkite') buildkiteRedact(value, env)
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
  state?: StateFile
): Redactor {
  const redactor = redactorFor(env)
  useHost(cliHost(redactor, state, env))
  return redactor
}
