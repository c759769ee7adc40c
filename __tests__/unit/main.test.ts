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
import * as yaml from 'js-yaml'
import type { ClusterApi } from '../../src/core/kube/cluster-api.js'
import type { Bootstrap } from '../../src/core/kube/bootstrap/index.js'
import type { RunState } from '../../src/core/run-record.js'
import type { TokenApi } from '../../src/core/kube/token-api.js'
import {
  SECRET_UID,
  apiException,
  created,
  fakeClusterApi,
  fakeTokenApi,
  socketError,
  forbidden,
  issued,
  type FakeClusterApi,
  type FakeTokenApi
} from '../../__fixtures__/fake-cluster-api.js'
import {
  IdTokenStub,
  OIDC_AUDIENCE,
  OIDC_CA_DATA,
  OIDC_SERVER,
  STUB_ISSUER
} from '../../__fixtures__/id-token-stub.js'
import { TestRunner } from '../../__fixtures__/runner.js'
import {
  BOOTSTRAP_TOKEN,
  SERVER,
  bootstrapKubeconfig,
  fakeJwt,
  serviceAccountToken,
  type MintedFixture
} from '../../__fixtures__/tokens.js'

const connect =
  jest.fn<
    (kc: KubeConfig, bounds?: unknown, bootstrap?: Bootstrap) => ClusterApi
  >()
const connectAsToken = jest.fn<(kc: KubeConfig) => TokenApi>()
jest.unstable_mockModule('../../src/core/kube/cluster-api.js', () => ({
  connect
}))
jest.unstable_mockModule('../../src/core/kube/token-api.js', () => ({
  connectAsToken
}))

// Watch directory creation, to see what was saved in state before it, and
// fail opening the kubeconfig on demand.
const mkdirs: { dir: string; existed: boolean; state: string }[] = []
const fsHooks = { stateFile: '', failOpenUnder: '' }
jest.unstable_mockModule('node:fs', () => {
  const real = jest.requireActual<typeof fs>('node:fs')
  const mkdirSync = ((
    dir: fs.PathLike,
    options?: fs.MakeDirectoryOptions | fs.Mode | null
  ) => {
    if (fsHooks.stateFile !== '') {
      mkdirs.push({
        dir: String(dir),
        existed: real.existsSync(dir),
        state: real.readFileSync(fsHooks.stateFile, 'utf8')
      })
    }
    return real.mkdirSync(dir, options)
  }) as typeof real.mkdirSync
  const openSync = ((
    file: fs.PathLike,
    flags?: fs.OpenMode,
    mode?: fs.Mode | null
  ) => {
    if (
      fsHooks.failOpenUnder !== '' &&
      String(file).startsWith(fsHooks.failOpenUnder)
    ) {
      throw Object.assign(
        new Error(`EACCES: permission denied, open '${String(file)}'`),
        {
          code: 'EACCES'
        }
      )
    }
    return real.openSync(file, flags ?? 'r', mode)
  }) as typeof real.openSync
  const patched = { ...real, mkdirSync, openSync }
  return { ...patched, default: patched }
})

const { run } = await import('../../src/action/main.js')
const { parseFileCommandEntries } = await import('../../__fixtures__/runner.js')

const NS = 'scans'
const SA = 'scanner'
const USERNAME = `system:serviceaccount:${NS}:${SA}`

let runner: TestRunner
let api: FakeClusterApi
let tokenApi: FakeTokenApi
let minted: MintedFixture

function lastState(text: string): RunState | undefined {
  const values = parseFileCommandEntries(text)
    .filter((entry) => entry.name === 'run')
    .map((entry) => entry.value)
  const last = values.at(-1)
  return last ? (JSON.parse(last) as RunState) : undefined
}

function inputs(extra: Record<string, string> = {}): void {
  runner.setInputs({
    'service-account': SA,
    namespace: NS,
    duration: '30m',
    kubeconfig: bootstrapKubeconfig(),
    ...extra
  })
}

beforeEach(() => {
  runner = new TestRunner()
  fsHooks.stateFile = runner.files.GITHUB_STATE
  fsHooks.failOpenUnder = ''
  mkdirs.length = 0
  minted = serviceAccountToken(NS, SA, 1800)
  api = fakeClusterApi()
  api.requestToken.mockImplementation(async () => issued(minted.token, 1800))
  tokenApi = fakeTokenApi(USERNAME)
  connect.mockReturnValue(api)
  connectAsToken.mockReturnValue(tokenApi)
  inputs()
})

afterEach(() => {
  fsHooks.stateFile = ''
  fsHooks.failOpenUnder = ''
  runner.restore()
})

describe('main.ts', () => {
  describe('on success', () => {
    it('writes the documented outputs', async () => {
      await run()
      expect(process.exitCode).toBeUndefined()
      expect(runner.commands('error')).toEqual([])
      const outputs = runner.outputs()
      expect(path.dirname(path.dirname(outputs.kubeconfig ?? ''))).toBe(
        runner.temp
      )
      expect(path.basename(outputs.kubeconfig ?? '')).toBe('kubeconfig')
      expect(outputs.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      const expiry = Date.parse(outputs.expiration ?? '')
      expect(Math.abs(expiry - (Date.now() + 1800 * 1000))).toBeLessThan(5000)
      expect(outputs['expires-in']).toBe('1800')
      expect(outputs['credential-id']).toBe(minted.jti)
      expect(outputs['service-account']).toBe(USERNAME)
      expect(outputs['container-kubeconfig']).toBe(
        `/github/runner_temp/${path.relative(runner.temp, outputs.kubeconfig ?? '')}`
      )
      expect(outputs).not.toHaveProperty('token')
    })

    it('masks the token before anything else mentions it, and the bootstrap credential', async () => {
      // A fresh credential: the action masks each value once per process.
      const credential = `bootstrap-${String(Date.now())}-${String(Math.random())}`
      inputs({ kubeconfig: bootstrapKubeconfig({ token: credential }) })
      await run()
      const lines = runner.lines()
      const mask = lines.indexOf(`::add-mask::${minted.token}`)
      expect(mask).toBeGreaterThanOrEqual(0)
      expect(lines).toContain(`::add-mask::${credential}`)
      expect(
        lines.findIndex((line) => line.includes(minted.jti))
      ).toBeGreaterThan(mask)
    })

    it('writes a 0600 kubeconfig with the token and exports KUBECONFIG', async () => {
      await run()
      const file = runner.outputs().kubeconfig ?? ''
      expect(fs.statSync(file).mode & 0o777).toBe(0o600)
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
      const config = yaml.load(fs.readFileSync(file, 'utf8')) as {
        clusters: { cluster: Record<string, string> }[]
        users: { user: { token: string } }[]
        contexts: { context: { namespace: string } }[]
      }
      expect(config.users[0]?.user.token).toBe(minted.token)
      expect(config.clusters[0]?.cluster.server).toBe(SERVER)
      expect(config.contexts[0]?.context.namespace).toBe(NS)
      expect(runner.env().KUBECONFIG).toBe(file)
      expect(lastState(runner.read('GITHUB_STATE'))).toMatchObject({
        kubeconfigDir: path.dirname(file),
        kubeconfigPath: file,
        previousKubeconfig: null
      })
    })

    it('remembers the previous KUBECONFIG for post to restore', async () => {
      process.env.KUBECONFIG = '/home/runner/.kube/other'
      await run()
      expect(lastState(runner.read('GITHUB_STATE'))?.previousKubeconfig).toBe(
        '/home/runner/.kube/other'
      )
    })

    it('leaves KUBECONFIG alone with export-kubeconfig: false', async () => {
      inputs({ 'export-kubeconfig': 'false' })
      await run()
      expect(runner.env()).not.toHaveProperty('KUBECONFIG')
      expect(lastState(runner.read('GITHUB_STATE'))).not.toHaveProperty(
        'previousKubeconfig'
      )
      expect(fs.existsSync(runner.outputs().kubeconfig ?? '')).toBe(true)
    })

    it('exposes the token as an output only with output-token: true', async () => {
      inputs({ 'output-token': 'true' })
      await run()
      expect(runner.outputs().token).toBe(minted.token)
    })

    it('creates the per-run Secret and binds the token to it by name and uid', async () => {
      await run()
      expect(api.createSecret).toHaveBeenCalledTimes(1)
      const [namespace, body] = api.createSecret.mock.calls[0] ?? []
      expect(namespace).toBe(NS)
      expect(body?.metadata?.name).toMatch(
        /^ephemeral-scan-token-4242-1-[0-9a-f]{10}$/
      )
      expect(api.requestToken).toHaveBeenCalledWith(NS, SA, {
        audiences: [],
        expirationSeconds: 1800,
        boundObjectRef: {
          apiVersion: 'v1',
          kind: 'Secret',
          name: body?.metadata?.name,
          uid: SECRET_UID
        }
      })
      expect(lastState(runner.read('GITHUB_STATE'))?.anchor).toEqual({
        namespace: NS,
        name: body?.metadata?.name,
        uid: SECRET_UID,
        created: true
      })
    })

    it('binds by name and keeps the uid from the token when a retried create found its Secret made', async () => {
      // What cluster-api returns after a 409 that followed a lost answer.
      api.createSecret.mockImplementation(async (_ns, body) => body)
      const boundUid = '0b0b0b0b-1111-4222-8333-444455556666'
      api.requestToken.mockImplementation(async (_ns, _sa, spec) => {
        const name = spec.boundObjectRef?.name ?? ''
        const iat = Math.floor(Date.now() / 1000)
        const token = fakeJwt({
          jti: 'jti-retried',
          iat,
          exp: iat + 1800,
          sub: USERNAME,
          'kubernetes.io': {
            namespace: NS,
            secret: { name, uid: boundUid }
          }
        })
        return issued(token, 1800)
      })
      await run()
      expect(process.exitCode).toBeUndefined()
      const name = api.createSecret.mock.calls[0]?.[1].metadata?.name
      expect(api.requestToken.mock.calls[0]?.[2].boundObjectRef).toEqual({
        apiVersion: 'v1',
        kind: 'Secret',
        name,
        uid: undefined
      })
      // Post deletes it with the uid the API server bound the token to.
      expect(lastState(runner.read('GITHUB_STATE'))?.anchor).toEqual({
        namespace: NS,
        name,
        uid: boundUid,
        created: true
      })
    })

    it('passes audiences and the requested lifetime to the TokenRequest', async () => {
      inputs({ audiences: 'vault,\nscanner-api', duration: '45m' })
      api.requestToken.mockImplementation(async () =>
        issued(minted.token, 2700)
      )
      await run()
      expect(api.requestToken.mock.calls[0]?.[2]).toMatchObject({
        audiences: ['vault', 'scanner-api'],
        expirationSeconds: 2700
      })
    })

    it('authenticates with the bootstrap kubeconfig from the input', async () => {
      await run()
      expect(connect).toHaveBeenCalledTimes(1)
      const kc = connect.mock.calls[0]?.[0]
      expect(kc?.getCurrentCluster()?.server).toBe(SERVER)
      expect(kc?.getCurrentUser()?.token).toBe(BOOTSTRAP_TOKEN)
    })

    it('checks who the token is, as the token itself, against the same server', async () => {
      await run()
      expect(tokenApi.whoami).toHaveBeenCalledTimes(1)
      const kc = connectAsToken.mock.calls[0]?.[0]
      expect(kc?.getCurrentUser()?.token).toBe(minted.token)
      expect(kc?.getCurrentCluster()?.server).toBe(SERVER)
    })
  })

  describe('ordering', () => {
    it('has saved the Secret name in state before it creates the Secret', async () => {
      const seen: (RunState | undefined)[] = []
      api.createSecret.mockImplementation(async (_namespace, body) => {
        seen.push(lastState(runner.read('GITHUB_STATE')))
        expect(seen[0]?.anchor?.name).toBe(body.metadata?.name)
        return created(body)
      })
      await run()
      expect(seen).toHaveLength(1)
      expect(seen[0]?.anchor).toEqual({
        namespace: NS,
        name: api.createSecret.mock.calls[0]?.[1].metadata?.name
      })
      // The context and server main used are pinned, so post cannot be
      // steered to another cluster by a later context switch.
      expect(seen[0]?.bootstrap).toEqual({
        source: { kind: 'input' },
        context: 'ci',
        server: 'https://127.0.0.1:6443'
      })
      expect(process.exitCode).toBeUndefined()
    })

    it('has saved the kubeconfig directory in state before it creates the directory', async () => {
      await run()
      const file = runner.outputs().kubeconfig ?? ''
      const created = mkdirs.filter((m) => m.dir === path.dirname(file))
      expect(created).toHaveLength(1)
      expect(created[0]?.existed).toBe(false)
      expect(lastState(created[0]?.state ?? '')?.kubeconfigDir).toBe(
        path.dirname(file)
      )
    })

    it('never writes the token into saved state', async () => {
      await run()
      expect(runner.read('GITHUB_STATE')).not.toContain(minted.token)
      expect(runner.read('GITHUB_STATE')).not.toContain(BOOTSTRAP_TOKEN)
    })
  })

  describe('bind-to', () => {
    it('sends no boundObjectRef and creates no Secret with bind-to: none', async () => {
      inputs({ 'bind-to': 'none' })
      await run()
      expect(process.exitCode).toBeUndefined()
      expect(api.createSecret).not.toHaveBeenCalled()
      const spec = api.requestToken.mock.calls[0]?.[2]
      expect(spec).toBeDefined()
      expect(spec).not.toHaveProperty('boundObjectRef')
      expect(lastState(runner.read('GITHUB_STATE'))).not.toHaveProperty(
        'anchor'
      )
    })

    it('binds to the Pod with bind-to: pod:<name>', async () => {
      inputs({ 'bind-to': 'pod:scanner-0' })
      await run()
      expect(process.exitCode).toBeUndefined()
      expect(api.createSecret).not.toHaveBeenCalled()
      expect(api.requestToken.mock.calls[0]?.[2].boundObjectRef).toEqual({
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'scanner-0'
      })
    })
  })

  describe('lifetime', () => {
    it('warns and reports the granted lifetime when the server grants less than requested', async () => {
      inputs({ duration: '1h' })
      api.requestToken.mockImplementation(async () =>
        issued(minted.token, 1800)
      )
      await run()
      expect(process.exitCode).toBeUndefined()
      const warnings = runner.commands('warning')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/granted 30m instead of the requested 1h/)
      expect(warnings[0]).toContain(`'duration'`)
      expect(runner.outputs()['expires-in']).toBe('1800')
      expect(api.requestToken.mock.calls[0]?.[2].expirationSeconds).toBe(3600)
    })

    it('does not warn when the server grants what was asked', async () => {
      await run()
      expect(runner.commands('warning')).toEqual([])
    })

    it('warns that auto was capped at max-duration', async () => {
      inputs({ duration: 'auto' })
      api.requestToken.mockImplementation(async () =>
        issued(minted.token, 3600)
      )
      await run()
      expect(api.requestToken.mock.calls[0]?.[2].expirationSeconds).toBe(3600)
      const warnings = runner.commands('warning')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/capped the token at max-duration \(1h\)/)
    })

    it("masks the github-token wherever duration: auto's warning would quote it", async () => {
      // The one redaction of GitHub's words: main registers the token and
      // prints the warning through redact (job-facts.ts keeps no copy).
      const token = 'ghs_unitTestTokenInAWarning0123456789ab'
      inputs({
        duration: 'auto',
        'github-token': token,
        'job-context': '{"check_run_id": 7}'
      })
      // An API URL that carries the token: the "could not be reached" clause names it.
      process.env.GITHUB_API_URL = `http://127.0.0.1:1/${token}`
      await run()
      const warnings = runner.commands('warning')
      expect(warnings.join('\n')).toContain('could not be reached')
      expect(warnings.join('\n')).toContain('http://127.0.0.1:1/***')
      const leaks = runner
        .everything()
        .split('\n')
        .filter(
          (line) => line.includes(token) && !line.startsWith('::add-mask::')
        )
      expect(leaks).toEqual([])
    })

    it('repeats warnings the API server sent with the token', async () => {
      api.requestToken.mockImplementation(async () => ({
        ...issued(minted.token, 1800),
        warnings: ['requested expiration shortened']
      }))
      await run()
      expect(runner.commands('warning')).toEqual([
        '::warning::The API server warned: requested expiration shortened'
      ])
    })

    it('falls back to the token claims when the server omits the expiration', async () => {
      api.requestToken.mockImplementation(async () => ({
        token: minted.token,
        warnings: []
      }))
      await run()
      expect(process.exitCode).toBeUndefined()
      expect(runner.outputs().expiration).toBe(
        new Date(minted.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
      )
      expect(runner.outputs()['expires-in']).toBe('1800')
    })
  })

  describe('on failure', () => {
    function expectFailedWithOneError(pattern: RegExp): string {
      expect(process.exitCode).toBe(1)
      const errors = runner.commands('error')
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(pattern)
      // One sentence: the command escapes newlines as %0A.
      expect(errors[0]).not.toContain('%0A')
      expect(errors[0]).not.toContain('HTTP-Code')
      return errors[0] ?? ''
    }

    /** The minter may not create serviceaccounts/token for SA. */
    function mintForbidden(): Error {
      return forbidden(
        'system:serviceaccount:ci:minter',
        'create',
        'serviceaccounts/token',
        NS,
        SA
      )
    }

    function expectNothingLeft(): void {
      expect(runner.kubeconfigDirs()).toEqual([])
      expect(runner.stateHistory().at(-1)).toBe('{}')
      expect(runner.read('GITHUB_OUTPUT')).toBe('')
      expect(runner.env()).not.toHaveProperty('KUBECONFIG')
    }

    it('refuses a token whose exp claim the API server extended to a year, and hands nothing out', async () => {
      // What a Pod-bound 3607 s request gets: status says 1 h, exp says a year.
      inputs({ 'bind-to': 'pod:scanner-0', duration: '1h' })
      const iat = Math.floor(Date.now() / 1000)
      const yearLong = fakeJwt({
        sub: USERNAME,
        iat,
        exp: iat + 365 * 24 * 3600,
        jti: 'jti-year'
      })
      api.requestToken.mockImplementation(async () => issued(yearLong, 3607))
      await run()
      const error = expectFailedWithOneError(
        /extended the token to .* \(its exp claim\), far past the reported/
      )
      expect(error).toContain("set 'duration' to 1h or less")
      expect(runner.commands('add-mask')).toContain(`::add-mask::${yearLong}`)
      expectNothingLeft()
    })

    it('explains a 403 on minting, deletes the Secret it created and leaves nothing behind', async () => {
      api.requestToken.mockRejectedValue(mintForbidden())
      await run()
      const error = expectFailedWithOneError(/serviceaccounts\/token/)
      expect(error).toContain(`'system:serviceaccount:ci:minter'`)
      expect(error).toContain(`namespace '${NS}'`)
      const name = api.createSecret.mock.calls[0]?.[1].metadata?.name ?? ''
      expect(name).toMatch(/^ephemeral-scan-token-/)
      expect(api.deleteSecret).toHaveBeenCalledWith(NS, name, SECRET_UID)
      expectNothingLeft()
    })

    it('does not mint when creating the Secret is forbidden, and names the alternatives', async () => {
      api.createSecret.mockRejectedValue(
        forbidden('system:serviceaccount:ci:minter', 'create', 'secrets', NS)
      )
      await run()
      expectFailedWithOneError(/bind-to: none/)
      expect(api.requestToken).not.toHaveBeenCalled()
      expect(api.deleteSecret).not.toHaveBeenCalled()
      expectNothingLeft()
    })

    it.each<[string, Record<string, string>, RegExp]>([
      ['a duration below the minimum', { duration: '5m' }, /'duration'/],
      ['an invalid namespace', { namespace: 'Bad_NS' }, /'namespace'/],
      [
        'a missing service-account',
        { 'service-account': '' },
        /'service-account'/
      ],
      [
        'an unusable bootstrap kubeconfig',
        { kubeconfig: 'not: [valid' },
        /'kubeconfig'/
      ],
      [
        'a bootstrap kubeconfig that skips TLS verification',
        {
          kubeconfig: bootstrapKubeconfig({
            cluster: { 'insecure-skip-tls-verify': true }
          })
        },
        /insecure-skip-tls-verify/
      ]
    ])('makes no API call at all for %s', async (_case, extra, pattern) => {
      inputs(extra)
      await run()
      expectFailedWithOneError(pattern)
      expect(connect).not.toHaveBeenCalled()
      expect(runner.state()).toEqual({ run: '{}' })
      expect(runner.kubeconfigDirs()).toEqual([])
    })

    it('fails when RUNNER_TEMP is missing, before any API call', async () => {
      delete process.env.RUNNER_TEMP
      await run()
      expectFailedWithOneError(/RUNNER_TEMP is not set/)
      expect(connect).not.toHaveBeenCalled()
    })

    it('revokes the token when its claims cannot be read after minting', async () => {
      const bad = fakeJwt({}).replace(
        /\.[^.]+\./,
        `.${Buffer.from('not json').toString('base64url')}.`
      )
      api.requestToken.mockImplementation(async () => issued(bad, 1800))
      await run()
      expectFailedWithOneError(/claims cannot be read/)
      expect(api.deleteSecret).toHaveBeenCalledWith(
        NS,
        api.createSecret.mock.calls[0]?.[1].metadata?.name ?? '(none)',
        SECRET_UID
      )
      expectNothingLeft()
    })

    it('revokes the token when it authenticates as someone else', async () => {
      tokenApi.whoami.mockResolvedValue({
        username: 'system:anonymous',
        groups: [],
        extra: {}
      })
      await run()
      expectFailedWithOneError(/authenticates as 'system:anonymous'/)
      expect(api.deleteSecret).toHaveBeenCalledTimes(1)
      expectNothingLeft()
      // The summary, written before the proof is enforced, does not call it verified.
      const summary = runner.read('GITHUB_STEP_SUMMARY')
      expect(summary).toContain('no: it authenticates as system:anonymous')
      expect(summary).not.toContain('yes (system:anonymous)')
    })

    it('removes the directory and revokes the token when the kubeconfig cannot be written', async () => {
      fsHooks.failOpenUnder = runner.temp
      await run()
      expectFailedWithOneError(
        /Could not write the kubeconfig under RUNNER_TEMP \(EACCES\)/
      )
      // The directory was made before the file failed, and the rollback removed it.
      expect(mkdirs.filter((m) => m.dir.startsWith(runner.temp))).toHaveLength(
        1
      )
      expect(api.deleteSecret).toHaveBeenCalledTimes(1)
      expectNothingLeft()
    })

    it('warns but still fails with the first error when the rollback cannot delete the Secret', async () => {
      api.requestToken.mockRejectedValue(mintForbidden())
      api.deleteSecret.mockRejectedValue(
        forbidden('system:serviceaccount:ci:minter', 'delete', 'secrets', NS)
      )
      await run()
      expectFailedWithOneError(/serviceaccounts\/token/)
      const warnings = runner.commands('warning')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/may not delete the per-run Secret/)
      // The state stays, so that post tries the revocation again.
      expect(runner.stateHistory().at(-1)).not.toBe('')
      expect(lastState(runner.read('GITHUB_STATE'))?.anchor?.name).toMatch(
        /^ephemeral-scan-token-/
      )
    })

    it('keeps the Secret in state when creating it timed out and it is not there yet (it may land late)', async () => {
      api.createSecret.mockRejectedValue(socketError('ETIMEDOUT'))
      api.deleteSecret.mockResolvedValue('absent')
      await run()
      expectFailedWithOneError(/Could not reach the API server/)
      // Rollback looked for it by name rather than assuming it was never made.
      expect(api.deleteSecret).toHaveBeenCalledTimes(1)
      expect(api.requestToken).not.toHaveBeenCalled()
      // ... and, not finding it, leaves the name for post to check again.
      const anchor = lastState(runner.read('GITHUB_STATE'))?.anchor
      expect(anchor?.name).toMatch(/^ephemeral-scan-token-/)
      expect(anchor?.created).toBeUndefined()
      // Nothing was undone, so the line is not called a rollback.
      expect(runner.out).toContain(
        `The per-run Secret ${NS}/${anchor?.name ?? ''} was not ` +
          `found; post checks again in case its unanswered create lands late.`
      )
      expect(runner.out).not.toContain('Rolled back: The per-run Secret')
      expect(runner.commands('warning')).toEqual([])
    })

    it('forgets a Secret whose unanswered create the rollback found and deleted', async () => {
      api.createSecret.mockRejectedValue(socketError('ECONNRESET'))
      await run()
      expectFailedWithOneError(/Could not reach the API server/)
      expect(api.deleteSecret).toHaveBeenCalledTimes(1)
      expect(runner.out).toMatch(
        /Rolled back: Deleted the per-run Secret .*, which a create whose answer never arrived had left/
      )
      expectNothingLeft()
    })

    it('forgets a Secret whose create was certainly refused, without a delete', async () => {
      api.createSecret.mockRejectedValue(socketError('ECONNREFUSED'))
      await run()
      expectFailedWithOneError(/Could not reach the API server/)
      expect(api.deleteSecret).not.toHaveBeenCalled()
      expectNothingLeft()
    })

    it('refuses cleanup: false with the default bind-to: secret before any call', async () => {
      inputs({ cleanup: 'false' })
      await run()
      expectFailedWithOneError(
        /^::error::Input 'cleanup' is false, but with 'bind-to: secret' \(the default\) that would leave the per-run Secret in the cluster forever: set 'bind-to: none'/
      )
      expect(connect).not.toHaveBeenCalled()
      expect(api.createSecret).not.toHaveBeenCalled()
    })

    it('allows cleanup: false with bind-to: none, and creates no Secret', async () => {
      inputs({ cleanup: 'false', 'bind-to': 'none' })
      await run()
      expect(process.exitCode).toBeUndefined()
      expect(api.createSecret).not.toHaveBeenCalled()
    })
  })
})

describe('main.ts with the OIDC bootstrap (unit: mocked cluster, loopback ID-token stand-in)', () => {
  // A parseable CA: the OIDC inputs are checked as X.509.
  const CA = OIDC_CA_DATA
  const AUDIENCE = OIDC_AUDIENCE
  let stub: IdTokenStub

  beforeEach(async () => {
    stub = await IdTokenStub.start()
    Object.assign(process.env, stub.env())
    api = fakeClusterApi(OIDC_SERVER)
    api.requestToken.mockImplementation(async () => issued(minted.token, 1800))
    // Like the real connect: the client carries who it speaks for.
    connect.mockImplementation((_kc, _bounds, bootstrap) => ({
      ...api,
      bootstrap
    }))
    inputs({
      kubeconfig: '',
      'oidc-audience': AUDIENCE,
      server: OIDC_SERVER,
      'certificate-authority-data': CA
    })
  })

  afterEach(async () => {
    await stub.stop()
  })

  it('mints with the ID token as bearer, and the kubeconfig gets only server, CA and the minted token', async () => {
    await run()
    expect(runner.commands('error')).toEqual([])
    expect(stub.requests).toEqual([{ audience: AUDIENCE, authorized: true }])
    const idToken = stub.issued[0] ?? 'missing'
    const [kc, , bootstrap] = connect.mock.calls[0] ?? []
    expect(kc?.getCurrentUser()?.token).toBe(idToken)
    expect(kc?.getCurrentCluster()?.server).toBe(OIDC_SERVER)
    expect(bootstrap).toMatchObject({
      audience: AUDIENCE,
      issuer: STUB_ISSUER
    })

    const file = runner.outputs().kubeconfig ?? ''
    const text = fs.readFileSync(file, 'utf8')
    const config = yaml.load(text) as {
      clusters: { cluster: Record<string, string> }[]
      users: { user: Record<string, string> }[]
    }
    expect(config.clusters[0]?.cluster).toEqual({
      server: OIDC_SERVER,
      'certificate-authority-data': CA
    })
    expect(config.users[0]?.user).toEqual({ token: minted.token })
    expect(text).not.toContain(idToken)
  })

  it('saves the source, audience and server for post, and never a token', async () => {
    await run()
    const idToken = stub.issued[0] ?? 'missing'
    expect(lastState(runner.read('GITHUB_STATE'))?.bootstrap).toEqual({
      source: { kind: 'oidc', audience: AUDIENCE },
      context: '',
      server: OIDC_SERVER
    })
    const everything = runner.everything()
    expect(runner.commands('add-mask')).toContain(`::add-mask::${idToken}`)
    const leaks = everything
      .split('\n')
      .filter(
        (line) => line.includes(idToken) && !line.startsWith('::add-mask::')
      )
    expect(leaks).toEqual([])
    expect(everything).not.toContain(stub.requestToken)
  })

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'a stored kubeconfig as well',
      { kubeconfig: bootstrapKubeconfig() },
      /'kubeconfig' and 'oidc-audience' are exclusive/
    ],
    [
      'an http:// server',
      { server: 'http://203.0.113.10:6443' },
      /'server'.*https/
    ],
    [
      'CA data that is not a certificate',
      { 'certificate-authority-data': Buffer.from('nope').toString('base64') },
      /'certificate-authority-data'/
    ]
  ])(
    'asks for no ID token and calls no API for %s',
    async (_case, extra, pattern) => {
      inputs({
        kubeconfig: '',
        'oidc-audience': AUDIENCE,
        server: OIDC_SERVER,
        'certificate-authority-data': CA,
        ...extra
      })
      await run()
      expect(process.exitCode).toBe(1)
      expect(runner.commands('error')[0]).toMatch(pattern)
      expect(stub.requests).toEqual([])
      expect(connect).not.toHaveBeenCalled()
    }
  )

  it('names the issuer and audience when the API server refuses the ID token, and leaves nothing', async () => {
    api.createSecret.mockRejectedValue(
      apiException(401, { reason: 'Unauthorized', message: 'Unauthorized' })
    )
    await run()
    expect(process.exitCode).toBe(1)
    const errors = runner.commands('error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(
      `either it does not trust the issuer ${STUB_ISSUER} for this repository and workflow, or it does not accept the audience '${AUDIENCE}'`
    )
    expect(api.requestToken).not.toHaveBeenCalled()
    expect(runner.kubeconfigDirs()).toEqual([])
    expect(runner.stateHistory().at(-1)).toBe('{}')
  })

  it('fails with the id-token permission sentence when the runner offers no ID token', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    await run()
    expect(runner.commands('error')[0]).toContain(
      `give the job 'permissions: id-token: write'`
    )
    expect(connect).not.toHaveBeenCalled()
    expect(runner.state()).toEqual({ run: '{}' })
  })
})
