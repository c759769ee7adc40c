import * as fs from 'node:fs'
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
import type { TokenApi } from '../../src/core/kube/token-api.js'
import {
  apiException,
  fakeClusterApi,
  fakeTokenApi,
  issued,
  type FakeClusterApi,
  type FakeTokenApi
} from '../../__fixtures__/fake-cluster-api.js'
import {
  TestRunner,
  parseFileCommandEntries
} from '../../__fixtures__/runner.js'
import {
  bootstrapKubeconfig,
  fakeJwt,
  serviceAccountToken
} from '../../__fixtures__/tokens.js'

const connect = jest.fn<(kc: KubeConfig) => ClusterApi>()
const connectAsToken = jest.fn<(kc: KubeConfig) => TokenApi>()
jest.unstable_mockModule('../../src/core/kube/cluster-api.js', () => ({
  connect
}))
jest.unstable_mockModule('../../src/core/kube/token-api.js', () => ({
  connectAsToken
}))

const main = await import('../../src/action/main.js')
const post = await import('../../src/action/post.js')

const NS = 'scans'
const SA = 'scanner'

let runner: TestRunner
let api: FakeClusterApi
let tokenApi: FakeTokenApi

/** Every line that carries `secret` (or its base64) outside its own add-mask command. */
function leaksOf(secret: string, text: string): string[] {
  const b64 = Buffer.from(secret).toString('base64')
  const found: string[] = []
  for (const line of text.split('\n')) {
    if (line === `::add-mask::${secret}`) continue
    if (line.includes(secret)) found.push(line.split(secret).join('<TOKEN>'))
    if (line.includes(b64))
      found.push(`(base64 of the token) ${line.slice(0, 80)}`)
  }
  return found
}

/** Run main, then post with main's state handed over as STATE_run, like the runner does. */
async function mainThenPost(inputs: Record<string, string>): Promise<void> {
  runner.setInputs(inputs)
  await main.run()
  const mainExit = process.exitCode
  runner.passStateToNextStep()
  runner.setInputs(inputs)
  await post.run()
  process.exitCode = mainExit
}

function defaultInputs(
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'service-account': SA,
    namespace: NS,
    duration: '30m',
    kubeconfig: bootstrapKubeconfig(),
    ...extra
  }
}

/** The token appears once, in its add-mask line, and nowhere else that was written. */
function expectNoLeak(token: string, allowOutput = false): void {
  const everything = runner.everything()
  expect(runner.commands('add-mask')).toContain(`::add-mask::${token}`)
  const outputs = parseFileCommandEntries(
    [1, 2]
      .map((n) => `${runner.root}/github_output-${String(n)}`)
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('')
  )
  const tokenOutputs = outputs.filter((o) => o.name === 'token')
  if (allowOutput) {
    expect(tokenOutputs).toEqual([{ name: 'token', value: token }])
    // Outside that one output value, the token must not appear.
    const rest = everything.split(`\n${token}\n`).join('\n<token output>\n')
    expect(leaksOf(token, rest)).toEqual([])
  } else {
    expect(tokenOutputs).toEqual([])
    expect(leaksOf(token, everything)).toEqual([])
  }
  for (const [key, value] of Object.entries(process.env)) {
    expect([key, value?.includes(token)]).toEqual([key, false])
  }
}

beforeEach(() => {
  runner = new TestRunner()
  api = fakeClusterApi()
  tokenApi = fakeTokenApi(`system:serviceaccount:${NS}:${SA}`)
  connect.mockReturnValue(api)
  connectAsToken.mockReturnValue(tokenApi)
})

afterEach(() => {
  runner.restore()
})

describe('the token never leaks', () => {
  // No debug variant: the action writes no core.debug line, so RUNNER_DEBUG
  // changes nothing it prints (a variant could not fail differently).
  it('in a run that succeeds', async () => {
    const { token } = serviceAccountToken(NS, SA, 1800)
    api.requestToken.mockResolvedValue(issued(token, 1800))
    await mainThenPost(defaultInputs())
    expect(process.exitCode).toBeUndefined()
    expect(api.deleteSecret).toHaveBeenCalledTimes(1)
    expect(runner.read('GITHUB_STEP_SUMMARY')).toContain('Token revoked: yes')
    expectNoLeak(token)
  })

  it('except as the token output itself with output-token: true', async () => {
    const { token } = serviceAccountToken(NS, SA, 1800)
    api.requestToken.mockResolvedValue(issued(token, 1800))
    await mainThenPost(defaultInputs({ 'output-token': 'true' }))
    expect(process.exitCode).toBeUndefined()
    expectNoLeak(token, true)
  })

  it('finds a leak when there is one', () => {
    const token = fakeJwt({ jti: 'x' })
    expect(leaksOf(token, `::add-mask::${token}\nok`)).toEqual([])
    expect(leaksOf(token, `Bearer ${token}`)).toHaveLength(1)
    expect(
      leaksOf(token, `data: ${Buffer.from(token).toString('base64')}`)
    ).toHaveLength(1)
  })

  it('in a run that fails after minting because the claims cannot be read', async () => {
    const token = fakeJwt({}).replace(
      /\.[^.]+\./,
      `.${Buffer.from('{"jti": ').toString('base64url')}.`
    )
    api.requestToken.mockResolvedValue(issued(token, 1800))
    await mainThenPost(defaultInputs({ 'output-token': 'true' }))
    expect(process.exitCode).toBe(1)
    expect(runner.commands('error')).toHaveLength(1)
    expect(api.deleteSecret).toHaveBeenCalledTimes(1)
    expect(runner.kubeconfigDirs()).toEqual([])
    expectNoLeak(token)
  })

  it('when the API server echoes the token in a failure message', async () => {
    const { token } = serviceAccountToken(NS, SA, 1800)
    api.requestToken.mockResolvedValue(issued(token, 1800))
    tokenApi.whoami.mockRejectedValue(
      apiException(403, {
        reason: 'Forbidden',
        message: `webhook rejected bearer ${token}`
      })
    )
    await mainThenPost(defaultInputs())
    expect(process.exitCode).toBe(1)
    expect(runner.commands('error')[0]).toContain('bearer ***')
    expectNoLeak(token)
  })

  it('when the token comes back in a warning header', async () => {
    const { token } = serviceAccountToken(NS, SA, 1800)
    api.requestToken.mockResolvedValue(
      issued(token, 1800, [`token ${token} expires soon`])
    )
    await mainThenPost(defaultInputs())
    expect(runner.commands('warning')).toContain(
      '::warning::The API server warned: token *** expires soon'
    )
    expectNoLeak(token)
  })
})
