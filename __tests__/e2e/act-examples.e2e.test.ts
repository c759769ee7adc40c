/**
 * The examples/ run as users would run them, so they cannot rot: the
 * cluster-side YAML (guardrails.yaml included, so the example runs under the
 * guardrails for the minting identity) applied with kubectl to the real
 * kube-apiserver, and the caller workflow with the reusable scan workflow run through nektos/act with
 * this repository's action.yml + dist/ as your-org/ephemeral-scan-token@v1.
 * Only the namespace (a fresh one per run) and the scan command (kubectl
 * checks and examples/scan/baseline.sh run in app-pod-1 with kubectl exec,
 * instead of CINC Auditor) are replaced.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { CoreV1Api } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import {
  CLUSTER_DIR,
  REPO,
  adminKubeConfig,
  anchorsIn,
  deleteNamespace,
  eventually,
  kubeconfigFor,
  kubectl,
  tokenIn,
  type CommandResult
} from './support/cluster.js'
import { makeRepo, runWorkflow, type WorkflowRun } from './support/act.js'
import { NODE_NAME, untilRunning } from './support/exec.js'
import {
  leaks,
  newDrop,
  revoked,
  stepLines,
  stepValue
} from './support/act-checks.js'

// A test waits for its act run, which shares two cores with the other.
jest.setTimeout(240_000)

const EXAMPLES = path.join(REPO, 'examples')
const ADMIN = path.join(CLUSTER_DIR, 'admin.kubeconfig')
const ACTION = 'your-org/ephemeral-scan-token@v1'
/** The namespace the examples are written for. */
const EXAMPLE_NAMESPACE = 'scan-target'

const admin = adminKubeConfig()
const namespace = `e2e-examples-${randomBytes(3).toString('hex')}`
let bootstrapKubeconfig: string
let minterToken: string
const cleanup: string[] = []

function example(file: string): string {
  return fs.readFileSync(path.join(EXAMPLES, file), 'utf8')
}

/** An example's cluster YAML in this run's namespace, applied as the admin with the real kubectl. */
async function applyExample(file: string): Promise<CommandResult> {
  const text = example(file)
  if (!text.includes(EXAMPLE_NAMESPACE))
    throw new Error(
      `${file} no longer names the namespace ${EXAMPLE_NAMESPACE}`
    )
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'act-examples-'))
  cleanup.push(dir)
  const renamed = path.join(dir, path.basename(file))
  fs.writeFileSync(renamed, text.replaceAll(EXAMPLE_NAMESPACE, namespace))
  return kubectl(ADMIN, ['apply', '-f', renamed])
}

/**
 * guardrails.yaml is cluster-wide (its policies name the identities, here in
 * this run's namespace): wait until its policies refuse what they forbid,
 * probed with a server-side dry run as ci-minter (from a private file, so the
 * token is never on a command line), and remove them afterwards.
 */
async function waitForGuardrails(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'act-examples-minter-'))
  cleanup.push(dir)
  const config = path.join(dir, 'kubeconfig')
  fs.writeFileSync(config, bootstrapKubeconfig, { mode: 0o600 })
  const probe = path.join(dir, 'probe.yaml')
  fs.writeFileSync(
    probe,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'app-credentials',
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'ephemeral-scan-token' }
      }
    })
  )
  const inForce = await eventually(30, async () => {
    const dry = await kubectl(config, [
      'create',
      '--dry-run=server',
      '-f',
      probe
    ])
    return (
      dry.code !== 0 &&
      dry.stderr.includes(
        "ValidatingAdmissionPolicy 'ephemeral-scan-token-secret-create'"
      )
    )
  })
  if (!inForce) throw new Error('the guardrails never came into force')
}

function canI(as: string, ...check: string[]): Promise<boolean> {
  return kubectl(ADMIN, [
    'auth',
    'can-i',
    ...check,
    '-n',
    namespace,
    '--as',
    as
  ]).then((res) => res.stdout.trim() === 'yes')
}

beforeAll(async () => {
  for (const file of [
    'cluster/scanner.yaml',
    'cluster/minter.yaml',
    'cluster/guardrails.yaml'
  ]) {
    const applied = await applyExample(file)
    if (applied.code !== 0)
      throw new Error(`kubectl apply -f ${file} failed: ${applied.stderr}`)
  }
  // The pod the scan execs into, on the test cluster's node (scanner.yaml's
  // Role names it).
  await admin.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'app-pod-1' },
      spec: {
        nodeName: NODE_NAME,
        serviceAccountName: 'inspec-scanner',
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'registry.invalid/app:1' }]
      }
    }
  })
  // RBAC is served from an informer: wait until the bindings are in force.
  const minter = `system:serviceaccount:${namespace}:ci-minter`
  const granted = await eventually(
    20,
    async () =>
      (await canI(
        minter,
        'create',
        'serviceaccounts/inspec-scanner',
        '--subresource=token'
      )) &&
      (await canI(
        `system:serviceaccount:${namespace}:inspec-scanner`,
        'list',
        'pods'
      ))
  )
  if (!granted) throw new Error('RBAC never granted what the examples bind')
  await untilRunning(admin, namespace, 'app-pod-1')
  // The bootstrap credential the way minter.yaml says to make it.
  const created = await kubectl(ADMIN, [
    'create',
    'token',
    'ci-minter',
    '-n',
    namespace,
    '--duration=1h'
  ])
  if (created.code !== 0)
    throw new Error(`kubectl create token failed: ${created.stderr}`)
  minterToken = created.stdout.trim()
  bootstrapKubeconfig = kubeconfigFor(admin, minterToken, namespace)
  await waitForGuardrails()
  // Both runs at once: each mostly waits, on act and on the API server.
  const started = {
    passing: runCaller(scanCommand()),
    failing: runCaller(
      scanCommand('touch "$RUNNER_TEMP/left-by-the-scan"\nexit 3')
    )
  }
  // A run that fails is reported by its test, not as an unhandled rejection.
  for (const run of Object.values(started)) run.catch(() => undefined)
  Object.assign(runs, started)
})

const runs: Record<'passing' | 'failing', Promise<ExampleRun>> = {} as never

afterAll(async () => {
  await kubectl(ADMIN, [
    'delete',
    '--ignore-not-found',
    '-f',
    path.join(EXAMPLES, 'cluster', 'guardrails.yaml')
  ])
  await deleteNamespace(admin, namespace)
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * The scan: kubectl checks, the shell profile run in app-pod-1 (where CINC
 * Auditor would run its profile), and a copy of the kubeconfig for the 401
 * check.
 */
function scanCommand(extra = ''): string {
  return [
    'kubectl get pods -o name',
    'kubectl exec -i app-pod-1 -c app -- sh -s < profiles/baseline.sh',
    'if kubectl get secrets; then echo "Secrets were readable."; exit 1; fi',
    `echo "token is $(kubectl config view --raw -o jsonpath='{.users[0].user.token}')"`,
    'cp "$KUBECONFIG" "$DROP/kubeconfig"',
    extra
  ]
    .filter((line) => line !== '')
    .join('\n')
}

interface ExampleRun extends WorkflowRun {
  drop: string
}

/** The per-run Secrets of this run (the other may be under way): their names carry its run id. */
async function mine(run: ExampleRun): Promise<string[]> {
  return (await anchorsIn(admin, namespace)).filter((name) =>
    name.startsWith(`ephemeral-scan-token-${run.runId}-`)
  )
}

/** scan-caller.yml calling k8s-scan.yml, in a repository of their own. */
async function runCaller(command: string): Promise<ExampleRun> {
  const caller = yaml.load(example('workflows/scan-caller.yml')) as {
    jobs: { scan: { with: Record<string, unknown> } }
  }
  caller.jobs.scan.with.namespace = namespace
  caller.jobs.scan.with['scan-command'] = command
  const repoDir = makeRepo({
    // The reusable workflow byte for byte; the caller with the two values replaced.
    '.github/workflows/k8s-scan.yml': example('workflows/k8s-scan.yml'),
    '.github/workflows/scan-caller.yml': yaml.dump(caller),
    'profiles/baseline.sh': example('scan/baseline.sh')
  })
  const drop = newDrop()
  cleanup.push(repoDir, drop)
  const run = await runWorkflow('.github/workflows/scan-caller.yml', {
    repoDir,
    event: 'workflow_dispatch',
    env: { DROP: drop },
    secrets: { SCAN_BOOTSTRAP_KUBECONFIG: bootstrapKubeconfig },
    actionRefs: [ACTION],
    timeoutMs: 180_000
  })
  return { ...run, drop }
}

describe('examples/workflows through act, against examples/cluster', () => {
  it('scan-caller.yml runs k8s-scan.yml: the token is sized by timeout-minutes, proves least privilege, works with kubectl, and is revoked', async () => {
    const run = await runs.passing
    expect(run.code).toBe(0)
    const lines = stepLines(run.output)

    // timeout-minutes: 20 reached the action as job-timeout-minutes: 20 + 5.
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^Minted a token for system:serviceaccount:${namespace}:inspec-scanner \\(duration: auto, .*job-timeout-minutes 20m.*: 25m\\)\\.$`
        )
      )
    )
    expect(lines).toContainEqual(expect.stringMatching(/\(in 25m\)\.$/))
    // The proof with the reusable workflow's default checks, excess-privilege: fail.
    for (const check of [
      /^ok +expected allowed +is allowed +list pods/,
      /^ok +expected allowed +is allowed +create pods\/exec/,
      /^ok +expected denied +is denied +get secrets/,
      /^ok +expected denied +is denied +list pods in namespace kube-system/
    ])
      expect(lines).toContainEqual(expect.stringMatching(check))

    // The scan command ran with KUBECONFIG set, and exec'd the profile in
    // app-pod-1 on the node, through the API server, with the minted token.
    expect(lines).toContain('pod/app-pod-1')
    expect(lines).toContain('ok      passwd-present: /etc/passwd exists')
    expect(lines).toContain('4 of 4 controls passed')
    expect(run.output).toContain(
      `User "system:serviceaccount:${namespace}:inspec-scanner" cannot list resource "secrets"`
    )
    expect(lines).toContain('token is ***')

    // The caller's report job got the reusable workflow's outputs.
    const jti = stepValue(
      run.output,
      'credential-id (jti, as the audit log records it): '
    )
    expect(jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(stepValue(run.output, 'credential-id: ')).toBe(jti)
    expect(stepValue(run.output, 'scan result: ')).toBe('success')
    expect(stepValue(run.output, 'expiration: ')).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(lifetime-source: job-timeout-minutes\)$/
    )

    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^Revoked the token: deleted the per-run Secret ${namespace}/ephemeral-scan-token-${run.runId}-1-`
        )
      )
    )
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^Deleted the kubeconfig directory \/.*\/ephemeral-scan-token-[0-9a-f]+\.$/
      )
    )
    const kubeconfig = path.join(run.drop, 'kubeconfig')
    expect(await revoked(kubeconfig)).toBe(true)
    expect(leaks(run.output, [tokenIn(kubeconfig), minterToken])).toEqual([])
    expect(await mine(run)).toEqual([])
  })

  it('revokes and leaves nothing in RUNNER_TEMP when the scan command fails', async () => {
    const run = await runs.failing
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(/exit status 3/)
    // (act ends the run at a failed job, so the report job, which GitHub
    // would run for its `if: always()`, does not run here.)
    expect(stepLines(run.output)).toContainEqual(
      expect.stringMatching(/^Revoked the token: deleted the per-run Secret /)
    )
    const kubeconfig = path.join(run.drop, 'kubeconfig')
    expect(await revoked(kubeconfig)).toBe(true)
    expect(leaks(run.output, [tokenIn(kubeconfig), minterToken])).toEqual([])
    expect(await mine(run)).toEqual([])
    // act keeps a failed job's RUNNER_TEMP, so this looks at the real
    // directory, as the scan's marker shows.
    expect(run.leftovers).toContain('left-by-the-scan')
    expect(
      run.leftovers.filter((p) => p.startsWith('ephemeral-scan-token-'))
    ).toEqual([])
  })
})

describe('after both example runs', () => {
  it('leaves no labelled Secret in the namespace', async () => {
    await Promise.allSettled(Object.values(runs))
    expect(await anchorsIn(admin, namespace)).toEqual([])
  })
})

describe('examples/cluster/oidc-minter.yaml on the real API server', () => {
  it('lets the user a trusted job maps to mint for the scanner and manage Secrets, and nothing else', async () => {
    const applied = await applyExample('cluster/oidc-minter.yaml')
    expect(applied).toMatchObject({ code: 0, stderr: '' })
    const user = 'github:123456789'
    expect(
      await eventually(20, () =>
        canI(
          user,
          'create',
          'serviceaccounts/inspec-scanner',
          '--subresource=token'
        )
      )
    ).toBe(true)
    expect(await canI(user, 'create', 'secrets')).toBe(true)
    expect(await canI(user, 'delete', 'secrets')).toBe(true)
    expect(
      await canI(
        user,
        'create',
        'serviceaccounts/ci-minter',
        '--subresource=token'
      )
    ).toBe(false)
    expect(await canI(user, 'get', 'secrets')).toBe(false)
    expect(await canI(user, 'list', 'pods')).toBe(false)
    expect(await canI('github:987654321', 'create', 'secrets')).toBe(false)
  })
})
