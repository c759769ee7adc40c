/**
 * End-to-end 403s that RBAC did not decide: a ResourceQuota, an admission
 * policy and a namespace being deleted each refuse the per-run Secret on the
 * real API server, and each gets its own sentence (not "grant it create").
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig
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
const core = admin.makeApiClient(CoreV1Api)
const newRunner = useRunners()
const namespaces: string[] = []
const policies: string[] = []

afterAll(async () => {
  const admission = admin.makeApiClient(AdmissionregistrationV1Api)
  for (const name of policies) {
    await admission
      .deleteValidatingAdmissionPolicyBinding({ name })
      .catch(() => undefined)
    await admission
      .deleteValidatingAdmissionPolicy({ name })
      .catch(() => undefined)
  }
  for (const namespace of namespaces) await deleteNamespace(admin, namespace)
})

async function scanSetup(): Promise<ScanSetup> {
  const setup = await createScanSetup(admin)
  namespaces.push(setup.namespace)
  return setup
}

/** Wait until the API server refuses a Secret in `namespace` with a message matching `pattern` (admission caches lag). */
async function untilRefused(
  kc: KubeConfig,
  namespace: string,
  pattern: RegExp
): Promise<void> {
  const api = kc.makeApiClient(CoreV1Api)
  const refused = await eventually(20, async () => {
    try {
      await api.createNamespacedSecret({
        namespace,
        dryRun: 'All',
        body: {
          metadata: {
            generateName: 'probe-',
            labels: { 'app.kubernetes.io/managed-by': 'ephemeral-scan-token' }
          }
        }
      })
      return false
    } catch (error) {
      return pattern.test(String((error as { body?: unknown }).body))
    }
  })
  if (!refused) throw new Error(`the API server never refused with ${pattern}`)
}

/** Run main; it must fail with exactly one error line, returned without its prefix. */
async function failingMain(setup: ScanSetup): Promise<string> {
  const runner = newRunner()
  const main = await runner.main({
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '15m',
    kubeconfig: setup.bootstrapKubeconfig
  })
  expect(main.code).toBe(1)
  const errors = main.stdout
    .split('\n')
    .filter((line) => line.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  const message = (errors[0] ?? '').slice('::error::'.length)
  expect(message).not.toContain("grant it 'create'")
  expect(message).not.toMatch(/%0A|HTTP-Code/)
  expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  return message
}

describe('403s that RBAC did not decide, on a real cluster', () => {
  it('names an exhausted ResourceQuota and how to clear it', async () => {
    const setup = await scanSetup()
    await core.createNamespacedResourceQuota({
      namespace: setup.namespace,
      body: {
        metadata: { name: 'no-secrets' },
        spec: { hard: { secrets: '0' } }
      }
    })
    // No quota controller runs in the test cluster: set the usage it would.
    await core.replaceNamespacedResourceQuotaStatus({
      name: 'no-secrets',
      namespace: setup.namespace,
      body: {
        metadata: { name: 'no-secrets' },
        spec: { hard: { secrets: '0' } },
        status: { hard: { secrets: '0' }, used: { secrets: '0' } }
      }
    })
    await untilRefused(admin, setup.namespace, /exceeded quota/)
    const message = await failingMain(setup)
    expect(message).toMatch(
      new RegExp(
        `^A ResourceQuota in namespace '${setup.namespace}' refused creating the per-run Secret \\(the API server said: .*exceeded quota: no-secrets.*\\): delete what earlier runs left there \\(kubectl delete secret -n ${setup.namespace} -l app.kubernetes.io/managed-by=ephemeral-scan-token\\) or ask the cluster admin to raise the quota, or set 'bind-to: none'\\.$`
      )
    )
  })

  it('names an admission policy that denied the per-run Secret', async () => {
    const setup = await scanSetup()
    const name = `deny-scan-secrets-${setup.namespace}`
    policies.push(name)
    const admission = admin.makeApiClient(AdmissionregistrationV1Api)
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['CREATE'],
                resources: ['secrets']
              }
            ]
          },
          validations: [
            {
              expression: 'false',
              message: 'per-run Secrets are not allowed in this namespace'
            }
          ]
        }
      }
    })
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name },
        spec: {
          policyName: name,
          validationActions: ['Deny'],
          matchResources: {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': setup.namespace }
            }
          }
        }
      }
    })
    await untilRefused(admin, setup.namespace, /not allowed in this namespace/)
    const message = await failingMain(setup)
    expect(message).toMatch(
      new RegExp(
        `^An admission webhook or policy refused creating the per-run Secret in namespace '${setup.namespace}' \\(the API server said: .*per-run Secrets are not allowed in this namespace.*\\): ask the cluster admin to allow it \\(the per-run Secret is labelled app.kubernetes.io/managed-by=ephemeral-scan-token\\), or set 'bind-to: none'\\.$`
      )
    )
  })

  it('names a namespace that is being deleted', async () => {
    const setup = await scanSetup()
    // No namespace controller runs in the test cluster, so it stays Terminating.
    await core.deleteNamespace({ name: setup.namespace })
    await untilRefused(admin, setup.namespace, /being terminated/)
    const message = await failingMain(setup)
    expect(message).toMatch(
      new RegExp(
        `^Namespace '${setup.namespace}' is being deleted, so the API server refused creating the per-run Secret in it \\(the API server said: .*because it is being terminated\\): wait until it is gone and recreate it, or set 'namespace' to another one\\.$`
      )
    )
  })
})
