import * as http from 'node:http'
import * as https from 'node:https'
import * as tls from 'node:tls'
import { buffer } from 'node:stream/consumers'
import {
  ResponseContext,
  type KubeConfig,
  type RequestContext
} from '@kubernetes/client-node'
import { credentialFailure, watchPluginExits } from './credential-plugin.js'
import { proxyAgent, proxyFor } from './proxy-agents.js'

// Sends client-node's requests with Node's own http(s) module instead of
// client-node's undici fetch. Loading undici takes ~0.2 s of CPU in each
// step, more than the rest of the step (a whole `kubectl create token` is
// 0.07 s); node:https is part of Node. The KubeConfig still decides every
// detail of the connection through client-node's applyToHTTPSOptions, which
// its exec/attach WebSockets use: credential headers (token, exec plugin,
// auth provider, impersonation), CA, client certificate and key, TLS server
// name and skip-verify. Agents are this module's (see routeFor).

/** How one KubeConfig reaches its server over one scheme. */
interface Route {
  agent: http.Agent
  /** The proxy, if any (see proxyFor). */
  proxy?: string
}

/**
 * One route per KubeConfig and scheme, kept-alive (unless through a proxy,
 * see proxyAgent): one TLS handshake for a step's calls instead of one per
 * call. Node pools sockets by host and TLS options (CA, certificate, key,
 * server name, verification), so a certificate that an exec plugin or a
 * rotated file changes gets its own connection, never another's.
 */
const routes = new WeakMap<KubeConfig, Map<string, Route>>()

function routeFor(kc: KubeConfig, url: URL): Route {
  let mine = routes.get(kc)
  if (!mine) {
    mine = new Map<string, Route>()
    routes.set(kc, mine)
  }
  let route = mine.get(url.protocol)
  if (!route) {
    const proxy = proxyFor(kc.getCurrentCluster()?.proxyUrl, url)
    route = proxy
      ? { agent: proxyAgent(proxy, url), proxy }
      : {
          agent:
            url.protocol === 'http:'
              ? new http.Agent({ keepAlive: true })
              : new https.Agent({ keepAlive: true })
        }
    mine.set(url.protocol, route)
  }
  return route
}

/** Leading and trailing HTTP whitespace, which fetch strips from header values. */
const TRIM = /^[\t\n\r ]+|[\t\n\r ]+$/g

/** Node joins repeated headers itself, except set-cookie; undici joins all. */
function headersOf(response: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
  }
  return headers
}

/**
 * One request as client-node's fetch library would send it, authenticated
 * and secured by `kc`; resolves with the whole response body read, rejects
 * with Node's socket or TLS error (its `code` says which) or, when `signal`
 * fires, its reason: a server that accepts the connection and never
 * answers must not keep the socket (and so the process) alive.
 */
export async function send(
  kc: KubeConfig,
  request: RequestContext,
  signal: AbortSignal
): Promise<ResponseContext> {
  const url = new URL(request.getUrl())
  const options: https.RequestOptions = {}
  watchPluginExits(kc)
  try {
    await kc.applyToHTTPSOptions(options)
  } catch (error) {
    // An exec plugin or auth provider failed: say so, not "unreachable".
    throw credentialFailure(kc, error)
  }
  // Not client-node's agent (options.agent): see routeFor and proxyAgent.
  const { agent, proxy } = routeFor(kc, url)
  const body = request.getBody()
  if (body !== undefined && typeof body !== 'string') {
    throw new Error('https-transport sends JSON text bodies only')
  }
  const headers: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries({
    ...request.getHeaders(),
    // The KubeConfig's credential wins over anything set before; client-node
    // fills headers as an object, never the raw array form.
    ...(options.headers as Record<string, string | number | undefined>)
  })) {
    // As fetch does: a token file read with its final newline still works.
    if (value !== undefined) headers[name] = String(value).replace(TRIM, '')
  }
  if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body)
  const client = url.protocol === 'http:' ? http : https
  // socks-proxy-agent drops the host when it starts TLS through its tunnel,
  // and Node would then check the certificate against 'localhost': check it
  // against the name Node checks on a direct connection (tls-server-name,
  // else the server's host). Only there: Node stops reusing connections
  // whose requests bring their own check.
  const expected = options.servername ?? url.hostname.replace(/^\[|\]$/g, '')
  const identity: https.RequestOptions = proxy?.startsWith('socks')
    ? {
        checkServerIdentity: (_host, certificate) =>
          tls.checkServerIdentity(expected, certificate)
      }
    : {}
  let stopListening = (): void => undefined
  const response = await new Promise<http.IncomingMessage>(
    (resolve, reject) => {
      const outgoing = client.request(url, {
        ...options,
        method: request.getHttpMethod(),
        headers,
        agent,
        signal,
        ...identity
      })
      // Node's own abort handling stays silent for a request still waiting
      // for a proxy tunnel; this settles it either way.
      const abort = (): void => {
        outgoing.destroy()
        reject(signal.reason as Error)
      }
      signal.addEventListener('abort', abort, { once: true })
      stopListening = (): void => {
        signal.removeEventListener('abort', abort)
      }
      outgoing.once('response', resolve)
      outgoing.on('error', reject)
      outgoing.end(body)
    }
  ).finally(() => {
    stopListening()
  })
  const data = await buffer(response)
  return new ResponseContext(response.statusCode ?? 0, headersOf(response), {
    text: () => Promise.resolve(data.toString('utf8')),
    binary: () => Promise.resolve(data),
    stream: () => null
  })
}
