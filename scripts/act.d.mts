// Types for scripts/act.mjs, so the TypeScript tests can import it
// (the project type-checks .ts only; allowJs stays off).

export declare const ROOT: string
export declare const ACT_MODULE: string
export declare const ACT_VERSION: string
export declare const ACT_BIN: string

/** go install act into .cache/bin unless the pinned version is there; returns its path. */
export declare function buildAct(options?: { force?: boolean }): string

/** Copy action.yml and dist/ of `from` (default: this repository) into `dest`; returns dest. */
export declare function stageAction(dest: string, from?: string): string

export interface RunWorkflowOptions {
  /** Workflow file, absolute or relative to repoDir. */
  workflow: string
  /** act's working directory: what a checkout step copies, what `./` means. */
  repoDir: string
  job?: string
  /** Event name; default 'push'. */
  event?: string
  eventPayload?: unknown
  env?: Record<string, string>
  secrets?: Record<string, string>
  /** Env variables that act also masks as secrets. */
  secretEnv?: Record<string, string>
  inputs?: Record<string, string>
  vars?: Record<string, string>
  /** `uses: owner/repo@ref` (actions, reusable workflows) run from a local directory. */
  localActions?: Record<string, string>
  /** Directories put on PATH after Node 24. */
  path?: string[]
  /** Extra variables for act itself; act copies them into every step. */
  hostEnv?: Record<string, string>
  verbose?: boolean
  timeoutMs?: number
  signal?: AbortSignal
  keepRunDir?: boolean
  actBin?: string
}

export interface RunWorkflowResult {
  /** act's exit code: 0 only if every job succeeded. */
  code: number
  /** act's stdout and stderr, merged. */
  output: string
  /** The GITHUB_RUN_ID the run had (fresh per run). */
  runId: string
  /** Files left in the RUNNER_TEMP of failed jobs (act removes successful jobs' RUNNER_TEMP). */
  leftovers: string[]
  timedOut: boolean
  runDir?: string
}

export declare function runWorkflow(
  options: RunWorkflowOptions
): Promise<RunWorkflowResult>
