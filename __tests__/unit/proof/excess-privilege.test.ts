import { describe, expect, it, jest } from '@jest/globals'
import type { V1ResourceRule } from '@kubernetes/client-node'
import type { AccessCheck } from '../../../src/proof/can-i-lines.js'
import {
  classifyRules,
  findExcessPrivilege,
  RISKS
} from '../../../src/proof/excess-privilege.js'
import type { TokenApi } from '../../../src/kube/token-api.js'

const rule = (
  verbs: string[],
  resources: string[],
  apiGroups = [''],
  resourceNames?: string[]
): V1ResourceRule => ({
  verbs,
  resources,
  apiGroups,
  resourceNames
})

// What every authenticated identity gets from the bootstrap roles.
const BASELINE = [
  rule(
    ['create'],
    ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    ['authorization.k8s.io']
  ),
  rule(['create'], ['selfsubjectreviews'], ['authentication.k8s.io'])
]
const SCANNER = [
  rule(['get', 'list'], ['pods']),
  rule(['create'], ['pods/exec'], [''], ['app-pod-1'])
]

describe('excess-privilege.ts rule classifier', () => {
  it('flags nothing for a least-privilege scanner plus the default roles', () => {
    expect(classifyRules([...BASELINE, ...SCANNER])).toEqual([])
  })

  it.each([
    ['reading secrets', rule(['get'], ['secrets']), RISKS.secrets],
    ['watching secrets', rule(['watch'], ['secrets']), RISKS.secrets],
    ['creating pods', rule(['create'], ['pods']), RISKS.workloads],
    [
      'patching deployments',
      rule(['patch'], ['deployments'], ['apps']),
      RISKS.workloads
    ],
    [
      'creating cronjobs',
      rule(['create'], ['cronjobs'], ['batch']),
      RISKS.workloads
    ],
    [
      'adding ephemeral containers',
      rule(['patch'], ['pods/ephemeralcontainers']),
      RISKS.workloads
    ],
    ['a wildcard verb', rule(['*'], ['configmaps']), RISKS.wildcard],
    ['a wildcard resource', rule(['get'], ['*']), RISKS.wildcard],
    [
      'escalate',
      rule(['escalate'], ['roles'], ['rbac.authorization.k8s.io']),
      RISKS.escalation
    ],
    [
      'bind',
      rule(['bind'], ['roles'], ['rbac.authorization.k8s.io']),
      RISKS.escalation
    ],
    [
      'impersonate',
      rule(['impersonate'], ['serviceaccounts']),
      RISKS.escalation
    ],
    [
      'minting tokens',
      rule(['create'], ['serviceaccounts/token']),
      RISKS.tokens
    ],
    ['nodes/proxy, even get', rule(['get'], ['nodes/proxy']), RISKS.nodeProxy]
  ])('flags %s', (_name, r, risk) => {
    const findings = classifyRules([...BASELINE, r])
    expect(findings.map((f) => f.risk)).toEqual([risk])
    expect(findings[0]?.evidence).toContain(r.resources?.[0] ?? '')
  })

  it('does not flag secrets in another API group, nor deployments in core', () => {
    expect(
      classifyRules([
        rule(['get'], ['secrets'], ['example.com']),
        rule(['create'], ['deployments'], [''])
      ])
    ).toEqual([])
  })
})

describe('excess-privilege.ts findExcessPrivilege', () => {
  function fakeApi(
    rules: V1ResourceRule[],
    incomplete: boolean,
    allowed: (c: AccessCheck) => boolean
  ): TokenApi {
    return {
      server: 'https://127.0.0.1:6443',
      whoami: jest.fn<TokenApi['whoami']>(),
      rules: jest
        .fn<TokenApi['rules']>()
        .mockResolvedValue({ rules, incomplete }),
      canI: jest
        .fn<TokenApi['canI']>()
        .mockImplementation(async (c) => allowed(c))
    }
  }

  it('reports cluster-wide access the namespaced rules review cannot show', async () => {
    const api = fakeApi(
      SCANNER,
      false,
      (c) => c.resource === 'secrets' && c.namespace === '' && c.verb === 'list'
    )
    const report = await findExcessPrivilege(api, ['scan'])
    expect(report.findings).toEqual([
      {
        risk: RISKS.cluster,
        evidence: 'allowed: list secrets in all namespaces'
      }
    ])
  })

  it('confirms risks with access reviews when the rules review is incomplete', async () => {
    const api = fakeApi(
      [],
      true,
      (c) =>
        c.namespace === 'scan' && c.resource === 'secrets' && c.verb === 'get'
    )
    const report = await findExcessPrivilege(api, ['scan'])
    expect(report.incomplete).toBe(true)
    expect(report.findings).toEqual([
      {
        risk: RISKS.secrets,
        evidence: 'allowed: get secrets in namespace scan'
      }
    ])
  })

  it('asks no namespaced probes when the rules review is complete', async () => {
    const api = fakeApi(SCANNER, false, () => false)
    await findExcessPrivilege(api, ['scan'])
    const asked = (api.canI as jest.Mock<TokenApi['canI']>).mock.calls.map(
      ([c]) => c
    )
    expect(asked.every((c) => c.namespace === '')).toBe(true)
  })
})
