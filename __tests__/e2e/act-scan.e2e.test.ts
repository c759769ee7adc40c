/**
 * End-to-end through a real workflow runner: workflow files under
 * __tests__/e2e/act/workflows run by nektos/act (host mode, no Docker) with
 * this repository's action.yml + dist/ as `your-org/ephemeral-scan-token@v1`,
 * against the real kube-apiserver and kubectl. act does the runner's part:
 * ::add-mask:: masking, GITHUB_ENV and outputs between steps, post steps
 * after a failed step and in reverse order.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  tokenIn,
  type ScanSetup
} from './support/cluster.js'
import { makeRepo, runWorkflow, type WorkflowRun } from './support/act.js'
import {
  WATCH_RUNNER_TEMP,
  leaks,
  newDrop,
  readWatch,
  revoked,
  stepLines,
  stepValue,
  type RunnerTempAfterPosts
} from './support/act-checks.js'

// A test waits for its act run, which shares two cores with the others.
jest.setTimeout(240_000)

const WORKFLOWS = path.join(import.meta.dirname, 'act', 'workflows')
const ACTION = 'your-org/ephemeral-scan-token@v1'

const admin = adminKubeConfig()
let setup: ScanSetup
/** act's working directory: empty, since no workflow here checks out. */
let repoDir: string
const drops: string[] = []

/**
 * The four runs, started together once the namespace exists: each is mostly
 * waiting (on act, on the API server), and each test's 401 check waits out
 * the API server's ~10 s authentication cache, so overlapping them saves
 * most of that wall time. Each test awaits its own run.
 */
const runs: Record<
  'scan' | 'failing' | 'twoUses' | 'debug',
  Promise<ScanRun>
> = {} as never

beforeAll(async () => {
  setup = await createScanSetup(admin)
  repoDir = makeRepo({})
  const started = {
    scan: runScan('scan.yml'),
    failing: runScan('scan.yml', { env: { FAIL_AFTER_SCAN: '1' } }),
    twoUses: runScan('two-uses.yml'),
    debug: runScan('scan.yml', {
      env: { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true' },
      verbose: true
    })
  }
  // A run that fails is reported by its test, not as an unhandled rejection.
  for (const run of Object.values(started)) run.catch(() => undefined)
  Object.assign(runs, started)
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
  for (const dir of [repoDir, ...drops])
    fs.rmSync(dir, { recursive: true, force: true })
})

interface ScanRun extends WorkflowRun {
  /** The directory the workflow copied kubeconfigs into. */
  drop: string
  /** RUNNER_TEMP after the action's post step, as the watcher saw it. */
  after: RunnerTempAfterPosts
}

async function runScan(
  workflow: string,
  options: { env?: Record<string, string>; verbose?: boolean } = {}
): Promise<ScanRun> {
  const drop = newDrop()
  drops.push(drop)
  const run = await runWorkflow(path.join(WORKFLOWS, workflow), {
    repoDir,
    event: 'workflow_dispatch',
    env: {
      SCAN_NAMESPACE: setup.namespace,
      SCAN_SERVICE_ACCOUNT: setup.scanner,
      DROP: drop,
      ...options.env
    },
    secrets: { BOOTSTRAP_KUBECONFIG: setup.bootstrapKubeconfig },
    actionRefs: [ACTION],
    localActions: WATCH_RUNNER_TEMP,
    verbose: options.verbose,
    timeoutMs: 180_000
  })
  if (!fs.existsSync(path.join(drop, 'runner-temp-after-posts.json')))
    throw new Error(`the watcher's post step did not run:\n${run.output}`)
  return { ...run, drop, after: readWatch(drop) }
}

/** The names of the per-run Secrets, in the order main bound tokens to them. */
function boundSecrets(output: string): string[] {
  return stepLines(output)
    .map((line) => /^Bound to: Secret (\S+)\.$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
}

/** The per-run Secrets post deleted, in the order it deleted them. */
function revokedSecrets(output: string): string[] {
  return stepLines(output)
    .map(
      (line) =>
        /^Revoked the token: deleted the per-run Secret (\S+)\.$/.exec(
          line
        )?.[1]
    )
    .filter((name): name is string => name !== undefined)
}

/** What every run must leave: no per-run Secret, no kubeconfig directory. */
async function expectNothingLeft(run: ScanRun): Promise<void> {
  // Other runs may be under way in the namespace: this run's Secrets carry its run id.
  expect(
    (await anchorsIn(admin, setup.namespace)).filter((name) =>
      name.startsWith(`ephemeral-scan-token-${run.runId}-`)
    )
  ).toEqual([])
  expect(
    run.after.left.filter((p) => p.startsWith('ephemeral-scan-token-'))
  ).toEqual([])
  expect(
    run.leftovers.filter((p) => p.startsWith('ephemeral-scan-token-'))
  ).toEqual([])
  // The watcher looked after the action's post step, not before it.
  expect(run.output.indexOf('Revoked the token')).toBeGreaterThan(-1)
  expect(run.output.indexOf('watch-runner-temp: left in RUNNER_TEMP')).toBe(
    run.output.lastIndexOf('watch-runner-temp: left in RUNNER_TEMP')
  )
  expect(
    run.output.indexOf('watch-runner-temp: left in RUNNER_TEMP')
  ).toBeGreaterThan(run.output.lastIndexOf('Revoked the token'))
}

describe('a scan job through act', () => {
  it('mints, lets kubectl do what the Role allows and nothing else, masks the token, and revokes it in post', async () => {
    const run = await runs.scan
    expect(run.code).toBe(0)
    const lines = stepLines(run.output)

    // The least-privilege proof, then kubectl with the exported KUBECONFIG.
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok +expected allowed +is allowed +list pods/)
    )
    expect(lines).toContain('pod/app-pod-1')
    expect(run.output).toContain(
      `User "system:serviceaccount:${setup.namespace}:scanner" cannot list resource "secrets"`
    )
    expect(lines).toContain('get secrets: denied, as the Role says')

    // act masks what the action registered with ::add-mask::.
    expect(lines).toContain('token is ***')
    const token = tokenIn(path.join(run.drop, 'kubeconfig'))
    expect(token.length).toBeGreaterThan(100)
    expect(leaks(run.output, [token, setup.minterToken])).toEqual([])

    // container-kubeconfig is the same file below /github/runner_temp.
    const temp = stepValue(run.output, 'RUNNER_TEMP=') ?? ''
    const file = stepValue(run.output, 'output kubeconfig=') ?? ''
    expect(path.dirname(path.dirname(file))).toBe(temp)
    expect(stepValue(run.output, 'output container-kubeconfig=')).toBe(
      `/github/runner_temp/${path.relative(temp, file)}`
    )
    expect(lines).toContain('the step after the scan ran')

    // Post: the Secret of this run (its GITHUB_RUN_ID in the name) is gone.
    const bound = boundSecrets(run.output)
    expect(bound).toHaveLength(1)
    expect(bound[0]).toMatch(
      new RegExp(`^${setup.namespace}/ephemeral-scan-token-${run.runId}-1-`)
    )
    expect(revokedSecrets(run.output)).toEqual(bound)
    expect(lines).toContain(
      `Deleted the kubeconfig directory ${path.dirname(file)}.`
    )
    expect(lines).toContain(
      'Cleared KUBECONFIG (it was not set before this step).'
    )
    expect(await revoked(path.join(run.drop, 'kubeconfig'))).toBe(true)
    await expectNothingLeft(run)
  })

  it('still revokes in post when a later step fails', async () => {
    const run = await runs.failing
    expect(run.code).not.toBe(0)
    const lines = stepLines(run.output)
    expect(run.output).toMatch(/exit status 7/)
    expect(lines).not.toContain('the step after the scan ran')
    expect(lines).toContain('token is ***')

    const bound = boundSecrets(run.output)
    expect(bound).toHaveLength(1)
    expect(revokedSecrets(run.output)).toEqual(bound)
    expect(await revoked(path.join(run.drop, 'kubeconfig'))).toBe(true)
    const token = tokenIn(path.join(run.drop, 'kubeconfig'))
    expect(leaks(run.output, [token, setup.minterToken])).toEqual([])
    // act keeps a failed job's RUNNER_TEMP, so run.leftovers looked into
    // the real directory; the step's marker shows both looks saw it.
    expect(run.leftovers).toContain('left-by-the-failing-step')
    expect(run.after.left).toContain('left-by-the-failing-step')
    await expectNothingLeft(run)
  })

  it('with two uses in one job, unwinds the posts in reverse order and revokes both tokens', async () => {
    const run = await runs.twoUses
    expect(run.code).toBe(0)
    const lines = stepLines(run.output)
    expect(lines.filter((line) => line === 'pod/app-pod-1')).toHaveLength(2)

    const bound = boundSecrets(run.output)
    expect(bound).toHaveLength(2)
    expect(new Set(bound).size).toBe(2)
    expect(revokedSecrets(run.output)).toEqual([...bound].reverse())
    // The second post puts KUBECONFIG back to the first one's, the first clears it.
    const restored = lines.indexOf('Restored KUBECONFIG to its previous value.')
    const cleared = lines.indexOf(
      'Cleared KUBECONFIG (it was not set before this step).'
    )
    expect(restored).toBeGreaterThan(-1)
    expect(cleared).toBeGreaterThan(restored)

    const first = path.join(run.drop, 'first.kubeconfig')
    const second = path.join(run.drop, 'second.kubeconfig')
    const [firstRevoked, secondRevoked] = await Promise.all([
      revoked(first),
      revoked(second)
    ])
    expect(firstRevoked).toBe(true)
    expect(secondRevoked).toBe(true)
    expect(
      leaks(run.output, [tokenIn(first), tokenIn(second), setup.minterToken])
    ).toEqual([])
    await expectNothingLeft(run)
  })

  it('in a debug run (ACTIONS_STEP_DEBUG, RUNNER_DEBUG, act -v) dumps every step environment but no token', async () => {
    const run = await runs.debug
    expect(run.code).toBe(0)
    // Debug output really was on: act dumps every step's environment and
    // evaluated expressions, with RUNNER_DEBUG=1 reaching the action and
    // the bootstrap kubeconfig input shown masked.
    expect(run.output).toMatch(/\[DEBUG\] setupEnv => map\[.*RUNNER_DEBUG:1 /)
    expect(run.output).toMatch(/ INPUT_KUBECONFIG:\*\*\* /)
    expect(run.output).toContain(
      "expression 'format('{0}', secrets.BOOTSTRAP_KUBECONFIG)' evaluated to '%!t(string=***)'"
    )
    const token = tokenIn(path.join(run.drop, 'kubeconfig'))
    expect(leaks(run.output, [token, setup.minterToken])).toEqual([])
    expect(run.output).not.toMatch(/eyJ[\w-]{20,}\.[\w-]{20,}/)
    expect(await revoked(path.join(run.drop, 'kubeconfig'))).toBe(true)
    await expectNothingLeft(run)
  })

  it('leaves no labelled Secret in the namespace once every run is over', async () => {
    await Promise.allSettled(Object.values(runs))
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })
})
