import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { ApiException, KubeConfig, type User } from '@kubernetes/client-node'
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api
} from '../../../../src/core/kube/endpoints.js'
import { networkCode } from '../../../../src/core/kube/api-errors.js'
import { loopbackCertificate } from '../../../../__fixtures__/tls.js'
import { closeServer } from '../../../../__fixtures__/close-server.js'

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

// A loopback HTTP server standing in for the API server: it records each
// request and answers with the next scripted response.
let server: http.Server
let base = ''
let connections = 0
const seen: Seen[] = []
const answers: {
  status: number
  body?: string
  headers?: http.OutgoingHttpHeaders
}[] = []

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body
      })
      const answer = answers.shift() ?? { status: 500, body: 'unscripted' }
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        ...answer.headers
      })
      res.end(answer.body ?? '')
    })
  })
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  base = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

function kubeConfig(
  user: User = { name: 'u', token: 'bearer-for-test' }
): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    // Plain HTTP needs skipTLSVerify in client-node; the TLS path is the e2e tests' job.
    clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
    users: [user],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  return kc
}

function answer(
  status: number,
  body?: unknown,
  headers?: http.OutgoingHttpHeaders
): void {
  answers.push({
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers
  })
}

/** Each call's abort signal, as withRetries gives one to every attempt. */
const live = (): AbortSignal => AbortSignal.timeout(10_000)

function last(): Seen {
  const request = seen.at(-1)
  if (!request) throw new Error('no request reached the server')
  return request
}

describe('endpoints.ts (unit, against a loopback HTTP server)', () => {
  it('creates a Secret with a JSON body, the kubeconfig credential and client-node’s User-Agent', async () => {
    answer(201, {
      kind: 'Secret',
      metadata: { name: 's', uid: 'u-1' }
    })
    const core = kubeConfig().makeApiClient(CoreV1Api)
    const secret = await core.createNamespacedSecret(
      {
        namespace: 'ci',
        body: { metadata: { name: 's' }, type: 'Opaque' },
        fieldManager: 'scanner'
      },
      live()
    )
    const request = last()
    expect(request.method).toBe('POST')
    expect(request.url).toBe(
      '/api/v1/namespaces/ci/secrets?fieldManager=scanner'
    )
    expect(JSON.parse(request.body)).toEqual({
      metadata: { name: 's' },
      type: 'Opaque'
    })
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers.accept).toBe('application/json, */*;q=0.8')
    expect(request.headers.authorization).toBe('Bearer bearer-for-test')
    expect(request.headers['user-agent']).toMatch(
      /^kubernetes-client-javascript\//
    )
    expect(secret.metadata?.uid).toBe('u-1')
  })

  it('deletes a Secret by name with its uid precondition, escaping path segments', async () => {
    answer(200, { kind: 'Status', status: 'Success' })
    const core = kubeConfig().makeApiClient(CoreV1Api)
    await core.deleteNamespacedSecret(
      {
        name: 'a b',
        namespace: 'ci',
        body: { preconditions: { uid: 'u-1' } }
      },
      live()
    )
    const request = last()
    expect(request.method).toBe('DELETE')
    expect(request.url).toBe('/api/v1/namespaces/ci/secrets/a%20b')
    expect(JSON.parse(request.body)).toEqual({ preconditions: { uid: 'u-1' } })
  })

  it.each(['..', '.', ''])(
    'refuses the path segment %p before any request, whoever asks (R1: a Secret named .. is the Namespace)',
    async (name) => {
      const before = seen.length
      const core = kubeConfig().makeApiClient(CoreV1Api)
      await expect(
        core.deleteNamespacedSecret(
          { name, namespace: 'prod', body: {} },
          live()
        )
      ).rejects.toThrow(/a Kubernetes API path segment may not be/)
      await expect(
        core.deleteNamespacedSecret(
          { name: 'x', namespace: name, body: {} },
          live()
        )
      ).rejects.toThrow(/a Kubernetes API path segment may not be/)
      expect(seen.length).toBe(before)
    }
  )

  it('requests a token and returns the data with a Date expiry and the response headers', async () => {
    answer(
      201,
      {
        kind: 'TokenRequest',
        spec: { expirationSeconds: 900 },
        status: { token: 'tok', expirationTimestamp: '2026-01-02T03:19:05Z' }
      },
      { warning: '299 - "shortened"' }
    )
    const core = kubeConfig().makeApiClient(CoreV1Api)
    const info = await core.createNamespacedServiceAccountTokenWithHttpInfo(
      {
        name: 'scanner',
        namespace: 'ci',
        body: { spec: { audiences: [], expirationSeconds: 900 } }
      },
      live()
    )
    expect(last().url).toBe(
      '/api/v1/namespaces/ci/serviceaccounts/scanner/token'
    )
    expect(info.httpStatusCode).toBe(201)
    expect(info.headers.warning).toBe('299 - "shortened"')
    expect(info.data.status?.token).toBe('tok')
    expect(info.data.status?.expirationTimestamp).toEqual(
      new Date('2026-01-02T03:19:05Z')
    )
    expect(info.data.spec?.expirationSeconds).toBe(900)
  })

  it('posts the three self reviews to their API groups', async () => {
    const kc = kubeConfig()
    answer(201, { status: { userInfo: { username: 'me' } } })
    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: { kind: 'SelfSubjectReview' } }, live())
    expect(last().url).toBe('/apis/authentication.k8s.io/v1/selfsubjectreviews')
    expect(review.status?.userInfo?.username).toBe('me')

    const authz = kc.makeApiClient(AuthorizationV1Api)
    answer(201, { spec: {}, status: { allowed: true } })
    const access = await authz.createSelfSubjectAccessReview(
      {
        body: { spec: { nonResourceAttributes: { path: '/x', verb: 'get' } } }
      },
      live()
    )
    expect(last().url).toBe(
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'
    )
    expect(access.status?.allowed).toBe(true)

    answer(201, { spec: {}, status: { resourceRules: [], incomplete: false } })
    const rules = await authz.createSelfSubjectRulesReview(
      {
        body: { spec: { namespace: 'ci' } }
      },
      live()
    )
    expect(last().url).toBe(
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'
    )
    expect(rules.status?.incomplete).toBe(false)
  })

  it('throws an ApiException with the status and the server’s text, as the generated classes do', async () => {
    const status = { kind: 'Status', reason: 'Forbidden', message: 'no' }
    answer(403, status)
    const core = kubeConfig().makeApiClient(CoreV1Api)
    const error = await core
      .createNamespacedSecret({ namespace: 'ci', body: {} }, live())
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiException)
    expect((error as ApiException<string>).code).toBe(403)
    expect(JSON.parse((error as ApiException<string>).body)).toEqual(status)
  })

  it('throws 401 without a body, as the generated classes do', async () => {
    answer(401, { kind: 'Status', message: 'Unauthorized' })
    const core = kubeConfig().makeApiClient(CoreV1Api)
    const error = await core
      .deleteNamespacedSecret({ name: 's', namespace: 'ci' }, live())
      .catch((e: unknown) => e)
    expect((error as ApiException<undefined>).code).toBe(401)
    expect((error as ApiException<undefined>).body).toBeUndefined()
  })

  it('reuses kept-alive connections for a run of calls', async () => {
    const core = kubeConfig().makeApiClient(CoreV1Api)
    const before = connections
    for (let i = 0; i < 6; i++) {
      answer(201, { status: {} })
      await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
    }
    // A connection is freed a moment after the body is read, so a call made
    // at once may open a second one; never one per call.
    expect(connections - before).toBeLessThanOrEqual(2)
  })

  it('keeps the connection when an exec plugin supplies the credential (a header, not TLS)', async () => {
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'from-plugin' }
    })
    const core = kubeConfig({
      name: 'u',
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`],
        interactiveMode: 'Never'
      }
    }).makeApiClient(CoreV1Api)
    const before = connections
    for (let i = 0; i < 3; i++) {
      answer(201, { status: {} })
      await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
    }
    expect(last().headers.authorization).toBe('Bearer from-plugin')
    expect(connections - before).toBeLessThanOrEqual(2)
  })

  it('sends a token read from a file with its final newline, as fetch would', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'endpoints-'))
    try {
      const file = path.join(dir, 'token')
      fs.writeFileSync(file, 'token-from-file\n')
      // client-node reads token-file while parsing, newline included.
      const kc = new KubeConfig()
      kc.loadFromString(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'c',
              cluster: { server: base, 'insecure-skip-tls-verify': true }
            }
          ],
          users: [{ name: 'u', user: { 'token-file': file } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'x'
        })
      )
      answer(201, { status: {} })
      await kc
        .makeApiClient(CoreV1Api)
        .createNamespacedSecret({ namespace: 'ci', body: {} }, live())
      expect(last().headers.authorization).toBe('Bearer token-from-file')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('sends no body and no Content-Length for a GET, and the exact byte length for a body', async () => {
    answer(200, { resources: [] })
    const core = kubeConfig().makeApiClient(CoreV1Api)
    await core.getAPIResources(live())
    expect(last().method).toBe('GET')
    expect(last().headers['content-length']).toBeUndefined()
    expect(last().body).toBe('')
    answer(201, { status: {} })
    await core.createNamespacedSecret(
      {
        namespace: 'ci',
        body: { metadata: { name: 'é' } }
      },
      live()
    )
    expect(Number(last().headers['content-length'])).toBe(
      Buffer.byteLength(last().body)
    )
    expect(JSON.parse(last().body)).toEqual({ metadata: { name: 'é' } })
  })
})

describe('https-transport.ts (unit, against a loopback HTTPS server)', () => {
  let tlsServer: https.Server
  let tlsBase = ''
  let ca = ''
  let tlsConnections = 0
  let lastAuthorization: string | undefined
  let lastClient: string | undefined

  beforeAll(async () => {
    const certificate = await loopbackCertificate()
    ca = certificate.cert
    const options = {
      ...certificate,
      requestCert: true,
      rejectUnauthorized: false
    }
    tlsServer = https.createServer(options, (req, res) => {
      lastAuthorization = req.headers.authorization
      // Empty ({}) when the client sent no certificate.
      const peer = (req.socket as TLSSocket).getPeerCertificate() as {
        subject?: { CN?: unknown }
      }
      lastClient =
        typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined
      req.resume()
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end('{"status":{}}')
    })
    tlsServer.on('secureConnection', () => tlsConnections++)
    await new Promise<void>((resolve) =>
      tlsServer.listen(0, '127.0.0.1', resolve)
    )
    const { port } = tlsServer.address() as { port: number }
    tlsBase = `https://127.0.0.1:${port}`
  })

  afterAll(async () => {
    await closeServer(tlsServer)
  })

  function tlsKubeConfig(
    user: User,
    cluster: { caData?: string; proxyUrl?: string; tlsServerName?: string } = {}
  ): KubeConfig {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: tlsBase,
          caData: Buffer.from(cluster.caData ?? ca).toString('base64'),
          skipTLSVerify: false,
          ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
          ...(cluster.tlsServerName
            ? { tlsServerName: cluster.tlsServerName }
            : {})
        }
      ],
      users: [user],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x'
    })
    return kc
  }

  it('verifies the server against the kubeconfig CA and says why it fails with another', async () => {
    const other = await loopbackCertificate('another CA')
    const kc = tlsKubeConfig({ name: 'u', token: 't' }, { caData: other.cert })
    const error = await kc
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({ namespace: 'ci', body: {} }, live())
      .catch((e: unknown) => e)
    expect(networkCode(error)).toMatch(/SELF_SIGNED|UNABLE_TO|CERT_/)
  })

  it('makes one TLS handshake for a run of calls with the same credential', async () => {
    const core = tlsKubeConfig({
      name: 'u',
      token: 'tls-bearer'
    }).makeApiClient(CoreV1Api)
    const before = tlsConnections
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
    }
    expect(lastAuthorization).toBe('Bearer tls-bearer')
    expect(tlsConnections - before).toBeLessThanOrEqual(2)
  })

  it('opens a new connection when the client certificate changes between calls', async () => {
    const first = await loopbackCertificate('client one')
    const second = await loopbackCertificate('client two')
    const kc = tlsKubeConfig({
      name: 'u',
      certData: Buffer.from(first.cert).toString('base64'),
      keyData: Buffer.from(first.key).toString('base64')
    })
    const core = kc.makeApiClient(CoreV1Api)
    await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
    const before = tlsConnections
    // As a rotated certificate file or an exec plugin's new certificate would.
    const user = kc.getCurrentUser() as { certData?: string; keyData?: string }
    user.certData = Buffer.from(second.cert).toString('base64')
    user.keyData = Buffer.from(second.key).toString('base64')
    await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
    expect(tlsConnections - before).toBe(1)
  })

  it('checks the certificate against tls-server-name when the kubeconfig sets one', async () => {
    const call = (name: string): Promise<unknown> =>
      tlsKubeConfig({ name: 'u', token: 't' }, { tlsServerName: name })
        .makeApiClient(CoreV1Api)
        .createNamespacedSecret({ namespace: 'ci', body: {} }, live())
    // The loopback certificate names localhost (and 127.0.0.1), not this.
    const error = await call('not-the-server.example').catch((e: unknown) => e)
    expect(networkCode(error)).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    await expect(call('localhost')).resolves.toBeDefined()
  })

  /** A loopback HTTP CONNECT proxy; `stall` accepts tunnels and never answers. */
  async function connectProxy(stall = false): Promise<{
    url: string
    tunnels: string[]
    close: () => Promise<void>
  }> {
    const tunnels: string[] = []
    const sockets: net.Socket[] = []
    const proxy = http.createServer((_req, res) => res.writeHead(405).end())
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
      sockets.push(client)
      tunnels.push(req.url ?? '')
      if (stall) return
      const [host, port] = (req.url ?? '').split(':')
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.pipe(client)
        client.pipe(upstream)
      })
      sockets.push(upstream)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as net.AddressInfo
    return {
      url: `http://127.0.0.1:${port}`,
      tunnels,
      close: async (): Promise<void> => {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => proxy.close(resolve))
      }
    }
  }

  it('presents the current client certificate through a proxy-url, not the first one', async () => {
    const proxy = await connectProxy()
    try {
      const first = await loopbackCertificate('client one')
      const second = await loopbackCertificate('client two')
      const kc = tlsKubeConfig(
        {
          name: 'u',
          certData: Buffer.from(first.cert).toString('base64'),
          keyData: Buffer.from(first.key).toString('base64')
        },
        { proxyUrl: proxy.url }
      )
      const core = kc.makeApiClient(CoreV1Api)
      await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
      expect(lastClient).toBe('client one')
      const user = kc.getCurrentUser() as {
        certData?: string
        keyData?: string
      }
      user.certData = Buffer.from(second.cert).toString('base64')
      user.keyData = Buffer.from(second.key).toString('base64')
      await core.createNamespacedSecret({ namespace: 'ci', body: {} }, live())
      expect(lastClient).toBe('client two')
      expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(tlsBase).host]))
    } finally {
      await proxy.close()
    }
  })

  it('settles a call whose proxy never opens the tunnel when its deadline aborts it', async () => {
    const proxy = await connectProxy(true)
    try {
      const core = tlsKubeConfig(
        { name: 'u', token: 't' },
        { proxyUrl: proxy.url }
      ).makeApiClient(CoreV1Api)
      const started = Date.now()
      const error = await core
        .createNamespacedSecret(
          { namespace: 'ci', body: {} },
          AbortSignal.timeout(300)
        )
        .catch((e: unknown) => e)
      expect((error as Error).name).toBe('TimeoutError')
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(proxy.tunnels).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  }, 10_000)
})
