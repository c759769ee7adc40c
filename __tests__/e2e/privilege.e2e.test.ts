/**
 * End-to-end excess-privilege review and check grammar against the real
 * RBAC authorizer: `*\/sub` rules, a Role that may delete Secrets, a
 * ClusterRoleBinding seen from the namespaced rules review, the review's
 * stated scope, impersonation groups, and check lines confirmed through the
 * token's own discovery.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api
} from '@kubernetes/client-node'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  eventually,
  type ScanSetup
} from './support/cluster.js'
import { useRunners } from './support/hooks.js'

const admin = adminKubeConfig()
const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
let setup: ScanSetup
let clusterWide: string
const newRunner = useRunners()

beforeAll(async () => {
  setup = await createScanSetup(admin, { alsoMintable: ['wild', 'wrecker'] })
  const namespace = setup.namespace
  for (const name of ['wild', 'wrecker']) {
    await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name } }
    })
  }
  // A "scanner" that can destroy what it scans: nothing else is wrong with it.
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'wrecker' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['delete'] }
      ]
    }
  })
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'wrecker' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'wrecker'
      },
      subjects: [{ kind: 'ServiceAccount', name: 'wrecker', namespace }]
    }
  })
  // What a hurried admin might grant: every token subresource and,
  // cluster-wide, reading Secrets and impersonating uids (a cluster-scoped
  // request, so only a ClusterRoleBinding makes it real).
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'wild' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['*/token'], verbs: ['create'] }
      ]
    }
  })
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'wild' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'wild'
      },
      subjects: [{ kind: 'ServiceAccount', name: 'wild', namespace }]
    }
  })
  clusterWide = `${namespace}-read-secrets`
  await rbac.createClusterRole({
    body: {
      metadata: { name: clusterWide },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['list'] },
        {
          apiGroups: ['authentication.k8s.io'],
          resources: ['uids'],
          verbs: ['impersonate']
        }
      ]
    }
  })
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterWide },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: clusterWide
      },
      subjects: [{ kind: 'ServiceAccount', name: 'wild', namespace }]
    }
  })
  // RBAC is informer-backed: wait until the cluster-wide grant is in effect.
  const authz = admin.makeApiClient(AuthorizationV1Api)
  const ready = await eventually(10, async () => {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:wild`,
          resourceAttributes: { verb: 'list', resource: 'secrets' }
        }
      }
    })
    return review.status?.allowed === true
  })
  if (!ready) throw new Error('the ClusterRoleBinding never took effect')
})

afterAll(async () => {
  await rbac
    .deleteClusterRoleBinding({ name: clusterWide })
    .catch(() => undefined)
  await rbac.deleteClusterRole({ name: clusterWide }).catch(() => undefined)
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

const linesOf = (stdout: string, prefix: string): string[] =>
  stdout.split('\n').filter((l) => l.startsWith(prefix))

describe('excess-privilege review on a real cluster', () => {
  it('flags */token and a ClusterRoleBinding, and names the scope it reviewed', async () => {
    const runner = newRunner()
    const main = await runner.main(inputs({ 'service-account': 'wild' }))
    expect(main.code).toBe(0)
    const warnings = linesOf(main.stdout, '::warning::Excess privilege')
    expect(
      warnings.some(
        (w) =>
          w.includes('creates ServiceAccount tokens') && w.includes('*/token')
      )
    ).toBe(true)
    expect(
      warnings.some((w) => w.includes('wildcard') && w.includes('*/token'))
    ).toBe(true)
    // Granted only by the ClusterRoleBinding, seen in the namespaced review.
    expect(
      warnings.some(
        (w) =>
          w.includes('reads Secrets') && w.includes('rule: list on secrets')
      )
    ).toBe(true)
    const scope = `Reviewed the token's rules in namespace ${setup.namespace}, which include its cluster-wide (ClusterRoleBinding) rules; RoleBindings in other namespaces are not visible to this review`
    expect(main.stdout).toContain(scope)
    expect(main.summary).toContain(scope)
    // RBAC answered completely: no access review stood in for the rules.
    expect(main.stdout).not.toContain('access reviews checked')
  })

  it('flags a Role that may delete Secrets, and fails on it with excess-privilege: fail', async () => {
    const runner = newRunner()
    const main = await runner.main(
      inputs({ 'service-account': 'wrecker', 'excess-privilege': 'fail' })
    )
    expect(main.code).toBe(1)
    const errors = linesOf(main.stdout, '::error::')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(
      'The ServiceAccount holds 1 permission(s) a scanner should not (deletes Secrets'
    )
    expect(errors[0]).toContain(
      `rule: delete on secrets (apiGroups core) in namespace ${setup.namespace}`
    )
    // Failed, so revoked: no per-run Secret is left behind.
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it('states the same scope when it finds nothing', async () => {
    const runner = newRunner()
    const main = await runner.main(inputs({ 'excess-privilege': 'fail' }))
    expect(main.code).toBe(0)
    expect(main.summary).toContain('None found in what was reviewed')
    expect(main.stdout).toContain(
      `Excess-privilege review: nothing a scanner should not hold. Reviewed the token's rules in namespace ${setup.namespace}`
    )
  })

  it('checks impersonating uids in authentication.k8s.io, so the line cannot pass vacuously', async () => {
    const runner = newRunner()
    const main = await runner.main(
      inputs({
        'service-account': 'wild',
        'excess-privilege': 'off',
        'expect-denied': 'impersonate uids'
      })
    )
    expect(main.code).toBe(1)
    expect(main.stdout).toMatch(
      /MISMATCH +expected denied +is allowed +impersonate uids\.authentication\.k8s\.io \(cluster-scoped\)/
    )
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })
})

describe('check lines confirmed through discovery on a real cluster', () => {
  it('confirms real group resources and scopes a cluster-scoped one cluster-wide', async () => {
    const runner = newRunner()
    const main = await runner.main(
      inputs({
        'expect-denied': [
          'list horizontalpodautoscalers.autoscaling',
          'create priorityclasses.scheduling.k8s.io -n elsewhere',
          'create daemonset.apps'
        ].join('\n')
      })
    )
    expect(linesOf(main.stdout, '::error::')).toEqual([])
    expect(main.code).toBe(0)
    expect(main.stdout).toMatch(
      /ok +expected denied +is denied +list horizontalpodautoscalers\.autoscaling in namespace/
    )
    expect(main.stdout).toMatch(
      /ok +expected denied +is denied +create priorityclasses\.scheduling\.k8s\.io \(cluster-scoped\)/
    )
    expect(main.stdout).toMatch(
      /ok +expected denied +is denied +create daemonsets\.apps in namespace/
    )
  })

  it('fails a line whose resource the server does not serve, instead of passing it as denied', async () => {
    const runner = newRunner()
    const main = await runner.main(
      inputs({ 'expect-denied': 'get secrets\ncreate daemonsetz.apps' })
    )
    expect(main.code).toBe(1)
    const errors = linesOf(main.stdout, '::error::')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^::error::Input 'expect-denied' has the line 'create daemonsetz\.apps', but the API group 'apps' has no resource 'daemonsetz' \(it has: [a-z, ]*daemonsets[a-z, ]*\): fix the line/
    )
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it("refuses '* *' in expect-denied before any call", async () => {
    const runner = newRunner()
    const main = await runner.main(inputs({ 'expect-denied': '* *' }))
    expect(main.code).toBe(1)
    expect(main.stdout).toContain(
      "::error::Input 'expect-denied' has the line '* *', which uses a wildcard"
    )
  })
})
