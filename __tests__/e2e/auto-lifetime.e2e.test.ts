/**
 * End-to-end: `duration: auto` reads the running job through a loopback
 * stand-in for the GitHub REST API (what it stands in for cannot run here)
 * and mints on the real kube-apiserver for the job's remaining time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  adminKubeConfig,
  createScanSetup,
  deleteNamespace,
  type ScanSetup
} from './support/cluster.js'
import {
  startGitHubApi,
  type GitHubApiScript,
  type GitHubApiStandIn
} from './support/github-api.js'
import { useRunners } from './support/hooks.js'
import { leaksOf } from './support/runner.js'

const admin = adminKubeConfig()
let setup: ScanSetup
const newRunner = useRunners()
const apis: GitHubApiStandIn[] = []

const TOKEN = 'ghs_e2eGitHubTokenThatMustNeverBePrinted0001'
const REPO = 'octo-org/scan-repo'
const SHA = '0123456789abcdef0123456789abcdef01234567'
const CALLED_REPO = 'octo-org/shared-workflows'
const CALLED_SHA = 'fedcba9876543210fedcba9876543210fedcba98'
const RUN_ID = 4242
const CHECK_RUN_ID = 777001

const minutesAgo = (m: number): string =>
  new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z')

const scanWorkflow = (timeout: string): string => `
name: security-scan
on: push
jobs:
  inspec:
    runs-on: ubuntu-latest
${timeout ? `    timeout-minutes: ${timeout}\n` : ''}    steps:
      - uses: octo-org/ephemeral-scan-token@v1
`

async function api(script: GitHubApiScript): Promise<GitHubApiStandIn> {
  const started = await startGitHubApi({ token: TOKEN, ...script })
  apis.push(started)
  return started
}

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'service-account': setup.scanner,
    namespace: setup.namespace,
    kubeconfig: setup.bootstrapKubeconfig,
    'max-duration': '2h',
    'github-token': TOKEN,
    'job-context': JSON.stringify({
      status: 'success',
      check_run_id: CHECK_RUN_ID
    }),
    ...extra
  }
}

function jobEnv(stand: GitHubApiStandIn): Record<string, string> {
  return {
    GITHUB_API_URL: stand.url,
    GITHUB_WORKFLOW_REF: `${REPO}/.github/workflows/scan.yml@refs/heads/main`,
    GITHUB_WORKFLOW_SHA: SHA,
    RUNNER_NAME: 'runner-7'
  }
}

beforeAll(async () => {
  setup = await createScanSetup(admin)
})

afterAll(async () => {
  for (const stand of apis) await stand.close()
  await deleteNamespace(admin, setup.namespace)
})

describe('duration: auto on a real cluster', () => {
  it('mints for the top-level job’s remaining time plus 5m, with no warning', async () => {
    const stand = await api({
      jobs: {
        [REPO]: [
          {
            id: CHECK_RUN_ID,
            run_id: RUN_ID,
            status: 'in_progress',
            started_at: minutesAgo(10),
            runner_name: 'runner-7'
          }
        ]
      },
      contents: [
        {
          repository: REPO,
          path: '.github/workflows/scan.yml',
          ref: SHA,
          text: scanWorkflow('30')
        }
      ]
    })
    const runner = newRunner(jobEnv(stand))
    const main = await runner.main(inputs())
    expect(main.code).toBe(0)
    // 30m timeout - 10m elapsed + 5m buffer, as the API server granted it.
    expect(main.outputs['expires-in']).toBe('1500')
    expect(main.outputs['lifetime-source']).toBe('job')
    expect(main.stdout).toContain('job started 10m ago, timeout 30m: 25m')
    expect(main.stdout).not.toContain('::warning::')
    expect(main.summary).toContain('job started 10m ago, timeout 30m: 25m')
    // The token went to GitHub in the header, and nowhere else.
    expect(stand.requests.map((r) => r.authorization)).toContain(
      `token ${TOKEN}`
    )
    expect(leaksOf(TOKEN, main.everything)).toEqual([])

    const post = await runner.post(inputs())
    expect(post.stdout).toMatch(
      /The job held \d+s of 25m \(lifetime-source: job\)\./
    )
    expect(post.summary).toMatch(/Token held \d+s of 25m/)
    expect(leaksOf(TOKEN, post.everything)).toEqual([])
  })

  it('reads a reusable workflow’s own file in another repository, not the caller', async () => {
    const stand = await api({
      jobs: {
        [REPO]: [
          {
            id: CHECK_RUN_ID,
            run_id: RUN_ID,
            status: 'in_progress',
            started_at: minutesAgo(0),
            runner_name: 'runner-7'
          }
        ]
      },
      contents: [
        {
          repository: CALLED_REPO,
          path: '.github/workflows/scan.yml',
          ref: CALLED_SHA,
          text: scanWorkflow('15')
        }
      ]
    })
    const runner = newRunner(jobEnv(stand))
    const main = await runner.main(
      inputs({
        'job-context': JSON.stringify({
          check_run_id: CHECK_RUN_ID,
          workflow_repository: CALLED_REPO,
          workflow_file_path: '.github/workflows/scan.yml',
          workflow_sha: CALLED_SHA,
          workflow_ref: `${CALLED_REPO}/.github/workflows/scan.yml@refs/heads/main`
        })
      })
    )
    expect(main.code).toBe(0)
    expect(main.outputs['expires-in']).toBe('1200')
    expect(main.outputs['lifetime-source']).toBe('job')
    const read = stand.requests.filter((r) => r.path.includes('/contents/'))
    expect(read.map((r) => `${r.path}@${r.query.ref ?? ''}`)).toEqual([
      `/repos/${CALLED_REPO}/contents/.github/workflows/scan.yml@${CALLED_SHA}`
    ])
  })

  it('finds the job by runner name when there is no check run id', async () => {
    const stand = await api({
      attemptJobs: [
        {
          repository: REPO,
          runId: RUN_ID,
          attempt: 1,
          jobs: [
            {
              id: 1,
              run_id: RUN_ID,
              status: 'in_progress',
              started_at: minutesAgo(50),
              runner_name: 'runner-other'
            },
            {
              id: 2,
              run_id: RUN_ID,
              status: 'in_progress',
              started_at: minutesAgo(20),
              runner_name: 'runner-7'
            }
          ]
        }
      ],
      contents: [
        {
          repository: REPO,
          path: '.github/workflows/scan.yml',
          ref: SHA,
          text: scanWorkflow('45')
        }
      ]
    })
    const runner = newRunner(jobEnv(stand))
    const main = await runner.main(inputs({ 'job-context': '{}' }))
    expect(main.code).toBe(0)
    // 45m - 20m (runner-7's job, not the other one) + 5m.
    expect(main.outputs['expires-in']).toBe('1800')
    expect(main.stdout).toContain('job started 20m ago, timeout 45m: 30m')
  })

  it('falls back with one warning, and still mints, when the GitHub API is down', async () => {
    const stand = await api({ mode: 'down' })
    const runner = newRunner(jobEnv(stand))
    const main = await runner.main(inputs({ 'max-duration': '1h' }))
    expect(main.code).toBe(0)
    expect(main.outputs['lifetime-source']).toBe('assumed-default')
    expect(main.outputs['expires-in']).toBe('3600')
    const warnings = main.stdout
      .split('\n')
      .filter((l) => l.startsWith('::warning::'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('job-timeout-minutes')
    expect(leaksOf(TOKEN, main.everything)).toEqual([])
  })

  it('never asks for less than the API server’s 600 s minimum', async () => {
    const stand = await api({
      jobs: {
        [REPO]: [
          {
            id: CHECK_RUN_ID,
            run_id: RUN_ID,
            status: 'in_progress',
            started_at: minutesAgo(29),
            runner_name: 'runner-7'
          }
        ]
      },
      contents: [
        {
          repository: REPO,
          path: '.github/workflows/scan.yml',
          ref: SHA,
          text: scanWorkflow('30')
        }
      ]
    })
    const runner = newRunner(jobEnv(stand))
    const main = await runner.main(inputs())
    expect(main.code).toBe(0)
    expect(main.outputs['expires-in']).toBe('600')
    expect(main.stdout).toContain("10m, the API server's minimum")
  })

  it('makes no GitHub API call for an explicit duration', async () => {
    const stand = await api({})
    const runner = newRunner(jobEnv(stand))
    const main = await runner.main(inputs({ duration: '15m' }))
    expect(main.code).toBe(0)
    expect(main.outputs['lifetime-source']).toBe('duration')
    expect(stand.requests).toEqual([])
  })
})
