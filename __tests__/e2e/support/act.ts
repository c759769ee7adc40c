import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  ROOT,
  runWorkflow as runWithAct,
  stageAction,
  type RunWorkflowOptions,
  type RunWorkflowResult
} from '../../../scripts/act.mjs'

/**
 * The real workflow runner for the e2e tests: nektos/act in host mode
 * (scripts/act.mjs). What it does like GitHub and where it differs is in
 * /work/notes/act.md; the gaps that matter here:
 * - RUNNER_TEMP is deleted after a successful job, so `leftovers` sees
 *   failed jobs only (end a job with a failing step to inspect it);
 * - `uses: ./` needs a checkout step first (the workspace starts empty);
 * - no OIDC, no job timeout (`timeout-minutes` of a job is ignored), no
 *   GITHUB_WORKFLOW_REF, `job` context has `status` only;
 * - masks are per job: a masked value passed as a job output prints in clear
 *   in the next job (GitHub drops such outputs instead).
 */

export type WorkflowRun = RunWorkflowResult

/** runWorkflow's options (scripts/act.d.mts), with the workflow passed apart and `actionRefs` added. */
export type WorkflowOptions = Pick<
  RunWorkflowOptions,
  | 'repoDir'
  | 'job'
  | 'event'
  | 'eventPayload'
  | 'env'
  | 'secrets'
  | 'secretEnv'
  | 'inputs'
  | 'vars'
  | 'localActions'
  | 'path'
  | 'verbose'
  | 'timeoutMs'
  | 'signal'
> & {
  /**
   * `uses:` references such as 'acme/ephemeral-scan-token@v1' that run this
   * repository's action.yml + dist/, without a checkout step or network.
   */
  actionRefs?: string[]
}

/** The real kubectl the cluster scripts build; steps find it on PATH. */
const CACHE_BIN = path.join(ROOT, '.cache', 'bin')

/**
 * What steps see as GITHUB_API_URL unless a test gives its stand-in: a
 * loopback port nothing listens on, so a run that would call the GitHub API
 * (`duration: auto` with a token) is refused at once and never leaves the
 * machine.
 */
export const NO_GITHUB_API = 'http://127.0.0.1:9'

/**
 * Run `workflowFile` (absolute, or relative to repoDir) through act and
 * return act's exit code and output (with act's masking applied), the run's
 * GITHUB_RUN_ID, and what failed jobs left in RUNNER_TEMP.
 */
export async function runWorkflow(
  workflowFile: string,
  options: WorkflowOptions
): Promise<WorkflowRun> {
  // global-setup.mjs built act before any test file started, so parallel
  // test files never build (go install replaces the binary in place).
  const staged = fs.mkdtempSync(path.join(os.tmpdir(), 'act-action-'))
  try {
    const localActions: Record<string, string> = {
      ...options.localActions
    }
    if (options.actionRefs && options.actionRefs.length > 0) {
      const dir = stageAction(path.join(staged, 'action'))
      for (const ref of options.actionRefs) localActions[ref] = dir
    }
    return await runWithAct({
      workflow: workflowFile,
      repoDir: options.repoDir,
      job: options.job,
      event: options.event,
      eventPayload: options.eventPayload,
      env: { GITHUB_API_URL: NO_GITHUB_API, ...options.env },
      secrets: options.secrets,
      secretEnv: options.secretEnv,
      inputs: options.inputs,
      vars: options.vars,
      localActions,
      path: [CACHE_BIN, ...(options.path ?? [])],
      verbose: options.verbose,
      timeoutMs: options.timeoutMs,
      signal: options.signal
    })
  } finally {
    fs.rmSync(staged, { recursive: true, force: true })
  }
}

/**
 * A throwaway repository for act: the given files (e.g.
 * '.github/workflows/scan.yml') and, with `withAction`, this repository's
 * action.yml + dist/ at its root so `uses: ./` works after a checkout step.
 * The caller removes it (fs.rmSync(dir, { recursive: true })).
 */
export function makeRepo(
  files: Record<string, string>,
  { withAction = false }: { withAction?: boolean } = {}
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'act-repo-'))
  if (withAction) stageAction(dir)
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, content)
  }
  return dir
}
