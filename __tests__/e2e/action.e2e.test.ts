/**
 * End-to-end: the bundled dist/main and dist/post, run the way the runner
 * runs them, against a real kube-apiserver and the real kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig
} from '@kubernetes/client-node'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  eventually,
  kubectl,
  tokenIn,
  type ScanSetup
} from './support/cluster.js'
import { useRunners } from './support/hooks.js'
import { leaksOf } from './support/runner.js'

const admin = adminKubeConfig()
let setup: ScanSetup
const newRunner = useRunners()

function baseInputs(
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '20m',
    kubeconfig: setup.bootstrapKubeconfig,
    ...extra
  }
}

/** Keep a private copy of a kubeconfig so the token can be tried after post deleted the file. */
function keepCopy(file: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-copy-'))
  const copy = path.join(dir, 'kubeconfig')
  fs.copyFileSync(file, copy)
  return copy
}

beforeAll(async () => {
  setup = await createScanSetup(admin)
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
})

describe('main step on a real cluster', () => {
  it('writes a 0600 kubeconfig in a fresh 0700 directory under RUNNER_TEMP', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs())
    expect(main.stderr).toBe('')
    expect(main.code).toBe(0)
    const file = main.outputs.kubeconfig ?? ''
    expect(path.dirname(path.dirname(file))).toBe(runner.temp)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
    expect(main.env.KUBECONFIG).toBe(file)
    expect(main.outputs['service-account']).toBe(
      `system:serviceaccount:${setup.namespace}:scanner`
    )
  })

  it('gives a token that the real kubectl can use only as the Role allows', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs())
    const file = main.outputs.kubeconfig ?? ''

    const pods = await kubectl(file, ['get', 'pods', '-o', 'name'])
    expect(pods).toMatchObject({ code: 0 })
    expect(pods.stdout).toContain('pod/app-pod-1')

    const system = await kubectl(file, ['get', 'pods', '-n', 'kube-system'])
    expect(system.code).not.toBe(0)
    expect(system.stderr).toMatch(/forbidden/i)

    const secrets = await kubectl(file, ['get', 'secrets'])
    expect(secrets.code).not.toBe(0)
    expect(secrets.stderr).toMatch(/forbidden/i)

    const canExec = await kubectl(file, [
      'auth',
      'can-i',
      'create',
      'pods/app-pod-1',
      '--subresource=exec'
    ])
    expect(canExec.stdout.trim()).toBe('yes')
  })

  it('reports the lifetime it asked for', async () => {
    const runner = newRunner()
    const before = Date.now()
    const main = await runner.main(baseInputs({ duration: '25m' }))
    expect(main.code).toBe(0)
    expect(main.outputs['expires-in']).toBe('1500')
    const expiration = Date.parse(main.outputs.expiration ?? '')
    expect(expiration).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000 + 1500_000 - 2000
    )
    expect(expiration).toBeLessThanOrEqual(Date.now() + 1500_000 + 2000)
    expect(main.stdout).not.toContain('::warning::')
  })

  it('outputs the credential id the API server reports for the token', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs())
    const kc = new KubeConfig()
    kc.loadFromFile(main.outputs.kubeconfig ?? '')
    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'SelfSubjectReview'
        }
      })
    const user = review.status?.userInfo
    expect(user?.username).toBe(
      `system:serviceaccount:${setup.namespace}:scanner`
    )
    expect(main.outputs['credential-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(user?.extra?.['authentication.kubernetes.io/credential-id']).toEqual(
      [`JTI=${main.outputs['credential-id'] ?? ''}`]
    )
  })
})

describe('audit trail on a real cluster', () => {
  it('labels and annotates the per-run Secret so an admin can map it to the run and sweep it', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs())
    expect(main.code).toBe(0)
    const list = await admin.makeApiClient(CoreV1Api).listNamespacedSecret({
      namespace: setup.namespace,
      labelSelector:
        'app.kubernetes.io/managed-by=ephemeral-scan-token,ephemeral-scan-token/run-id=4242'
    })
    expect(list.items).toHaveLength(1)
    const meta = list.items[0]?.metadata
    expect(meta?.labels).toMatchObject({
      'ephemeral-scan-token/repository': 'octo-org_scan-repo',
      'ephemeral-scan-token/run-attempt': '1',
      'ephemeral-scan-token/service-account': 'scanner'
    })
    expect(meta?.annotations).toMatchObject({
      'ephemeral-scan-token/repository': 'octo-org/scan-repo',
      'ephemeral-scan-token/workflow': 'security-scan',
      'ephemeral-scan-token/run-id': '4242',
      'ephemeral-scan-token/run-attempt': '1',
      'ephemeral-scan-token/job': 'inspec',
      'ephemeral-scan-token/actor': 'octocat',
      'ephemeral-scan-token/sha': '0123456789abcdef0123456789abcdef01234567'
    })
    const expiresAt = Date.parse(
      meta?.annotations?.['ephemeral-scan-token/expires-at'] ?? ''
    )
    expect(
      Math.abs(expiresAt - Date.parse(main.outputs.expiration ?? ''))
    ).toBeLessThan(5000)
    // The credential id is in the log for correlation with the audit log.
    expect(main.stdout).toContain(
      `credential-id (jti, as the audit log records it): ${main.outputs['credential-id'] ?? 'missing'}`
    )
  })
})

describe('post step on a real cluster', () => {
  it('deletes the file and the per-run Secret, restores KUBECONFIG, and the token is rejected', async () => {
    const runner = newRunner({ KUBECONFIG: '/home/runner/.kube/previous' })
    const main = await runner.main(baseInputs())
    expect(main.code).toBe(0)
    const file = main.outputs.kubeconfig ?? ''
    const copy = keepCopy(file)
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)
    expect((await kubectl(copy, ['get', 'pods'])).code).toBe(0)

    const post = await runner.post(baseInputs())
    expect(post.code).toBe(0)
    expect(post.stdout).not.toContain('::warning::')
    expect(fs.existsSync(file)).toBe(false)
    expect(fs.existsSync(path.dirname(file))).toBe(false)
    expect(post.env.KUBECONFIG).toBe('/home/runner/.kube/previous')
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(0)

    const rejected = await eventually(15, async () => {
      const result = await kubectl(copy, ['get', 'pods'])
      return result.code !== 0 && /Unauthorized/i.test(result.stderr)
    })
    expect(rejected).toBe(true)
  })

  it('with bind-to: none leaves a token that keeps working after post (so revocation above is real)', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs({ 'bind-to': 'none' }))
    expect(main.code).toBe(0)
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(0)
    const copy = keepCopy(main.outputs.kubeconfig ?? '')
    const post = await runner.post(baseInputs({ 'bind-to': 'none' }))
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('stays valid until it expires')
    // Longer than the API server's 10 s authentication cache, the window above.
    await new Promise((resolve) => setTimeout(resolve, 16_000))
    expect((await kubectl(copy, ['get', 'pods'])).code).toBe(0)
  }, 60_000)

  it('is harmless when run twice', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs())
    expect(main.code).toBe(0)
    const first = await runner.post(baseInputs())
    const second = await runner.post(baseInputs())
    expect(first.code).toBe(0)
    expect(second.code).toBe(0)
    expect(second.stdout).not.toContain('::warning::')
    expect(second.stdout).toContain('already gone')
  })
})

describe('the token never leaks', () => {
  it('main and post print the token only in the add-mask command', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs())
    expect(main.code).toBe(0)
    const token = tokenIn(main.outputs.kubeconfig ?? '')
    expect(token.length).toBeGreaterThan(100)
    const post = await runner.post(baseInputs())
    expect(post.code).toBe(0)
    const printed = `${main.everything}\n${post.everything}`
    expect(printed).toContain(`::add-mask::${token}`)
    expect(leaksOf(token, printed)).toEqual([])
    expect(leaksOf(setup.minterToken, printed)).toEqual([])
  })

  it('exposes the token as an output only when output-token is true', async () => {
    const runner = newRunner()
    const main = await runner.main(baseInputs({ 'output-token': 'true' }))
    const token = tokenIn(main.outputs.kubeconfig ?? '')
    expect(main.outputs.token).toBe(token)
    const plain = await newRunner().main(baseInputs())
    expect(plain.outputs.token).toBeUndefined()
  })
})
