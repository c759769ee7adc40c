import { afterEach, describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import {
  connectGitHub,
  jobStartedAt,
  readJobFacts,
  readWorkflowDefinition,
  runCoordinatesFromEnv,
  workflowLocation,
  type Fact,
  type RunCoordinates
} from '../../../../src/action/github/job-facts.js'
import type { JobContext } from '../../../../src/action/github/job-context.js'
import {
  startGitHubApi,
  type FakeJob,
  type GitHubApiScript,
  type GitHubApiStandIn
} from '../../../e2e/support/github-api.js'

// Unit tests of the GitHub calls against a loopback stand-in of the REST API.

const TOKEN = 'ghs_unitTestToken0123456789abcdefABCDEF'
const SHA = '0123456789abcdef0123456789abcdef01234567'
const SHARED_SHA = 'fedcba9876543210fedcba9876543210fedcba98'
const STARTED = '2026-11-23T11:50:00Z'

const RUN: RunCoordinates = {
  repository: 'octo-org/scan-repo',
  runId: '4242',
  runAttempt: '2',
  runnerName: 'scan-runner-7',
  workflowRef: 'octo-org/scan-repo/.github/workflows/scan.yml@refs/heads/main',
  workflowSha: SHA,
  job: 'inspec'
}

function job(overrides: Partial<FakeJob>): FakeJob {
  return {
    id: 1,
    run_id: 4242,
    status: 'completed',
    started_at: '2026-11-23T11:00:00Z',
    runner_name: 'other-runner',
    ...overrides
  }
}

const SCAN_YML = [
  'on: push',
  'jobs:',
  '  inspec:',
  '    runs-on: ubuntu-latest',
  '    timeout-minutes: 30',
  ''
].join('\n')

const SHARED_YML = [
  'on:',
  '  workflow_call:',
  'jobs:',
  '  inspec:',
  '    runs-on: ubuntu-latest',
  '    timeout-minutes: 45',
  ''
].join('\n')

const REUSABLE_JOB: JobContext = {
  checkRunId: 777,
  workflowRepository: 'octo-org/shared',
  workflowFilePath: '.github/workflows/scan.yml',
  workflowSha: SHARED_SHA
}

let standIn: GitHubApiStandIn | undefined

async function api(
  script: GitHubApiScript,
  options: { timeoutMs?: number; token?: string } = {}
): Promise<{ stand: GitHubApiStandIn; gh: ReturnType<typeof connectGitHub> }> {
  const stand = await startGitHubApi({ token: TOKEN, ...script })
  standIn = stand
  return {
    stand,
    gh: connectGitHub({
      token: options.token ?? TOKEN,
      apiUrl: stand.url,
      timeoutMs: options.timeoutMs
    })
  }
}

afterEach(async () => {
  await standIn?.close()
  standIn = undefined
})

const FORBIDDEN_JOBS =
  "the GitHub API answered 403: either the github-token lacks 'actions: read' (grant it in the job's permissions), or the organization's SAML single sign-on has not authorized the token (authorize it), or its IP allow list does not include this runner (allow the runner's address), or a secondary rate limit applies (re-run later)"

function why(fact: Fact<unknown>): string {
  if (fact.ok) throw new Error('expected a failure')
  return fact.why
}

describe('job-facts.ts (unit, against a loopback GitHub API stand-in)', () => {
  it('reads the start from the check run, sending the token as GitHub expects', async () => {
    const { stand, gh } = await api({
      jobs: {
        'octo-org/scan-repo': [
          job({ id: 777, status: 'in_progress', started_at: STARTED })
        ]
      }
    })
    const start = await jobStartedAt(gh, { checkRunId: 777 }, RUN)
    expect(start).toEqual({
      ok: true,
      value: { startedAt: new Date(STARTED) }
    })
    expect(stand.requests).toHaveLength(1)
    expect(stand.requests[0]).toMatchObject({
      method: 'GET',
      path: '/repos/octo-org/scan-repo/actions/jobs/777',
      authorization: `token ${TOKEN}`
    })
  })

  it('falls back to the in-progress job on RUNNER_NAME, across pages', async () => {
    const jobs = Array.from({ length: 150 }, (_, i) =>
      job({ id: 1000 + i, status: 'completed' })
    )
    // The same runner ran an earlier job of this attempt: only the one in
    // progress is this job.
    jobs[3] = job({ id: 1003, runner_name: 'scan-runner-7' })
    jobs[120] = job({
      id: 1120,
      status: 'in_progress',
      runner_name: 'scan-runner-7',
      started_at: STARTED
    })
    const { stand, gh } = await api({
      attemptJobs: [
        { repository: 'octo-org/scan-repo', runId: 4242, attempt: 2, jobs }
      ]
    })
    const start = await jobStartedAt(gh, {}, RUN)
    expect(start).toEqual({
      ok: true,
      value: { startedAt: new Date(STARTED) }
    })
    expect(stand.requests.map((r) => [r.path, r.query.page ?? '1'])).toEqual([
      ['/repos/octo-org/scan-repo/actions/runs/4242/attempts/2/jobs', '1'],
      ['/repos/octo-org/scan-repo/actions/runs/4242/attempts/2/jobs', '2']
    ])
  })

  it('falls back when the check run belongs to another run (a wrong job-context)', async () => {
    const { gh } = await api({
      jobs: {
        'octo-org/scan-repo': [job({ id: 5, run_id: 1, started_at: STARTED })]
      },
      attemptJobs: [
        {
          repository: 'octo-org/scan-repo',
          runId: 4242,
          attempt: 2,
          jobs: [
            job({
              id: 9,
              status: 'in_progress',
              runner_name: 'scan-runner-7',
              started_at: '2026-11-23T11:55:00Z'
            })
          ]
        }
      ]
    })
    const start = await jobStartedAt(gh, { checkRunId: 5 }, RUN)
    expect(start.ok && start.value).toEqual({
      startedAt: new Date('2026-11-23T11:55:00Z')
    })
  })

  it('does not fall back on a 403, and names every cause of one and its fix', async () => {
    const { stand, gh } = await api({ answer: { jobs: 403, attemptJobs: 403 } })
    expect(why(await jobStartedAt(gh, { checkRunId: 777 }, RUN))).toBe(
      FORBIDDEN_JOBS
    )
    // The runner-name search would meet the same refusal.
    expect(stand.requests.map((r) => r.path)).toEqual([
      '/repos/octo-org/scan-repo/actions/jobs/777'
    ])
  })

  it.each<[string, GitHubApiScript['answer']]>([
    ['a 401', { jobs: 401 }],
    ['a 500 that outlasts the retries', { jobs: 500 }],
    ['a 422', { jobs: 422 }]
  ])('does not fall back on %s', async (_what, answer) => {
    const { stand, gh } = await api({ answer })
    const start = await jobStartedAt(gh, { checkRunId: 777 }, RUN)
    expect(start.ok).toBe(false)
    expect(stand.requests.filter((r) => r.path.includes('/attempts/'))).toEqual(
      []
    )
  })

  it('falls back when the check run has no start time yet', async () => {
    const { stand, gh } = await api({
      jobs: {
        'octo-org/scan-repo': [
          job({ id: 777, status: 'queued', started_at: null })
        ]
      },
      attemptJobs: [
        {
          repository: 'octo-org/scan-repo',
          runId: 4242,
          attempt: 2,
          jobs: [
            job({
              id: 777,
              status: 'in_progress',
              runner_name: 'scan-runner-7',
              started_at: STARTED
            })
          ]
        }
      ]
    })
    const start = await jobStartedAt(gh, { checkRunId: 777 }, RUN)
    // Found by the runner-name search: the check run's lookup, then the search.
    expect(start.ok && start.value).toEqual({ startedAt: new Date(STARTED) })
    expect(stand.requests).toHaveLength(2)
  })

  it('joins two different reasons', async () => {
    const { gh } = await api({
      answer: { jobs: 404 },
      attemptJobs: [
        { repository: 'octo-org/scan-repo', runId: 4242, attempt: 2, jobs: [] }
      ]
    })
    expect(why(await jobStartedAt(gh, { checkRunId: 777 }, RUN))).toBe(
      "the GitHub API answered 404: GitHub does not know that job in this repository, and no job of run 4242 attempt 2 is in progress on runner 'scan-runner-7'"
    )
  })

  it('refuses to guess between two jobs in progress on the same runner name', async () => {
    const busy = (id: number): FakeJob =>
      job({ id, status: 'in_progress', runner_name: 'scan-runner-7' })
    const { gh } = await api({
      attemptJobs: [
        {
          repository: 'octo-org/scan-repo',
          runId: 4242,
          attempt: 2,
          jobs: [busy(1), busy(2)]
        }
      ]
    })
    expect(why(await jobStartedAt(gh, {}, RUN))).toBe(
      "2 jobs of run 4242 are in progress on runner 'scan-runner-7'"
    )
  })

  it('names what the runner did not set, without calling GitHub', async () => {
    const { stand, gh } = await api({})
    expect(
      why(await jobStartedAt(gh, {}, { ...RUN, runnerName: undefined }))
    ).toBe('RUNNER_NAME is not set')
    expect(
      why(await jobStartedAt(gh, {}, { ...RUN, repository: undefined }))
    ).toBe('GITHUB_REPOSITORY is not set')
    expect(stand.requests).toHaveLength(0)
  })

  it('says when the token is refused, or the rate limit is used up', async () => {
    const refused = await api({}, { token: 'ghs_wrong' })
    expect(why(await jobStartedAt(refused.gh, { checkRunId: 1 }, RUN))).toBe(
      'the GitHub API answered 401: it refused the github-token'
    )
    await refused.stand.close()
    const limited = await api({ answer: { jobs: 403 }, rateLimited: true })
    expect(
      why(
        await jobStartedAt(
          limited.gh,
          { checkRunId: 1 },
          { ...RUN, runnerName: undefined }
        )
      )
    ).toBe('the GitHub API answered 403: its rate limit is used up')
  })

  it('keeps no copy of the token where logging the connection would print it', () => {
    const gh = connectGitHub({ token: TOKEN, apiUrl: 'http://127.0.0.1:1' })
    expect(inspect(gh, { depth: 6, showHidden: true })).not.toContain(TOKEN)
  })

  it('makes no call with an empty github-token', async () => {
    const { stand, gh } = await api({}, { token: '  ' })
    expect(why(await jobStartedAt(gh, { checkRunId: 1 }, RUN))).toBe(
      "the input 'github-token' is empty"
    )
    expect(stand.requests).toHaveLength(0)
  })

  it('refuses a token that cannot be an HTTP header, before any call', async () => {
    const { stand, gh } = await api({}, { token: `${TOKEN}\nX-Evil: 1` })
    const reason = why(await jobStartedAt(gh, { checkRunId: 1 }, RUN))
    expect(reason).toBe("the input 'github-token' has characters no token has")
    expect(stand.requests).toHaveLength(0)
  })

  it('reports an API that is down, without the token', async () => {
    const { stand, gh } = await api({ mode: 'down' })
    const reason = why(await jobStartedAt(gh, { checkRunId: 1 }, RUN))
    // The socket error, and only once: the fallback is not tried against an
    // API that is not there.
    expect(reason).toBe(
      `the GitHub API at ${stand.url} could not be reached: connect ECONNREFUSED ${stand.url.replace('http://', '')}`
    )
  })

  it('gives up on an API that never answers within the timeout', async () => {
    const { stand, gh } = await api({ mode: 'silent' }, { timeoutMs: 300 })
    const began = Date.now()
    const reason = why(await jobStartedAt(gh, { checkRunId: 1 }, RUN))
    expect(Date.now() - began).toBeLessThan(3000)
    expect(reason).toBe(
      `the GitHub API at ${stand.url} did not answer within 0.3 s`
    )
    // One wait, not two: no fallback call to an API that does not answer.
    expect(stand.requests).toHaveLength(1)
  })

  it('never repeats a response body, even one that echoes the token', async () => {
    const { gh } = await api({
      answer: { jobs: 500, attemptJobs: 500, contents: 500 },
      echoAuthorization: true
    })
    const facts = await readJobFacts(gh, REUSABLE_JOB, RUN, true)
    const text = JSON.stringify(facts)
    expect(text).toContain('the GitHub API answered 500')
    expect(text).not.toContain(TOKEN)
    expect(text).not.toContain('Server Error')
  })

  it("reads a reusable workflow's own file, at its own commit", async () => {
    const { stand, gh } = await api({
      contents: [
        {
          repository: 'octo-org/shared',
          path: '.github/workflows/scan.yml',
          ref: SHARED_SHA,
          text: SHARED_YML
        },
        {
          repository: 'octo-org/scan-repo',
          path: '.github/workflows/scan.yml',
          ref: SHA,
          text: SCAN_YML
        }
      ]
    })
    const definition = await readWorkflowDefinition(gh, REUSABLE_JOB, RUN)
    expect(definition).toEqual({
      ok: true,
      value: {
        text: SHARED_YML,
        location: {
          owner: 'octo-org',
          repo: 'shared',
          path: '.github/workflows/scan.yml',
          ref: SHARED_SHA
        }
      }
    })
    expect(stand.requests).toEqual([
      expect.objectContaining({
        path: '/repos/octo-org/shared/contents/.github/workflows/scan.yml',
        query: { ref: SHARED_SHA },
        authorization: `token ${TOKEN}`
      })
    ])
  })

  it('reads GITHUB_WORKFLOW_REF at GITHUB_WORKFLOW_SHA without the job context', async () => {
    const { stand, gh } = await api({
      contents: [
        {
          repository: 'octo-org/scan-repo',
          path: '.github/workflows/scan.yml',
          ref: SHA,
          text: SCAN_YML
        }
      ]
    })
    const definition = await readWorkflowDefinition(gh, {}, RUN)
    expect(definition.ok && definition.value.text).toBe(SCAN_YML)
    expect(stand.requests[0]?.query).toEqual({ ref: SHA })
  })

  it('names the file and the permission when the file cannot be read', async () => {
    const missing = await api({})
    expect(
      why(await readWorkflowDefinition(missing.gh, REUSABLE_JOB, RUN))
    ).toBe(
      'the GitHub API answered 404: octo-org/shared/.github/workflows/scan.yml@fedcba9 was not found, or the github-token cannot read octo-org/shared'
    )
    await missing.stand.close()
    const forbidden = await api({ answer: { contents: 403 } })
    expect(
      why(await readWorkflowDefinition(forbidden.gh, REUSABLE_JOB, RUN))
    ).toBe(
      "the GitHub API answered 403: either the github-token lacks 'contents: read' on octo-org/shared, or the organization's SAML single sign-on has not authorized the token (authorize it), or its IP allow list does not include this runner (allow the runner's address), or a secondary rate limit applies (re-run later)"
    )
  })

  it('chooses the file: the job context when complete, else GITHUB_WORKFLOW_REF', () => {
    expect(workflowLocation(REUSABLE_JOB, RUN)).toEqual({
      ok: true,
      value: {
        owner: 'octo-org',
        repo: 'shared',
        path: '.github/workflows/scan.yml',
        ref: SHARED_SHA
      }
    })
    // Half a job context (no sha) is not trusted: the run's workflow is read.
    expect(
      workflowLocation({ ...REUSABLE_JOB, workflowSha: undefined }, RUN)
    ).toEqual({
      ok: true,
      value: {
        owner: 'octo-org',
        repo: 'scan-repo',
        path: '.github/workflows/scan.yml',
        ref: SHA
      }
    })
    expect(why(workflowLocation({}, { ...RUN, workflowRef: undefined }))).toBe(
      'neither job-context nor GITHUB_WORKFLOW_REF names the workflow file'
    )
    expect(
      why(
        workflowLocation({}, { ...RUN, workflowRef: 'octo-org/scan-repo@main' })
      )
    ).toBe('GITHUB_WORKFLOW_REF does not name a workflow file')
    expect(why(workflowLocation({}, { ...RUN, workflowSha: 'main' }))).toBe(
      'GITHUB_WORKFLOW_SHA is not a commit'
    )
    expect(
      why(
        workflowLocation(
          {},
          { ...RUN, workflowRef: 'octo-org/../.github/workflows/x.yml@main' }
        )
      )
    ).toBe('GITHUB_WORKFLOW_REF does not name a workflow file')
    // A 50-hex ref is neither SHA-1 nor SHA-256: a commit 40 or 64 long.
    expect(
      why(workflowLocation({}, { ...RUN, workflowSha: 'a'.repeat(50) }))
    ).toBe('GITHUB_WORKFLOW_SHA is not a commit')
  })

  it('reads both facts at once, and the timeout of the job in its file', async () => {
    const { stand, gh } = await api({
      jobs: {
        'octo-org/scan-repo': [
          job({ id: 777, status: 'in_progress', started_at: STARTED })
        ]
      },
      contents: [
        {
          repository: 'octo-org/shared',
          path: '.github/workflows/scan.yml',
          ref: SHARED_SHA,
          text: SHARED_YML
        }
      ]
    })
    expect(await readJobFacts(gh, REUSABLE_JOB, RUN, true)).toEqual({
      start: {
        ok: true,
        value: { startedAt: new Date(STARTED) }
      },
      timeout: { kind: 'minutes', minutes: 45 }
    })
    expect(stand.requests).toHaveLength(2)
  })

  it('skips the workflow file when job-timeout-minutes gives the timeout', async () => {
    const { stand, gh } = await api({
      jobs: {
        'octo-org/scan-repo': [
          job({ id: 777, status: 'in_progress', started_at: STARTED })
        ]
      }
    })
    const facts = await readJobFacts(gh, REUSABLE_JOB, RUN, false)
    expect(facts.timeout).toBeUndefined()
    expect(stand.requests.map((r) => r.path)).toEqual([
      '/repos/octo-org/scan-repo/actions/jobs/777'
    ])
  })

  it('turns a file without the job into an unreadable timeout naming the file', async () => {
    const { gh } = await api({
      contents: [
        {
          repository: 'octo-org/shared',
          path: '.github/workflows/scan.yml',
          ref: SHARED_SHA,
          text: SHARED_YML
        }
      ]
    })
    const facts = await readJobFacts(
      gh,
      REUSABLE_JOB,
      { ...RUN, job: 'trivy' },
      true
    )
    expect(facts.timeout).toEqual({
      kind: 'unreadable',
      why: "octo-org/shared/.github/workflows/scan.yml@fedcba9 has no job 'trivy'"
    })
  })

  it('takes its coordinates from the runner environment', () => {
    expect(
      runCoordinatesFromEnv({
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '1',
        GITHUB_RUN_ATTEMPT: '3',
        RUNNER_NAME: 'n',
        GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/w.yml@refs/heads/main',
        GITHUB_WORKFLOW_SHA: SHA,
        GITHUB_JOB: 'j'
      })
    ).toEqual({
      repository: 'o/r',
      runId: '1',
      runAttempt: '3',
      runnerName: 'n',
      workflowRef: 'o/r/.github/workflows/w.yml@refs/heads/main',
      workflowSha: SHA,
      job: 'j'
    })
  })
})

describe('job-facts.ts retries (unit, a loopback server that fails once)', () => {
  it('rides out one 502 with Octokit’s retry plugin, and gives up on a 404 at once', async () => {
    let calls = 0
    const server = http.createServer((req, res) => {
      calls++
      if (req.url?.includes('/jobs/404')) {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end('{"message":"Not Found"}')
        return
      }
      if (calls === 1) {
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end('{"message":"Bad Gateway"}')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          id: 777,
          run_id: 4242,
          status: 'in_progress',
          started_at: STARTED,
          runner_name: 'runner-7'
        })
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const gh = connectGitHub({
        token: TOKEN,
        apiUrl: `http://127.0.0.1:${port}`
      })
      const start = await jobStartedAt(gh, { checkRunId: 777 }, RUN)
      expect(start).toEqual({
        ok: true,
        value: { startedAt: new Date(STARTED) }
      })
      expect(calls).toBe(2)

      calls = 0
      const missing = await jobStartedAt(gh, { checkRunId: 404 }, RUN)
      expect(missing.ok).toBe(false)
      // Not retried; the fallback to the run attempt's jobs is a separate call.
      expect(calls).toBeLessThanOrEqual(2)
    } finally {
      server.close()
    }
  })
})

/** A loopback server that answers each request with `answer`; the requests' paths are kept. */
async function scripted(
  answer: (path: string, res: http.ServerResponse, n: number) => void
): Promise<{
  url: string
  paths: string[]
  /** Requests whose connection the client has closed. */
  closed: string[]
  close: () => Promise<void>
}> {
  const paths: string[] = []
  const closed: string[] = []
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '')
    req.socket.once('close', () => closed.push(req.url ?? ''))
    answer(req.url ?? '', res, paths.length)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${String(port)}`,
    paths,
    closed,
    close: async (): Promise<void> => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
    }
  }
}

function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

describe('job-facts.ts 403s (unit, a loopback server setting GitHub headers)', () => {
  it.each<[string, Record<string, string>, string]>([
    [
      'SAML single sign-on (X-GitHub-SSO)',
      { 'x-github-sso': 'required; url=https://github.com/orgs/o/sso?x=1' },
      "the GitHub API answered 403: the organization's SAML single sign-on has not authorized the github-token (authorize it for the organization, or use the job's GITHUB_TOKEN)"
    ],
    [
      'a secondary rate limit (Retry-After)',
      { 'retry-after': '60', 'x-ratelimit-remaining': '4000' },
      'the GitHub API answered 403: a secondary rate limit applies (re-run the job later)'
    ],
    ['no telling header', {}, FORBIDDEN_JOBS]
  ])('names %s', async (_what, headers, expected) => {
    const stand = await scripted((_path, res) => {
      json(
        res,
        403,
        { message: 'Resource not accessible by integration' },
        headers
      )
    })
    try {
      const gh = connectGitHub({ token: TOKEN, apiUrl: stand.url })
      const reason = why(await jobStartedAt(gh, { checkRunId: 777 }, RUN))
      expect(reason).toBe(expected)
      // Headers only: the SSO URL and the body are never repeated.
      expect(reason).not.toContain('sso?')
      expect(reason).not.toContain('Resource not accessible')
      expect(stand.paths).toHaveLength(1)
    } finally {
      await stand.close()
    }
  })
})

describe('job-facts.ts deadline (unit, a loopback server that stalls)', () => {
  it('bounds each fact by 10 s unless told otherwise', () => {
    expect(connectGitHub({ token: TOKEN }).timeoutMs).toBe(10_000)
  })

  it('ends a fact at its deadline even while the retry plugin waits between attempts', async () => {
    // 502 at once, every time: the retry plugin waits 0.25 s, then 1 s, on
    // timers that ignore the abort signal.
    const stand = await scripted((_path, res) => {
      json(res, 502, { message: 'Bad Gateway' })
    })
    try {
      const gh = connectGitHub({
        token: TOKEN,
        apiUrl: stand.url,
        timeoutMs: 600
      })
      const began = Date.now()
      const reason = why(await readWorkflowDefinition(gh, REUSABLE_JOB, RUN))
      const took = Date.now() - began
      expect(reason).toBe(
        `the GitHub API at ${stand.url} did not answer within 0.6 s`
      )
      // The deadline fell inside the 1 s wait after the second attempt:
      // without its own timer the fact took 1.25 s and a third attempt.
      expect(took).toBeGreaterThanOrEqual(590)
      expect(took).toBeLessThan(1_000)
      expect(stand.paths).toHaveLength(2)
    } finally {
      await stand.close()
    }
  })

  it('ends a fact at its deadline when the server never answers', async () => {
    const stand = await scripted(() => undefined)
    try {
      const gh = connectGitHub({
        token: TOKEN,
        apiUrl: stand.url,
        timeoutMs: 600
      })
      const began = Date.now()
      const reason = why(await readWorkflowDefinition(gh, REUSABLE_JOB, RUN))
      expect(Date.now() - began).toBeLessThan(1_000)
      expect(reason).toBe(
        `the GitHub API at ${stand.url} did not answer within 0.6 s`
      )
    } finally {
      await stand.close()
    }
  })

  it('gives the check run and its fallback one deadline between them', async () => {
    // The check run is not found after 0.7 s; the runner-name search then
    // stalls. Two deadlines would end it at 0.7 + 1 s.
    const stand = await scripted((path, res) => {
      if (path.includes('/actions/jobs/')) {
        setTimeout(() => {
          json(res, 404, { message: 'Not Found' })
        }, 700)
      }
    })
    try {
      const gh = connectGitHub({
        token: TOKEN,
        apiUrl: stand.url,
        timeoutMs: 1_000
      })
      const began = Date.now()
      const reason = why(await jobStartedAt(gh, { checkRunId: 777 }, RUN))
      const took = Date.now() - began
      expect(reason).toBe(
        `the GitHub API at ${stand.url} did not answer within 1 s`
      )
      expect(took).toBeGreaterThanOrEqual(990)
      expect(took).toBeLessThan(1_500)
      expect(stand.paths.map((p) => p.split('?')[0])).toEqual([
        '/repos/octo-org/scan-repo/actions/jobs/777',
        '/repos/octo-org/scan-repo/actions/runs/4242/attempts/2/jobs'
      ])
      // The stalled page was aborted, not left open: an open socket would
      // keep the step's process alive after main is done.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(stand.closed.some((p) => p.includes('/attempts/'))).toBe(true)
    } finally {
      await stand.close()
    }
  })
})
