import { describe, expect, it, jest } from '@jest/globals'
import type { V1NonResourceRule, V1ResourceRule } from '@kubernetes/client-node'
import type { AccessCheck } from '../../../../src/core/kube/token-api.js'
import {
  classifyRules,
  describeScope,
  findExcessPrivilege,
  RISKS
} from '../../../../src/core/proof/excess-privilege.js'
import type {
  AccessDecision,
  TokenApi
} from '../../../../src/core/kube/token-api.js'
import type { FakeTokenApi } from '../../../../__fixtures__/fake-cluster-api.js'

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

// What every authenticated ServiceAccount gets from the bootstrap roles
// (system:basic-user, system:discovery, system:public-info-viewer,
// system:service-account-issuer-discovery).
const BASELINE = [
  rule(
    ['create'],
    ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    ['authorization.k8s.io']
  ),
  rule(['create'], ['selfsubjectreviews'], ['authentication.k8s.io'])
]
const BASELINE_URLS: V1NonResourceRule[] = [
  {
    verbs: ['get'],
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/healthz',
      '/livez',
      '/openapi',
      '/openapi/*',
      '/readyz',
      '/version',
      '/version/'
    ]
  },
  {
    verbs: ['get'],
    nonResourceURLs: [
      '/.well-known/openid-configuration',
      '/.well-known/openid-configuration/',
      '/openid/v1/jwks',
      '/openid/v1/jwks/'
    ]
  }
]
const SCANNER = [
  rule(['get', 'list'], ['pods']),
  rule(['create'], ['pods/exec'], [''], ['app-pod-1'])
]

describe('excess-privilege.ts rule classifier', () => {
  it('flags nothing for a least-privilege scanner plus the default roles', () => {
    expect(classifyRules([...BASELINE, ...SCANNER], BASELINE_URLS)).toEqual([])
  })

  it.each<[string, V1ResourceRule, string[]]>([
    ['reading secrets', rule(['get'], ['secrets']), [RISKS.secrets]],
    ['watching secrets', rule(['watch'], ['secrets']), [RISKS.secrets]],
    [
      'reading secrets in every API group',
      rule(['list'], ['secrets'], ['*']),
      [RISKS.secrets]
    ],
    ['creating pods', rule(['create'], ['pods']), [RISKS.workloads]],
    [
      'patching deployments',
      rule(['patch'], ['deployments'], ['apps']),
      [RISKS.workloads]
    ],
    [
      'creating cronjobs',
      rule(['create'], ['cronjobs'], ['batch']),
      [RISKS.workloads]
    ],
    [
      'adding ephemeral containers',
      rule(['patch'], ['pods/ephemeralcontainers']),
      [RISKS.workloads]
    ],
    [
      'a wildcard verb on a harmless resource',
      rule(['*'], ['events']),
      [RISKS.wildcard]
    ],
    [
      'every verb on every resource, once',
      rule(['*'], ['*'], ['*']),
      [RISKS.wildcard]
    ],
    [
      // '*' covers subresources too: get pods/exec, pods/proxy, nodes/proxy.
      'reading every resource, Secrets and proxies included',
      rule(['get'], ['*']),
      [RISKS.wildcard, RISKS.secrets, RISKS.exec, RISKS.proxy, RISKS.nodeProxy]
    ],
    [
      'escalate',
      rule(['escalate'], ['roles'], ['rbac.authorization.k8s.io']),
      [RISKS.escalation]
    ],
    [
      'bind',
      rule(['bind'], ['roles'], ['rbac.authorization.k8s.io']),
      [RISKS.escalation]
    ],
    [
      'impersonate',
      rule(['impersonate'], ['serviceaccounts']),
      [RISKS.escalation]
    ],
    [
      'minting tokens',
      rule(['create'], ['serviceaccounts/token']),
      [RISKS.tokens]
    ],
    [
      'nodes/proxy, even get',
      rule(['get'], ['nodes/proxy']),
      [RISKS.nodeProxy]
    ],
    // F17: RBAC reads `*/sub` as that subresource of every resource.
    [
      '*/token (mints for every ServiceAccount)',
      rule(['create'], ['*/token']),
      [RISKS.wildcard, RISKS.tokens]
    ],
    [
      '*/ephemeralcontainers',
      rule(['patch'], ['*/ephemeralcontainers']),
      [RISKS.wildcard, RISKS.workloads]
    ],
    [
      '*/exec, */attach and */portforward',
      rule(['create'], ['*/exec', '*/attach', '*/portforward']),
      [RISKS.wildcard, RISKS.exec]
    ],
    [
      '*/proxy through a RoleBinding',
      rule(['get'], ['*/proxy']),
      [RISKS.wildcard, RISKS.proxy, RISKS.nodeProxy]
    ],
    // F18: exec into every pod (no resourceNames) is every pod's identity.
    ['pods/exec without names', rule(['create'], ['pods/exec']), [RISKS.exec]],
    [
      'pods/exec by get (WebSocket exec before 1.35)',
      rule(['get'], ['pods/exec']),
      [RISKS.exec]
    ],
    ['pods/attach', rule(['create'], ['pods/attach']), [RISKS.exec]],
    ['pods/portforward', rule(['create'], ['pods/portforward']), [RISKS.exec]],
    ['pods/proxy', rule(['get'], ['pods/proxy']), [RISKS.proxy]],
    ['services/proxy', rule(['create'], ['services/proxy']), [RISKS.proxy]],
    // R5: a scanner must never be able to destroy what it scans.
    [
      'deleting Secrets, pods and deployments (R5)',
      rule(
        ['delete', 'deletecollection'],
        ['secrets', 'pods', 'deployments'],
        ['', 'apps']
      ),
      [RISKS.destructive]
    ],
    ['deleting Secrets', rule(['delete'], ['secrets']), [RISKS.destructive]],
    [
      'deleting every ConfigMap at once',
      rule(['deletecollection'], ['configmaps']),
      [RISKS.destructive]
    ],
    ['deleting pods', rule(['delete'], ['pods']), [RISKS.destructive]],
    [
      'deleting replication controllers',
      rule(['delete'], ['replicationcontrollers']),
      [RISKS.destructive]
    ],
    ...(
      [
        ['deployments', 'apps'],
        ['replicasets', 'apps'],
        ['statefulsets', 'apps'],
        ['daemonsets', 'apps'],
        ['jobs', 'batch'],
        ['cronjobs', 'batch']
      ] as const
    ).map(([resource, group]): [string, V1ResourceRule, string[]] => [
      `deleting ${resource}`,
      rule(['delete'], [resource], [group]),
      [RISKS.destructive]
    ]),
    [
      'deleting PersistentVolumeClaims',
      rule(['deletecollection'], ['persistentvolumeclaims']),
      [RISKS.destructive]
    ],
    [
      'deleting PersistentVolumes (cluster-scoped)',
      rule(['delete'], ['persistentvolumes']),
      [RISKS.destructive]
    ],
    ...(
      ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] as const
    ).map((resource): [string, V1ResourceRule, string[]] => [
      `deleting ${resource}`,
      rule(['delete'], [resource], ['rbac.authorization.k8s.io']),
      [RISKS.destructive]
    ]),
    // Wildcards count: any verb, any resource, any group.
    [
      'every verb on Secrets',
      rule(['*'], ['secrets']),
      [RISKS.wildcard, RISKS.secrets, RISKS.destructive]
    ],
    [
      'a wildcard verb on ConfigMaps',
      rule(['*'], ['configmaps']),
      [RISKS.wildcard, RISKS.destructive]
    ],
    [
      'deleting every resource',
      // pods/proxy and nodes/proxy pass DELETE on too, and nodes are cluster-wide.
      rule(['delete'], ['*']),
      [
        RISKS.wildcard,
        RISKS.proxy,
        RISKS.destructive,
        RISKS.nodeProxy,
        RISKS.cluster
      ]
    ],
    [
      'deleting deployments in every API group',
      rule(['deletecollection'], ['deployments'], ['*']),
      [RISKS.destructive]
    ],
    // Cluster-scoped rules, which on RBAC only a ClusterRoleBinding makes real.
    ['listing nodes', rule(['list'], ['nodes']), [RISKS.cluster]],
    ['patching namespaces', rule(['patch'], ['namespaces']), [RISKS.cluster]],
    [
      'creating clusterrolebindings',
      rule(['create'], ['clusterrolebindings'], ['rbac.authorization.k8s.io']),
      [RISKS.cluster]
    ],
    [
      'creating persistentvolumes',
      rule(['create'], ['persistentvolumes']),
      [RISKS.cluster]
    ],
    [
      'changing admission policies',
      rule(
        ['update'],
        ['validatingadmissionpolicies'],
        ['admissionregistration.k8s.io']
      ),
      [RISKS.cluster]
    ],
    [
      'approving certificate requests',
      rule(
        ['update'],
        ['certificatesigningrequests/approval'],
        ['certificates.k8s.io']
      ),
      [RISKS.cluster]
    ]
  ])('flags %s', (_name, r, risks) => {
    const findings = classifyRules([...BASELINE, r], BASELINE_URLS)
    expect(findings.map((f) => f.risk)).toEqual(risks)
    expect(findings[0]?.evidence).toContain(r.resources?.[0] ?? '')
  })

  it.each<[string, V1ResourceRule]>([
    [
      'secrets in another API group',
      rule(['get'], ['secrets'], ['example.com'])
    ],
    ['deployments in the core group', rule(['create'], ['deployments'], [''])],
    ['exec into named pods', rule(['create'], ['pods/exec'], [''], ['a', 'b'])],
    ['reading pod logs', rule(['get'], ['pods/log'])],
    ['getting one node', rule(['get'], ['nodes'])],
    [
      '*/status, which grants no risky subresource',
      rule(['get'], ['pods/status'])
    ],
    ['deleting events', rule(['delete', 'deletecollection'], ['events'])],
    [
      'deleting secrets in another API group',
      rule(['delete'], ['secrets'], ['example.com'])
    ],
    [
      'deleting pods/status (a subresource, not the pod)',
      rule(['delete'], ['pods/status'])
    ]
  ])('does not flag %s', (_name, r) => {
    expect(classifyRules([r])).toEqual([])
  })

  it.each<[string, V1NonResourceRule]>([
    ['/metrics', { verbs: ['get'], nonResourceURLs: ['/metrics'] }],
    ['/logs/*', { verbs: ['get'], nonResourceURLs: ['/logs', '/logs/*'] }],
    ['every URL', { verbs: ['get'], nonResourceURLs: ['*'] }],
    ['a write to /healthz', { verbs: ['post'], nonResourceURLs: ['/healthz'] }]
  ])('flags the non-resource rule for %s', (_name, r) => {
    const findings = classifyRules(BASELINE, [...BASELINE_URLS, r])
    expect(findings).toEqual([
      {
        risk: RISKS.nonResource,
        evidence: `non-resource rule: ${r.verbs.join(',')} on ${(r.nonResourceURLs ?? []).join(',')}`
      }
    ])
  })
})

describe('excess-privilege.ts findExcessPrivilege', () => {
  function fakeApi(
    rules: (namespace: string) => V1ResourceRule[],
    incomplete: boolean,
    decide: (c: AccessCheck) => AccessDecision = () => ({ allowed: false })
  ): FakeTokenApi {
    return {
      server: 'https://127.0.0.1:6443',
      whoami: jest.fn<TokenApi['whoami']>(async () => ({
        username: '',
        groups: [],
        extra: {}
      })),
      rules: jest.fn<TokenApi['rules']>(async (namespace) => ({
        rules: rules(namespace),
        nonResourceRules: BASELINE_URLS,
        incomplete
      })),
      canI: jest
        .fn<TokenApi['canI']>()
        .mockImplementation(async (c) => decide(c)),
      resources: jest.fn<TokenApi['resources']>()
    }
  }

  it('needs one rules review and no access review on a complete (RBAC) review', async () => {
    const api = fakeApi(() => [...BASELINE, ...SCANNER], false)
    const report = await findExcessPrivilege(api, ['scan', 'scan', ''])
    expect(report).toEqual({
      findings: [],
      namespaces: ['scan'],
      incompleteIn: [],
      probes: 0
    })
    expect(api.rules).toHaveBeenCalledTimes(1)
    expect(api.canI).not.toHaveBeenCalled()
  })

  it('finds a ClusterRoleBinding grant in the namespaced review, where RBAC lists it', async () => {
    // RBAC's rules review lists ClusterRoleBinding rules in every namespace.
    const api = fakeApi(() => [...SCANNER, rule(['list'], ['secrets'])], false)
    const report = await findExcessPrivilege(api, ['scan'])
    expect(report.findings).toEqual([
      {
        risk: RISKS.secrets,
        evidence: 'rule: list on secrets (apiGroups core) in namespace scan'
      }
    ])
  })

  it('reviews every namespace it is given, and says which in the evidence', async () => {
    const api = fakeApi(
      (ns) => (ns === 'prod' ? [rule(['create'], ['pods'])] : SCANNER),
      false
    )
    const report = await findExcessPrivilege(api, ['scan', 'prod'])
    expect(report.namespaces).toEqual(['scan', 'prod'])
    expect(report.findings).toEqual([
      {
        risk: RISKS.workloads,
        evidence: 'rule: create on pods (apiGroups core) in namespace prod'
      }
    ])
  })

  it('confirms each risk with access reviews where the rules review is incomplete', async () => {
    const api = fakeApi(
      () => [],
      true,
      (c) => ({
        allowed:
          (c.namespace === 'scan' &&
            c.resource === 'secrets' &&
            c.verb === 'get') ||
          (c.resource === 'pods' &&
            c.subresource === 'exec' &&
            c.namespace === '')
      })
    )
    const report = await findExcessPrivilege(api, ['scan'])
    expect(report.incompleteIn).toEqual(['scan'])
    expect(report.probes).toBe(api.canI.mock.calls.length)
    expect(report.probes).toBeGreaterThan(40)
    expect(report.findings).toEqual([
      {
        risk: RISKS.secrets,
        evidence: 'allowed: get secrets in namespace scan'
      },
      {
        risk: RISKS.cluster,
        evidence: 'allowed: create pods/exec in all namespaces'
      }
    ])
    // Every probe is a statically known resource: none needs discovery.
    expect(api.canI.mock.calls.filter(([c]) => c.needsDiscovery)).toEqual([])
  })

  it('asks whether the token may delete what it scans where the rules review is incomplete', async () => {
    const api = fakeApi(
      () => [],
      true,
      (c) => ({
        allowed:
          (c.verb === 'deletecollection' &&
            c.resource === 'secrets' &&
            c.namespace === 'scan') ||
          (c.verb === 'delete' && c.resource === 'clusterrolebindings')
      })
    )
    const report = await findExcessPrivilege(api, ['scan'])
    expect(report.findings).toEqual([
      {
        risk: RISKS.destructive,
        evidence: 'allowed: deletecollection secrets in namespace scan'
      },
      {
        risk: RISKS.destructive,
        evidence:
          'allowed: delete clusterrolebindings.rbac.authorization.k8s.io (cluster-scoped)'
      }
    ])
    // Every kind the rules review checks for deletion is probed, both verbs.
    const asked = api.canI.mock.calls.map(([c]) =>
      [c.verb, c.resource, c.group].join(' ')
    )
    for (const [resource, group] of [
      ['secrets', ''],
      ['configmaps', ''],
      ['persistentvolumeclaims', ''],
      ['persistentvolumes', ''],
      ['pods', ''],
      ['replicationcontrollers', ''],
      ['deployments', 'apps'],
      ['replicasets', 'apps'],
      ['statefulsets', 'apps'],
      ['daemonsets', 'apps'],
      ['jobs', 'batch'],
      ['cronjobs', 'batch'],
      ['roles', 'rbac.authorization.k8s.io'],
      ['rolebindings', 'rbac.authorization.k8s.io'],
      ['clusterroles', 'rbac.authorization.k8s.io'],
      ['clusterrolebindings', 'rbac.authorization.k8s.io']
    ]) {
      expect(asked).toContain(`delete ${resource} ${group}`)
      expect(asked).toContain(`deletecollection ${resource} ${group}`)
    }
  })

  it('reports a probe the authorizer could not decide, instead of reading it as denied', async () => {
    const api = fakeApi(
      () => [],
      true,
      (c) =>
        c.resource === 'nodes' && c.subresource === 'proxy'
          ? { allowed: false, error: 'webhook authorizer: connection refused' }
          : { allowed: false }
    )
    const report = await findExcessPrivilege(api, ['scan'])
    expect(report.findings).toEqual([
      {
        risk: RISKS.undecided,
        evidence:
          'get nodes/proxy (cluster-scoped): webhook authorizer: connection refused'
      }
    ])
  })
})

describe('excess-privilege.ts describeScope', () => {
  it('names the namespaces, the cluster-wide bindings and what it cannot see', () => {
    expect(
      describeScope({
        findings: [],
        namespaces: ['scan'],
        incompleteIn: [],
        probes: 0
      })
    ).toBe(
      "Reviewed the token's rules in namespace scan, which include its cluster-wide (ClusterRoleBinding) rules; RoleBindings in other namespaces are not visible to this review (name a namespace in an 'expect-*' line to include it)."
    )
  })

  it('says where the review was incomplete and how many access reviews stood in', () => {
    expect(
      describeScope({
        findings: [],
        namespaces: ['scan', 'prod'],
        incompleteIn: ['scan', 'prod'],
        probes: 66
      })
    ).toBe(
      "Reviewed the token's rules in namespaces scan, prod, which include its cluster-wide (ClusterRoleBinding) rules; the rules review was incomplete in namespaces scan, prod (an authorizer other than RBAC, such as a webhook), so 66 access reviews checked each risk there and cluster-wide; RoleBindings in other namespaces are not visible to this review (name a namespace in an 'expect-*' line to include it)."
    )
  })
})
