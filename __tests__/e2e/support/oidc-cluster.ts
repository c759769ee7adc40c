// A second real kube-apiserver that trusts a loopback OIDC issuer, for the
// zero-secret bootstrap: the issuer and the runner's ID-token endpoint are
// stand-ins, the API server, its authenticator and RBAC are the real ones.
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as https from 'node:https'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  AuthorizationV1Api,
  KubeConfig,
  RbacAuthorizationV1Api
} from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { REPO } from './cluster.ts'
import { IdTokenEndpoint } from './id-token-endpoint.ts'
import {
  jobWorkflowRef,
  mappedUsername,
  writeAuthenticationConfig,
  type GitHubTrust
} from './oidc-auth-config.ts'
import { OidcIssuer, TRUSTED_JOB } from './oidc-issuer.ts'

/** The `oidc-audience` the trusted cluster expects. */
export const OIDC_AUDIENCE = 'ephemeral-scan-token-e2e'

export interface OidcClusterOptions {
  /** Where cluster.mjs keeps this cluster's state; default a fresh temp dir. */
  clusterDir?: string
  /** Changes to the trust the API server is given (audience, owner, workflows...). */
  trust?: Partial<GitHubTrust>
  /** How long to wait for the JWT authenticator to accept a good token. */
  readyTimeoutMs?: number
}

export interface OidcCluster {
  /** `https://127.0.0.1:<port>`: the action's `server` input. */
  server: string
  /** Base64 PEM of the API server's CA: the `certificate-authority-data` input. */
  caData: string
  caPem: string
  issuer: OidcIssuer
  idTokenEndpoint: IdTokenEndpoint
  /** What the API server was told to trust. */
  trust: GitHubTrust
  /** The user name the API server maps `TRUSTED_JOB`'s tokens to. */
  username: string
  /** Path of the admin kubeconfig (static token, system:masters). */
  adminKubeconfig: string
  admin: KubeConfig
  clusterDir: string
  authConfigFile: string
  /** Milliseconds: cluster.mjs up, then until the first ID token was accepted. */
  timings: { clusterUp: number; authenticatorReady: number }
  stop(): Promise<void>
}

interface Ran {
  code: number
  output: string
}

function runClusterScript(
  command: 'up' | 'down',
  clusterDir: string,
  extraArgs = ''
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'scripts', 'cluster.mjs'), command],
      {
        cwd: REPO,
        env: {
          ...process.env,
          CLUSTER_DIR: clusterDir,
          CLUSTER_EXTRA_ARGS: extraArgs
        },
        maxBuffer: 16 * 1024 * 1024
      },
      (error, stdout, stderr) => {
        const code = error
          ? typeof error.code === 'number'
            ? error.code
            : 1
          : 0
        resolve({ code, output: `${stdout}${stderr}` })
      }
    )
  })
}

/** The answer of one raw API call: the status code tells 401 from 403. */
export interface ApiAnswer {
  status: number
  body: Record<string, unknown>
}

/** One request to the API server as `bearer`, verifying its CA. */
export function callApi(
  target: { server: string; caPem: string },
  bearer: string,
  method: 'GET' | 'POST' | 'DELETE',
  urlPath: string,
  body?: unknown
): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(urlPath, target.server),
      {
        method,
        ca: target.caPem,
        timeout: 15_000,
        headers: {
          authorization: `Bearer ${bearer}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {})
        }
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          let parsed: Record<string, unknown>
          try {
            parsed = JSON.parse(text) as Record<string, unknown>
          } catch {
            parsed = { text }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      }
    )
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${urlPath} timed out`))
    )
    req.on('error', reject)
    req.end(payload)
  })
}

/** Who the API server says `bearer` is (SelfSubjectReview). */
export interface SelfReview {
  status: number
  username?: string
  uid?: string
  groups?: string[]
  extra?: Record<string, string[]>
  /** The Status message of a refusal. */
  message?: string
}

export async function reviewSelf(
  target: { server: string; caPem: string },
  bearer: string
): Promise<SelfReview> {
  const answer = await callApi(
    target,
    bearer,
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }
  )
  const user = (
    answer.body.status as { userInfo?: Record<string, unknown> } | undefined
  )?.userInfo
  return {
    status: answer.status,
    username: user?.username as string | undefined,
    uid: user?.uid as string | undefined,
    groups: user?.groups as string[] | undefined,
    extra: user?.extra as Record<string, string[]> | undefined,
    message: answer.body.message as string | undefined
  }
}

/**
 * Bind `username` (an OIDC-mapped user) to exactly what the bootstrap needs
 * in `namespace`: create on `serviceaccounts/token` for the named accounts,
 * create/delete on Secrets (the per-run Secret). Waits until RBAC's informer
 * has it, so the first mint does not race the binding.
 */
export async function grantOidcMinter(
  admin: KubeConfig,
  namespace: string,
  username: string,
  serviceAccounts: string[]
): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
  const name = 'oidc-minter'
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        {
          apiGroups: [''],
          resources: ['serviceaccounts/token'],
          verbs: ['create'],
          resourceNames: serviceAccounts
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete'] }
      ]
    }
  })
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: username }
      ]
    }
  })
  const authz = admin.makeApiClient(AuthorizationV1Api)
  for (let i = 0; i < 50; i++) {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: username,
          resourceAttributes: {
            namespace,
            verb: 'create',
            resource: 'serviceaccounts',
            subresource: 'token',
            name: serviceAccounts[0] ?? ''
          }
        }
      }
    })
    if (review.status?.allowed) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`RBAC never granted serviceaccounts/token to ${username}`)
}

/** A kubeconfig for `token` on this cluster, as YAML. */
export function tokenKubeconfig(
  target: { server: string; caData: string },
  token: string,
  namespace = 'default'
): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'oidc',
        cluster: {
          server: target.server,
          'certificate-authority-data': target.caData
        }
      }
    ],
    users: [{ name: 'bearer', user: { token } }],
    contexts: [
      {
        name: 'bearer',
        context: { cluster: 'oidc', user: 'bearer', namespace }
      }
    ],
    'current-context': 'bearer'
  })
}

function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    // cluster.mjs single-quotes values with shell-special characters.
    env[line.slice(0, eq)] = line.slice(eq + 1).replace(/^'(.*)'$/, '$1')
  }
  return env
}

/**
 * Serve the issuer and the ID-token endpoint, then start a real
 * kube-apiserver (scripts/cluster.mjs, its own CLUSTER_DIR) with
 * `--authentication-config` trusting that issuer for `TRUSTED_JOB`, and wait
 * until it accepts a good ID token. The issuer must be up first: the API
 * server fetches discovery at start and only retries every 10 s.
 */
export async function startOidcCluster(
  options: OidcClusterOptions = {}
): Promise<OidcCluster> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-oidc-'))
  const clusterDir = path.resolve(
    options.clusterDir ?? path.join(scratch, 'cluster')
  )
  const issuer = await OidcIssuer.start()
  const idTokenEndpoint = await IdTokenEndpoint.start(issuer)
  let clusterStarted = false
  const stop = async (): Promise<void> => {
    const down = clusterStarted
      ? await runClusterScript('down', clusterDir)
      : undefined
    await idTokenEndpoint.stop()
    await issuer.stop()
    fs.rmSync(scratch, { recursive: true, force: true })
    if (down && down.code !== 0) {
      throw new Error(
        `cluster.mjs down failed (exit ${down.code}):\n${down.output}`
      )
    }
  }
  try {
    const trust: GitHubTrust = {
      issuerUrl: issuer.url,
      certificateAuthority: issuer.caPem,
      audience: OIDC_AUDIENCE,
      ownerId: TRUSTED_JOB.ownerId,
      jobWorkflowRefs: [jobWorkflowRef(TRUSTED_JOB)],
      ...options.trust
    }
    const authConfigFile = path.join(scratch, 'authentication-config.yaml')
    // cluster.mjs splits CLUSTER_EXTRA_ARGS on whitespace.
    if (/\s/.test(authConfigFile)) {
      throw new Error(`the temp dir ${scratch} has whitespace in its path`)
    }
    writeAuthenticationConfig(authConfigFile, trust)

    // A cluster left running in that directory would keep trusting an
    // issuer that is gone: cluster.mjs up reuses a running cluster.
    if (fs.existsSync(clusterDir)) await runClusterScript('down', clusterDir)
    const upStarted = Date.now()
    clusterStarted = true
    const up = await runClusterScript(
      'up',
      clusterDir,
      `--authentication-config=${authConfigFile}`
    )
    if (up.code !== 0) {
      throw new Error(`cluster.mjs up failed (exit ${up.code}):\n${up.output}`)
    }
    const clusterUp = Date.now() - upStarted

    const env = readEnvFile(path.join(clusterDir, 'env'))
    const adminKubeconfig =
      env.KUBECONFIG ?? path.join(clusterDir, 'admin.kubeconfig')
    const admin = new KubeConfig()
    admin.loadFromFile(adminKubeconfig)
    const caPem = fs.readFileSync(
      env.CA_FILE ?? path.join(clusterDir, 'pki', 'apiserver.crt'),
      'utf8'
    )
    const server = env.SERVER ?? admin.getCurrentCluster()?.server ?? ''
    const target = { server, caPem }

    // The JWT authenticator initialises asynchronously (discovery, then keys
    // on first use); /readyz does not wait for it.
    const readyStarted = Date.now()
    const deadline = readyStarted + (options.readyTimeoutMs ?? 60_000)
    let last: SelfReview | undefined
    for (;;) {
      last = await reviewSelf(
        target,
        issuer.mint(TRUSTED_JOB, { audience: trust.audience })
      )
      if (last.status === 201) break
      if (Date.now() > deadline) {
        const log = fs
          .readFileSync(path.join(clusterDir, 'apiserver.log'), 'utf8')
          .split('\n')
          .filter((line) => /oidc|jwt|authenticat/i.test(line))
          .slice(-20)
          .join('\n')
        throw new Error(
          `the API server never accepted an ID token from ${issuer.url} (last answer ${last.status} ${last.message ?? ''}); apiserver.log says:\n${log}`
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }

    return {
      server,
      caData: Buffer.from(caPem).toString('base64'),
      caPem,
      issuer,
      idTokenEndpoint,
      trust,
      username: mappedUsername(trust, TRUSTED_JOB),
      adminKubeconfig,
      admin,
      clusterDir,
      authConfigFile,
      timings: { clusterUp, authenticatorReady: Date.now() - readyStarted },
      stop
    }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}
