import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as https from 'node:https'
import * as net from 'node:net'
import {
  PROXY_TUNNEL_MS,
  proxyAgent,
  proxyFor
} from '../../../../src/core/kube/proxy-agents.js'

const VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy'
]
let saved: Record<string, string | undefined>

beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]))
  for (const name of VARIABLES) Reflect.deleteProperty(process.env, name)
})

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) Reflect.deleteProperty(process.env, name)
    else process.env[name] = value
  }
})

const REMOTE = new URL('https://api.cluster.example:6443')

describe('proxy-agents.ts proxyFor (unit, environment set by the test)', () => {
  it('goes direct when neither the kubeconfig nor the runner names a proxy', () => {
    expect(proxyFor(undefined, REMOTE)).toBeUndefined()
  })

  it('takes the runner’s HTTPS_PROXY for an https server, as kubectl would', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    expect(proxyFor(undefined, REMOTE)).toBe('http://proxy.corp:3128/')
    process.env.HTTP_PROXY = 'http://other:80'
    expect(proxyFor(undefined, REMOTE)).toBe('http://proxy.corp:3128/')
  })

  it('prefers the kubeconfig’s proxy-url to the environment', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    expect(proxyFor('socks5://jump:1080', REMOTE)).toBe('socks5://jump:1080')
  })

  it('goes direct to hosts NO_PROXY names, by name, suffix or port', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    for (const noProxy of [
      'api.cluster.example',
      '.cluster.example',
      'cluster.example',
      'api.cluster.example:6443',
      'other.example, API.CLUSTER.EXAMPLE',
      '*'
    ]) {
      process.env.NO_PROXY = noProxy
      expect(proxyFor(undefined, REMOTE)).toBeUndefined()
    }
    process.env.NO_PROXY = 'other.example,api.cluster.example:443'
    expect(proxyFor(undefined, REMOTE)).toBe('http://proxy.corp:3128/')
  })

  it('never sends loopback calls to the proxy', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    for (const server of [
      'https://127.0.0.1:6443',
      'https://localhost:6443',
      'https://[::1]:6443'
    ]) {
      expect(proxyFor(undefined, new URL(server))).toBeUndefined()
    }
  })
})

describe('proxy-agents.ts proxyAgent (unit, loopback proxy that trickles)', () => {
  it('ends a CONNECT the proxy answers one byte at a time, PROXY_TUNNEL_MS after it started (review F3)', async () => {
    const sockets: net.Socket[] = []
    let closed = 0
    const proxy = net.createServer((socket) => {
      sockets.push(socket)
      socket.on('close', () => (closed += 1))
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 Connection established\r\nX-Pad: ')
        const drip = setInterval(() => socket.write('a'), 500)
        socket.on('close', () => {
          clearInterval(drip)
        })
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as net.AddressInfo
    const server = new URL('https://203.0.113.9:6443/version')
    const agent = proxyAgent(`http://127.0.0.1:${port}`, server)
    const started = Date.now()
    try {
      const error = await new Promise<Error>((resolve) => {
        https
          .get(server, { agent }, () => {
            resolve(new Error('answered'))
          })
          .on('error', resolve)
      })
      expect(error.message).not.toBe('answered')
      const seconds = (Date.now() - started) / 1000
      // A bound: hpagent's idle timeout alone never fired on this proxy.
      expect(seconds).toBeGreaterThanOrEqual(PROXY_TUNNEL_MS / 1000 - 0.5)
      expect(seconds).toBeLessThan(PROXY_TUNNEL_MS / 1000 + 5)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(closed).toBe(sockets.length)
    } finally {
      for (const socket of sockets) socket.destroy()
      proxy.close()
    }
  }, 30_000)
})
