// The zero-secret bootstrap end to end: the bundled dist/main.js and dist/post.js, run the way
// the runner runs it, with no kubeconfig, against a second real
// kube-apiserver that trusts a loopback stand-in of GitHub's OIDC issuer
// through --authentication-config. The issuer and the runner's ID-token
// endpoint are stand-ins; the API server, its JWT authenticator, RBAC and
// kubectl are the real ones, so every refusal here is the API server's.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import {
  anchorsIn,
  createScanSetup,
  eventually,
  kubectl,
  tokenIn
} from './support/cluster.ts'
import { useRunners } from './support/hooks.ts'
import {
  callApi,
  grantOidcMinter,
  reviewSelf,
  startOidcCluster,
  type OidcCluster
} from './support/oidc-cluster.ts'
import {
  TRUSTED_JOB,
  claimsOf,
  type GitHubJob,
  type MintOptions
} from './support/oidc-issuer.ts'
import { leaksOf, type StepResult } from './support/runner.ts'

let cluster: OidcCluster
/** A namespace where the job's mapped user holds the documented Role. */
let granted: string
/** The same setup without that Role: RBAC refuses the mapped user. */
let ungranted: string
let scratch: string
const newRunner = useRunners()
/** Every step this file ran, for the leak scan at the end. */
const steps: StepResult[] = []

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-oidc-e2e-'))
  cluster = await startOidcCluster()
  granted = (await createScanSetup(cluster.admin, { minter: false })).namespace
  ungranted = (await createScanSetup(cluster.admin, { minter: false }))
    .namespace
  await grantOidcMinter(cluster.admin, granted, cluster.username, ['scanner'])
}, 180_000)

afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  await cluster.stop()
}, 60_000)

function oidcInputs(
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'service-account': 'scanner',
    namespace: granted,
    duration: '15m',
    'oidc-audience': cluster.trust.audience,
    server: cluster.server,
    'certificate-authority-data': cluster.caData,
    ...extra
  }
}

/** A runner whose job has `permissions: id-token: write` (the endpoint variables). */
function runnerWithIdToken(): ReturnType<typeof newRunner> {
  return newRunner(cluster.idTokenEndpoint.env())
}

async function main(
  runner: ReturnType<typeof newRunner>,
  inputs: Record<string, string>
): Promise<StepResult> {
  const result = await runner.main(inputs)
  steps.push(result)
  return result
}

/**
 * A main step that is meant to fail, then its post (as the runner always
 * runs it): post finds nothing to clean up and asks for no ID token.
 */
async function failingMain(
  runner: ReturnType<typeof newRunner>,
  inputs: Record<string, string>
): Promise<StepResult> {
  const result = await main(runner, inputs)
  const requests = cluster.idTokenEndpoint.requests.length
  const post = await runner.post(inputs)
  steps.push(post)
  expect(post.stdout).toContain('Nothing to clean up')
  expect(cluster.idTokenEndpoint.requests.length).toBe(requests)
  return result
}

/** The one ::error:: line of a failed step, unescaped. */
function errorOf(step: StepResult): string {
  expect(step.code).toBe(1)
  const errors = step.stdout
    .split('\n')
    .filter((line) => line.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  return (errors[0] ?? '').slice('::error::'.length)
}

/** Nothing left behind by a failed main: no kubeconfig directory, no Secret. */
async function expectNothingLeft(
  runner: ReturnType<typeof newRunner>,
  namespace: string
): Promise<void> {
  expect(
    fs.readdirSync(runner.temp).filter((n) => n.startsWith('ephemeral-'))
  ).toEqual([])
  expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
}

/** Lines the API server logged about refused bearer tokens. */
function authFailuresLogged(): string[] {
  return fs
    .readFileSync(path.join(cluster.clusterDir, 'apiserver.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('Unable to authenticate the request'))
}

describe('the action with no kubeconfig, minting with the job ID token', () => {
  it('mints, kubectl works with the result, and post revokes with a fresh ID token', async () => {
    const runner = runnerWithIdToken()
    const endpoint = cluster.idTokenEndpoint
    const requestsBefore = endpoint.requests.length

    const mainStep = await main(runner, oidcInputs())
    expect(mainStep.stderr).toBe('')
    expect(mainStep.code).toBe(0)
    expect(endpoint.requests.slice(requestsBefore)).toEqual([
      {
        method: 'GET',
        audience: cluster.trust.audience,
        authorized: true,
        status: 200
      }
    ])
    const mainIdToken = endpoint.issued.at(-1) ?? 'missing'
    expect(mainStep.outputs['service-account']).toBe(
      `system:serviceaccount:${granted}:scanner`
    )

    // The kubeconfig holds the server, the CA and the minted token: no ID token.
    const file = mainStep.outputs.kubeconfig ?? ''
    const text = fs.readFileSync(file, 'utf8')
    expect(text).not.toContain(mainIdToken)
    const config = yaml.load(text) as {
      clusters: { cluster: Record<string, string> }[]
      users: { user: Record<string, string> }[]
    }
    expect(config.clusters[0]?.cluster).toEqual({
      server: cluster.server,
      'certificate-authority-data': cluster.caData
    })
    const minted = tokenIn(file)
    expect(Object.keys(config.users[0]?.user ?? {})).toEqual(['token'])
    expect(claimsOf(minted).sub).toBe(
      `system:serviceaccount:${granted}:scanner`
    )

    // State keeps the source, audience and server for post, never a token.
    expect(JSON.parse(mainStep.state.run ?? '{}')).toMatchObject({
      bootstrap: {
        source: { kind: 'oidc', audience: cluster.trust.audience },
        server: cluster.server
      }
    })
    expect(mainStep.state.run).not.toContain(mainIdToken)

    // The real kubectl, with only the written kubeconfig.
    const whoami = await kubectl(file, ['auth', 'whoami', '-o', 'json'])
    expect(whoami.stderr).toBe('')
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      status: {
        userInfo: { username: `system:serviceaccount:${granted}:scanner` }
      }
    })
    expect(await kubectl(file, ['get', 'pods'])).toMatchObject({ code: 0 })
    const secrets = await kubectl(file, ['get', 'secrets'])
    expect(secrets.code).not.toBe(0)
    expect(secrets.stderr).toMatch(/forbidden/i)
    const copy = path.join(scratch, 'kubeconfig-copy')
    fs.copyFileSync(file, copy)
    expect(await anchorsIn(cluster.admin, granted)).toHaveLength(1)

    const postStep = await runner.post(oidcInputs())
    steps.push(postStep)
    expect(postStep.code).toBe(0)
    expect(postStep.stdout).not.toContain('::warning::')
    expect(postStep.stdout).toContain('Revoked the token: deleted the per-run')
    // Post asked for its own, fresh ID token.
    expect(endpoint.requests.length).toBe(requestsBefore + 2)
    expect(endpoint.requests.at(-1)).toMatchObject({
      audience: cluster.trust.audience,
      status: 200
    })
    const postIdToken = endpoint.issued.at(-1) ?? 'missing'
    expect(postIdToken).not.toBe(mainIdToken)
    expect(claimsOf(postIdToken).jti).not.toBe(claimsOf(mainIdToken).jti)
    expect(fs.existsSync(file)).toBe(false)
    expect(await anchorsIn(cluster.admin, granted)).toEqual([])

    // Revoked: the API server caches a success for up to 10 s.
    const revokedAfter = Date.now()
    const rejected = await eventually(30, async () => {
      const result = await kubectl(copy, ['get', 'pods'])
      return result.code !== 0 && /Unauthorized/i.test(result.stderr)
    })
    expect(rejected).toBe(true)
    expect(Date.now() - revokedAfter).toBeLessThan(30_000)

    for (const step of [mainStep, postStep]) {
      expect(leaksOf(minted, step.everything)).toEqual([])
    }
  }, 90_000)

  it('without ACTIONS_ID_TOKEN_REQUEST_URL names id-token: write, forks and Dependabot, before any request', async () => {
    const runner = newRunner({
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: cluster.idTokenEndpoint.requestToken
    })
    const before = cluster.idTokenEndpoint.requests.length
    const error = errorOf(await failingMain(runner, oidcInputs()))
    expect(error).toBe(
      `No GitHub ID token is available to this step (ACTIONS_ID_TOKEN_REQUEST_URL ` +
        `is not set): give the job 'permissions: id-token: write', and note that ` +
        `runs for pull requests from forks and Dependabot runs never get an ID ` +
        `token, so skip this step for those.`
    )
    expect(cluster.idTokenEndpoint.requests.length).toBe(before)
    await expectNothingLeft(runner, granted)
  })

  it('reports a refused ID-token request by its status', async () => {
    const runner = newRunner({
      ...cluster.idTokenEndpoint.env(),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-request-token'
    })
    const error = errorOf(await failingMain(runner, oidcInputs()))
    expect(error).toBe(
      `Fetching the job's GitHub ID token for audience '${cluster.trust.audience}' ` +
        `failed (HTTP 401): check that the job has 'permissions: id-token: ` +
        `write' (set on the job or the workflow), then re-run it.`
    )
    expect(cluster.idTokenEndpoint.requests.at(-1)).toMatchObject({
      authorized: false,
      status: 401
    })
    await expectNothingLeft(runner, granted)
  })

  it('from an untrusted repository: the API server refuses the ID token (401) and the sentence names the issuer and the audience', async () => {
    const endpoint = cluster.idTokenEndpoint
    endpoint.job = { ...TRUSTED_JOB, owner: 'evil-org', ownerId: '6660666' }
    const loggedBefore = authFailuresLogged().length
    try {
      const runner = runnerWithIdToken()
      const error = errorOf(await failingMain(runner, oidcInputs()))
      expect(claimsOf(endpoint.issued.at(-1) ?? '')).toMatchObject({
        repository: 'evil-org/scanner',
        aud: cluster.trust.audience
      })
      expect(error).toBe(
        `The API server at ${cluster.server} rejected the job's GitHub ID ` +
          `token (401 Unauthorized): either it does not trust the issuer ` +
          `${cluster.issuer.url} for this repository and workflow, or it does ` +
          `not accept the audience '${cluster.trust.audience}', so add a JWT ` +
          `authenticator for that issuer and audience (with claim rules that ` +
          `admit this job) to its AuthenticationConfiguration, or set ` +
          `'oidc-audience' to the audience it expects.`
      )
      await expectNothingLeft(runner, granted)
    } finally {
      endpoint.reset()
    }
    // The refusal was the API server's: its claim rule, in its own log.
    const logged = authFailuresLogged().slice(loggedBefore)
    expect(
      logged.some((line) =>
        line.includes('the token is not from the trusted repository owner')
      )
    ).toBe(true)
  })

  it('for another audience: the API server refuses it (401) and the sentence names that audience', async () => {
    const runner = runnerWithIdToken()
    const loggedBefore = authFailuresLogged().length
    const error = errorOf(
      await failingMain(
        runner,
        oidcInputs({ 'oidc-audience': 'wrong-audience' })
      )
    )
    expect(cluster.idTokenEndpoint.requests.at(-1)?.audience).toBe(
      'wrong-audience'
    )
    expect(error).toContain('rejected the job')
    expect(error).toContain(`(401 Unauthorized)`)
    expect(error).toContain(`not accept the audience 'wrong-audience'`)
    expect(error).toContain(`does not trust the issuer ${cluster.issuer.url}`)
    await expectNothingLeft(runner, granted)
    const logged = authFailuresLogged().slice(loggedBefore)
    expect(
      logged.some((line) =>
        /expected audience .*ephemeral-scan-token-e2e.* got .*wrong-audience/.test(
          line
        )
      )
    ).toBe(true)
  })

  it('without RBAC for the mapped user: 403, naming github:octo-org/scanner and the Role it needs', async () => {
    const runner = runnerWithIdToken()
    const error = errorOf(
      await failingMain(runner, oidcInputs({ namespace: ungranted }))
    )
    expect(error).toBe(
      `'github:octo-org/scanner', the user the API server maps this job's ` +
        `GitHub ID token to, may not create the per-run Secret in namespace ` +
        `'${ungranted}': bind that User to a Role that allows 'create' on ` +
        `'serviceaccounts/token' with resourceNames ['scanner'] and 'create' ` +
        `and 'delete' on 'secrets' in that namespace (see 'RBAC for the mapped user' in the README).`
    )
    expect(error).toContain(`'${cluster.username}'`)
    await expectNothingLeft(runner, ungranted)
  })

  it('with a stored kubeconfig as well: one input error, and no ID token is asked for', async () => {
    const runner = runnerWithIdToken()
    const before = cluster.idTokenEndpoint.requests.length
    const error = errorOf(
      await failingMain(
        runner,
        oidcInputs({
          kubeconfig: fs.readFileSync(cluster.adminKubeconfig, 'utf8')
        })
      )
    )
    expect(error).toMatch(
      /^Inputs 'kubeconfig' and 'oidc-audience' are exclusive/
    )
    expect(cluster.idTokenEndpoint.requests.length).toBe(before)
  })

  it('never prints, saves or summarises an ID token or the request token, in any byte of any step', () => {
    const secrets = [
      ...cluster.idTokenEndpoint.issued,
      cluster.idTokenEndpoint.requestToken
    ]
    // main and post of the success, and of each of the six failures.
    expect(steps.length).toBe(14)
    expect(cluster.idTokenEndpoint.issued.length).toBeGreaterThanOrEqual(5)
    for (const step of steps) {
      for (const secret of secrets) {
        expect(leaksOf(secret, step.everything)).toEqual([])
      }
    }
    // Each ID token the action received was masked at once.
    const masked = steps.flatMap((step) =>
      step.stdout.split('\n').filter((line) => line.startsWith('::add-mask::'))
    )
    for (const token of cluster.idTokenEndpoint.issued) {
      expect(masked).toContain(`::add-mask::${token}`)
    }
  })
})

// The cluster side the README documents, without any action code: what the
// API server's own authenticator and RBAC accept and refuse.
describe('what the API server itself accepts and refuses', () => {
  function mint(options: MintOptions = {}, job = TRUSTED_JOB): string {
    return cluster.issuer.mint(job, {
      audience: cluster.trust.audience,
      ...options
    })
  }

  it('maps a trusted job to github:<repository>, with the repository id as uid', async () => {
    const me = await reviewSelf(cluster, mint())
    expect(me).toMatchObject({
      status: 201,
      username: 'github:octo-org/scanner',
      uid: TRUSTED_JOB.repositoryId
    })
    expect(me.groups).toContain('system:authenticated')
  })

  // Each differs from the accepted token in one respect (plus what follows
  // from it: another owner also means another job_workflow_ref).
  const refused: [string, MintOptions, GitHubJob][] = [
    [
      'for another audience (GitHub default)',
      { audience: 'https://github.com/octo-org' },
      TRUSTED_JOB
    ],
    [
      'from another owner',
      {},
      { ...TRUSTED_JOB, owner: 'evil-org', ownerId: '6660666' }
    ],
    [
      'from an owner with the trusted name but another id (repository_owner_id)',
      {},
      { ...TRUSTED_JOB, ownerId: '6660666' }
    ],
    [
      'from another repository of the trusted owner (job_workflow_ref)',
      {},
      { ...TRUSTED_JOB, repo: 'other', repositoryId: '2000999' }
    ],
    [
      'from the trusted workflow on another branch (job_workflow_ref)',
      {},
      { ...TRUSTED_JOB, ref: 'refs/heads/feature' }
    ],
    ['that expired', { lifetimeSeconds: -3600 }, TRUSTED_JOB],
    [
      'signed by a key the issuer does not publish',
      { forgedSignature: true },
      TRUSTED_JOB
    ],
    [
      'naming another issuer',
      { claims: { iss: 'https://token.actions.githubusercontent.com' } },
      TRUSTED_JOB
    ]
  ]

  it.each(refused)(
    'refuses (401, the same body for every cause) an ID token %s',
    async (_what, options, job) => {
      // The control: an otherwise identical good token is accepted.
      expect((await reviewSelf(cluster, mint())).status).toBe(201)
      const answer = await callApi(
        cluster,
        mint(options, job),
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }
      )
      expect(answer).toEqual({
        status: 401,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401
        }
      })
    }
  )

  it('lets the documented Role mint only for the named ServiceAccount, and read no Secret', async () => {
    const other = await callApi(
      cluster,
      mint(),
      'POST',
      `/api/v1/namespaces/${granted}/serviceaccounts/default/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: 600 }
      }
    )
    expect(other.status).toBe(403)
    const list = await callApi(
      cluster,
      mint(),
      'GET',
      `/api/v1/namespaces/${granted}/secrets`
    )
    expect(list.status).toBe(403)
  })
})
