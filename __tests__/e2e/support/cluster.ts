import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api
} from '@kubernetes/client-node'
import * as yaml from 'js-yaml'

export const REPO = path.resolve(import.meta.dirname, '..', '..', '..')
export const CLUSTER_DIR = path.join(REPO, '.cluster')
/** The real kubectl, built from the same Kubernetes module as the API server. */
export const KUBECTL = path.join(REPO, '.cache', 'bin', 'kubectl')

export function adminKubeConfig(dir = CLUSTER_DIR): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromFile(path.join(dir, 'admin.kubeconfig'))
  return kc
}

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the real kubectl against exactly one kubeconfig file. */
export function kubectl(
  kubeconfig: string,
  args: string[]
): Promise<CommandResult> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: path.dirname(kubeconfig)
  }
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, ...args],
      { env },
      (error, stdout, stderr) => {
        const code = error
          ? typeof error.code === 'number'
            ? error.code
            : 1
          : 0
        resolve({ code, stdout, stderr })
      }
    )
  })
}

export interface ScanSetup {
  namespace: string
  /** The ServiceAccount the action mints for (least privilege). */
  scanner: string
  /** Bootstrap kubeconfig content for the minting identity. */
  bootstrapKubeconfig: string
  /** That identity's own token, which must never leak either. */
  minterToken: string
  server: string
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Wait until RBAC (informer-backed) actually grants what we just bound. */
async function waitAllowed(
  admin: KubeConfig,
  user: string,
  attributes: {
    namespace: string
    verb: string
    resource: string
    subresource?: string
    name?: string
  }
): Promise<void> {
  const authz = admin.makeApiClient(AuthorizationV1Api)
  for (let i = 0; i < 50; i++) {
    const review = await authz.createSubjectAccessReview({
      body: { spec: { user, resourceAttributes: attributes } }
    })
    if (review.status?.allowed) return
    await sleep(200)
  }
  throw new Error(
    `RBAC never granted ${attributes.verb} ${attributes.resource} to ${user}`
  )
}

/** Build a kubeconfig (as data, then YAML) for a token on this cluster. */
export function kubeconfigFor(
  admin: KubeConfig,
  token: string,
  namespace: string
): string {
  const cluster = admin.getCurrentCluster()
  if (!cluster) throw new Error('admin kubeconfig has no cluster')
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'e2e',
        cluster: {
          server: cluster.server,
          'certificate-authority-data': cluster.caData
        }
      }
    ],
    users: [{ name: 'minter', user: { token } }],
    contexts: [
      { name: 'minter', context: { cluster: 'e2e', user: 'minter', namespace } }
    ],
    'current-context': 'minter'
  })
}

/**
 * A namespace with the seeds' scanner setup: ServiceAccount `scanner` with a
 * Role to get/list pods and exec into one named pod, and a `minter`
 * identity (the bootstrap) that may mint tokens for `scanner` and create and
 * delete the per-run Secret, and nothing else. With `minter: false` there is
 * no minter (the OIDC bootstrap mints as the job's mapped user instead), and
 * `bootstrapKubeconfig` and `minterToken` are empty.
 */
export async function createScanSetup(
  admin: KubeConfig,
  options: {
    minter?: boolean
    minterCanMint?: boolean
    greedy?: boolean
    alsoMintable?: string[]
  } = {}
): Promise<ScanSetup> {
  const withMinter = options.minter !== false
  const namespace = `e2e-${randomBytes(4).toString('hex')}`
  const core = admin.makeApiClient(CoreV1Api)
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
  await core.createNamespace({ body: { metadata: { name: namespace } } })
  const accounts = [
    'scanner',
    ...(withMinter ? ['minter'] : []),
    ...(options.greedy ? ['greedy'] : [])
  ]
  for (const name of accounts) {
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name } }
    })
  }
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'app-pod-1', labels: { app: 'target' } },
      spec: {
        serviceAccountName: 'scanner',
        containers: [{ name: 'app', image: 'registry.invalid/app:1' }]
      }
    }
  })
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'scanner' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        {
          apiGroups: [''],
          resources: ['pods/exec'],
          verbs: ['create'],
          resourceNames: ['app-pod-1']
        }
      ]
    }
  })
  const minterRules = [
    { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete'] }
  ]
  if (options.minterCanMint !== false) {
    minterRules.push({
      apiGroups: [''],
      resources: ['serviceaccounts/token'],
      verbs: ['create'],
      resourceNames: [
        'scanner',
        ...(options.greedy ? ['greedy'] : []),
        ...(options.alsoMintable ?? [])
      ]
    } as (typeof minterRules)[number])
  }
  if (options.greedy) {
    // An over-privileged "scanner": reads Secrets and holds a wildcard.
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'greedy' },
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }
        ]
      }
    })
  }
  if (withMinter) {
    await rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: 'minter' }, rules: minterRules }
    })
  }
  for (const name of accounts) {
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }]
      }
    })
  }
  const scannerUser = `system:serviceaccount:${namespace}:scanner`
  if (!withMinter) {
    await waitAllowed(admin, scannerUser, {
      namespace,
      verb: 'list',
      resource: 'pods'
    })
    return {
      namespace,
      scanner: 'scanner',
      minterToken: '',
      bootstrapKubeconfig: '',
      server: admin.getCurrentCluster()?.server ?? ''
    }
  }
  const minterUser = `system:serviceaccount:${namespace}:minter`
  await waitAllowed(admin, minterUser, {
    namespace,
    verb: 'create',
    resource: 'secrets'
  })
  if (options.minterCanMint !== false) {
    await waitAllowed(admin, minterUser, {
      namespace,
      verb: 'create',
      resource: 'serviceaccounts',
      subresource: 'token',
      name: 'scanner'
    })
  }
  await waitAllowed(admin, scannerUser, {
    namespace,
    verb: 'list',
    resource: 'pods'
  })
  const minted = await core.createNamespacedServiceAccountToken({
    name: 'minter',
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } }
  })
  const minterToken = minted.status?.token ?? ''
  return {
    namespace,
    scanner: 'scanner',
    minterToken,
    bootstrapKubeconfig: kubeconfigFor(admin, minterToken, namespace),
    server: admin.getCurrentCluster()?.server ?? ''
  }
}

export async function deleteNamespace(
  admin: KubeConfig,
  namespace: string
): Promise<void> {
  await admin
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => undefined)
}

/** Per-run Secrets the action left in a namespace. */
export async function anchorsIn(
  admin: KubeConfig,
  namespace: string
): Promise<string[]> {
  const list = await admin.makeApiClient(CoreV1Api).listNamespacedSecret({
    namespace,
    labelSelector: 'app.kubernetes.io/managed-by=ephemeral-scan-token'
  })
  return list.items.map((s) => s.metadata?.name ?? '')
}

/** Read the token out of a kubeconfig the action wrote. */
export function tokenIn(kubeconfigPath: string): string {
  const doc = yaml.load(fs.readFileSync(kubeconfigPath, 'utf8')) as {
    users: { user: { token: string } }[]
  }
  return doc.users[0]?.user.token ?? ''
}

/** Poll `check` until it returns true, up to `seconds`. */
export async function eventually(
  seconds: number,
  check: () => Promise<boolean>
): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(500)
  }
  return check()
}
