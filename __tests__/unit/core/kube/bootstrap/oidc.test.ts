// Unit tests of the ID-token fetch against a loopback stand-in of the
// runner's endpoint (no Kubernetes involved).
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it
} from '@jest/globals'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { ActionError } from '../../../../../src/core/errors.js'
import {
  mainBounds,
  type CallBounds
} from '../../../../../src/core/kube/deadline.js'
import {
  GITHUB_ISSUER,
  fetchIdToken,
  idTokenBounds,
  issuerOf
} from '../../../../../src/core/kube/bootstrap/id-token.js'
import {
  oidcKubeConfig,
  openOidc
} from '../../../../../src/core/kube/bootstrap/oidc.js'
import { redact } from '../../../../../src/core/masking.js'
import {
  IdTokenStub,
  STUB_ISSUER
} from '../../../../../__fixtures__/id-token-stub.js'
import { TestRunner } from '../../../../../__fixtures__/runner.js'
import { CA_DATA, SERVER, fakeJwt } from '../../../../../__fixtures__/tokens.js'

const AUDIENCE = 'https://k8s.example.com'
let stub: IdTokenStub
let runner: TestRunner

beforeAll(async () => {
  stub = await IdTokenStub.start()
})

afterAll(async () => {
  await stub.stop()
})

beforeEach(() => {
  runner = new TestRunner()
  stub.answer = undefined
})

afterEach(() => {
  runner.restore()
})

/** A step with `ms` left: enough for the stand-in, short enough for retries to end soon. */
function stepWith(ms: number): CallBounds {
  return { ...mainBounds(), endsAt: Date.now() + ms }
}

async function failure(
  env: NodeJS.ProcessEnv,
  bounds: CallBounds = stepWith(3_000)
): Promise<ActionError> {
  Object.assign(process.env, env)
  try {
    await fetchIdToken(AUDIENCE, bounds)
  } catch (error) {
    if (error instanceof ActionError) return error
    throw error
  }
  throw new Error('fetchIdToken succeeded')
}

/** One sentence that never carries the request token or the endpoint's own text. */
function oneSentence(error: ActionError): string {
  expect(error.message).not.toContain('\n')
  expect(error.message).toMatch(/^[A-Z].*\.$/)
  expect(error.message).not.toContain(stub.requestToken)
  return error.message
}

describe('bootstrap/id-token.ts fetchIdToken (unit, loopback endpoint stand-in)', () => {
  it('asks for the audience, masks the token at once and returns it', async () => {
    Object.assign(process.env, stub.env())
    const token = await fetchIdToken(AUDIENCE, mainBounds())
    expect(stub.requests.at(-1)).toEqual({
      audience: AUDIENCE,
      authorized: true
    })
    expect(stub.issued.at(-1)).toBe(token)
    expect(runner.commands('add-mask')).toContain(`::add-mask::${token}`)
    expect(redact(`x ${token} y`)).toBe('x *** y')
  })

  it('without ACTIONS_ID_TOKEN_REQUEST_URL names id-token: write, forks and Dependabot, and makes no request', async () => {
    const before = stub.requests.length
    const message = oneSentence(
      await failure({ ACTIONS_ID_TOKEN_REQUEST_TOKEN: stub.requestToken })
    )
    expect(message).toBe(
      `No GitHub ID token is available to this step (ACTIONS_ID_TOKEN_REQUEST_URL ` +
        `is not set): give the job 'permissions: id-token: write', and note that ` +
        `runs for pull requests from forks and Dependabot runs never get an ID ` +
        `token, so skip this step for those.`
    )
    expect(stub.requests.length).toBe(before)
  })

  it('says a Dependabot run gets no ID token, and how to skip the step', async () => {
    const message = oneSentence(
      await failure({ GITHUB_ACTOR: 'dependabot[bot]' })
    )
    expect(message).toBe(
      `No GitHub ID token is available to this step because Dependabot ` +
        `started this run, and GitHub gives Dependabot runs none: skip this ` +
        `step for them, for example with if: github.actor != 'dependabot[bot]'.`
    )
  })

  function pullRequestEvent(
    head: { full_name: string } | null,
    event = 'pull_request'
  ): NodeJS.ProcessEnv {
    const file = path.join(runner.root, 'event.json')
    fs.writeFileSync(
      file,
      JSON.stringify({
        pull_request: {
          head: { repo: head },
          base: { repo: { full_name: 'octo-org/scanner' } }
        }
      })
    )
    return { GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: file }
  }

  it.each(['pull_request', 'pull_request_review'])(
    'says a %s run from a fork gets no ID token, naming the fork',
    async (event) => {
      const message = oneSentence(
        await failure(pullRequestEvent({ full_name: 'evil/scanner' }, event))
      )
      expect(message).toBe(
        `No GitHub ID token is available to this step because it runs for a ` +
          `pull request from the fork 'evil/scanner', and GitHub gives those ` +
          `runs none: skip this step for them, for example with ` +
          `if: github.event.pull_request.head.repo.full_name == github.repository.`
      )
    }
  )

  it('says "a fork" when the fork was deleted', async () => {
    const message = oneSentence(await failure(pullRequestEvent(null)))
    expect(message).toContain('pull request from a fork, and GitHub')
  })

  it('blames the permission, not a fork, for a pull request from the same repository', async () => {
    const message = oneSentence(
      await failure(pullRequestEvent({ full_name: 'octo-org/scanner' }))
    )
    expect(message).toMatch(
      /^No GitHub ID token is available to this step \(ACTIONS_ID_TOKEN_REQUEST_URL is not set\)/
    )
  })

  it('blames the permission when the event file cannot be read', async () => {
    const message = oneSentence(
      await failure({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: path.join(runner.root, 'missing.json')
      })
    )
    expect(message).toContain(`'permissions: id-token: write'`)
  })

  it('without ACTIONS_ID_TOKEN_REQUEST_TOKEN says the same, naming that variable', async () => {
    const message = oneSentence(
      await failure({ ACTIONS_ID_TOKEN_REQUEST_URL: stub.url })
    )
    expect(message).toContain('(ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set)')
    expect(message).toContain(`'permissions: id-token: write'`)
  })

  it('reports a refused request by its status, not by the endpoint text', async () => {
    stub.answer = { status: 403, body: { message: 'endpoint says no' } }
    const message = oneSentence(await failure(stub.env()))
    expect(message).toBe(
      `Fetching the job's GitHub ID token for audience '${AUDIENCE}' failed ` +
        `(HTTP 403): check that the job has 'permissions: id-token: write' ` +
        `(set on the job or the workflow), then re-run it.`
    )
  })

  it('retries a server error, then reports it by its status and suggests a re-run', async () => {
    stub.answer = { status: 500, body: { message: 'boom' } }
    const before = stub.requests.length
    const message = oneSentence(await failure(stub.env()))
    expect(message).toMatch(
      /\(HTTP 500, tried [2-4] times over \d+ s\): GitHub could not issue one just now/
    )
    expect(stub.requests.length - before).toBeGreaterThan(1)
    expect(message).not.toContain('boom')
  })

  it('does not retry a refusal (4xx): one request', async () => {
    stub.answer = { status: 403, body: {} }
    const before = stub.requests.length
    await failure(stub.env())
    expect(stub.requests.length - before).toBe(1)
  })

  it('ends by the step deadline when the endpoint accepts and never answers (R4)', async () => {
    const sockets: net.Socket[] = []
    const silent = net.createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    const started = Date.now()
    try {
      const message = oneSentence(
        await failure(
          {
            ...stub.env(),
            ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/idtoken?api-version=2.0`
          },
          stepWith(2_500)
        )
      )
      expect(message).toContain('before an answer arrived (no answer within')
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
    // 2.5 s left in the step: settled by then, not after core's 10 retries.
    expect(Date.now() - started).toBeLessThan(4_000)
  })

  it('closes every connection of a failed attempt, even one whose error body never ends (review F2)', async () => {
    const sockets: net.Socket[] = []
    let closed = 0
    const trickle = net.createServer((socket) => {
      sockets.push(socket)
      socket.on('close', () => (closed += 1))
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n'
        )
        const drip = setInterval(() => socket.write('x'), 200)
        socket.on('close', () => {
          clearInterval(drip)
        })
      })
    })
    await new Promise<void>((resolve) =>
      trickle.listen(0, '127.0.0.1', resolve)
    )
    const { port } = trickle.address() as net.AddressInfo
    try {
      const message = oneSentence(
        await failure(
          {
            ...stub.env(),
            ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/idtoken?api-version=2.0`
          },
          stepWith(2_500)
        )
      )
      expect(message).toContain('(HTTP 503')
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(sockets.length).toBeGreaterThan(0)
      expect(closed).toBe(sockets.length)
    } finally {
      for (const socket of sockets) socket.destroy()
      trickle.close()
    }
  })

  it('gives one ID-token fetch at most 10 s an attempt and 30 s in all, within the step', () => {
    const step = mainBounds(1_000_000)
    expect(idTokenBounds(step)).toEqual({
      attemptMs: 10_000,
      attempts: 4,
      callMs: 30_000,
      endsAt: step.endsAt
    })
  })

  it.each([
    'https//no-scheme',
    'http://203.0.113.7/idtoken?api-version=2.0',
    'ftp://127.0.0.1/idtoken'
  ])(
    'sends the request token only to an https:// endpoint (or loopback http): refuses %p',
    async (url) => {
      const message = oneSentence(
        await failure({ ...stub.env(), ACTIONS_ID_TOKEN_REQUEST_URL: url })
      )
      expect(message).toMatch(/^ACTIONS_ID_TOKEN_REQUEST_URL is not a/)
      expect(message).not.toContain('203.0.113.7')
    }
  )

  it('reports a wrong request token as the 401 it gets', async () => {
    const message = oneSentence(
      await failure({ ...stub.env(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' })
    )
    expect(message).toContain('(HTTP 401)')
    expect(message).not.toContain('wrong')
  })

  it('reports an answer without a token', async () => {
    stub.answer = { status: 200, body: { nothing: true } }
    const message = oneSentence(await failure(stub.env()))
    expect(message).toContain('the runner answered without a token')
  })

  it('reports an endpoint that cannot be reached', async () => {
    const message = oneSentence(
      await failure({
        ...stub.env(),
        ACTIONS_ID_TOKEN_REQUEST_URL:
          'http://127.0.0.1:1/idtoken?api-version=2.0'
      })
    )
    expect(message).toContain('failed before an answer arrived (ECONNREFUSED')
  })
})

describe('bootstrap/oidc.ts client and issuer (unit)', () => {
  it('builds an in-memory client with the ID token as bearer and TLS checks on', async () => {
    Object.assign(process.env, stub.env())
    const { kc, audience, issuer, ref } = await openOidc(
      { audience: AUDIENCE, server: SERVER, caData: CA_DATA },
      mainBounds()
    )
    expect({ audience, issuer }).toEqual({
      audience: AUDIENCE,
      issuer: STUB_ISSUER
    })
    expect(ref).toEqual({
      source: { kind: 'oidc', audience: AUDIENCE },
      context: '',
      server: SERVER
    })
    expect(kc.getCurrentCluster()).toMatchObject({
      server: SERVER,
      caData: CA_DATA,
      skipTLSVerify: false
    })
    expect(kc.getCurrentUser()?.token).toBe(stub.issued.at(-1))
  })

  it('reads the issuer from the token, and falls back to GitHub for anything unreadable', () => {
    const ghes = 'https://ghes.example.com/_services/token'
    expect(issuerOf(fakeJwt({ iss: ghes }))).toBe(ghes)
    expect(issuerOf(fakeJwt({ iss: 'http://plain.example.com' }))).toBe(
      GITHUB_ISSUER
    )
    expect(issuerOf('not-a-jwt')).toBe(GITHUB_ISSUER)
  })

  it('never puts the ID token anywhere but the user entry', () => {
    const kc = oidcKubeConfig({ server: SERVER, caData: CA_DATA }, 'id.token.x')
    expect(kc.getCurrentUser()).toEqual({
      name: 'github-id-token',
      token: 'id.token.x'
    })
    expect(JSON.stringify(kc.getClusters())).not.toContain('id.token.x')
  })
})
