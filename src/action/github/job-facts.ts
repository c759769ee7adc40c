import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import type { Fact } from '../../core/token/auto-lifetime.js'
import { isDeadlineError, within } from '../../core/kube/deadline.js'
import { COMMIT_SHA, splitRepository, type JobContext } from './job-context.js'
import {
  jobTimeoutFromWorkflow,
  type WorkflowTimeout
} from './workflow-timeout.js'

/** Something read from GitHub, or why it could not be. */
export type { Fact }

type Octokit = ReturnType<typeof getOctokit>
/** What `getOctokit` takes as plugins (e.g. `retry`). */
type OctokitPlugin = NonNullable<Parameters<typeof getOctokit>[2]>

/** How long one fact may take, retries and pages included. */
const GITHUB_CALL_TIMEOUT_MS = 10_000

export interface GitHubApiOptions {
  /** The `github-token` input; a credential, never printed. */
  token: string
  /** `GITHUB_API_URL` (GHES: `https://host/api/v3`); default https://api.github.com. */
  apiUrl?: string
  /** Bound on each fact; default GITHUB_CALL_TIMEOUT_MS. */
  timeoutMs?: number
  /** Octokit plugins, such as `retry` from @octokit/plugin-retry. */
  plugins?: OctokitPlugin[]
}

/** A connection to the GitHub REST API; make it with connectGitHub(). */
export interface GitHubApi {
  readonly apiUrl: string
  readonly timeoutMs: number
  /** undefined when the token cannot be used; `unusable` says why. */
  readonly octokit: Octokit | undefined
  readonly unusable?: string
}

/** Where this run is: the runner's `GITHUB_*` / `RUNNER_NAME` variables. */
export interface RunCoordinates {
  /** GITHUB_REPOSITORY, `owner/repo` of the run (the caller, for reusable workflows). */
  repository?: string
  /** GITHUB_RUN_ID */
  runId?: string
  /** GITHUB_RUN_ATTEMPT */
  runAttempt?: string
  /** RUNNER_NAME */
  runnerName?: string
  /** GITHUB_WORKFLOW_REF: `owner/repo/.github/workflows/x.yml@refs/heads/main` of the run's workflow. */
  workflowRef?: string
  /** GITHUB_WORKFLOW_SHA */
  workflowSha?: string
  /** GITHUB_JOB: the job's key in the file that defines it. */
  job?: string
}

/** The coordinates from an environment (the process's by default). */
export function runCoordinatesFromEnv(
  env: NodeJS.ProcessEnv = process.env
): RunCoordinates {
  return {
    repository: env.GITHUB_REPOSITORY,
    runId: env.GITHUB_RUN_ID,
    runAttempt: env.GITHUB_RUN_ATTEMPT,
    runnerName: env.RUNNER_NAME,
    workflowRef: env.GITHUB_WORKFLOW_REF,
    workflowSha: env.GITHUB_WORKFLOW_SHA,
    job: env.GITHUB_JOB
  }
}

/**
 * An Octokit from @actions/github (proxy settings, GHES through `apiUrl`).
 * Never throws; an unusable token makes every call answer why, uncalled.
 */
export function connectGitHub(options: GitHubApiOptions): GitHubApi {
  const apiUrl = (options.apiUrl ?? 'https://api.github.com').replace(
    /\/+$/,
    ''
  )
  const token = options.token.trim()
  const common = {
    apiUrl,
    timeoutMs: options.timeoutMs ?? GITHUB_CALL_TIMEOUT_MS
  }
  if (token === '') {
    return {
      ...common,
      octokit: undefined,
      unusable: "the input 'github-token' is empty"
    }
  }
  // An HTTP header carries only visible ASCII; fetch would refuse anything
  // else with an error that quotes the header, token and all.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    return {
      ...common,
      octokit: undefined,
      unusable: "the input 'github-token' has characters no token has"
    }
  }
  return {
    ...common,
    octokit: getOctokit(
      token,
      // baseUrl is passed rather than left to @actions/github, which
      // reads GITHUB_API_URL once, when it is first imported.
      {
        // Octokit's retry plugin: a 5xx or a dropped connection is tried
        // twice more (after 0.25 s and 1 s), inside the same per-call deadline.
        retry: { retries: 2, retryAfterBaseValue: 250 },
        baseUrl: apiUrl
      },
      ...(options.plugins ?? [retry])
    )
  }
}

/** What to say for each HTTP status of one kind of call. */
interface CallWords {
  forbidden: string
  notFound: string
}

/**
 * A failed call. `elsewhere` when another way may still find the fact: the
 * API answered 404 for what was asked. A refusal (401, 403), a failing or
 * unreachable API, or the deadline would refuse the other way too.
 */
type Failed = { ok: false; why: string; elsewhere?: boolean }

/** The innermost message of an error's `cause` chain (undici nests the socket error). */
function rootMessage(error: unknown): string | undefined {
  let current = error as { cause?: unknown; message?: unknown } | null
  let message: string | undefined
  for (let depth = 0; depth < 5 && current; depth++) {
    if (typeof current.message === 'string' && current.message.trim()) {
      // It is quoted inside a sentence: one line, no full stop of its own.
      message = current.message.replace(/\s+/g, ' ').replace(/[.\s]+$/, '')
    }
    current = current.cause as typeof current
  }
  return message
}

function timedOut(api: GitHubApi): Failed {
  return {
    ok: false,
    why: `the GitHub API at ${api.apiUrl} did not answer within ${String(api.timeoutMs / 1000)} s`
  }
}

/**
 * What a 403 that is not the primary rate limit means. GitHub answers 403
 * for a missing permission, but also when the organization's SAML single
 * sign-on has not authorized the token (it then sets X-GitHub-SSO), when its
 * IP allow list does not include the runner, and for a secondary rate limit
 * (often with Retry-After): name what the headers show, else every cause and
 * its fix. Only headers are read, never the body.
 */
function forbidden(headers: Record<string, unknown>, words: CallWords): string {
  if (headers['x-github-sso'] !== undefined) {
    return "the organization's SAML single sign-on has not authorized the github-token (authorize it for the organization, or use the job's GITHUB_TOKEN)"
  }
  if (headers['retry-after'] !== undefined) {
    return 'a secondary rate limit applies (re-run the job later)'
  }
  return (
    `either ${words.forbidden}, or the organization's SAML single sign-on has ` +
    `not authorized the token (authorize it), or its IP allow list does not ` +
    `include this runner (allow the runner's address), or a secondary rate ` +
    `limit applies (re-run later)`
  )
}

/**
 * One short clause for a failed call, never the response body. A socket
 * error's own words are kept: main registered the token with maskSecret
 * before any GitHub call and prints these clauses through redact.
 */
function failure(
  api: GitHubApi,
  error: unknown,
  signal: AbortSignal,
  words: CallWords
): Failed {
  if (signal.aborted || isDeadlineError(error)) return timedOut(api)
  const failed = error as {
    status?: unknown
    response?: { headers?: Record<string, unknown> }
  } | null
  const status = typeof failed?.status === 'number' ? failed.status : undefined
  if (status === undefined || failed?.response === undefined) {
    // No HTTP answer at all: Octokit reports a failed fetch as status 500
    // without a response, the socket error being the cause of its cause.
    const cause = rootMessage(error)
    return {
      ok: false,
      why: `the GitHub API at ${api.apiUrl} could not be reached${cause ? `: ${cause}` : ''}`
    }
  }
  const headers = failed.response.headers ?? {}
  const answered = `the GitHub API answered ${String(status)}`
  if (
    (status === 403 || status === 429) &&
    String(headers['x-ratelimit-remaining']) === '0'
  ) {
    return { ok: false, why: `${answered}: its rate limit is used up` }
  }
  const meaning: Record<number, string> = {
    401: 'it refused the github-token',
    403: forbidden(headers, words),
    404: words.notFound,
    429: 'a secondary rate limit applies (re-run the job later)'
  }
  const said = meaning[status]
  return {
    ok: false,
    why: said ? `${answered}: ${said}` : answered,
    ...(status === 404 ? { elsewhere: true } : {})
  }
}

/**
 * Read one fact (every call it makes, their retries and pages, and any
 * fallback) under one deadline of `api.timeoutMs`: see within().
 */
async function bounded<T>(
  api: GitHubApi,
  read: (signal: AbortSignal) => Promise<Fact<T>>
): Promise<Fact<T>> {
  try {
    return await within(api.timeoutMs, read)
  } catch (error) {
    if (isDeadlineError(error)) return timedOut(api)
    throw error
  }
}

/** One call of a fact, ended by the fact's `signal`. */
async function call<T>(
  api: GitHubApi,
  signal: AbortSignal,
  words: CallWords,
  run: (octokit: Octokit) => Promise<T>
): Promise<{ ok: true; value: T } | Failed> {
  if (api.octokit === undefined) {
    return { ok: false, why: api.unusable ?? 'no GitHub API connection' }
  }
  try {
    return { ok: true, value: await run(api.octokit) }
  } catch (error) {
    return failure(api, error, signal, words)
  }
}

function timestamp(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/** When the job started. */
export interface JobStart {
  startedAt: Date
}

const JOBS_WORDS: CallWords = {
  forbidden:
    "the github-token lacks 'actions: read' (grant it in the job's permissions)",
  notFound: 'GitHub does not know that job in this repository'
}

async function startFromCheckRun(
  api: GitHubApi,
  signal: AbortSignal,
  where: { owner: string; repo: string },
  checkRunId: number,
  runId: string | undefined
): Promise<{ ok: true; value: JobStart } | Failed> {
  const job = await call(api, signal, JOBS_WORDS, async (octokit) => {
    const response = await octokit.rest.actions.getJobForWorkflowRun({
      ...where,
      job_id: checkRunId,
      request: { signal }
    })
    return response.data
  })
  if (!job.ok) return job
  // job-context is an input: a check run of another run is not this job,
  // which the runner-name search may still find.
  if (runId !== undefined && String(job.value.run_id) !== runId) {
    return {
      ok: false,
      why: `check run ${String(checkRunId)} belongs to run ${String(job.value.run_id)}, not to this run ${runId}`,
      elsewhere: true
    }
  }
  const startedAt = timestamp(job.value.started_at)
  return startedAt === undefined
    ? {
        ok: false,
        why: `job ${String(checkRunId)} has no start time yet`,
        elsewhere: true
      }
    : { ok: true, value: { startedAt } }
}

/** GitHub's largest page. */
const JOBS_PER_PAGE = 100
/** A cap, so that no answer can make it page for ever (3,000 jobs; the deadline bounds it too). */
const MAX_JOB_PAGES = 30

async function startFromRunnerName(
  api: GitHubApi,
  signal: AbortSignal,
  where: { owner: string; repo: string },
  run: RunCoordinates
): Promise<Fact<JobStart>> {
  const runId = Number(run.runId)
  const attempt = Number(run.runAttempt ?? '1')
  const runnerName = run.runnerName?.trim() ?? ''
  if (!Number.isSafeInteger(runId) || runId <= 0) {
    return { ok: false, why: 'GITHUB_RUN_ID is not set' }
  }
  if (!Number.isSafeInteger(attempt) || attempt <= 0) {
    return { ok: false, why: 'GITHUB_RUN_ATTEMPT is not a number' }
  }
  if (runnerName === '') return { ok: false, why: 'RUNNER_NAME is not set' }
  // Paged by hand: octokit.paginate drops the `request` options, so its
  // requests would not see the signal, and a stalled page would keep its
  // socket (and so the step's process) open past the deadline.
  const jobs = await call(api, signal, JOBS_WORDS, async (octokit) => {
    const all: Awaited<
      ReturnType<typeof octokit.rest.actions.listJobsForWorkflowRunAttempt>
    >['data']['jobs'] = []
    for (let page = 1; page <= MAX_JOB_PAGES; page++) {
      const { data } = await octokit.rest.actions.listJobsForWorkflowRunAttempt(
        {
          ...where,
          run_id: runId,
          attempt_number: attempt,
          per_page: JOBS_PER_PAGE,
          page,
          request: { signal }
        }
      )
      all.push(...data.jobs)
      if (data.jobs.length < JOBS_PER_PAGE || all.length >= data.total_count) {
        break
      }
    }
    return all
  })
  if (!jobs.ok) return { ok: false, why: jobs.why }
  const mine = jobs.value.filter(
    (job) => job.status === 'in_progress' && job.runner_name === runnerName
  )
  const [only] = mine
  if (mine.length !== 1 || only === undefined) {
    return {
      ok: false,
      why:
        mine.length === 0
          ? `no job of run ${String(runId)} attempt ${String(attempt)} is in progress on runner '${runnerName}'`
          : `${String(mine.length)} jobs of run ${String(runId)} are in progress on runner '${runnerName}'`
    }
  }
  const startedAt = timestamp(only.started_at)
  return startedAt === undefined
    ? { ok: false, why: `job ${String(only.id)} has no start time yet` }
    : { ok: true, value: { startedAt } }
}

/**
 * When the running job started: `GET /repos/{owner}/{repo}/actions/jobs/{job.check_run_id}`;
 * without a check run id (GHES, local runners), or when GitHub does not
 * know that job (404), it belongs to another run, or it has no start yet,
 * the run attempt's jobs, taking the one in progress on RUNNER_NAME. Both
 * ways share one deadline. Needs `actions: read`. Never throws.
 */
export async function jobStartedAt(
  api: GitHubApi,
  job: JobContext,
  run: RunCoordinates
): Promise<Fact<JobStart>> {
  const where = splitRepository(run.repository)
  if (where === undefined) {
    return { ok: false, why: 'GITHUB_REPOSITORY is not set' }
  }
  return bounded(api, async (signal) => {
    let first: string | undefined
    if (job.checkRunId !== undefined) {
      const found = await startFromCheckRun(
        api,
        signal,
        where,
        job.checkRunId,
        run.runId
      )
      if (found.ok) return found
      // A refusal, a failing or silent API, or the deadline would meet the
      // fallback too (same token, same API), and say less about the cause.
      if (!found.elsewhere) return { ok: false, why: found.why }
      first = found.why
    }
    const fallback = await startFromRunnerName(api, signal, where, run)
    if (fallback.ok || first === undefined) return fallback
    // Both ways failed: the first reason is the one to act on, unless the
    // fallback had a different one.
    return fallback.why === first
      ? fallback
      : { ok: false, why: `${first}, and ${fallback.why}` }
  })
}

/** A workflow file at one commit. */
export interface WorkflowLocation {
  owner: string
  repo: string
  /** Repository-relative, `.github/workflows/x.yml`. */
  path: string
  /** The commit to read it at. */
  ref: string
}

/** `owner/repo/path@ref`, for messages. */
function describeLocation(location: WorkflowLocation): string {
  const ref = COMMIT_SHA.test(location.ref)
    ? location.ref.slice(0, 7)
    : location.ref
  return `${location.owner}/${location.repo}/${location.path}@${ref}`
}

const WORKFLOW_REF =
  /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)\/(\.github\/workflows\/[^/@]+)@(.+)$/

/**
 * Which file defines the running job: the job context's own
 * (`job.workflow_repository`, `job.workflow_file_path` at `job.workflow_sha`,
 * which name the called file inside a reusable workflow), else the run's
 * workflow (GITHUB_WORKFLOW_REF at GITHUB_WORKFLOW_SHA). Pure.
 */
export function workflowLocation(
  job: JobContext,
  run: RunCoordinates
): Fact<WorkflowLocation> {
  const own = splitRepository(job.workflowRepository)
  if (own && job.workflowFilePath && job.workflowSha) {
    return {
      ok: true,
      value: { ...own, path: job.workflowFilePath, ref: job.workflowSha }
    }
  }
  const match = WORKFLOW_REF.exec(run.workflowRef?.trim() ?? '')
  const where = splitRepository(`${match?.[1] ?? ''}/${match?.[2] ?? ''}`)
  if (!where || !match?.[3]) {
    return {
      ok: false,
      why: run.workflowRef
        ? 'GITHUB_WORKFLOW_REF does not name a workflow file'
        : 'neither job-context nor GITHUB_WORKFLOW_REF names the workflow file'
    }
  }
  const sha = run.workflowSha?.trim() ?? ''
  if (!COMMIT_SHA.test(sha)) {
    return { ok: false, why: 'GITHUB_WORKFLOW_SHA is not a commit' }
  }
  return { ok: true, value: { ...where, path: match[3], ref: sha } }
}

/** A workflow file's text and where it came from. */
export interface WorkflowDefinition {
  text: string
  location: WorkflowLocation
}

/**
 * The text of the workflow file that defines the running job, through the
 * contents API at the exact commit. Needs `contents: read` on that
 * repository (a reusable workflow in another private repository is usually
 * out of the job token's reach). Never throws.
 */
export async function readWorkflowDefinition(
  api: GitHubApi,
  job: JobContext,
  run: RunCoordinates
): Promise<Fact<WorkflowDefinition>> {
  const where = workflowLocation(job, run)
  if (!where.ok) return where
  const location = where.value
  const shown = describeLocation(location)
  const file = await bounded(api, (signal) =>
    call(
      api,
      signal,
      {
        forbidden: `the github-token lacks 'contents: read' on ${location.owner}/${location.repo}`,
        notFound: `${shown} was not found, or the github-token cannot read ${location.owner}/${location.repo}`
      },
      async (octokit) => {
        const response = await octokit.rest.repos.getContent({
          owner: location.owner,
          repo: location.repo,
          path: location.path,
          ref: location.ref,
          request: { signal }
        })
        return response.data
      }
    )
  )
  if (!file.ok) return { ok: false, why: file.why }
  const data = file.value
  if (
    Array.isArray(data) ||
    data.type !== 'file' ||
    !('content' in data) ||
    !('encoding' in data)
  ) {
    return { ok: false, why: `${shown} is not a file` }
  }
  if (data.encoding !== 'base64') {
    // The contents API leaves `content` empty for files over 1 MB.
    return { ok: false, why: `${shown} is too large to read` }
  }
  return {
    ok: true,
    value: {
      text: Buffer.from(data.content, 'base64').toString('utf8'),
      location
    }
  }
}

/** What `duration: auto` needs from GitHub; see decideAutoLifetime(). */
export interface JobFacts {
  start: Fact<JobStart>
  /** undefined when not asked for (the input job-timeout-minutes was given). */
  timeout: WorkflowTimeout | undefined
}

/**
 * Read both facts at once (they are independent), each bounded by the API's
 * timeout. `readTimeout: false` skips the workflow file, for when the input
 * job-timeout-minutes gives the timeout. Never throws.
 */
export async function readJobFacts(
  api: GitHubApi,
  job: JobContext,
  run: RunCoordinates,
  readTimeout: boolean
): Promise<JobFacts> {
  const [start, definition] = await Promise.all([
    jobStartedAt(api, job, run),
    readTimeout ? readWorkflowDefinition(api, job, run) : undefined
  ])
  if (definition === undefined) return { start, timeout: undefined }
  if (!definition.ok) {
    return { start, timeout: { kind: 'unreadable', why: definition.why } }
  }
  return {
    start,
    timeout: jobTimeoutFromWorkflow(
      definition.value.text,
      run.job ?? '',
      describeLocation(definition.value.location)
    )
  }
}
