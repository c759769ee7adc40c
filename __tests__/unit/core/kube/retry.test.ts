import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import type { AddressInfo, LookupFunction, Socket } from 'node:net'
import { buffer } from 'node:stream/consumers'
import { KubeConfig } from '@kubernetes/client-node'
import { connect } from '../../../../src/core/kube/cluster-api.js'
import {
  certainlyNotApplied,
  describeApiError
} from '../../../../src/core/kube/api-errors.js'
import {
  historyOf,
  type CallBounds
} from '../../../../src/core/kube/deadline.js'
import {
  RETRY_AFTER_CAP_MS,
  failureReason,
  isTransient,
  retryAfterMs,
  withRetries
} from '../../../../src/core/kube/retry.js'
import {
  apiException,
  socketError
} from '../../../../__fixtures__/fake-cluster-api.js'
import { TestRunner } from '../../../../__fixtures__/runner.js'
import { loopbackCertificate } from '../../../../__fixtures__/tls.js'
import { SERVER } from '../../../../__fixtures__/tokens.js'
import { closeServer } from '../../../../__fixtures__/close-server.js'

/** A 429 or 503 as client-node throws it, with a Retry-After header. */
function withRetryAfter(code: number, value: string): Error {
  const error = apiException(code)
  ;(error as unknown as { headers: Record<string, string> }).headers[
    'retry-after'
  ] = value
  return error
}

function bounds(extra: Partial<CallBounds> = {}): CallBounds {
  return {
    attemptMs: 2_000,
    attempts: 4,
    callMs: 20_000,
    endsAt: Date.now() + 20_000,
    ...extra
  }
}

let runner: TestRunner

beforeEach(() => {
  runner = new TestRunner()
  runner.newStep()
})

afterEach(() => {
  runner.restore()
  jest.restoreAllMocks()
})

/** Full jitter picks 0 of the exponential wait: the retries run at once. */
function noJitter(): void {
  jest.spyOn(Math, 'random').mockReturnValue(0)
}

describe('retry.ts (unit, mocked attempts)', () => {
  it.each<[string, unknown, boolean]>([
    ['429', apiException(429), true],
    ['500', apiException(500), true],
    ['502', apiException(502), true],
    ['503', apiException(503), true],
    ['504', apiException(504), true],
    ['400', apiException(400), false],
    ['401', apiException(401), false],
    ['403', apiException(403), false],
    ['404', apiException(404), false],
    ['409', apiException(409), false],
    ['422', apiException(422), false],
    ['a reset', socketError('ECONNRESET'), true],
    ['a refused connection', socketError('ECONNREFUSED'), true],
    ['a write to a closed socket', socketError('EPIPE'), true],
    ['an unreachable host', socketError('EHOSTUNREACH', 'connect'), true],
    ['an unknown host', socketError('ENOTFOUND'), false],
    [
      'an untrusted certificate',
      socketError('SELF_SIGNED_CERT_IN_CHAIN'),
      false
    ],
    ['an attempt that timed out', new DOMException('t', 'TimeoutError'), true],
    ['a bug', new TypeError('x is not a function'), false]
  ])('retries %s: %p', (_what, error, transient) => {
    expect(isTransient(error)).toBe(transient)
  })

  it('reads Retry-After as seconds or a date, caps it, and only on 429 and 503', () => {
    const now = Date.parse('2030-01-01T00:00:00Z')
    expect(retryAfterMs(withRetryAfter(429, '2'), now)).toBe(2_000)
    expect(retryAfterMs(withRetryAfter(503, '0'), now)).toBe(0)
    expect(retryAfterMs(withRetryAfter(429, '3600'), now)).toBe(
      RETRY_AFTER_CAP_MS
    )
    expect(
      retryAfterMs(withRetryAfter(429, 'Tue, 01 Jan 2030 00:00:03 GMT'), now)
    ).toBe(3_000)
    expect(retryAfterMs(withRetryAfter(429, 'soon'), now)).toBeUndefined()
    expect(retryAfterMs(apiException(429), now)).toBeUndefined()
    expect(retryAfterMs(withRetryAfter(500, '2'), now)).toBeUndefined()
  })

  it('names a failure by status or code only', () => {
    expect(failureReason(withRetryAfter(429, '1'), 15_000)).toBe(
      'HTTP 429, Retry-After 1 s'
    )
    expect(failureReason(apiException(503, { message: 'secret' }), 1)).toBe(
      'HTTP 503'
    )
    expect(failureReason(socketError('ECONNRESET'), 1)).toBe('ECONNRESET')
    expect(failureReason(new DOMException('t', 'TimeoutError'), 15_000)).toBe(
      'no answer within 15 s'
    )
  })

  it('survives one transient failure with exactly one debug line', async () => {
    noJitter()
    const attempt = jest
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(apiException(503, { message: 'etcd is sad' }))
      .mockResolvedValueOnce('ok')
    await expect(
      withRetries('TokenRequest for ServiceAccount ns/sa', bounds(), attempt)
    ).resolves.toBe('ok')
    expect(attempt).toHaveBeenCalledTimes(2)
    expect(runner.commands('debug')).toEqual([
      '::debug::TokenRequest for ServiceAccount ns/sa: attempt 1 of 4 failed (HTTP 503); retrying in 0.0 s.'
    ])
    expect(runner.out).not.toContain('etcd is sad')
  })

  it('waits as long as Retry-After asks', async () => {
    const attempt = jest
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(withRetryAfter(429, '1'))
      .mockResolvedValueOnce('ok')
    const started = Date.now()
    await expect(withRetries('call', bounds(), attempt)).resolves.toBe('ok')
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(runner.commands('debug')).toEqual([
      '::debug::call: attempt 1 of 4 failed (HTTP 429, Retry-After 1 s); retrying in 1.0 s.'
    ])
  })

  it('waits a random share of an exponential step (full jitter)', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5)
    const attempt = jest
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(socketError('ECONNRESET'))
      .mockRejectedValueOnce(socketError('ECONNRESET'))
      .mockResolvedValueOnce('ok')
    await expect(withRetries('call', bounds(), attempt)).resolves.toBe('ok')
    // Steps of 1 s then 2 s; half of each.
    expect(runner.commands('debug')).toEqual([
      '::debug::call: attempt 1 of 4 failed (ECONNRESET); retrying in 0.5 s.',
      '::debug::call: attempt 2 of 4 failed (ECONNRESET); retrying in 1.0 s.'
    ])
  })

  it('gives up after the last attempt and records how it tried', async () => {
    noJitter()
    const attempt = jest
      .fn<() => Promise<string>>()
      .mockRejectedValue(apiException(503))
    const error = await withRetries(
      'call',
      bounds({ attempts: 3 }),
      attempt
    ).catch((e: unknown) => e)
    expect(attempt).toHaveBeenCalledTimes(3)
    expect(runner.commands('debug')).toHaveLength(2)
    expect(historyOf(error)).toMatchObject({
      attempts: 3,
      mayHaveApplied: true
    })
    const message = describeApiError(error, {
      operation: 'mint',
      server: SERVER,
      namespace: 'scans',
      serviceAccount: 'scanner'
    }).message
    expect(message).toBe(
      `Minting the token failed with HTTP 503, tried 3 times over 0 s: the ` +
        `API server at ${SERVER} is failing or restarting, so re-run the job ` +
        `once it is healthy.`
    )
  })

  it('says a 429 that never cleared is rate limiting, and what to do', async () => {
    noJitter()
    const error = await withRetries(
      'call',
      bounds({ attempts: 2 }),
      jest.fn<() => Promise<string>>().mockRejectedValue(apiException(429))
    ).catch((e: unknown) => e)
    expect(
      describeApiError(error, {
        operation: 'review',
        server: SERVER,
        namespace: 'scans'
      }).message
    ).toBe(
      `The API server at ${SERVER} kept refusing with HTTP 429 Too Many ` +
        `Requests, tried 2 times over 0 s: it is overloaded or limiting this ` +
        `identity, so re-run the job later, or ask the cluster admin about ` +
        `its API Priority and Fairness limits.`
    )
  })

  it('does not retry what another attempt cannot fix', async () => {
    const attempt = jest
      .fn<() => Promise<string>>()
      .mockRejectedValue(apiException(403))
    const error = await withRetries('call', bounds(), attempt).catch(
      (e: unknown) => e
    )
    expect(attempt).toHaveBeenCalledTimes(1)
    expect(runner.commands('debug')).toEqual([])
    expect(historyOf(error)).toMatchObject({ attempts: 1 })
  })

  it('starts no attempt past the call budget, and no burst at its edge', async () => {
    // Fake clock: the count must not depend on how late a timer fires.
    jest.useFakeTimers()
    try {
      jest.spyOn(Math, 'random').mockReturnValue(0.99)
      const attempt = jest
        .fn<() => Promise<string>>()
        .mockRejectedValue(socketError('ECONNREFUSED'))
      const started = Date.now()
      const call = withRetries(
        'call',
        bounds({ attempts: 10, callMs: 2_500, endsAt: started + 2_500 }),
        attempt
      ).catch(() => undefined)
      await jest.advanceTimersByTimeAsync(5_000)
      await call
      // Waits of 0.99 s, then 0.51 s (clipped so that 1 s is left for the
      // third attempt); the clipped wait ends the retries: exactly 3 of the
      // 10 allowed, the last starting 1.5 s in. Without the clip rule, the
      // attempts at the edge (1 s left, zero waits) ran back to back.
      expect(attempt.mock.calls.length).toBe(3)
      expect(runner.commands('debug')).toHaveLength(2)
      expect(runner.commands('debug')[1]).toContain('retrying in 0.5 s')
    } finally {
      jest.useRealTimers()
    }
  })

  it('does not wait for a Retry-After the budget cannot cover', async () => {
    const attempt = jest
      .fn<() => Promise<string>>()
      .mockRejectedValue(withRetryAfter(429, '5'))
    const started = Date.now()
    await withRetries('call', bounds({ callMs: 3_000 }), attempt).catch(
      () => undefined
    )
    expect(attempt).toHaveBeenCalledTimes(1)
    // Waiting for the 5 s it asks would take past 3 s; the margin is for a
    // busy CI machine.
    expect(Date.now() - started).toBeLessThan(2_500)
  })

  it('ends every call by the step deadline', async () => {
    noJitter()
    const attempt = jest.fn<(signal: AbortSignal) => Promise<string>>(
      () => new Promise(() => undefined)
    )
    const started = Date.now()
    const error = await withRetries(
      'call',
      bounds({ attemptMs: 10_000, endsAt: Date.now() + 1_500 }),
      attempt
    ).catch((e: unknown) => e)
    // The 1.5 s deadline, not the 10 s attempt limit (margin for a busy CI).
    expect(Date.now() - started).toBeLessThan(5_000)
    expect((error as Error).name).toBe('TimeoutError')
    const signal = attempt.mock.calls[0]?.[0]
    expect(signal?.aborted).toBe(true)
  })

  it('remembers that an earlier attempt may have landed', async () => {
    noJitter()
    const error = await withRetries(
      'call',
      bounds({ attempts: 2 }),
      jest
        .fn<() => Promise<string>>()
        .mockRejectedValueOnce(socketError('ECONNRESET'))
        .mockRejectedValueOnce(socketError('ECONNREFUSED'))
    ).catch((e: unknown) => e)
    // Refused on its own means "not applied", but the reset before may have.
    expect(certainlyNotApplied(socketError('ECONNREFUSED'))).toBe(true)
    expect(certainlyNotApplied(error)).toBe(false)
  })
})

/** The error a real node:http request to a loopback server that does `serve` fails with. */
async function nodeError(
  serve: ((socket: Socket) => void) | 'closed',
  options: http.RequestOptions & { autoSelectFamily?: boolean } = {}
): Promise<unknown> {
  const server = net.createServer((socket) => {
    if (serve !== 'closed') {
      socket.once('data', () => {
        serve(socket)
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port: open } = server.address() as AddressInfo
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => {
        resolve()
      })
    })
  if (serve === 'closed') await stop()
  try {
    return await new Promise<unknown>((resolve) => {
      const request = http.request({
        host: '127.0.0.1',
        port: open,
        ...options
      })
      request.on('error', resolve)
      request.on('response', (response) => {
        buffer(response).then(() => {
          resolve(new Error('the request succeeded'))
        }, resolve)
      })
      request.end()
    })
  } finally {
    if (serve !== 'closed') await stop()
  }
}

// Every address of a name refuses: Node tries each (happy eyeballs) and
// reports an AggregateError of connect errors.
const twoAddresses: LookupFunction = (_host, _options, callback) => {
  ;(callback as (e: null, a: { address: string; family: number }[]) => void)(
    null,
    [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 }
    ]
  )
}

describe('retry.ts classification of what node:https raises (unit, real sockets)', () => {
  it.each<[string, () => Promise<unknown>, string, boolean]>([
    [
      'a refused connection',
      async (): Promise<unknown> => nodeError('closed'),
      'ECONNREFUSED',
      true
    ],
    [
      'a connection closed before the answer',
      async (): Promise<unknown> =>
        nodeError((socket) => {
          socket.destroy()
        }),
      'ECONNRESET',
      false
    ],
    [
      'a connection reset before the answer',
      async (): Promise<unknown> =>
        nodeError((socket) => {
          socket.resetAndDestroy()
        }),
      'ECONNRESET',
      false
    ],
    [
      'an answer cut short in its body',
      async (): Promise<unknown> =>
        nodeError((socket) => {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"kind"')
          setTimeout(() => socket.destroy(), 20)
        }),
      'ECONNRESET',
      false
    ],
    [
      'a name whose every address refuses',
      async (): Promise<unknown> =>
        nodeError('closed', {
          host: 'cluster.invalid',
          lookup: twoAddresses,
          autoSelectFamily: true
        }),
      'ECONNREFUSED',
      true
    ]
  ])(
    'retries %s, and knows whether it may have landed',
    async (_what, make, code, notApplied) => {
      const error = await make()
      expect(failureReason(error, 1)).toBe(code)
      expect(isTransient(error)).toBe(true)
      expect(certainlyNotApplied(error)).toBe(notApplied)
    }
  )
})

// A loopback HTTPS server that answers each request with the next scripted
// reply: real client-node errors, real undici resets.
type Reply = 'reset' | { status: number; body?: object }
let server: https.Server
const raw = new Map<number, Socket>()
let ca = ''
let port = 0
let script: Reply[] = []
const seen: { method: string; path: string }[] = []

beforeAll(async () => {
  const certificate = await loopbackCertificate()
  ca = certificate.cert
  server = https.createServer(certificate, (request, response) => {
    seen.push({ method: request.method ?? '', path: request.url ?? '' })
    request.resume()
    const reply = script.shift() ?? { status: 500 }
    if (reply === 'reset') {
      // RST on the TCP connection under TLS, as a crashing proxy would.
      raw.get(request.socket.remotePort ?? 0)?.resetAndDestroy()
      return
    }
    response.writeHead(reply.status, { 'content-type': 'application/json' })
    response.end(JSON.stringify(reply.body ?? { kind: 'Status' }))
  })
  server.on('connection', (socket: Socket) => {
    raw.set(socket.remotePort ?? 0, socket)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0
})

afterAll(async () => {
  await closeServer(server)
})

function scriptedCluster(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [
      {
        name: 'scripted',
        server: `https://127.0.0.1:${port}`,
        caData: Buffer.from(ca).toString('base64'),
        skipTLSVerify: false
      }
    ],
    users: [{ name: 'u', token: 'bootstrap-bearer-0123456789' }],
    contexts: [{ name: 'c', cluster: 'scripted', user: 'u' }],
    currentContext: 'c'
  })
  return kc
}

const SECRET = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'ephemeral-scan-token-1-1-00aa11bb22', namespace: 'ns' }
}

describe('cluster-api.ts retries (unit, against a scripted loopback server)', () => {
  beforeEach(() => {
    noJitter()
    seen.length = 0
  })

  it('retries a reset Secret create with the same name and takes a 409 as its own', async () => {
    script = ['reset', { status: 409, body: { kind: 'Status', code: 409 } }]
    const created = await connect(scriptedCluster(), bounds()).createSecret(
      'ns',
      SECRET
    )
    expect(created.metadata?.name).toBe(SECRET.metadata.name)
    expect(created.metadata?.uid).toBeUndefined()
    expect(seen).toEqual([
      { method: 'POST', path: '/api/v1/namespaces/ns/secrets' },
      { method: 'POST', path: '/api/v1/namespaces/ns/secrets' }
    ])
    const debug = runner.commands('debug')
    expect(debug).toHaveLength(1)
    expect(debug[0]).toMatch(
      /^::debug::Creating Secret ns\/ephemeral-scan-token-1-1-00aa11bb22: attempt 1 of 4 failed \(ECONNRESET\); retrying in 0\.0 s\.$/
    )
    expect(runner.everything()).not.toContain('bootstrap-bearer')
  })

  it('does not take a 409 on the first attempt as its own', async () => {
    script = [{ status: 409, body: { kind: 'Status', code: 409 } }]
    const error = await connect(scriptedCluster(), bounds())
      .createSecret('ns', SECRET)
      .catch((e: unknown) => e)
    expect((error as { code?: number }).code).toBe(409)
    expect(seen).toHaveLength(1)
  })

  it('survives a 503 on the TokenRequest', async () => {
    script = [
      { status: 503, body: { kind: 'Status', code: 503 } },
      {
        status: 201,
        body: {
          kind: 'TokenRequest',
          apiVersion: 'authentication.k8s.io/v1',
          spec: { expirationSeconds: 600 },
          status: {
            token: 'a.b.c',
            expirationTimestamp: '2030-01-01T00:00:00Z'
          }
        }
      }
    ]
    const issued = await connect(scriptedCluster(), bounds()).requestToken(
      'ns',
      'sa',
      { audiences: [], expirationSeconds: 600 }
    )
    expect(issued.token).toBe('a.b.c')
    expect(seen).toHaveLength(2)
    expect(runner.commands('debug')).toEqual([
      '::debug::TokenRequest for ServiceAccount ns/sa: attempt 1 of 4 failed (HTTP 503); retrying in 0.0 s.'
    ])
  })

  it('takes a 404 on a retried delete as deleted by the attempt whose answer was lost', async () => {
    script = ['reset', { status: 404, body: { kind: 'Status', code: 404 } }]
    await expect(
      connect(scriptedCluster(), bounds()).deleteSecret('ns', 'name', 'uid-1')
    ).resolves.toBe('absent')
    expect(seen).toHaveLength(2)
  })
})
