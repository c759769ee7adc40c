// `npm run demo`: the whole story on a real kube-apiserver, in plain words.
// `npm run demo:oidc` (or `npm run demo -- --oidc`): the same with no stored
// secret at all, minting with the job's GitHub OIDC ID token.
// Runs with Node 24's built-in TypeScript type stripping and reuses the
// end-to-end tests' fake runner and cluster fixtures.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  adminKubeConfig,
  createScanSetup,
  deleteNamespace,
  eventually,
  kubectl,
  REPO,
  tokenIn
} from '../__tests__/e2e/support/cluster.ts'
import {
  grantOidcMinter,
  startOidcCluster
} from '../__tests__/e2e/support/oidc-cluster.ts'
import { TRUSTED_JOB } from '../__tests__/e2e/support/oidc-issuer.ts'
import {
  NODE_LOG,
  NODE_NAME,
  kubectlWith,
  untilRunning
} from '../__tests__/e2e/support/exec.ts'
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { FakeRunner } from '../__tests__/e2e/support/runner.ts'

const say = (text: string): void => {
  console.log(`\n▶ ${text}`)
}
const show = (text: string): void => {
  for (const line of text.trimEnd().split('\n'))
    if (line) console.log(`    ${line}`)
}

function cluster(command: 'up' | 'down'): void {
  const result = spawnSync(
    process.execPath,
    [path.join(REPO, 'scripts', 'cluster.mjs'), command],
    {
      stdio: 'inherit'
    }
  )
  if (result.status !== 0) throw new Error(`cluster ${command} failed`)
}

/** Print a step's log as the runner would show it: with the token masked. */
function showStep(stdout: string, secrets: string[]): void {
  let text = stdout
  for (const secret of secrets) text = text.split(secret).join('***')
  show(text)
}

/** Try a kept copy of the minted kubeconfig until the API server rejects it. */
async function showRevoked(copy: string): Promise<boolean> {
  say('Trying the old token again (a copy kept by this demo):')
  const started = Date.now()
  const rejected = await eventually(30, async () => {
    const result = await kubectl(copy, ['get', 'pods'])
    return result.code !== 0 && /Unauthorized/i.test(result.stderr)
  })
  show(
    rejected
      ? `rejected with 401 Unauthorized ${Math.round((Date.now() - started) / 1000)} s after post: the token is revoked`
      : 'the token still works: revocation FAILED'
  )
  return rejected
}

/**
 * Put app-pod-1 (created by createScanSetup, unscheduled) and a second pod
 * on the test cluster's node, so exec into them runs on this machine.
 */
async function podsOnTheNode(
  admin: KubeConfig,
  namespace: string
): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api)
  await core.createNamespacedBinding({
    namespace,
    body: {
      metadata: { name: 'app-pod-1' },
      target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME }
    }
  })
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'other-pod' },
      spec: {
        nodeName: NODE_NAME,
        automountServiceAccountToken: false,
        serviceAccountName: 'scanner',
        containers: [{ name: 'app', image: 'registry.invalid/other:1' }]
      }
    }
  })
  await untilRunning(admin, namespace, 'app-pod-1')
  await untilRunning(admin, namespace, 'other-pod')
}

/** The scan itself: the shell profile exec'd into app-pod-1, then a denied exec into other-pod. */
async function showScan(file: string): Promise<boolean> {
  say(
    `The scan: kubectl exec with the minted kubeconfig into app-pod-1 (Running on node ${NODE_NAME}),`
  )
  console.log(
    '  a read-only baseline profile (examples/scan/baseline.sh fed to sh -s; CINC Auditor would run its own):'
  )
  const profile = fs.readFileSync(
    path.join(REPO, 'examples', 'scan', 'baseline.sh'),
    'utf8'
  )
  const scan = await kubectlWith(
    file,
    ['exec', '-i', 'app-pod-1', '-c', 'app', '--', 'sh', '-s'],
    { input: profile }
  )
  show(scan.stdout + scan.stderr)
  console.log(`  exit code: ${scan.code}`)
  say('Denied: exec into other-pod, which the Role does not name:')
  const other = await kubectlWith(file, [
    'exec',
    'other-pod',
    '--',
    'cat',
    '/etc/os-release'
  ])
  show(other.stderr)
  return scan.code === 0 && other.code !== 0
}

/** After revocation the scan's exec is refused too. */
async function showExecRefused(copy: string): Promise<boolean> {
  say('And the scan again with the old token (exec into app-pod-1):')
  const result = await kubectlWith(copy, ['exec', 'app-pod-1', '--', 'true'])
  show(result.stderr)
  return result.code !== 0 && /Unauthorized/.test(result.stderr)
}

async function kubeconfigDemo(): Promise<void> {
  const alreadyRunning = fs.existsSync(path.join(REPO, '.cluster', 'pid'))
  say(
    'Starting a real kube-apiserver on 127.0.0.1 (built from k8s.io/kubernetes Go modules)'
  )
  cluster('up')
  const admin = adminKubeConfig()
  let namespace = ''
  const runner = new FakeRunner()
  try {
    say(
      'Creating a scan namespace, a "scanner" ServiceAccount whose Role may only get/list pods and exec into app-pod-1,'
    )
    console.log(
      '  and a "minter" identity that may only mint tokens for "scanner" and manage the per-run Secret'
    )
    const setup = await createScanSetup(admin)
    namespace = setup.namespace
    await podsOnTheNode(admin, namespace)
    const inputs = {
      'service-account': 'scanner',
      namespace,
      duration: '15m',
      kubeconfig: setup.bootstrapKubeconfig,
      'expect-allowed': 'list pods\ncreate pods/app-pod-1 --subresource=exec',
      'expect-denied':
        'get secrets\ncreate pods/exec\nlist pods -n kube-system',
      'excess-privilege': 'fail'
    }

    say("Running the action's main step (dist/main.js), as the runner would:")
    const main = await runner.main(inputs)
    if (main.code !== 0) throw new Error('the main step failed')
    const file = main.outputs.kubeconfig ?? ''
    const token = tokenIn(file)
    showStep(main.stdout, [token, setup.minterToken])
    console.log(
      `  outputs: expiration=${main.outputs.expiration} expires-in=${main.outputs['expires-in']} credential-id=${main.outputs['credential-id']}`
    )
    console.log(
      `  kubeconfig mode: ${(fs.statSync(file).mode & 0o777).toString(8)}, directory mode: ${(fs.statSync(path.dirname(file)).mode & 0o777).toString(8)}`
    )

    const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-demo-'))
    const copy = path.join(copyDir, 'kubeconfig')
    fs.copyFileSync(file, copy)

    for (const [what, args] of [
      ['Allowed: list pods in the scan namespace', ['get', 'pods']],
      [
        'Denied: list pods in kube-system',
        ['get', 'pods', '-n', 'kube-system']
      ],
      ['Denied: read secrets', ['get', 'secrets']]
    ] as const) {
      say(`kubectl with the minted kubeconfig. ${what}:`)
      const result = await kubectl(file, [...args])
      show(result.code === 0 ? result.stdout : result.stderr)
    }
    const scanned = await showScan(file)

    say(
      'Running the post step (dist/post.js), which acts only on the record main saved:'
    )
    const post = await runner.post(inputs)
    showStep(post.stdout, [token, setup.minterToken])
    console.log(`  kubeconfig still on disk: ${fs.existsSync(file)}`)

    const rejected = await showRevoked(copy)
    const execRefused = await showExecRefused(copy)
    fs.rmSync(copyDir, { recursive: true, force: true })
    // The API server authenticates to the node with its own certificate; the
    // caller's token stops at the API server.
    const inNodeLog = fs.readFileSync(NODE_LOG, 'utf8').includes(token)
    console.log(`  the token in the node agent's log: ${inNodeLog}`)
    if (!rejected || !scanned || !execRefused || inNodeLog) process.exitCode = 1
  } finally {
    runner.cleanup()
    if (namespace) await deleteNamespace(admin, namespace)
    if (!alreadyRunning) {
      say('Stopping the cluster')
      cluster('down')
    }
  }
}

/**
 * The zero-secret story: a second real kube-apiserver that trusts a loopback
 * stand-in of GitHub's OIDC issuer; the action gets no kubeconfig at all.
 */
async function oidcDemo(): Promise<void> {
  say(
    "Starting a stand-in of GitHub's OIDC issuer (HTTPS on 127.0.0.1, its own CA and signing key),"
  )
  console.log(
    "  a stand-in of the runner's ID-token endpoint, and a real kube-apiserver that trusts that issuer"
  )
  const oidc = await startOidcCluster()
  const runner = new FakeRunner(oidc.idTokenEndpoint.env())
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-demo-'))
  try {
    say(
      `The API server runs with --authentication-config=<file> (ready in ${(oidc.timings.clusterUp / 1000).toFixed(1)} s):`
    )
    show(
      fs
        .readFileSync(oidc.authConfigFile, 'utf8')
        .replace(
          /certificateAuthority: \|[\s\S]*?-----END CERTIFICATE-----\n/,
          'certificateAuthority: <the stand-in issuer CA; not needed for GitHub>\n'
        )
    )

    say(
      `Creating a scan namespace with the "scanner" ServiceAccount, and a Role for the user the`
    )
    console.log(
      `  API server maps this job to (${oidc.username}): create serviceaccounts/token for "scanner" only,`
    )
    console.log(
      '  create/delete Secrets (the per-run Secret). No kubeconfig, no stored secret.'
    )
    const setup = await createScanSetup(oidc.admin, { minter: false })
    await podsOnTheNode(oidc.admin, setup.namespace)
    await grantOidcMinter(oidc.admin, setup.namespace, oidc.username, [
      'scanner'
    ])
    const inputs = {
      'service-account': 'scanner',
      namespace: setup.namespace,
      duration: '15m',
      'oidc-audience': oidc.trust.audience,
      server: oidc.server,
      'certificate-authority-data': oidc.caData,
      'expect-allowed': 'list pods',
      'expect-denied': 'get secrets\nlist pods -n kube-system',
      'excess-privilege': 'fail'
    }
    const secrets = (): string[] => [
      ...oidc.idTokenEndpoint.issued,
      oidc.idTokenEndpoint.requestToken
    ]

    say(
      `Running the action's main step with oidc-audience, server and certificate-authority-data (no kubeconfig):`
    )
    const main = await runner.main(inputs)
    if (main.code !== 0) throw new Error('the main step failed')
    const file = main.outputs.kubeconfig ?? ''
    const token = tokenIn(file)
    showStep(main.stdout, [token, ...secrets()])
    const idToken = oidc.idTokenEndpoint.issued.at(-1) ?? ''
    console.log(
      `  the job's ID token went only to the API server: in the kubeconfig ${fs.readFileSync(file, 'utf8').includes(idToken)}, in saved state ${(main.state.run ?? '').includes(idToken)}`
    )
    const copy = path.join(copyDir, 'kubeconfig')
    fs.copyFileSync(file, copy)

    for (const [what, args] of [
      ['Who am I', ['auth', 'whoami']],
      ['Allowed: list pods in the scan namespace', ['get', 'pods']],
      ['Denied: read secrets', ['get', 'secrets']]
    ] as const) {
      say(`kubectl with the minted kubeconfig. ${what}:`)
      const result = await kubectl(file, [...args])
      show(result.code === 0 ? result.stdout : result.stderr)
    }
    const scanned = await showScan(file)

    say('Running the post step; it fetches a fresh ID token to revoke:')
    const before = oidc.idTokenEndpoint.requests.length
    const post = await runner.post(inputs)
    showStep(post.stdout, [token, ...secrets()])
    console.log(
      `  ID tokens post asked the endpoint for: ${oidc.idTokenEndpoint.requests.length - before}`
    )
    const rejected = await showRevoked(copy)
    const execRefused = await showExecRefused(copy)

    say(
      'And a job from a repository the cluster does not trust (evil-org/scanner) gets:'
    )
    oidc.idTokenEndpoint.job = {
      ...TRUSTED_JOB,
      owner: 'evil-org',
      ownerId: '6660666'
    }
    const outsider = new FakeRunner(oidc.idTokenEndpoint.env())
    const refused = await outsider.main(inputs)
    outsider.cleanup()
    oidc.idTokenEndpoint.reset()
    show(
      refused.stdout
        .split('\n')
        .filter((line) => line.startsWith('::error::'))
        .join('\n')
    )
    if (!rejected || !scanned || !execRefused || refused.code === 0)
      process.exitCode = 1
  } finally {
    runner.cleanup()
    fs.rmSync(copyDir, { recursive: true, force: true })
    say('Stopping the OIDC cluster and the stand-ins')
    await oidc.stop()
  }
}

if (process.argv.includes('--oidc')) await oidcDemo()
else await kubeconfigDemo()
