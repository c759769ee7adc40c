import * as http from 'node:http'
import * as https from 'node:https'
import { buffer } from 'node:stream/consumers'
import {
  ResponseContext,
  type KubeConfig,
  type RequestContext
} from '@kubernetes/client-node'

// Sends client-node's requests with Node's own http(s) module instead of
// client-node's undici fetch. Loading undici takes ~0.2 s of CPU in each
// step, more than the rest of the step (a whole `kubectl create token` is
// 0.07 s); node:https is part of Node. The KubeConfig still decides every
// detail of the connection through client-node's applyToHTTPSOptions, which
// its exec/attach WebSockets use: credential headers (token, exec plugin,
// auth provider, impersonation), CA, client certificate and key, TLS server
// name, skip-verify, and for a proxy-url cluster the proxy agent.

/**
 * One kept-alive agent per KubeConfig: one TLS handshake for a step's calls
 * instead of one per call. Node pools sockets by host and TLS options (CA,
 * certificate, key, server name, verification), so a certificate that an
 * exec plugin or a rotated file changes gets its own connection.
 */
const agents = new WeakMap<KubeConfig, http.Agent>()

function keptAlive(kc: KubeConfig, url: URL): http.Agent {
  let agent = agents.get(kc)
  if (!agent) {
    agent =
      url.protocol === 'http:'
        ? new http.Agent({ keepAlive: true })
        : new https.Agent({ keepAlive: true })
    agents.set(kc, agent)
  }
  return agent
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
 * with Node's socket or TLS error (its `code` says which) or the abort.
 */
export async function send(
  kc: KubeConfig,
  request: RequestContext
): Promise<ResponseContext> {
  const url = new URL(request.getUrl())
  const options: https.RequestOptions = {}
  await kc.applyToHTTPSOptions(options)
  // A proxy-url cluster keeps client-node's proxy agent (hpagent or SOCKS).
  const agent = kc.getCurrentCluster()?.proxyUrl
    ? options.agent
    : keptAlive(kc, url)
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
  const signal = request.getSignal() ?? undefined
  const client = url.protocol === 'http:' ? http : https

  const response = await new Promise<http.IncomingMessage>(
    (resolve, reject) => {
      const outgoing = client.request(url, {
        ...options,
        method: request.getHttpMethod(),
        headers,
        agent,
        signal
      })
      outgoing.once('response', resolve)
      outgoing.once('error', reject)
      outgoing.end(body)
    }
  )
  const data = await buffer(response)
  return new ResponseContext(response.statusCode ?? 0, headersOf(response), {
    text: () => Promise.resolve(data.toString('utf8')),
    binary: () => Promise.resolve(data),
    stream: () => null
  })
}
