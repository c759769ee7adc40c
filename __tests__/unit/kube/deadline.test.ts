import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { connect } from '../../../src/kube/cluster-api.js'
import { describeApiError } from '../../../src/kube/api-errors.js'
import { isDeadlineError } from '../../../src/kube/deadline.js'
import { connectAsToken } from '../../../src/kube/token-api.js'

// A loopback server that accepts connections and never answers: the
// situation the per-call deadline exists for.
let server: net.Server
const sockets: net.Socket[] = []
let port = 0

beforeAll(async () => {
  server = net.createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
})

function silentCluster(): KubeConfig {
  const ca = fs.readFileSync(
    path.join(import.meta.dirname, '..', '..', 'e2e', 'support', 'wrong-ca.pem')
  )
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [
      {
        name: 'silent',
        server: `https://127.0.0.1:${port}`,
        caData: ca.toString('base64'),
        skipTLSVerify: false
      }
    ],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
    currentContext: 'c'
  })
  return kc
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

describe('deadline.ts (unit, against a loopback server that never answers)', () => {
  it('aborts a Secret deletion instead of waiting for the server', async () => {
    const error = await rejection(
      connect(silentCluster(), 300).deleteSecret('ns', 'name')
    )
    expect(isDeadlineError(error)).toBe(true)
    const message = describeApiError(error, {
      operation: 'delete-secret',
      server: `https://127.0.0.1:${port}`,
      namespace: 'ns',
      secretName: 'name'
    }).message
    expect(message).toBe(
      `The API server at https://127.0.0.1:${port} did not answer within 30 s: check that it is healthy and reachable from this runner.`
    )
  })

  it('aborts the TokenRequest and the self-checks too', async () => {
    const api = connect(silentCluster(), 300)
    expect(
      isDeadlineError(
        await rejection(
          api.requestToken('ns', 'sa', {
            audiences: [],
            expirationSeconds: 600
          })
        )
      )
    ).toBe(true)
    expect(
      isDeadlineError(
        await rejection(connectAsToken(silentCluster(), 300).whoami())
      )
    ).toBe(true)
  })
})
