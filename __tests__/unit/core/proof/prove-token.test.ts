/** gatherProof / enforceProof against a mocked TokenApi (no cluster here). */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { ActionError } from '../../../../src/core/errors.js'
import { parseChecks } from '../../../../src/core/proof/can-i-lines.js'
import type { AccessCheck } from '../../../../src/core/kube/token-api.js'
import {
  enforceProof,
  gatherProof,
  type ProofRequest
} from '../../../../src/core/proof/prove-token.js'
import {
  fakeTokenApi,
  type FakeTokenApi
} from '../../../../__fixtures__/fake-cluster-api.js'
import { TestRunner } from '../../../../__fixtures__/runner.js'

const USER = 'system:serviceaccount:scan:scanner'
let api: FakeTokenApi
let runner: TestRunner

beforeEach(() => {
  runner = new TestRunner()
  api = fakeTokenApi(USER)
})

afterEach(() => {
  runner.restore()
})

function request(extra: Partial<ProofRequest> = {}): ProofRequest {
  return {
    verify: true,
    expectAllowed: [],
    expectDenied: [],
    excessPrivilege: 'warn',
    namespace: 'scan',
    username: USER,
    ...extra
  }
}

const denied = (lines: string): AccessCheck[] =>
  parseChecks('expect-denied', lines, 'scan')

describe('prove-token.ts', () => {
  it('needs two calls as the token for a default run: who am I, and one rules review', async () => {
    const proof = await gatherProof(api, request())
    expect(api.whoami).toHaveBeenCalledTimes(1)
    expect(api.rules).toHaveBeenCalledTimes(1)
    expect(api.canI).not.toHaveBeenCalled()
    expect(api.resources).not.toHaveBeenCalled()
    enforceProof(proof, request())
    expect(runner.out).toContain(
      "Excess-privilege review: nothing a scanner should not hold. Reviewed the token's rules in namespace scan, which include its cluster-wide (ClusterRoleBinding) rules; RoleBindings in other namespaces are not visible"
    )
  })

  it('fails an expect-denied line the authorizer could not decide, instead of passing it', async () => {
    api.canI.mockResolvedValue({
      allowed: false,
      error: 'webhook authorizer: Post "https://authz.example": timeout'
    })
    const req = request({ expectDenied: denied('get secrets') })
    const proof = await gatherProof(api, req)
    expect(proof.checks[0]).toMatchObject({ ok: false, allowed: false })
    expect(() => {
      enforceProof(proof, req)
    }).toThrow(
      '1 of 1 permission checks failed (\'get secrets\' could not be decided (the authorizer reported: webhook authorizer: Post "https://authz.example": timeout))'
    )
    expect(runner.out).toMatch(/MISMATCH +expected denied +is undecided/)
  })

  it("keeps RBAC's report of a binding to a missing role a decided denial", async () => {
    api.canI.mockResolvedValue({
      allowed: false,
      error:
        '[clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "old" not found]'
    })
    const proof = await gatherProof(
      api,
      request({ expectDenied: denied('get secrets') })
    )
    expect(proof.checks[0]).toMatchObject({ ok: true, allowed: false })
  })

  it('confirms an unknown dotted type through discovery before asking, and fails on a typo', async () => {
    api.resources.mockResolvedValue([{ name: 'daemonsets', namespaced: true }])
    const error = await gatherProof(
      api,
      request({ expectDenied: denied('create daemonsetz.apps') })
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ActionError)
    expect((error as Error).message).toContain(
      "Input 'expect-denied' has the line 'create daemonsetz.apps', but the API group 'apps' has no resource 'daemonsetz'"
    )
    expect(api.resources).toHaveBeenCalledWith('apps')
    expect(api.canI).not.toHaveBeenCalled()
  })

  it('reviews the namespaces the checks name as well as its own', async () => {
    const proof = await gatherProof(
      api,
      request({ expectDenied: denied('list pods -n prod\nlist nodes') })
    )
    expect(proof.privilege?.namespaces).toEqual(['scan', 'prod'])
  })
})
