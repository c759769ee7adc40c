/**
 * The proxy for `url` by the conventions curl, kubectl and Node's own
 * NODE_USE_ENV_PROXY follow: HTTPS_PROXY (or HTTP_PROXY for http://), in
 * upper or lower case, unless NO_PROXY names the host, a parent domain of
 * it, or '*'; loopback addresses never go through a proxy. For hosts that
 * have no runner toolkit to ask (the credential helper, the CLI).
 */
export function envProxyFor(
  url: URL,
  env: NodeJS.ProcessEnv = process.env
): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) return undefined
  const pick = (name: string): string | undefined =>
    env[name.toUpperCase()] || env[name.toLowerCase()] || undefined
  const proxy =
    url.protocol === 'https:' ? pick('https_proxy') : pick('http_proxy')
  if (!proxy) return undefined
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  for (const raw of (pick('no_proxy') ?? '').split(',')) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return undefined
    const [name = '', entryPort] = entry.split(':')
    if (entryPort && entryPort !== port) continue
    const domain = name.replace(/^\*?\./, '')
    if (host === domain || host.endsWith(`.${domain}`)) return undefined
  }
  return proxy
}
