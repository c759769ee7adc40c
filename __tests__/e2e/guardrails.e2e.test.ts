// examples/cluster/guardrails.yaml on a real kube-apiserver of its own: the
// examples scanner.yaml, minter.yaml, oidc-minter.yaml and guardrails.yaml
// applied byte for byte with the real kubectl to a cluster that trusts a
// loopback stand-in of GitHub's OIDC issuer (so both example minting
// identities exist: system:serviceaccount:scan-target:ci-minter and the OIDC
// user github:123456789). Every request the guardrails forbid is made as each
// identity with the real kubectl and must be refused with the policy's
// message; the action's own flow (main with the proof, post) must still pass
// under them, with either bootstrap.
//
// Credentials never reach a command line or the test output: each identity's
// bearer token is in a 0600 kubeconfig file in a private directory, kubectl
// gets only its path, and the stdout of `kubectl create token` (the token, if
// a request got through) is never asserted on or printed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as yaml from 'js-yaml'
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node'
import {
  REPO,
  anchorsIn,
  eventually,
  kubectl,
  tokenIn,
  type CommandResult
} from './support/cluster.ts'
import { kubectlWith } from './support/exec.ts'
import { clockAhead } from './support/faketime.ts'
import { useRunners } from './support/hooks.ts'
import {
  reviewSelf,
  startOidcCluster,
  tokenKubeconfig,
  type OidcCluster
} from './support/oidc-cluster.ts'
import { TRUSTED_JOB, type GitHubJob } from './support/oidc-issuer.ts'
import { leaksOf, maskedValues, type StepResult } from './support/runner.ts'

/** What the examples are written for, kept as they are on this cluster. */
const NAMESPACE = 'scan-target'
const SCANNER = 'inspec-scanner'
const CI_MINTER = `system:serviceaccount:${NAMESPACE}:ci-minter`
const OIDC_USER = 'github:123456789'
/**
 * The trusted job, from the repository oidc-minter.yaml binds: the cluster
 * maps `"github:" + claims.repository_id`, as authentication-config.yaml does.
 */
const GUARDED_JOB: GitHubJob = { ...TRUSTED_JOB, repositoryId: '123456789' }

const EXAMPLES = path.join(REPO, 'examples', 'cluster')
const EXAMPLE_FILES = [
  'scanner.yaml',
  'minter.yaml',
  'oidc-minter.yaml',
  'guardrails.yaml'
]

/** The refusals, exactly as the API server words them for each clause. */
function denied(policy: string, message: string): string {
  return `ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: ${message}`
}
const TOKENS = 'ephemeral-scan-token-requests'
const CREATE = 'ephemeral-scan-token-secret-create'
const DELETE = 'ephemeral-scan-token-secret-delete'
const REFUSED = {
  otherServiceAccount: denied(
    TOKENS,
    `the minting identity may request tokens only for the ServiceAccount ${NAMESPACE}/${SCANNER}`
  ),
  notBoundToSecret: denied(
    TOKENS,
    'the minting identity may request only tokens bound to a Secret (spec.boundObjectRef), so that deleting the Secret revokes them'
  ),
  boundSecretName: denied(
    TOKENS,
    'the minting identity may bind tokens only to a Secret whose name starts with ephemeral-scan-token-'
  ),
  tooLong: denied(
    TOKENS,
    'the minting identity may request tokens that live at most 6h10m (expirationSeconds <= 22200)'
  ),
  createName: denied(
    CREATE,
    'the minting identity may create only Secrets whose name starts with ephemeral-scan-token-'
  ),
  createLabel: denied(
    CREATE,
    'the minting identity may create only Secrets labelled app.kubernetes.io/managed-by=ephemeral-scan-token'
  ),
  createType: denied(
    CREATE,
    'the minting identity may create only Secrets of type Opaque'
  ),
  deleteLabel: denied(
    DELETE,
    'the minting identity may delete only Secrets labelled app.kubernetes.io/managed-by=ephemeral-scan-token'
  ),
  deleteName: denied(
    DELETE,
    'the minting identity may delete only Secrets whose name starts with ephemeral-scan-token-'
  )
}

const MANAGED = { 'app.kubernetes.io/managed-by': 'ephemeral-scan-token' }
/** Objects the admin makes for the requests to aim at. */
const BIND_TARGET = 'ephemeral-scan-token-bind-target'
const OTHER_NAMESPACE = 'elsewhere'
/** The application's own Secret: no label, no prefix. */
const APP_SECRET = 'app-credentials'
/** Prefixed, not labelled (made by someone else). */
const UNLABELLED = 'ephemeral-scan-token-unlabelled'
/** Labelled, not prefixed (made by someone else). */
const LABELLED = 'app-labelled'

let cluster: OidcCluster
let scratch: string
/** ci-minter's own token, made as minter.yaml says; never printed. */
let minterToken: string
let minterKubeconfig: string
const newRunner = useRunners()
const steps: StepResult[] = []

function adminKubectl(args: string[]): Promise<CommandResult> {
  return kubectl(cluster.adminKubeconfig, args)
}

/** A private 0600 file in the scratch directory. */
function privateFile(name: string, content: string): string {
  const file = path.join(scratch, name)
  fs.writeFileSync(file, content, { mode: 0o600 })
  return file
}

interface Identity {
  name: string
  /** A kubeconfig file for the identity, fresh for each use (ID tokens live 5 minutes). */
  kubeconfig(): string
}

const IDENTITIES: Identity[] = [
  { name: CI_MINTER, kubeconfig: () => minterKubeconfig },
  {
    name: OIDC_USER,
    kubeconfig: () =>
      privateFile(
        'oidc-user.kubeconfig',
        tokenKubeconfig(
          cluster,
          cluster.issuer.mint(GUARDED_JOB, {
            audience: cluster.trust.audience
          }),
          NAMESPACE
        )
      )
  }
]

/** kubectl as `who`; the stdout of a mint is the token, so it is dropped. */
async function as(who: Identity, args: string[]): Promise<CommandResult> {
  const result = await kubectl(who.kubeconfig(), args)
  return args[1] === 'token' ? { ...result, stdout: '' } : result
}

/** A manifest in the scratch directory for `kubectl create -f`. */
function manifest(name: string, object: Record<string, unknown>): string {
  const file = path.join(scratch, `${name}.yaml`)
  fs.writeFileSync(file, yaml.dump(object))
  return file
}

function secret(
  metadata: Record<string, unknown>,
  type = 'Opaque'
): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Secret', type, metadata }
}

async function applyExamples(): Promise<void> {
  for (const file of EXAMPLE_FILES) {
    const applied = await adminKubectl([
      'apply',
      '-f',
      path.join(EXAMPLES, file)
    ])
    if (applied.code !== 0)
      throw new Error(`kubectl apply -f ${file} failed: ${applied.stderr}`)
  }
}

/** What the requests aim at, made by the admin (who the guardrails do not restrict). */
async function createTargets(): Promise<void> {
  const core = cluster.admin.makeApiClient(CoreV1Api)
  const rbac = cluster.admin.makeApiClient(RbacAuthorizationV1Api)
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'app-pod-1' },
      spec: {
        serviceAccountName: SCANNER,
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'registry.invalid/app:1' }]
      }
    }
  })
  const secrets: [string, string, Record<string, string> | undefined][] = [
    [NAMESPACE, BIND_TARGET, MANAGED],
    [NAMESPACE, APP_SECRET, undefined],
    [NAMESPACE, UNLABELLED, undefined],
    [NAMESPACE, LABELLED, MANAGED],
    [OTHER_NAMESPACE, BIND_TARGET, MANAGED]
  ]
  await core.createNamespace({ body: { metadata: { name: OTHER_NAMESPACE } } })
  await core.createNamespacedServiceAccount({
    namespace: OTHER_NAMESPACE,
    body: { metadata: { name: SCANNER } }
  })
  for (const [namespace, name, labels] of secrets) {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, ...(labels ? { labels } : {}) },
        stringData: { value: 'not a credential' }
      }
    })
  }
  // A Role wider than the example's, so that the guardrail (not RBAC) is
  // what refuses a token for another ServiceAccount or namespace.
  const subjects = [
    { kind: 'ServiceAccount', name: 'ci-minter', namespace: NAMESPACE },
    { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: OIDC_USER }
  ]
  for (const namespace of [NAMESPACE, OTHER_NAMESPACE]) {
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'too-wide-minter' },
        rules: [
          {
            apiGroups: [''],
            resources: ['serviceaccounts/token'],
            verbs: ['create']
          }
        ]
      }
    })
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'too-wide-minter' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: 'too-wide-minter'
        },
        subjects
      }
    })
  }
}

/** A mint as `who` that the guardrails forbid; `target` chooses the ServiceAccount. */
function mint(
  extra: string[],
  target: { namespace?: string; serviceAccount?: string } = {}
): string[] {
  return [
    'create',
    'token',
    target.serviceAccount ?? SCANNER,
    '-n',
    target.namespace ?? NAMESPACE,
    ...extra
  ]
}
const BOUND = [
  '--bound-object-kind=Secret',
  `--bound-object-name=${BIND_TARGET}`
]

/** True once RBAC (served from an informer) lets `who` do `check` in `namespace`. */
async function granted(
  who: Identity,
  namespace: string,
  ...check: string[]
): Promise<boolean> {
  const answer = await adminKubectl([
    'auth',
    'can-i',
    ...check,
    '-n',
    namespace,
    '--as',
    who.name
  ])
  return answer.stdout.trim() === 'yes'
}

/**
 * RBAC and admission policies are both served from informers: wait until
 * RBAC grants each identity what the examples (and the too-wide Role) bind,
 * and until each of the three policies refuses ci-minter a request that
 * breaks several of its clauses. The probes name only the policy, so that
 * with one clause removed the wait still ends and the clause's own test is
 * what fails. The Secret probes are server-side dry runs (nothing is made).
 */
async function waitUntilInForce(): Promise<void> {
  for (const who of IDENTITIES) {
    const ready = await eventually(
      30,
      async () =>
        (await granted(
          who,
          NAMESPACE,
          'create',
          `serviceaccounts/${SCANNER}`,
          '--subresource=token'
        )) &&
        (await granted(who, NAMESPACE, 'delete', 'secrets')) &&
        (await granted(
          who,
          OTHER_NAMESPACE,
          'create',
          `serviceaccounts/${SCANNER}`,
          '--subresource=token'
        ))
    )
    if (!ready) throw new Error(`RBAC never granted ${who.name} the examples`)
  }
  const minter = IDENTITIES[0]!
  const probe = manifest(
    'probe',
    secret({ name: 'probe', namespace: NAMESPACE })
  )
  const probes: [string, string[]][] = [
    [TOKENS, mint(['--duration=22201s'])],
    [CREATE, ['create', '--dry-run=server', '-f', probe]],
    [DELETE, ['delete', 'secret', APP_SECRET, '--dry-run=server']]
  ]
  for (const [policy, args] of probes) {
    const inForce = await eventually(30, async () => {
      const refused = await as(minter, args)
      return (
        refused.code !== 0 &&
        refused.stderr.includes(`ValidatingAdmissionPolicy '${policy}'`)
      )
    })
    if (!inForce) throw new Error(`the policy ${policy} never came into force`)
  }
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-guardrails-'))
  cluster = await startOidcCluster({
    trust: { usernameClaim: 'repository_id' }
  })
  cluster.idTokenEndpoint.job = GUARDED_JOB
  await applyExamples()
  await createTargets()
  // The bootstrap credential the way minter.yaml says to make it.
  const created = await adminKubectl([
    'create',
    'token',
    'ci-minter',
    '-n',
    NAMESPACE,
    '--duration=1h'
  ])
  if (created.code !== 0)
    throw new Error(`kubectl create token ci-minter failed: ${created.stderr}`)
  minterToken = created.stdout.trim()
  minterKubeconfig = privateFile(
    'ci-minter.kubeconfig',
    tokenKubeconfig(cluster, minterToken, NAMESPACE)
  )
  await waitUntilInForce()
}, 240_000)

afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  // Unset when the cluster did not start (startOidcCluster cleans up then).
  await (cluster as OidcCluster | undefined)?.stop()
}, 60_000)

describe('the identities the guardrails name', () => {
  it.each(IDENTITIES)('$name is who the API server says', async (who) => {
    const whoami = await as(who, ['auth', 'whoami', '-o', 'json'])
    expect(whoami.stderr).toBe('')
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      status: { userInfo: { username: who.name } }
    })
  })

  it('a job from another repository maps to another user, whom the guardrails leave alone', async () => {
    const other = await reviewSelf(
      cluster,
      cluster.issuer.mint(TRUSTED_JOB, { audience: cluster.trust.audience })
    )
    expect(other.username).toBe(`github:${TRUSTED_JOB.repositoryId}`)
  })
})

const forbiddenMints: [string, string[], string][] = [
  [
    'an unbound token for the scanner',
    mint(['--duration=10m']),
    REFUSED.notBoundToSecret
  ],
  [
    "a token bound to the scanner's Pod",
    mint([
      '--duration=10m',
      '--bound-object-kind=Pod',
      '--bound-object-name=app-pod-1'
    ]),
    REFUSED.notBoundToSecret
  ],
  [
    "a token bound to the application's Secret (no prefix)",
    mint([
      '--duration=10m',
      '--bound-object-kind=Secret',
      `--bound-object-name=${APP_SECRET}`
    ]),
    REFUSED.boundSecretName
  ],
  [
    'a token for another ServiceAccount (ci-minter itself)',
    mint(['--duration=10m', ...BOUND], { serviceAccount: 'ci-minter' }),
    REFUSED.otherServiceAccount
  ],
  [
    "a token for the scanner's name in another namespace",
    mint(['--duration=10m', ...BOUND], { namespace: OTHER_NAMESPACE }),
    REFUSED.otherServiceAccount
  ],
  [
    'a token that lives 6h10m1s (22201 s)',
    mint(['--duration=22201s', ...BOUND]),
    REFUSED.tooLong
  ]
]

describe.each(IDENTITIES)('as $name, the guardrails refuse', (who) => {
  it.each(forbiddenMints)('%s', async (_what, args, message) => {
    const result = await as(who, args)
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(message)
  })

  const forbiddenSecrets: [string, Record<string, unknown>, string][] = [
    [
      'a Secret without the name prefix',
      secret({ name: 'app-new', namespace: NAMESPACE, labels: MANAGED }),
      REFUSED.createName
    ],
    [
      'a Secret whose generated name lacks the prefix (generateName)',
      secret({ generateName: 'app-', namespace: NAMESPACE, labels: MANAGED }),
      REFUSED.createName
    ],
    [
      'a Secret without the managed-by label',
      secret({ name: 'ephemeral-scan-token-no-label', namespace: NAMESPACE }),
      REFUSED.createLabel
    ],
    [
      'a Secret with the label set to another value',
      secret({
        name: 'ephemeral-scan-token-other-label',
        namespace: NAMESPACE,
        labels: { 'app.kubernetes.io/managed-by': 'someone-else' }
      }),
      REFUSED.createLabel
    ],
    [
      'a service-account-token Secret for the scanner (a token that never expires)',
      secret(
        {
          name: 'ephemeral-scan-token-legacy',
          namespace: NAMESPACE,
          labels: MANAGED,
          annotations: { 'kubernetes.io/service-account.name': SCANNER }
        },
        'kubernetes.io/service-account-token'
      ),
      REFUSED.createType
    ]
  ]

  it.each(forbiddenSecrets)('%s', async (what, object, message) => {
    const file = manifest(what.replace(/\W+/g, '-'), object)
    const before = await secretNames()
    const result = await as(who, ['create', '-f', file])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(message)
    expect(await secretNames()).toEqual(before)
  })

  const forbiddenDeletes: [string, string, string][] = [
    ["the application's Secret", APP_SECRET, REFUSED.deleteLabel],
    ['a prefixed Secret without the label', UNLABELLED, REFUSED.deleteLabel],
    ['a labelled Secret without the prefix', LABELLED, REFUSED.deleteName]
  ]

  it.each(forbiddenDeletes)('deleting %s', async (_what, name, message) => {
    const result = await as(who, ['delete', 'secret', name, '-n', NAMESPACE])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(message)
    expect(await secretNames()).toContain(name)
  })
})

async function secretNames(namespace = NAMESPACE): Promise<string[]> {
  const list = await cluster.admin
    .makeApiClient(CoreV1Api)
    .listNamespacedSecret({ namespace })
  return list.items.map((s) => s.metadata?.name ?? '').sort()
}

describe.each(IDENTITIES)('as $name, the guardrails let through', (who) => {
  it('a token for the scanner bound to a prefixed Secret, living exactly 6h10m', async () => {
    const result = await as(who, mint(['--duration=6h10m', ...BOUND]))
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('creating and deleting a labelled, prefixed Opaque Secret, also by generateName', async () => {
    for (const [key, value] of [
      ['name', 'ephemeral-scan-token-made-by-hand'],
      ['generateName', 'ephemeral-scan-token-generated-']
    ] as const) {
      const file = manifest(
        `allowed-${key}`,
        secret({ [key]: value, namespace: NAMESPACE, labels: MANAGED })
      )
      const created = await as(who, ['create', '-f', file, '-o', 'name'])
      expect(created.stderr).toBe('')
      const made = created.stdout.trim()
      expect(made).toMatch(/^secret\/ephemeral-scan-token-/)
      const deleted = await as(who, ['delete', made, '-n', NAMESPACE])
      expect(deleted.stderr).toBe('')
      expect(deleted.code).toBe(0)
    }
  })
})

/**
 * What a step printed, safe to show in a failed assertion: its lines without
 * the add-mask commands, with every value it masked and every credential of
 * this file blanked (a failing expect prints the whole string).
 */
function shown(step: StepResult): string[] {
  const secrets = [
    ...maskedValues(step.stdout),
    minterToken,
    ...cluster.idTokenEndpoint.issued,
    cluster.idTokenEndpoint.requestToken
  ].filter((value) => value !== '')
  return step.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .map((line) =>
      secrets.reduce((text, secret) => text.replaceAll(secret, '***'), line)
    )
}

/** The ::warning:: and ::error:: lines of a step, blanked like `shown`. */
function complaints(step: StepResult): string[] {
  return shown(step).filter((line) => /^::(warning|error)::/.test(line))
}

function stepInputs(extra: Record<string, string>): Record<string, string> {
  return {
    'service-account': SCANNER,
    namespace: NAMESPACE,
    duration: '20m',
    'expect-allowed': 'list pods\ncreate pods/app-pod-1 --subresource=exec',
    'expect-denied': 'get secrets\nlist pods -n kube-system',
    'excess-privilege': 'fail',
    ...extra
  }
}

const BOOTSTRAPS: [string, () => Record<string, string>, () => string[]][] = [
  [
    'a stored kubeconfig for ci-minter',
    (): Record<string, string> => ({
      kubeconfig: fs.readFileSync(minterKubeconfig, 'utf8')
    }),
    (): string[] => [minterToken]
  ],
  [
    `the job's ID token (${OIDC_USER})`,
    (): Record<string, string> => ({
      'oidc-audience': cluster.trust.audience,
      server: cluster.server,
      'certificate-authority-data': cluster.caData
    }),
    (): string[] => [
      ...cluster.idTokenEndpoint.issued,
      cluster.idTokenEndpoint.requestToken
    ]
  ]
]

describe.each(BOOTSTRAPS)(
  'the action under the guardrails, bootstrapped from %s',
  (_what, bootstrap, secrets) => {
    it('main mints and proves least privilege, kubectl works, post revokes', async () => {
      const runner = newRunner(cluster.idTokenEndpoint.env())
      const inputs = stepInputs(bootstrap())
      const main = await runner.main(inputs)
      steps.push(main)
      expect(main.stderr).toBe('')
      expect(complaints(main)).toEqual([])
      expect(main.code).toBe(0)
      expect(shown(main)).toContainEqual(
        expect.stringMatching(/^ok +expected allowed +is allowed +list pods/)
      )
      expect(shown(main)).toContainEqual(
        expect.stringMatching(/^ok +expected denied +is denied +get secrets/)
      )
      const file = main.outputs.kubeconfig ?? ''
      const token = tokenIn(file)
      const pods = await kubectl(file, ['get', 'pods', '-o', 'name'])
      expect(pods.stdout).toContain('pod/app-pod-1')
      const copy = path.join(scratch, `copy-${String(steps.length)}`)
      fs.copyFileSync(file, copy)
      // This run's per-run Secret (GITHUB_RUN_ID 4242 in the fake runner).
      const mine = (await anchorsIn(cluster.admin, NAMESPACE)).filter((name) =>
        name.startsWith('ephemeral-scan-token-4242-1-')
      )
      expect(mine).toHaveLength(1)

      const post = await runner.post(inputs)
      steps.push(post)
      expect(post.code).toBe(0)
      expect(complaints(post)).toEqual([])
      expect(shown(post)).toContainEqual(
        expect.stringContaining(
          `Revoked the token: deleted the per-run Secret ${NAMESPACE}/${mine[0] ?? ''}`
        )
      )
      expect(await secretNames()).not.toContain(mine[0])
      const rejected = await eventually(30, async () => {
        const result = await kubectl(copy, ['get', 'pods'])
        return result.code !== 0 && /Unauthorized/i.test(result.stderr)
      })
      expect(rejected).toBe(true)
      for (const step of [main, post])
        for (const value of [token, ...secrets()])
          expect(leaksOf(value, step.everything)).toEqual([])
    }, 90_000)

    it('mints for the longest lifetime the guardrails allow (duration 6h10m)', async () => {
      const runner = newRunner(cluster.idTokenEndpoint.env())
      const inputs = stepInputs({
        ...bootstrap(),
        duration: '6h10m',
        'max-duration': '6h10m'
      })
      const main = await runner.main(inputs)
      steps.push(main)
      expect(main.code).toBe(0)
      expect(main.outputs['expires-in']).toBe('22200')
      const post = await runner.post(inputs)
      steps.push(post)
      expect(post.code).toBe(0)
      expect(shown(post)).toContainEqual(
        expect.stringMatching(/^Revoked the token: deleted the per-run Secret /)
      )
    }, 90_000)

    it.each(['none', 'pod:app-pod-1'])(
      'with bind-to: %s the mint is refused with the policy message, and nothing is left',
      async (bindTo) => {
        const runner = newRunner(cluster.idTokenEndpoint.env())
        const inputs = stepInputs({ ...bootstrap(), 'bind-to': bindTo })
        const before = await secretNames()
        const main = await runner.main(inputs)
        steps.push(main)
        expect(main.code).toBe(1)
        expect(complaints(main)).toEqual([
          expect.stringContaining(REFUSED.notBoundToSecret)
        ])
        const post = await runner.post(inputs)
        steps.push(post)
        expect(post.code).toBe(0)
        expect(await secretNames()).toEqual(before)
        expect(
          fs.readdirSync(runner.temp).filter((n) => n.startsWith('ephemeral-'))
        ).toEqual([])
      },
      90_000
    )
  }
)

describe('renewal (renew-every) under the guardrails, bootstrapped from the job ID token', () => {
  it('main mints, the helper renews for a later kubectl (bound to the prefixed Secret, within 6h10m), post revokes', async () => {
    const runner = newRunner(cluster.idTokenEndpoint.env())
    const inputs = stepInputs({
      ...BOOTSTRAPS[1]![1](),
      duration: '6h10m',
      'max-duration': '6h10m',
      'renew-every': '10m'
    })
    const main = await runner.main(inputs)
    steps.push(main)
    expect(complaints(main)).toEqual([])
    expect(main.code).toBe(0)
    expect(main.outputs['expires-in']).toBe('22200')
    expect(main.outputs['token-lifetime']).toBe('600')
    const file = main.outputs.kubeconfig ?? ''
    // A later step 9 minutes on (by the helper's clock): the first token is
    // due, so the helper mints as github:123456789, which the guardrails let
    // through only because the token is for the scanner, bound to the
    // prefixed per-run Secret and within 22200 s.
    const requests = cluster.idTokenEndpoint.requests.length
    const whoami = await kubectlWith(file, ['auth', 'whoami', '-o', 'json'], {
      env: {
        HOME: scratch,
        ...cluster.idTokenEndpoint.env(),
        ...clockAhead('+9m')
      }
    })
    expect(whoami.stderr).toBe('')
    expect(whoami.code).toBe(0)
    const review = JSON.parse(whoami.stdout) as {
      status: { userInfo: { extra?: Record<string, string[]> } }
    }
    const seen =
      review.status.userInfo.extra?.[
        'authentication.kubernetes.io/credential-id'
      ]?.[0]
    expect(seen).toMatch(/^JTI=/)
    expect(seen).not.toBe(`JTI=${main.outputs['credential-id'] ?? ''}`)
    expect(cluster.idTokenEndpoint.requests.length).toBe(requests + 1)

    const post = await runner.post(inputs)
    steps.push(post)
    expect(post.code).toBe(0)
    expect(complaints(post)).toEqual([])
    expect(shown(post)).toContainEqual(
      expect.stringContaining('The job minted 2 tokens')
    )
  }, 90_000)
})
