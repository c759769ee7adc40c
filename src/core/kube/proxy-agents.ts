import type * as http from 'node:http'
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent'
import { SocksProxyAgent } from 'socks-proxy-agent'
import { host } from '../ports.js'

/** How long a proxy may take to open a tunnel (client-go dials for 30 s). */
const PROXY_TUNNEL_MS = 30_000

/**
 * The proxy the calls to `server` go through: the kubeconfig's proxy-url,
 * else the host's HTTPS_PROXY (HTTP_PROXY for http://) unless NO_PROXY
 * names the host or it is a loopback address (Host.proxyFor: for the action,
 * the rules its GitHub calls follow); kubectl, too, follows these variables
 * when the kubeconfig names no proxy.
 */
export function proxyFor(
  proxyUrl: string | undefined,
  server: URL
): string | undefined {
  return proxyUrl || host().proxyFor(server)
}

/**
 * The agent for a cluster behind a proxy, of the kind client-node's
 * createAgent picks (hpagent for an HTTP(S) proxy, socks-proxy-agent for
 * socks*://), with two differences. It holds no TLS options, so each
 * request's CA, certificate and key apply (Node pools sockets by them;
 * client-node's agent keeps the first ones it saw). And opening the tunnel
 * is bounded: client-node's hpagent waits for ever on a proxy that accepts
 * the connection and never answers, which keeps the step alive. A tunnel
 * per request, as client-node's own agents make.
 */
export function proxyAgent(proxyUrl: string, server: URL): http.Agent {
  if (proxyUrl.startsWith('socks')) {
    return new SocksProxyAgent(proxyUrl, { timeout: PROXY_TUNNEL_MS })
  }
  // No keep-alive: an idle TLS connection inside a tunnel is not unref'd by
  // Node's agent, so it would keep the step alive until the server closes it.
  const options = { proxy: proxyUrl, timeout: PROXY_TUNNEL_MS }
  return server.protocol === 'https:'
    ? new HttpsProxyAgent(options)
    : new HttpProxyAgent(options)
}
