import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { proxyFor } from '../../../../src/core/kube/proxy-agents.js'

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
