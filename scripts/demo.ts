// `npm run demo`: the whole story on a real kube-apiserver, in plain words.
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
import { FakeRunner } from '../__tests__/e2e/support/runner.ts'

const say = (text: string): void => console.log(`\n▶ ${text}`)
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
  const inputs = {
    'service-account': 'scanner',
    namespace,
    duration: '15m',
    kubeconfig: setup.bootstrapKubeconfig,
    'expect-allowed': 'list pods\ncreate pods/app-pod-1 --subresource=exec',
    'expect-denied': 'get secrets\ncreate pods/exec\nlist pods -n kube-system',
    'excess-privilege': 'fail'
  }

  say("Running the action's main step (dist/index.js), as the runner would:")
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
    ['Denied: list pods in kube-system', ['get', 'pods', '-n', 'kube-system']],
    ['Denied: read secrets', ['get', 'secrets']]
  ] as const) {
    say(`kubectl with the minted kubeconfig. ${what}:`)
    const result = await kubectl(file, [...args])
    show(result.code === 0 ? result.stdout : result.stderr)
  }

  say(
    'Running the post step (dist/index.js again; it knows it is post from the saved state):'
  )
  const post = await runner.post(inputs)
  showStep(post.stdout, [token, setup.minterToken])
  console.log(`  kubeconfig still on disk: ${fs.existsSync(file)}`)

  say('Trying the old token again (a copy kept by this demo):')
  const started = Date.now()
  const rejected = await eventually(15, async () => {
    const result = await kubectl(copy, ['get', 'pods'])
    return result.code !== 0 && /Unauthorized/i.test(result.stderr)
  })
  show(
    rejected
      ? `rejected with 401 Unauthorized ${Math.round((Date.now() - started) / 1000)} s after post: the token is revoked`
      : 'the token still works: revocation FAILED'
  )
  fs.rmSync(copyDir, { recursive: true, force: true })
  if (!rejected) process.exitCode = 1
} finally {
  runner.cleanup()
  if (namespace) await deleteNamespace(admin, namespace)
  if (!alreadyRunning) {
    say('Stopping the cluster')
    cluster('down')
  }
}
