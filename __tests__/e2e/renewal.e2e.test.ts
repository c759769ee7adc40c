// Renewal inside the job (`renew-every`), end to end: the bundled
// dist/main.js writes a kubeconfig whose user runs dist/credential.js, and
// the real kubectl runs it against a real kube-apiserver that trusts the
// loopback stand-in of GitHub's OIDC issuer (support/oidc-cluster.ts). The
// ID-token variables reach the helper the way they do on a runner: in the
// environment of the step that runs kubectl. Renewal is made due without
// waiting by moving only the HELPER's clock with libfaketime (LD_PRELOAD
// in kubectl's environment reaches the Node it starts; kubectl is a static
// Go binary and the API server another process, so their clocks stay
// real). How many tokens exist is counted from what the API server says:
// the credential-id (jti) its SelfSubjectReview reports for each client.
import { execFile, spawn } from 'node:child_process'
import * as readline from 'node:readline'
import { CoreV1Api } from '@kubernetes/client-node'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { REPO, anchorsIn, createScanSetup } from './support/cluster.ts'
import {
  NODE_NAME,
  jtiSeen,
  kubectlWith,
  untilRunning
} from './support/exec.ts'
import { clockAhead } from './support/faketime.ts'
import { useRunners } from './support/hooks.ts'
import {
  grantOidcMinter,
  reviewSelf,
  startOidcCluster,
  type OidcCluster
} from './support/oidc-cluster.ts'
import { leaksOf, type StepResult } from './support/runner.ts'

let cluster: OidcCluster
let namespace: string
let scratch: string
const newRunner = useRunners()
const steps: StepResult[] = []

beforeAll(async () => {
  clockAhead('+1s') // fails the file at once when libfaketime is missing
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-renewal-e2e-'))
  cluster = await startOidcCluster()
  namespace = (await createScanSetup(cluster.admin, { minter: false }))
    .namespace
  await grantOidcMinter(cluster.admin, namespace, cluster.username, ['scanner'])
  // The scan's target on the cluster's node, as exec.e2e.test.ts does it.
  await cluster.admin.makeApiClient(CoreV1Api).createNamespacedBinding({
    namespace,
    body: {
      metadata: { name: 'app-pod-1' },
      target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME }
    }
  })
  await untilRunning(cluster.admin, namespace, 'app-pod-1')
}, 180_000)

afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  await cluster.stop()
}, 60_000)

function renewInputs(
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'service-account': 'scanner',
    namespace,
    duration: '30m',
    'renew-every': '10m',
    'oidc-audience': cluster.trust.audience,
    server: cluster.server,
    'certificate-authority-data': cluster.caData,
    ...extra
  }
}

/** A later `run:` step's environment: the job's ID-token variables, a clock. */
function stepEnv(
  options: { idToken?: boolean; ahead?: string } = {}
): Record<string, string> {
  return {
    HOME: scratch,
    ...(options.idToken === false ? {} : cluster.idTokenEndpoint.env()),
    ...(options.ahead ? clockAhead(options.ahead) : {})
  }
}

interface ExecUser {
  command: string
  args: string[]
}

/** The exec user the kubeconfig names. */
function execOf(kubeconfig: string): ExecUser {
  const exec = (
    yaml.load(fs.readFileSync(kubeconfig, 'utf8')) as {
      users: { user: { exec?: ExecUser } }[]
    }
  ).users[0]?.user.exec
  if (!exec) throw new Error('the kubeconfig has no exec user')
  return exec
}

/** Run the helper the way the kubeconfig says, outside kubectl. */
function runHelper(
  exec: ExecUser,
  env: Record<string, string>
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      exec.command,
      exec.args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr
        })
      }
    )
  })
}

function tokenOf(stdout: string): string {
  return (JSON.parse(stdout) as { status: { token: string } }).status.token
}

function modeOf(file: string): number {
  return fs.lstatSync(file).mode & 0o777
}

describe('renew-every: a kubeconfig that renews its token inside the job', () => {
  it('writes an exec kubeconfig, shares one token, renews once for eight clients, execs, refuses after the window, and post revokes every token', async () => {
    const runner = newRunner(cluster.idTokenEndpoint.env())
    const endpoint = cluster.idTokenEndpoint
    const main = await runner.main(renewInputs())
    steps.push(main)
    expect(main.stderr).toBe('')
    expect(main.code).toBe(0)

    // The outputs: the window is what the job plans around.
    expect(main.outputs['expires-in']).toBe('1800')
    expect(main.outputs['token-lifetime']).toBe('600')
    expect(main.outputs['container-kubeconfig']).toBe('')
    const firstJti = main.outputs['credential-id'] ?? 'missing'
    expect(
      Date.parse(main.outputs.expiration ?? '') - Date.now()
    ).toBeGreaterThan(25 * 60_000)

    // The kubeconfig holds no token: its user runs the helper, by absolute paths.
    const file = main.outputs.kubeconfig ?? ''
    const dir = path.dirname(file)
    const config = yaml.load(fs.readFileSync(file, 'utf8')) as {
      users: { user: Record<string, unknown> }[]
    }
    expect(config.users[0]?.user).toEqual({
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: [path.join(REPO, 'dist', 'credential.js'), dir],
        env: [{ name: 'NODE_OPTIONS', value: '' }],
        interactiveMode: 'Never',
        provideClusterInfo: false
      }
    })
    expect(modeOf(dir)).toBe(0o700)
    expect(fs.readdirSync(dir).sort()).toEqual([
      'kubeconfig',
      'minted.log',
      'renewal.json',
      'token.json'
    ])
    for (const name of fs.readdirSync(dir)) {
      expect(modeOf(path.join(dir, name))).toBe(0o600)
    }
    // Nothing long-lived on disk: not the request token, not an ID token.
    const onDisk = fs
      .readdirSync(dir)
      .map((name) => fs.readFileSync(path.join(dir, name), 'utf8'))
      .join('\n')
    expect(onDisk).not.toContain(endpoint.requestToken)
    for (const idToken of endpoint.issued) {
      expect(onDisk).not.toContain(idToken)
    }
    expect(
      Object.keys(
        JSON.parse(
          fs.readFileSync(path.join(dir, 'renewal.json'), 'utf8')
        ) as object
      ).sort()
    ).toEqual(
      [
        'audiences',
        'bootstrap',
        'caData',
        'namespace',
        'secret',
        'server',
        'serviceAccount',
        'tokenSeconds',
        'version',
        'windowEnd'
      ].sort()
    )

    // kubectl get and exec through the helper, from the cache: no ID token asked for.
    const before = endpoint.requests.length
    const pods = await kubectlWith(file, ['get', 'pods', '-o', 'name'], {
      env: stepEnv()
    })
    expect(pods.stderr).toBe('')
    expect(pods.stdout).toBe('pod/app-pod-1\n')
    // A NODE_OPTIONS a later step set loads nothing into the helper: the
    // kubeconfig's exec env empties it (kubectl applies it to the helper).
    const planted = path.join(scratch, 'planted.cjs')
    const marker = path.join(scratch, 'planted-ran')
    fs.writeFileSync(
      planted,
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`
    )
    const optioned = await kubectlWith(file, ['get', 'pods', '-o', 'name'], {
      env: { ...stepEnv(), NODE_OPTIONS: `--require ${planted}` }
    })
    expect(optioned.stdout).toBe('pod/app-pod-1\n')
    expect(fs.existsSync(marker)).toBe(false)
    const exec = await kubectlWith(
      file,
      ['exec', 'app-pod-1', '-c', 'app', '--', 'sh', '-c', 'echo scanned'],
      { env: stepEnv() }
    )
    expect(exec.stdout).toBe('scanned\n')
    expect(exec.code).toBe(0)
    const helper = execOf(file)
    const first = await runHelper(helper, stepEnv())
    expect(first.code).toBe(0)
    const token1 = tokenOf(first.stdout)
    expect(endpoint.requests.length).toBe(before)

    // Eight clients at once, token fresh: all send main's token.
    const fresh = await Promise.all(
      Array.from({ length: 8 }, () => jtiSeen(file, stepEnv()))
    )
    expect(fresh.map((r) => r.jti)).toEqual(Array(8).fill(firstJti))

    // Eight clients at once, 9 minutes later by the helper's clock: the
    // first token is due, and exactly one new token is minted for all.
    const due = await Promise.all(
      Array.from({ length: 8 }, () => jtiSeen(file, stepEnv({ ahead: '+9m' })))
    )
    expect(due.map((r) => r.code)).toEqual(Array(8).fill(0))
    const renewed = new Set(due.map((r) => r.jti))
    expect(renewed.size).toBe(1)
    expect(renewed.has(firstJti)).toBe(false)
    expect(endpoint.requests.length).toBe(before + 1)
    expect(endpoint.requests.at(-1)).toMatchObject({
      audience: cluster.trust.audience,
      authorized: true,
      status: 200
    })
    const second = await runHelper(helper, stepEnv({ ahead: '+9m' }))
    const token2 = tokenOf(second.stdout)
    expect(token2).not.toBe(token1)
    expect(endpoint.requests.length).toBe(before + 1)

    // Due again (renewed at +9m, so due at +17m), without id-token: write.
    const noIdToken = await kubectlWith(file, ['get', 'pods'], {
      env: stepEnv({ idToken: false, ahead: '+18m' })
    })
    expect(noIdToken.code).not.toBe(0)
    expect(noIdToken.stderr).toContain(
      "give the job 'permissions: id-token: write'"
    )
    expect(noIdToken.stderr).not.toMatch(/\n\s+at /) // no stack trace

    // After the 30-minute window: refused with one sentence.
    const over = await kubectlWith(file, ['get', 'pods'], {
      env: stepEnv({ ahead: '+31m' })
    })
    expect(over.code).not.toBe(0)
    expect(over.stderr).toMatch(
      /The renewal window of this job ended at \S+Z, so no new token is printed/
    )
    expect(endpoint.requests.length).toBe(before + 1)

    // Post: reports both tokens, and the one delete revokes both.
    const post = await runner.post(renewInputs())
    steps.push(post)
    expect(post.code).toBe(0)
    const renewedJti = [...renewed][0] ?? 'missing'
    expect(post.stdout).toContain('The job minted 2 tokens')
    expect(post.stdout).toContain(`${firstJti}, ${renewedJti}`)
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
    for (const token of [token1, token2]) {
      let review = await reviewSelf(cluster, token)
      for (let i = 0; i < 40 && review.status !== 401; i++) {
        // The API server caches a token's authentication for up to 10 s.
        await new Promise((resolve) => setTimeout(resolve, 500))
        review = await reviewSelf(cluster, token)
      }
      expect(review.status).toBe(401)
    }
    // The helper itself says why, with the directory gone.
    const after = await runHelper(helper, stepEnv())
    expect(after.code).not.toBe(0)
    expect(after.stdout).toBe('')
    expect(after.stderr).toContain('post step ran')

    // Nothing secret in the helper's sentences either.
    for (const said of [noIdToken.stderr, over.stderr, after.stderr]) {
      for (const secret of [token1, token2, endpoint.requestToken]) {
        expect(said).not.toContain(secret)
      }
    }
    // Nothing secret in any step's output.
    for (const step of steps) {
      for (const secret of [
        token1,
        token2,
        endpoint.requestToken,
        ...endpoint.issued
      ]) {
        expect(leaksOf(secret, step.everything)).toEqual([])
      }
    }
  }, 120_000)

  it('the Python kubernetes client, in one process, refreshes through the helper when the token is due', async () => {
    const site = path.join(REPO, '.cache', 'python-kubernetes')
    if (!fs.existsSync(path.join(site, 'kubernetes'))) {
      throw new Error(
        `the Python kubernetes client is missing: pip install --target ${site} kubernetes (.ci/run does)`
      )
    }
    const runner = newRunner(cluster.idTokenEndpoint.env())
    const main = await runner.main(renewInputs())
    steps.push(main)
    expect(main.code).toBe(0)
    const file = main.outputs.kubeconfig ?? ''
    // One clock for the Python process and the helpers it starts, read
    // from this file on every call, so the test moves it mid-process.
    const clock = path.join(scratch, 'python-clock')
    fs.writeFileSync(clock, '+0')
    const ahead = clockAhead('+0')
    Reflect.deleteProperty(ahead, 'FAKETIME')
    const python = spawn(
      'python3',
      [
        path.join(import.meta.dirname, 'support', 'python-client.py'),
        file,
        namespace
      ],
      {
        env: {
          ...stepEnv(),
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          PYTHONPATH: site,
          ...ahead,
          FAKETIME_TIMESTAMP_FILE: clock,
          FAKETIME_NO_CACHE: '1'
        },
        stdio: ['pipe', 'pipe', 'pipe']
      }
    )
    let stderr = ''
    python.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const lines = readline
      .createInterface({ input: python.stdout })
      [Symbol.asyncIterator]()
    const call = async (): Promise<{ pods: string[]; jti: string }> => {
      python.stdin.write('go\n')
      const next = await lines.next()
      if (next.done) throw new Error(`python ended: ${stderr}`)
      return JSON.parse(next.value) as { pods: string[]; jti: string }
    }
    const requests = cluster.idTokenEndpoint.requests.length
    const first = await call()
    expect(first.pods).toEqual(['app-pod-1'])
    expect(first.jti).toBe(`JTI=${main.outputs['credential-id'] ?? ''}`)
    fs.writeFileSync(clock, '+9m')
    const later = await call()
    expect(later.pods).toEqual(['app-pod-1'])
    expect(later.jti).toMatch(/^JTI=/)
    expect(later.jti).not.toBe(first.jti)
    expect(cluster.idTokenEndpoint.requests.length).toBe(requests + 1)
    python.stdin.end()
    await new Promise((resolve) => python.on('close', resolve))
    expect(stderr).toBe('')
    const post = await runner.post(renewInputs())
    steps.push(post)
    expect(post.stdout).toContain('The job minted 2 tokens')
  }, 90_000)

  it('says in one sentence when the ID token is refused and when the per-run Secret is gone', async () => {
    const endpoint = cluster.idTokenEndpoint
    const runner = newRunner(endpoint.env())
    const main = await runner.main(renewInputs())
    steps.push(main)
    expect(main.code).toBe(0)
    const file = main.outputs.kubeconfig ?? ''
    try {
      // An ID token the API server refuses (expired a minute ago).
      endpoint.mintOptions = { lifetimeSeconds: -60 }
      const refused = await kubectlWith(file, ['get', 'pods'], {
        env: stepEnv({ ahead: '+9m' })
      })
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toContain(
        "ephemeral-scan-token credential helper: The API server refused the job's GitHub ID token (audience"
      )
      expect(refused.stderr).not.toMatch(/\n\s+at /)
    } finally {
      endpoint.reset()
    }
    // The per-run Secret deleted behind the job's back: every token is revoked.
    const [secret] = await anchorsIn(cluster.admin, namespace)
    await cluster.admin
      .makeApiClient(CoreV1Api)
      .deleteNamespacedSecret({ namespace, name: secret ?? '' })
    const gone = await kubectlWith(file, ['get', 'pods'], {
      env: stepEnv({ ahead: '+9m' })
    })
    expect(gone.code).not.toBe(0)
    expect(gone.stderr).toContain(
      `The per-run Secret ${namespace}/${secret ?? ''} is gone or was replaced`
    )
    const post = await runner.post(renewInputs())
    steps.push(post)
    expect(post.code).toBe(0)
  }, 90_000)

  it('refuses renew-every with a stored kubeconfig found on the runner, naming renew-every', async () => {
    const runner = newRunner(cluster.idTokenEndpoint.env())
    fs.mkdirSync(path.join(runner.home, '.kube'))
    fs.copyFileSync(
      cluster.adminKubeconfig,
      path.join(runner.home, '.kube', 'config')
    )
    const inputs = renewInputs({
      'oidc-audience': '',
      server: '',
      'certificate-authority-data': ''
    })
    const main = await runner.main(inputs)
    steps.push(main)
    expect(main.code).toBe(1)
    expect(main.stdout).toContain(
      "::error::Input 'renew-every' cannot renew with a stored kubeconfig"
    )
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
  })

  it('refuses a renewal window over 6h10m before any Secret, naming duration and max-duration (review finding 4)', async () => {
    const runner = newRunner(cluster.idTokenEndpoint.env())
    const main = await runner.main(
      renewInputs({ duration: '7h', 'max-duration': '8h' })
    )
    steps.push(main)
    expect(main.code).toBe(1)
    expect(main.stdout).toContain(
      "::error::With 'renew-every', the window ('duration', or what 'auto' decided) is at most 6h10m"
    )
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
  })
})
