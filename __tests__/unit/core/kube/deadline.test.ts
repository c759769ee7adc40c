import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as tls from 'node:tls'
import { KubeConfig } from '@kubernetes/client-node'
import { connect } from '../../../../src/core/kube/cluster-api.js'
import { describeApiError } from '../../../../src/core/kube/api-errors.js'
import {
  historyOf,
  isDeadlineError,
  type CallBounds
} from '../../../../src/core/kube/deadline.js'
import { connectAsToken } from '../../../../src/core/kube/token-api.js'
import { loopbackCertificate } from '../../../../__fixtures__/tls.js'

// A loopback server that completes the TLS handshake, reads the request and
// never answers: the case where only the abort signal frees the socket
// (undici would otherwise keep it for its 300 s headers timeout).
let server: tls.Server
let ca = ''
let port = 0
const accepted: tls.TLSSocket[] = []

beforeAll(async () => {
  const certificate = await loopbackCertificate()
  ca = certificate.cert
  server = tls.createServer(certificate, (socket) => {
    accepted.push(socket)
    socket.on('error', () => undefined)
    // Read (and ignore) the request, so the client's close is seen.
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0
})

afterAll(async () => {
  for (const socket of accepted) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
})

function silentCluster(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [
      {
        name: 'silent',
        server: `https://127.0.0.1:${port}`,
        caData: Buffer.from(ca).toString('base64'),
        skipTLSVerify: false
      }
    ],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
    currentContext: 'c'
  })
  return kc
}

function tight(attempts = 1): CallBounds {
  return { attemptMs: 300, attempts, callMs: 5_000, endsAt: Date.now() + 5_000 }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

/** True once the server side of `socket` has closed, within `ms`. */
function closedWithin(socket: tls.TLSSocket, ms: number): Promise<boolean> {
  if (socket.closed) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false)
    }, ms)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** Run `call`, expect a deadline error, and return the sockets it opened. */
async function abandoned(call: () => Promise<unknown>): Promise<{
  error: unknown
  sockets: tls.TLSSocket[]
}> {
  const before = accepted.length
  const error = await rejection(call())
  expect(isDeadlineError(error)).toBe(true)
  const sockets = accepted.slice(before)
  expect(sockets.length).toBeGreaterThan(0)
  return { error, sockets }
}

describe('deadline.ts (unit, against a loopback TLS server that never answers)', () => {
  const calls: [string, () => Promise<unknown>][] = [
    [
      'the TokenRequest',
      (): Promise<unknown> =>
        connect(silentCluster(), tight()).requestToken('ns', 'sa', {
          audiences: [],
          expirationSeconds: 600
        })
    ],
    [
      'the Secret create',
      (): Promise<unknown> =>
        connect(silentCluster(), tight()).createSecret('ns', {
          metadata: { name: 'n' }
        })
    ],
    [
      'the Secret delete',
      (): Promise<unknown> =>
        connect(silentCluster(), tight()).deleteSecret('ns', 'n')
    ],
    [
      'the SelfSubjectReview',
      (): Promise<unknown> => connectAsToken(silentCluster(), tight()).whoami()
    ],
    [
      'an access review',
      (): Promise<unknown> =>
        connectAsToken(silentCluster(), tight()).canI({
          input: 'expect-allowed',
          clusterScoped: false,
          needsDiscovery: false,
          line: 'get pods',
          verb: 'get',
          resource: 'pods',
          group: '',
          subresource: '',
          name: '',
          namespace: 'ns',
          path: ''
        })
    ],
    [
      'a rules review',
      (): Promise<unknown> =>
        connectAsToken(silentCluster(), tight()).rules('ns')
    ]
  ]

  it.each(calls)(
    'aborts %s at its deadline and closes the connection',
    async (_what, call) => {
      const started = Date.now()
      const { sockets } = await abandoned(call)
      expect(Date.now() - started).toBeLessThan(3_000)
      // The request itself was aborted: the server sees the socket close
      // (without the abort signal it stays open for minutes).
      for (const socket of sockets) {
        expect(await closedWithin(socket, 2_000)).toBe(true)
      }
    }
  )

  it('retries a call that timed out, on a new connection, and says so in one sentence', async () => {
    const { error, sockets } = await abandoned(() =>
      connect(silentCluster(), tight(2)).deleteSecret('ns', 'name')
    )
    expect(sockets).toHaveLength(2)
    for (const socket of sockets) {
      expect(await closedWithin(socket, 2_000)).toBe(true)
    }
    expect(historyOf(error)).toMatchObject({
      attempts: 2,
      attemptMs: 300,
      mayHaveApplied: true
    })
    const message = describeApiError(error, {
      operation: 'delete-secret',
      server: `https://127.0.0.1:${port}`,
      namespace: 'ns',
      secretName: 'name'
    }).message
    expect(message).toMatch(
      new RegExp(
        `^The API server at https://127\\.0\\.0\\.1:${port} did not answer ` +
          `within 0\\.3 s, tried 2 times over [0-9] s: check that it is ` +
          `healthy and reachable from this runner, then re-run the job\\.$`
      )
    )
  })
})
