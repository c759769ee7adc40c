/**
 * End-to-end: the scan's own step, for real. With the kubeconfig the
 * bundled action mints, the real kubectl execs into the named pod through
 * the real kube-apiserver, which proxies pods/exec to the test cluster's
 * node agent (scripts/cluster.mjs, test/cluster/node) with its kubelet
 * client certificate; the command runs on this machine and its output and
 * exit code come back. Exec into another pod is forbidden by the Role, and
 * after post the same kubeconfig is refused (401).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Writable } from 'node:stream'
import { CoreV1Api, Exec, type V1Status } from '@kubernetes/client-node'
import {
  adminKubeConfig,
  createScanSetup,
  deleteNamespace,
  eventually,
  tokenIn,
  type ScanSetup
} from './support/cluster.js'
import {
  NODE_LOG,
  NODE_NAME,
  kubectlWith,
  untilRunning,
  webSocketExec
} from './support/exec.js'
import { useRunners } from './support/hooks.js'
import { leaksOf } from './support/runner.js'

const admin = adminKubeConfig()
const newRunner = useRunners()
let setup: ScanSetup
const copies: string[] = []
/** Every token minted here, for the node agent's log check. */
const minted: string[] = []

beforeAll(async () => {
  setup = await createScanSetup(admin)
  const core = admin.makeApiClient(CoreV1Api)
  // createScanSetup's app-pod-1 is unscheduled (there is no scheduler);
  // bind it to the node the way the scheduler does, with a Binding.
  await core.createNamespacedBinding({
    namespace: setup.namespace,
    body: {
      metadata: { name: 'app-pod-1' },
      target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME }
    }
  })
  // A pod on the same node that the Role does not name.
  await core.createNamespacedPod({
    namespace: setup.namespace,
    body: {
      metadata: { name: 'other-pod' },
      spec: {
        nodeName: NODE_NAME,
        serviceAccountName: 'scanner',
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'registry.invalid/other:1' }]
      }
    }
  })
  await untilRunning(admin, setup.namespace, 'app-pod-1')
  await untilRunning(admin, setup.namespace, 'other-pod')
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true })
})

/** main with the scanner's inputs; returns the runner and the kubeconfig it wrote. */
async function mint(): Promise<{
  runner: ReturnType<typeof newRunner>
  kubeconfig: string
}> {
  const runner = newRunner()
  const main = await runner.main({
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '15m',
    kubeconfig: setup.bootstrapKubeconfig
  })
  expect(main.code).toBe(0)
  const kubeconfig = main.outputs.kubeconfig ?? ''
  minted.push(tokenIn(kubeconfig))
  return { runner, kubeconfig }
}

/** A private copy, so the token can be tried after post removed the file. */
function keepCopy(file: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-exec-'))
  copies.push(dir)
  const copy = path.join(dir, 'kubeconfig')
  fs.copyFileSync(file, copy)
  return copy
}

const CHECK = [
  'sh',
  '-c',
  'echo "scanning $HOSTNAME"; test -f /etc/passwd && echo "passwd present"; echo "a warning" >&2; exit 3'
]

describe('kubectl exec with the minted kubeconfig, through the real API server to the node', () => {
  it('runs the command in the named pod and returns stdout, stderr and the exit code', async () => {
    const { kubeconfig } = await mint()
    const res = await kubectlWith(kubeconfig, [
      'exec',
      'app-pod-1',
      '-c',
      'app',
      '--',
      ...CHECK
    ])
    expect(res.stdout).toBe('scanning app-pod-1\npasswd present\n')
    expect(res.stderr).toContain('a warning\n')
    expect(res.stderr).toContain('command terminated with exit code 3')
    expect(res.code).toBe(3)

    const ok = await kubectlWith(kubeconfig, [
      'exec',
      'app-pod-1',
      '--',
      'true'
    ])
    expect(ok).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('works over SPDY too, with stdin (the baseline profile fed to sh -s)', async () => {
    const { kubeconfig } = await mint()
    const profile = fs.readFileSync(
      path.join(
        import.meta.dirname,
        '..',
        '..',
        'examples',
        'scan',
        'baseline.sh'
      ),
      'utf8'
    )
    const res = await kubectlWith(
      kubeconfig,
      ['exec', '-i', 'app-pod-1', '-c', 'app', '--', 'sh', '-s'],
      { input: profile, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } }
    )
    expect(res.stderr).toBe('')
    expect(res.stdout).toContain('ok      passwd-present: /etc/passwd exists')
    expect(res.stdout).toContain('4 of 4 controls passed')
    expect(res.code).toBe(0)
  })

  it('runs each pod’s commands in that pod’s own working directory', async () => {
    const { kubeconfig } = await mint()
    const pwd = await kubectlWith(kubeconfig, [
      'exec',
      'app-pod-1',
      '--',
      'pwd'
    ])
    expect(pwd.code).toBe(0)
    expect(path.basename(pwd.stdout.trim())).toMatch(
      new RegExp(`^${setup.namespace}_app-pod-1_[0-9a-f-]{36}$`)
    )
  })

  it('goes over SPDY with the examples’ Role: kubectl’s WebSocket attempt needs get on pods/exec as well, and falls back', async () => {
    // Kubernetes 1.35 authorizes a WebSocket exec (an HTTP GET) as get and
    // create on pods/exec (AuthorizePodWebsocketUpgradeCreatePermission);
    // the Role grants create only, so kubectl falls back to SPDY (POST).
    const { kubeconfig } = await mint()
    const res = await kubectlWith(kubeconfig, [
      'exec',
      '-v=6',
      'app-pod-1',
      '--',
      'sh',
      '-c',
      'echo ran'
    ])
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('ran\n')
    expect(res.stderr).toContain('RemoteCommand fallback')
    expect(res.stderr).toContain('cannot get resource "pods/exec"')
    expect(res.stderr).toMatch(
      /verb="POST" url="[^"]*\/pods\/app-pod-1\/exec\?[^"]*" status="101 Switching Protocols"/
    )

    const ws = await webSocketExec(
      kubeconfig,
      setup.namespace,
      'app-pod-1',
      'app',
      ['true']
    )
    expect(ws.status).toBe(403)
    expect((JSON.parse(ws.body) as { message: string }).message).toContain(
      'cannot get resource "pods/exec"'
    )
  })
})

describe('the node’s WebSocket and TTY paths (as the admin, who may get pods/exec)', () => {
  const adminFile = path.join(path.dirname(NODE_LOG), 'admin.kubeconfig')

  it('kubectl over WebSocket (v5, which the API server translates to SPDY for the node)', async () => {
    const res = await kubectlWith(adminFile, [
      'exec',
      '-v=6',
      '-n',
      setup.namespace,
      'app-pod-1',
      '--',
      ...CHECK
    ])
    expect(res.stdout).toBe('scanning app-pod-1\npasswd present\n')
    expect(res.stderr).toContain('a warning\n')
    expect(res.stderr).not.toContain('RemoteCommand fallback')
    expect(res.code).toBe(3)
  })

  it('a v4 WebSocket, proxied to the node untranslated (what the Python client speaks)', async () => {
    const res = await webSocketExec(
      adminFile,
      setup.namespace,
      'app-pod-1',
      'app',
      CHECK
    )
    expect(res.status).toBe(101)
    expect(res.stdout).toBe('scanning app-pod-1\npasswd present\n')
    expect(res.stderr).toBe('a warning\n')
    expect(res.result?.reason).toBe('NonZeroExitCode')
    expect(res.result?.details?.causes).toContainEqual({
      reason: 'ExitCode',
      message: '3'
    })
  })

  it('a TTY when asked (client-node’s Exec, tty: true)', async () => {
    let stdout = ''
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done): void {
        stdout += chunk.toString()
        done()
      }
    })
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(admin)
        .exec(
          setup.namespace,
          'app-pod-1',
          'app',
          ['sh', '-c', 'test -t 0 && test -t 1 && tty; exit 4'],
          sink,
          null,
          null,
          true,
          resolve
        )
        .catch(reject)
    })
    expect(stdout).toMatch(/^\/dev\/pts\/\d+\r?\n$/)
    expect(status.status).toBe('Failure')
    expect(status.details?.causes).toContainEqual({
      reason: 'ExitCode',
      message: '4'
    })
  })
})

describe('what the minted token may not exec', () => {
  it('is forbidden in a pod the Role does not name', async () => {
    const { kubeconfig } = await mint()
    const res = await kubectlWith(kubeconfig, [
      'exec',
      'other-pod',
      '--',
      'sh',
      '-c',
      'echo ran'
    ])
    expect(res.code).not.toBe(0)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain(
      `User "system:serviceaccount:${setup.namespace}:scanner" cannot create resource "pods/exec" in API group "" in the namespace "${setup.namespace}"`
    )
    // The same pod is reachable: the refusal is RBAC's, not a broken node.
    const asAdmin = await kubectlWith(
      path.join(path.dirname(NODE_LOG), 'admin.kubeconfig'),
      ['exec', '-n', setup.namespace, 'other-pod', '--', 'sh', '-c', 'echo ran']
    )
    expect(asAdmin).toMatchObject({ code: 0, stdout: 'ran\n' })
  })

  it('is refused (401) with the same kubeconfig once post has run', async () => {
    const { runner, kubeconfig } = await mint()
    const copy = keepCopy(kubeconfig)
    const before = await kubectlWith(copy, ['exec', 'app-pod-1', '--', 'true'])
    expect(before.code).toBe(0)

    const post = await runner.post(runner.mainInputs ?? {})
    expect(post.code).toBe(0)
    // The API server caches a successful authentication for up to 10 s.
    let last = before
    const refused = await eventually(20, async () => {
      last = await kubectlWith(copy, ['exec', 'app-pod-1', '--', 'true'])
      return last.code !== 0
    })
    expect(refused).toBe(true)
    expect(last.stderr).toContain(
      'You must be logged in to the server (Unauthorized)'
    )
  })
})

describe('the node agent', () => {
  it('logged the execs of this file and none of the tokens used for them', () => {
    const log = fs.readFileSync(NODE_LOG, 'utf8')
    expect(log).toContain(`exec ${setup.namespace}/app-pod-1/app sh`)
    expect(minted.length).toBeGreaterThan(0)
    for (const token of [...minted, setup.minterToken]) {
      expect(token).not.toBe('')
      expect(leaksOf(token, log)).toEqual([])
    }
  })
})
