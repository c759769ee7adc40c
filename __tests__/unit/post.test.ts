import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import type { KubeConfig } from '@kubernetes/client-node'
import type { ClusterApi } from '../../src/core/kube/cluster-api.js'
import type { Bootstrap } from '../../src/core/kube/bootstrap/index.js'
import type { RunState } from '../../src/core/run-record.js'
import {
  SECRET_UID,
  apiException,
  fakeClusterApi,
  socketError,
  forbidden,
  type FakeClusterApi
} from '../../__fixtures__/fake-cluster-api.js'
import {
  IdTokenStub,
  OIDC_AUDIENCE,
  OIDC_CA_DATA,
  OIDC_SERVER,
  STUB_ISSUER
} from '../../__fixtures__/id-token-stub.js'
import { TestRunner } from '../../__fixtures__/runner.js'
import { SERVER, bootstrapKubeconfig } from '../../__fixtures__/tokens.js'

const connect =
  jest.fn<
    (kc: KubeConfig, bounds?: unknown, bootstrap?: Bootstrap) => ClusterApi
  >()
jest.unstable_mockModule('../../src/core/kube/cluster-api.js', () => ({
  connect
}))

const { run } = await import('../../src/action/post.js')

const NS = 'scans'
const SECRET = 'ephemeral-scan-token-4242-1-0123456789'

let runner: TestRunner
let api: FakeClusterApi
let dir: string
let file: string

/** What main saves after a successful run with the default inputs. */
function mainState(extra: Partial<RunState> = {}): RunState {
  return {
    bootstrap: { source: { kind: 'input' }, context: '', server: SERVER },
    anchor: { namespace: NS, name: SECRET, uid: SECRET_UID, created: true },
    mintedAt: new Date(Date.now() - 60_000)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    expiration: '2099-01-01T00:00:00Z',
    kubeconfigDir: dir,
    kubeconfigPath: file,
    previousKubeconfig: '/home/runner/.kube/previous',
    ...extra
  }
}

function givenState(state: RunState | string): void {
  process.env.STATE_run =
    typeof state === 'string' ? state : JSON.stringify(state)
}

beforeEach(() => {
  runner = new TestRunner()
  runner.setInputs({
    kubeconfig: bootstrapKubeconfig(),
    namespace: NS,
    cleanup: 'true'
  })
  dir = path.join(runner.temp, 'ephemeral-scan-token-00112233445566778899aabb')
  file = path.join(dir, 'kubeconfig')
  fs.mkdirSync(dir, { mode: 0o700 })
  fs.writeFileSync(file, 'users: [{user: {token: t}}]\n', { mode: 0o600 })
  // Main exported KUBECONFIG; the runner passes it on to post.
  process.env.KUBECONFIG = file
  api = fakeClusterApi()
  connect.mockReturnValue(api)
})

afterEach(() => {
  runner.restore()
})

describe('post.ts', () => {
  it('says there is nothing to clean up and connects to nothing when main saved no state', async () => {
    await run()
    expect(runner.lines()).toEqual([
      'Nothing to clean up: the main step created nothing.'
    ])
    expect(connect).not.toHaveBeenCalled()
    expect(process.exitCode).toBeUndefined()
  })

  it('treats state that main cleared after a rollback as nothing to clean up', async () => {
    givenState('')
    await run()
    expect(runner.out).toContain('Nothing to clean up')
    expect(connect).not.toHaveBeenCalled()
  })

  it('revokes the token, deletes the directory and restores KUBECONFIG', async () => {
    givenState(mainState())
    await run()
    expect(api.deleteSecret).toHaveBeenCalledTimes(1)
    expect(api.deleteSecret).toHaveBeenCalledWith(NS, SECRET, SECRET_UID)
    expect(fs.existsSync(dir)).toBe(false)
    expect(runner.env().KUBECONFIG).toBe('/home/runner/.kube/previous')
    expect(runner.out).toContain(
      `Revoked the token: deleted the per-run Secret ${NS}/${SECRET}.`
    )
    expect(runner.commands('warning')).toEqual([])
    expect(process.exitCode).toBeUndefined()
  })

  it.each(['a link', 'a file'])(
    'still revokes when the scanner put %s where the kubeconfig directory was, and leaves that alone (review F1)',
    async (what) => {
      const victim = path.join(runner.root, 'victim')
      fs.mkdirSync(victim)
      fs.writeFileSync(path.join(victim, 'precious'), 'x')
      fs.rmSync(dir, { recursive: true })
      if (what === 'a link') fs.symlinkSync(victim, dir)
      else fs.writeFileSync(dir, '')
      givenState(mainState())
      await run()
      expect(api.deleteSecret).toHaveBeenCalledWith(NS, SECRET, SECRET_UID)
      expect(runner.out).toContain('Revoked the token')
      expect(fs.existsSync(path.join(victim, 'precious'))).toBe(true)
      expect(fs.lstatSync(dir).isDirectory()).toBe(false)
      const warnings = runner.commands('warning')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(
        'a link or a file stands where this step made the kubeconfig directory'
      )
    }
  )

  it('clears KUBECONFIG when it was not set before main', async () => {
    givenState(mainState({ previousKubeconfig: null }))
    await run()
    expect(runner.env().KUBECONFIG).toBe('')
    expect(runner.out).toContain('Cleared KUBECONFIG')
  })

  it('leaves KUBECONFIG alone when a later step pointed it elsewhere', async () => {
    process.env.KUBECONFIG = '/somewhere/else'
    givenState(mainState())
    await run()
    expect(runner.env()).not.toHaveProperty('KUBECONFIG')
    expect(api.deleteSecret).toHaveBeenCalledTimes(1)
  })

  it('takes the credential inputs out of its environment before connecting, so exec plugins never inherit them', async () => {
    process.env['INPUT_GITHUB-TOKEN'] = 'ghs_unit'
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'request-token'
    givenState(mainState())
    await run()
    expect(api.deleteSecret).toHaveBeenCalledTimes(1)
    for (const name of [
      'INPUT_KUBECONFIG',
      'INPUT_GITHUB-TOKEN',
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN'
    ]) {
      expect(process.env).not.toHaveProperty(name)
    }
  })

  it('does not touch KUBECONFIG when main did not export it', async () => {
    const state = mainState()
    delete state.previousKubeconfig
    givenState(state)
    await run()
    expect(runner.env()).not.toHaveProperty('KUBECONFIG')
  })

  it('is harmless when run twice', async () => {
    givenState(mainState())
    await run()
    expect(api.deleteSecret).toHaveBeenCalledTimes(1)

    runner.newStep()
    // A second post is a new process: the runner hands it the inputs again
    // (the first took the credential inputs out of its own environment).
    runner.setInputs({
      kubeconfig: bootstrapKubeconfig(),
      namespace: NS,
      cleanup: 'true'
    })
    api.deleteSecret.mockResolvedValue('absent')
    runner.stdout.length = 0
    await expect(run()).resolves.toBeUndefined()
    expect(api.deleteSecret).toHaveBeenCalledTimes(2)
    expect(runner.out).toContain('was already gone: the token is revoked')
    expect(runner.out).toContain(
      `The kubeconfig directory ${dir} was already gone.`
    )
    expect(runner.commands('warning')).toEqual([])
    expect(runner.commands('error')).toEqual([])
    expect(process.exitCode).toBeUndefined()
  })

  it('warns without failing the job when deleting the Secret is forbidden, and still removes the files', async () => {
    givenState(mainState())
    api.deleteSecret.mockRejectedValue(
      forbidden(
        'system:serviceaccount:ci:minter',
        'delete',
        'secrets',
        NS,
        SECRET
      )
    )
    await run()
    const warnings = runner.commands('warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^::warning::Could not revoke the token: /)
    expect(warnings[0]).toContain(
      `'system:serviceaccount:ci:minter' may not delete the per-run Secret '${SECRET}'`
    )
    expect(warnings[0]).not.toContain('HTTP-Code')
    // Which Secret remains, until when, and the exact line that removes it.
    expect(warnings[0]).toContain(
      `The per-run Secret ${NS}/${SECRET} remains, so the token stays valid ` +
        `until 2099-01-01T00:00:00Z: delete it with 'kubectl delete secret ` +
        `-n ${NS} -l app.kubernetes.io/managed-by=ephemeral-scan-token ` +
        `--field-selector metadata.name=${SECRET}'.`
    )
    expect(runner.commands('error')).toEqual([])
    expect(process.exitCode).toBeUndefined()
    expect(fs.existsSync(dir)).toBe(false)
    expect(runner.env().KUBECONFIG).toBe('/home/runner/.kube/previous')
  })

  it('warns without failing when the API server cannot be reached', async () => {
    givenState(mainState())
    api.deleteSecret.mockRejectedValue(socketError('ECONNREFUSED'))
    await run()
    expect(runner.commands('warning')).toHaveLength(1)
    expect(runner.commands('warning')[0]).toContain(
      `Could not reach the API server at ${SERVER}`
    )
    expect(process.exitCode).toBeUndefined()
  })

  it('leaves a Secret whose uid changed alone, with a warning', async () => {
    givenState(mainState())
    api.deleteSecret.mockRejectedValue(
      apiException(409, { reason: 'Conflict' })
    )
    await run()
    expect(runner.commands('warning')[0]).toMatch(
      /not the Secret this step created/
    )
    expect(process.exitCode).toBeUndefined()
  })

  it("acts on nothing when the record names the kubeconfig input and post has none (the record is not main's)", async () => {
    givenState(mainState())
    runner.setInputs({ kubeconfig: '', namespace: NS, cleanup: 'true' })
    process.env.KUBECONFIG = file
    await run()
    expect(connect).not.toHaveBeenCalled()
    expect(runner.commands('warning')).toHaveLength(1)
    expect(runner.commands('warning')[0]).toContain(
      'its bootstrap identity is not the one the inputs give'
    )
    expect(fs.existsSync(dir)).toBe(true)
    expect(process.exitCode).toBeUndefined()
  })

  it('deletes nothing with cleanup: false', async () => {
    const state = mainState()
    delete state.anchor // main refuses cleanup: false with bind-to: secret
    givenState(state)
    runner.setInputs({ kubeconfig: bootstrapKubeconfig(), cleanup: 'false' })
    await run()
    expect(connect).not.toHaveBeenCalled()
    expect(api.deleteSecret).not.toHaveBeenCalled()
    expect(fs.existsSync(file)).toBe(true)
    expect(runner.env()).not.toHaveProperty('KUBECONFIG')
    expect(runner.out).toContain('cleanup: false')
    expect(runner.out).toContain('2099-01-01T00:00:00Z')
    expect(runner.commands('warning')).toEqual([])
  })

  it('warns with the delete line if cleanup: false ever meets a per-run Secret', async () => {
    givenState(mainState())
    runner.setInputs({
      kubeconfig: bootstrapKubeconfig(),
      namespace: NS,
      cleanup: 'false'
    })
    await run()
    expect(api.deleteSecret).not.toHaveBeenCalled()
    expect(runner.commands('warning')).toEqual([
      `::warning::cleanup: false, so the token stays valid until ` +
        `2099-01-01T00:00:00Z and its per-run Secret ${NS}/${SECRET} ` +
        `remains: delete it with 'kubectl delete secret -n ${NS} -l ` +
        `app.kubernetes.io/managed-by=ephemeral-scan-token --field-selector ` +
        `metadata.name=${SECRET}'.`
    ])
  })

  it('deletes a Secret whose create was never answered, and says so', async () => {
    givenState(
      mainState({
        anchor: { namespace: NS, name: SECRET },
        expiration: undefined
      })
    )
    await run()
    expect(api.deleteSecret).toHaveBeenCalledWith(NS, SECRET, undefined)
    expect(runner.out).toContain(
      `Deleted the per-run Secret ${NS}/${SECRET}, which a create whose ` +
        `answer never arrived had left (no token was bound to it).`
    )
    expect(runner.commands('warning')).toEqual([])
  })

  it('says when a Secret whose create was never answered does not exist', async () => {
    givenState(mainState({ anchor: { namespace: NS, name: SECRET } }))
    api.deleteSecret.mockResolvedValue('absent')
    await run()
    expect(runner.out).toContain(
      `The per-run Secret ${NS}/${SECRET} does not exist: its create never ` +
        `landed, so no token was bound to it.`
    )
    expect(runner.commands('warning')).toEqual([])
  })

  it('authenticates with the bootstrap identity from state and input, never the exported KUBECONFIG', async () => {
    givenState(mainState())
    process.env.KUBECONFIG = path.join(runner.root, 'junk', 'kubeconfig')
    fs.mkdirSync(path.dirname(process.env.KUBECONFIG))
    fs.writeFileSync(
      process.env.KUBECONFIG,
      bootstrapKubeconfig({ server: 'https://wrong.example:6443' })
    )
    await run()
    expect(connect).toHaveBeenCalledTimes(1)
    const kc = connect.mock.calls[0]?.[0]
    expect(kc?.getCurrentCluster()?.server).toBe(SERVER)
    expect(api.deleteSecret).toHaveBeenCalledWith(NS, SECRET, SECRET_UID)
  })

  it('does not connect at all when there is no Secret to delete', async () => {
    const state = mainState()
    delete state.anchor
    givenState(state)
    await run()
    expect(connect).not.toHaveBeenCalled()
    expect(fs.existsSync(dir)).toBe(false)
    expect(runner.out).toContain(
      'stays valid until it expires at 2099-01-01T00:00:00Z'
    )
  })

  it('records the cleanup in the step summary', async () => {
    givenState(mainState())
    await run()
    const summary = runner.read('GITHUB_STEP_SUMMARY')
    expect(summary).toContain('Token revoked: yes')
    expect(summary).toContain(`deleted the per-run Secret ${NS}/${SECRET}`)
  })

  it.each([
    ['{not json', 'it is not JSON'],
    ['null', 'it is not a record'],
    ['42', 'it is not a record'],
    ['[]', 'it is not a record']
  ])(
    'warns, naming how to find the Secret, on state it cannot read (%p)',
    async (raw, reason) => {
      givenState(raw)
      process.env.GITHUB_RUN_ID = '4242'
      process.env.GITHUB_RUN_ATTEMPT = '2'
      runner.setInputs({ kubeconfig: bootstrapKubeconfig(), namespace: NS })
      await expect(run()).resolves.toBeUndefined()
      expect(process.exitCode).toBeUndefined()
      expect(connect).not.toHaveBeenCalled()
      expect(runner.out).not.toContain('Nothing to clean up')
      expect(runner.commands('warning')).toEqual([
        `::warning::The state the main step saved was not used (${reason}), ` +
          `so post deleted nothing: if the main step created a per-run ` +
          `Secret, find it with 'kubectl get secrets -n ${NS} -l ` +
          `app.kubernetes.io/managed-by=ephemeral-scan-token,` +
          `ephemeral-scan-token/run-id=4242,ephemeral-scan-token/run-attempt=2' ` +
          `and delete it (that revokes the token); the runner empties ` +
          `RUNNER_TEMP, and so the kubeconfig, at the end of the job.`
      ])
    }
  )
})

describe('post.ts with the OIDC bootstrap (unit: mocked cluster, loopback ID-token stand-in)', () => {
  // A parseable CA: the OIDC inputs are checked as X.509.
  const CA = OIDC_CA_DATA
  const AUDIENCE = OIDC_AUDIENCE
  let stub: IdTokenStub

  beforeEach(async () => {
    stub = await IdTokenStub.start()
    Object.assign(process.env, stub.env())
    runner.setInputs({
      'oidc-audience': AUDIENCE,
      server: OIDC_SERVER,
      'certificate-authority-data': CA,
      namespace: NS,
      cleanup: 'true'
    })
    connect.mockImplementation((_kc, _bounds, bootstrap) => ({
      ...api,
      bootstrap
    }))
    givenState(
      mainState({
        bootstrap: {
          source: { kind: 'oidc', audience: AUDIENCE },
          context: '',
          server: OIDC_SERVER
        }
      })
    )
  })

  afterEach(async () => {
    await stub.stop()
  })

  it('fetches a fresh ID token for the saved audience and revokes with it', async () => {
    await run()
    expect(stub.requests).toEqual([{ audience: AUDIENCE, authorized: true }])
    const [kc, , bootstrap] = connect.mock.calls[0] ?? []
    expect(kc?.getCurrentUser()?.token).toBe(stub.issued[0])
    expect(kc?.getCurrentCluster()).toMatchObject({
      server: OIDC_SERVER,
      caData: CA
    })
    expect(bootstrap).toMatchObject({
      audience: AUDIENCE,
      issuer: STUB_ISSUER
    })
    expect(api.deleteSecret).toHaveBeenCalledWith(NS, SECRET, SECRET_UID)
    expect(runner.commands('warning')).toEqual([])
    expect(runner.commands('add-mask')).toContain(
      `::add-mask::${stub.issued[0] ?? ''}`
    )
  })

  it.each([
    ['audience', { 'oidc-audience': 'other', server: OIDC_SERVER }],
    ['server', { 'oidc-audience': AUDIENCE, server: 'https://198.51.100.1' }]
  ])(
    'fetches no ID token and deletes nothing when the record names another %s than the inputs',
    async (_what, inputs) => {
      runner.setInputs({
        ...inputs,
        'certificate-authority-data': CA,
        namespace: NS
      })
      await run()
      expect(stub.requests).toEqual([])
      expect(connect).not.toHaveBeenCalled()
      expect(fs.existsSync(dir)).toBe(true)
      expect(runner.commands('warning')).toHaveLength(1)
      expect(runner.commands('warning')[0]).toMatch(/post deleted nothing/)
    }
  )

  it('warns with the id-token sentence when no ID token is offered, and still removes the files', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    await run()
    const warnings = runner.commands('warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(
      `Could not revoke the token: No GitHub ID token is available to this step`
    )
    expect(connect).not.toHaveBeenCalled()
    expect(fs.existsSync(dir)).toBe(false)
    expect(process.exitCode).toBeUndefined()
  })

  it('names the mapped user when the fresh ID token may not delete the Secret', async () => {
    api.deleteSecret.mockRejectedValue(
      forbidden('github:octo-org/scanner', 'delete', 'secrets', NS, SECRET)
    )
    await run()
    expect(runner.commands('warning')[0]).toContain(
      `'github:octo-org/scanner', the user the API server maps this job's GitHub ID token to, may not delete the per-run Secret '${SECRET}'`
    )
  })
})
