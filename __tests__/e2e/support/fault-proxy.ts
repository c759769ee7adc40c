/**
 * A TLS-terminating proxy on loopback in front of the real test API server,
 * with its own certificate, that injects faults into chosen requests: a
 * status answer (429 with or without Retry-After, 503), a connection reset,
 * or a stall (never answers), either instead of forwarding the request or
 * after forwarding it (the request lands, the answer is lost). Everything
 * else is passed through untouched. It never logs request bodies or headers.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import type { Socket } from 'node:net'
import * as yaml from 'js-yaml'
import type { KubeConfig } from '@kubernetes/client-node'
import { loopbackCertificate } from '../../../__fixtures__/tls.ts'

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Reset the connection instead of forwarding. */
  | { kind: 'reset' }
  /** Forward, then reset instead of passing the answer on. */
  | { kind: 'reset-after-forward' }
  /** Never answer, never forward. */
  | { kind: 'stall' }

export interface FaultRule {
  /** Only requests with this method; any when left out. */
  method?: string
  path: RegExp
  fault: Fault
  /** How many matching requests get the fault (Infinity: all of them). */
  times: number
}

/** What the proxy did with one request. */
export interface Seen {
  method: string
  path: string
  /** The fault injected, or 'forwarded'. */
  outcome: string
  /** The upstream status, when the request was forwarded and answered. */
  status?: number
}

/** Paths of the calls the action makes. */
export const PATHS = {
  tokenRequest:
    /^\/api\/v1\/namespaces\/[^/]+\/serviceaccounts\/[^/]+\/token(\?|$)/,
  secretCreate: /^\/api\/v1\/namespaces\/[^/]+\/secrets(\?|$)/,
  secretDelete: /^\/api\/v1\/namespaces\/[^/]+\/secrets\/[^/?]+(\?|$)/,
  accessReview:
    /^\/apis\/authorization\.k8s\.io\/v1\/selfsubjectaccessreviews(\?|$)/,
  anything: /^\//
}

function statusBody(status: number): string {
  const reason: Record<number, string> = {
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable'
  }
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `injected by the fault proxy (HTTP ${status})`,
    reason: reason[status] ?? 'InternalError',
    code: status
  })
}

export class FaultProxy {
  readonly seen: Seen[] = []
  /** TLS connections clients opened to the proxy. */
  connections = 0
  private rules: FaultRule[] = []
  private readonly raw = new Map<number, Socket>()
  private readonly agent: https.Agent

  private readonly server: https.Server
  private readonly upstream: URL
  /** The proxy's own CA (PEM), which the kubeconfig must trust. */
  readonly ca: string
  readonly url: string

  // Plain fields, not parameter properties: scripts/load.ts runs this file
  // with Node's type stripping, which does not support them.
  private constructor(
    server: https.Server,
    upstream: URL,
    upstreamCa: Buffer,
    ca: string,
    url: string
  ) {
    this.server = server
    this.upstream = upstream
    this.ca = ca
    this.url = url
    this.agent = new https.Agent({ ca: upstreamCa, keepAlive: true })
  }

  /** Start a proxy for the cluster `admin` points at. */
  static async start(admin: KubeConfig): Promise<FaultProxy> {
    const cluster = admin.getCurrentCluster()
    if (!cluster?.caData) throw new Error('admin kubeconfig has no CA data')
    const certificate = await loopbackCertificate('fault proxy')
    const server = https.createServer(certificate)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const proxy = new FaultProxy(
      server,
      new URL(cluster.server),
      Buffer.from(cluster.caData, 'base64'),
      certificate.cert,
      `https://127.0.0.1:${port}`
    )
    server.on('request', (request, response) => {
      proxy.handle(request, response)
    })
    const raw = proxy.raw
    server.on('connection', (socket: Socket) => {
      proxy.connections++
      const key = socket.remotePort ?? 0
      raw.set(key, socket)
      socket.on('close', () => raw.delete(key))
    })
    return proxy
  }

  /** Add a fault; rules are tried in the order they were added. */
  inject(rule: FaultRule): void {
    this.rules.push({ ...rule })
  }

  /** Remove every fault: from now on the proxy only forwards. */
  clear(): void {
    this.rules = []
  }

  /** Requests that got the fault `kind` (or were forwarded: 'forwarded'). */
  count(outcome: string, path?: RegExp): number {
    return this.seen.filter(
      (s) => s.outcome === outcome && (!path || path.test(s.path))
    ).length
  }

  /** A copy of `kubeconfig` (YAML) that reaches the cluster through this proxy. */
  kubeconfig(kubeconfig: string): string {
    const doc = yaml.load(kubeconfig) as {
      clusters: { cluster: Record<string, string> }[]
    }
    for (const entry of doc.clusters) {
      entry.cluster.server = this.url
      entry.cluster['certificate-authority-data'] = Buffer.from(
        this.ca
      ).toString('base64')
    }
    return yaml.dump(doc)
  }

  async stop(): Promise<void> {
    this.clear()
    for (const socket of this.raw.values()) socket.destroy()
    this.server.closeAllConnections()
    this.agent.destroy()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private take(method: string, path: string): Fault | undefined {
    const rule = this.rules.find(
      (r) =>
        r.times > 0 && (!r.method || r.method === method) && r.path.test(path)
    )
    if (!rule) return undefined
    rule.times--
    return rule.fault
  }

  private reset(request: http.IncomingMessage): void {
    // An RST on the TCP connection under TLS, as a crashing server sends.
    const socket = this.raw.get(request.socket.remotePort ?? 0)
    if (socket) socket.resetAndDestroy()
    else request.socket.destroy()
  }

  private handle(
    request: http.IncomingMessage,
    response: http.ServerResponse
  ): void {
    const method = request.method ?? 'GET'
    const path = request.url ?? '/'
    const fault = this.take(method, path)
    const seen: Seen = {
      method,
      path,
      outcome: fault ? fault.kind : 'forwarded'
    }
    if (fault?.kind === 'status') seen.outcome = `status ${fault.status}`
    this.seen.push(seen)
    switch (fault?.kind) {
      case 'status': {
        request.resume()
        const headers: Record<string, string> = {
          'content-type': 'application/json'
        }
        if (fault.retryAfter !== undefined) {
          headers['retry-after'] = fault.retryAfter
        }
        response.writeHead(fault.status, headers)
        response.end(statusBody(fault.status))
        return
      }
      case 'reset':
        request.resume()
        this.reset(request)
        return
      case 'stall':
        // Read the request and never answer; the client gives up.
        request.resume()
        return
      default:
        this.forward(request, response, seen, fault?.kind)
    }
  }

  private forward(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    seen: Seen,
    after: 'reset-after-forward' | undefined
  ): void {
    const headers = { ...request.headers, host: this.upstream.host }
    const upstream = https.request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: request.method,
        path: request.url,
        headers,
        agent: this.agent
      },
      (answer) => {
        seen.status = answer.statusCode
        if (after === 'reset-after-forward') {
          answer.resume()
          answer.on('end', () => {
            this.reset(request)
          })
          return
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502)
      response.end()
    })
    request.pipe(upstream)
  }
}
