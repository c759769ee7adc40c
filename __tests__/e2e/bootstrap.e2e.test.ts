/**
 * End-to-end bootstrap sources other than a static token in the input: an
 * exec plugin (the credential exists only on the wire), a token file named
 * by a KUBECONFIG file, and a Pod binding. Each must mint on the real API
 * server and mask the bootstrap credential it actually sent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as yaml from 'js-yaml'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  kubectl,
  tokenIn,
  type ScanSetup
} from './support/cluster.js'
import { useRunners } from './support/hooks.js'
import { leaksOf, maskedValues } from './support/runner.js'

const admin = adminKubeConfig()
let setup: ScanSetup
const newRunner = useRunners()

beforeAll(async () => {
  setup = await createScanSetup(admin)
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
})

/** The setup's cluster with another user entry. */
function kubeconfigWith(user: Record<string, unknown>): string {
  const cluster = admin.getCurrentCluster()
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'e2e',
        cluster: {
          server: cluster?.server,
          'certificate-authority-data': cluster?.caData
        }
      }
    ],
    users: [{ name: 'minter', user }],
    contexts: [
      {
        name: 'minter',
        context: { cluster: 'e2e', user: 'minter', namespace: setup.namespace }
      }
    ],
    'current-context': 'minter'
  })
}

const scanInputs = (
  extra: Record<string, string> = {}
): Record<string, string> => ({
  'service-account': setup.scanner,
  namespace: setup.namespace,
  duration: '15m',
  ...extra
})

describe('bootstrap credentials on a real cluster', () => {
  it('mints with an exec plugin and masks the token it produced before sending it', async () => {
    const runner = newRunner({ GITHUB_WORKSPACE: '/nonexistent/workspace' })
    const plugin = path.join(runner.root, 'get-token.sh')
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: setup.minterToken }
    }
    fs.writeFileSync(
      plugin,
      `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(credential)}\nEOF\n`,
      { mode: 0o700 }
    )
    const inputs = scanInputs({
      kubeconfig: kubeconfigWith({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: plugin,
          interactiveMode: 'Never'
        }
      })
    })
    const main = await runner.main(inputs)
    expect(main.stdout).not.toContain('::error::')
    expect(main.code).toBe(0)
    // The kubeconfig never held this token: it was masked from the wire.
    expect(maskedValues(main.stdout)).toContain(setup.minterToken)
    expect(leaksOf(setup.minterToken, main.everything)).toEqual([])
    const post = await runner.post(inputs)
    expect(post.stdout).toContain('Revoked the token')
    expect(maskedValues(post.stdout)).toContain(setup.minterToken)
    expect(leaksOf(setup.minterToken, post.everything)).toEqual([])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it('mints with a token file named by a KUBECONFIG file, masked without its newline', async () => {
    const runner = newRunner()
    const tokenFile = path.join(runner.root, 'minter.token')
    fs.writeFileSync(tokenFile, `${setup.minterToken}\n`, { mode: 0o600 })
    const config = path.join(runner.root, 'bootstrap.kubeconfig')
    fs.writeFileSync(config, kubeconfigWith({ 'token-file': tokenFile }))
    runner.jobEnv.KUBECONFIG = config
    const main = await runner.main(scanInputs())
    expect(main.stdout).not.toContain('::error::')
    expect(main.code).toBe(0)
    expect(maskedValues(main.stdout)).toContain(setup.minterToken)
    expect(leaksOf(setup.minterToken, main.everything)).toEqual([])
    const post = await runner.post(scanInputs())
    expect(post.stdout).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it('refuses a relative certificate-authority in the input before any call, even when the workspace has that file', async () => {
    const runner = newRunner()
    // The FakeRunner's working directory plays the checked-out workspace.
    fs.writeFileSync(path.join(runner.root, 'ca.crt'), 'attacker CA')
    runner.jobEnv.GITHUB_WORKSPACE = runner.root
    const content = kubeconfigWith({ token: setup.minterToken }).replace(
      /certificate-authority-data: .*/,
      'certificate-authority: ca.crt'
    )
    const main = await runner.main(scanInputs({ kubeconfig: content }))
    expect(main.code).toBe(1)
    const errors = main.stdout
      .split('\n')
      .filter((l) => l.startsWith('::error::'))
    expect(errors).toEqual([
      "::error::The entry clusters[0] in the 'kubeconfig' input names its certificate-authority by a relative path, which would resolve against the checked-out workspace that a pull request can change: embed certificate-authority-data instead."
    ])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it('binds the token to a Pod that runs as the ServiceAccount, and the token works', async () => {
    const runner = newRunner()
    const inputs = scanInputs({
      kubeconfig: setup.bootstrapKubeconfig,
      'bind-to': 'pod:app-pod-1'
    })
    const main = await runner.main(inputs)
    expect(main.stdout).not.toContain('::error::')
    expect(main.code).toBe(0)
    expect(main.summary).toContain(`Pod ${setup.namespace}/app-pod-1`)
    // No per-run Secret: the Pod is what the token is bound to.
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    const file = main.outputs.kubeconfig ?? ''
    const pods = await kubectl(file, ['get', 'pods', '-o', 'name'])
    expect(pods.stdout).toContain('pod/app-pod-1')
    const claims = JSON.parse(
      Buffer.from(tokenIn(file).split('.')[1] ?? '', 'base64url').toString()
    ) as { 'kubernetes.io'?: { pod?: { name?: string } } }
    expect(claims['kubernetes.io']?.pod?.name).toBe('app-pod-1')
  })

  it('refuses a Pod binding of exactly 3607 s, which the API server would extend to a year', async () => {
    const runner = newRunner()
    const main = await runner.main(
      scanInputs({
        kubeconfig: setup.bootstrapKubeconfig,
        'bind-to': 'pod:app-pod-1',
        duration: '3607s',
        'max-duration': '2h'
      })
    )
    expect(main.code).toBe(1)
    expect(main.stdout).toContain(
      "::error::Input 'duration' is 3607s with 'bind-to: pod:app-pod-1'"
    )
    expect(main.outputs.kubeconfig).toBeUndefined()
  })
})
