/**
 * End-to-end least-privilege proof: expect-allowed / expect-denied and the
 * excess-privilege review, decided by the real API server as the new token.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  tokenIn,
  type ScanSetup
} from './support/cluster.js'
import { useRunners } from './support/hooks.js'
import { leaksOf, maskedValues } from './support/runner.js'

const admin = adminKubeConfig()
let setup: ScanSetup
const runner = useRunners()

const EXPECT_ALLOWED = [
  'list pods',
  'get pods/app-pod-1',
  'create pods/app-pod-1 --subresource=exec'
].join('\n')
const EXPECT_DENIED = [
  // The Role allows exec only into app-pod-1 (resourceNames), not into any pod.
  'create pods/exec',
  'get secrets',
  'list pods -n kube-system',
  'create pods/other-pod --subresource=exec',
  'delete pods',
  'list secrets --all-namespaces'
].join('\n')

beforeAll(async () => {
  setup = await createScanSetup(admin, { greedy: true })
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
})

function inputs(extra: Record<string, string>): Record<string, string> {
  return {
    'service-account': 'scanner',
    namespace: setup.namespace,
    duration: '15m',
    kubeconfig: setup.bootstrapKubeconfig,
    ...extra
  }
}

describe('least-privilege proof on a real cluster', () => {
  it('passes every check for the least-privilege scanner and flags nothing', async () => {
    const r = runner()
    const main = await r.main(
      inputs({
        'expect-allowed': EXPECT_ALLOWED,
        'expect-denied': EXPECT_DENIED,
        'excess-privilege': 'fail'
      })
    )
    expect(main.stdout).not.toContain('::error::')
    expect(main.code).toBe(0)
    expect(main.stdout).not.toContain('::warning::Excess privilege')
    expect(main.stdout).toMatch(
      /ok +expected denied +is denied +get secrets in namespace/
    )
    expect(main.stdout).not.toContain('MISMATCH')
  })

  it('writes a step summary with the facts and checks, and never the token', async () => {
    const r = runner()
    const main = await r.main(
      inputs({
        'expect-allowed': EXPECT_ALLOWED,
        'expect-denied': EXPECT_DENIED
      })
    )
    expect(main.code).toBe(0)
    const token = tokenIn(main.outputs.kubeconfig ?? '')
    const summary = main.summary
    expect(summary).toContain(
      `system:serviceaccount:${setup.namespace}:scanner`
    )
    expect(summary).toContain(main.outputs['credential-id'] ?? 'missing')
    expect(summary).toContain(main.outputs.expiration ?? 'missing')
    expect(summary).toContain('requested 15m, granted 15m')
    expect(summary).toMatch(/Secret [a-z0-9-]+\/ephemeral-scan-token-4242-1-/)
    expect(summary).toContain('create pods/exec named app-pod-1 in namespace')
    expect(summary).toContain('list secrets in all namespaces')
    expect(summary).toContain('None found')
    expect(leaksOf(token, summary)).toEqual([])
    expect(summary).not.toContain('certificate-authority-data')
    const post = await r.post(inputs({}))
    expect(post.summary).toContain('Token revoked: yes')
    expect(post.summary).toMatch(/Token held \d+s of 15m/)
    expect(leaksOf(token, post.summary)).toEqual([])
  })

  it('fails with a table when an expectation does not hold, and revokes the token', async () => {
    const r = runner()
    const main = await r.main(
      inputs({ 'expect-denied': 'list pods\nget secrets' })
    )
    expect(main.code).toBe(1)
    expect(main.stdout).toMatch(
      /MISMATCH +expected denied +is allowed +list pods in namespace/
    )
    const errors = main.stdout
      .split('\n')
      .filter((l) => l.startsWith('::error::'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(
      "1 of 2 permission checks failed ('list pods' is allowed but expected denied)"
    )
    expect(fs.readdirSync(r.temp)).toEqual([])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    // Both the bootstrap token and the minted one were masked, and printed nowhere else.
    const secrets = maskedValues(main.stdout)
    expect(secrets).toHaveLength(2)
    for (const secret of secrets)
      expect(leaksOf(secret, main.everything)).toEqual([])
  })

  it('warns about Secret reads and a wildcard for an over-privileged account', async () => {
    const r = runner()
    const main = await r.main(inputs({ 'service-account': 'greedy' }))
    expect(main.code).toBe(0)
    const warnings = main.stdout
      .split('\n')
      .filter((l) => l.startsWith('::warning::Excess privilege'))
    expect(warnings.some((w) => w.includes('reads Secrets'))).toBe(true)
    expect(
      warnings.some((w) => w.includes('wildcard') && w.includes('configmaps'))
    ).toBe(true)
    expect(main.summary).toContain('reads Secrets')
    await r.post(inputs({ 'service-account': 'greedy' }))
  })

  it('with excess-privilege: fail, fails the step and leaves no Secret or file', async () => {
    const r = runner()
    const main = await r.main(
      inputs({ 'service-account': 'greedy', 'excess-privilege': 'fail' })
    )
    expect(main.code).toBe(1)
    const errors = main.stdout
      .split('\n')
      .filter((l) => l.startsWith('::error::'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('permission(s) a scanner should not')
    expect(errors[0]).toContain('reads Secrets')
    expect(fs.readdirSync(r.temp)).toEqual([])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(main.outputs.kubeconfig).toBeUndefined()
  })

  it('rejects a malformed check line before any network call', async () => {
    const r = runner()
    const main = await r.main(
      inputs({ 'expect-allowed': 'list pods\nget pods -o yaml' })
    )
    expect(main.code).toBe(1)
    expect(main.stdout).toContain(
      "::error::Input 'expect-allowed' has the line 'get pods -o yaml'"
    )
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })
})
