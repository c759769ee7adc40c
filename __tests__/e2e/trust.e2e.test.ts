/**
 * End-to-end (R2, R4): the shipped bundle refuses to send a credential in
 * cleartext, and a silent ID-token endpoint cannot hold main past its
 * deadline. Loopback listeners record every connection they get.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as net from 'node:net'
import * as yaml from 'js-yaml'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  type ScanSetup
} from './support/cluster.js'
import { useRunners } from './support/hooks.js'

const admin = adminKubeConfig()
let setup: ScanSetup
const newRunner = useRunners()

/** A TCP listener that accepts, records and never answers. */
async function listener(): Promise<{
  port: number
  connections: () => number
  close: () => void
}> {
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => sockets.length,
    close: (): void => {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  }
}

beforeAll(async () => {
  setup = await createScanSetup(admin)
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
})

describe('credentials only over TLS (R2, real cluster)', () => {
  it('refuses an http:// server behind a proxy-url before any connection, naming only the scheme', async () => {
    const server = await listener()
    const proxy = await listener()
    try {
      const doc = yaml.load(setup.bootstrapKubeconfig) as {
        clusters: { cluster: Record<string, unknown> }[]
      }
      const cluster = doc.clusters[0]?.cluster ?? {}
      cluster.server = `http://127.0.0.1:${server.port}`
      cluster['proxy-url'] = `http://127.0.0.1:${proxy.port}`
      const runner = newRunner()
      const main = await runner.main({
        'service-account': setup.scanner,
        namespace: setup.namespace,
        duration: '20m',
        kubeconfig: yaml.dump(doc)
      })
      expect(main.code).toBe(1)
      expect(main.stdout).toContain(
        "::error::The server of the cluster in use in the 'kubeconfig' input is not an https:// URL (its scheme is 'http'), and this action sends credentials only over TLS"
      )
      expect(main.stdout).not.toContain(`127.0.0.1:${server.port}`)
      expect(server.connections()).toBe(0)
      expect(proxy.connections()).toBe(0)
      expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    } finally {
      server.close()
      proxy.close()
    }
  })
})

describe('a silent ID-token endpoint (R4, real cluster as the target)', () => {
  it('ends main within its deadline with one sentence, and makes nothing', async () => {
    const silent = await listener()
    try {
      const cluster = admin.getCurrentCluster()
      const runner = newRunner({
        ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${silent.port}/idtoken?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-e2e-0123'
      })
      const started = Date.now()
      const main = await runner.main({
        'service-account': setup.scanner,
        namespace: setup.namespace,
        duration: '20m',
        'oidc-audience': 'k8s-e2e',
        server: cluster?.server ?? '',
        'certificate-authority-data': cluster?.caData ?? ''
      })
      const seconds = (Date.now() - started) / 1000
      expect(main.code).toBe(1)
      expect(main.stdout).toMatch(
        /::error::Fetching the job's GitHub ID token for audience 'k8s-e2e' failed before an answer arrived \(no answer within 10 s, tried \d times over \d+ s\)/
      )
      expect(main.everything).not.toContain('request-token-e2e-0123')
      // A bound, not a speed: 4 attempts of 10 s within 30 s, inside the
      // README's 90 s for main (@actions/core's client waited for ever).
      expect(seconds).toBeLessThan(75)
      expect(silent.connections()).toBeGreaterThanOrEqual(2)
      expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    } finally {
      silent.close()
    }
  }, 120_000)
})
