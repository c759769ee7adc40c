/**
 * End-to-end: the bundle keeps client-node's other ways to reach and log in
 * to a cluster. dist/ is tree-shaken (scripts/package.mjs), so these prove
 * that an exec credential plugin and a proxy-url (HTTP CONNECT and SOCKS5,
 * whose modules the bundle loads on first use) still work in the bundle,
 * against the real kube-apiserver.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
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
let dir: string
const newRunner = useRunners()

interface KubeconfigDoc {
  clusters: { cluster: Record<string, string> }[]
  users: { name: string; user: Record<string, unknown> }[]
}

/** The setup's bootstrap kubeconfig, changed by `edit`. */
function bootstrapWith(edit: (doc: KubeconfigDoc) => void): string {
  const doc = yaml.load(setup.bootstrapKubeconfig) as KubeconfigDoc
  edit(doc)
  return yaml.dump(doc)
}

function inputs(kubeconfig: string): Record<string, string> {
  return {
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '15m',
    kubeconfig
  }
}

beforeAll(async () => {
  setup = await createScanSetup(admin)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-auth-'))
})

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true })
  await deleteNamespace(admin, setup.namespace)
})

/**
 * Runs main and post with every cluster's proxy-url set to `proxyUrl` and
 * checks that all calls went through it (`seen`: where the proxy connected,
 * appended to as it goes) and that post says it revoked the token.
 */
async function runThrough(
  runner: ReturnType<typeof newRunner>,
  proxyUrl: string,
  seen: string[],
  mainConnections: number
): Promise<void> {
  const kubeconfig = bootstrapWith((doc) => {
    for (const entry of doc.clusters) entry.cluster['proxy-url'] = proxyUrl
  })
  const server = new URL(setup.server).host
  const main = await runner.main(inputs(kubeconfig))
  expect(main.stdout).not.toContain('::error::')
  expect(main.code).toBe(0)
  expect(seen.length).toBeGreaterThanOrEqual(mainConnections)
  expect(new Set(seen)).toEqual(new Set([server]))

  const before = seen.length
  const post = await runner.post(inputs(kubeconfig))
  expect(post.code).toBe(0)
  expect(post.stdout).toContain('Revoked the token')
  expect(seen.length).toBeGreaterThan(before)
}

describe('client-node paths the bundle keeps', () => {
  it('logs in through an exec credential plugin', async () => {
    // The plugin reads the minter's token from a file, so it is never in argv.
    const tokenFile = path.join(dir, 'minter-token')
    fs.writeFileSync(tokenFile, setup.minterToken, { mode: 0o600 })
    const calls = path.join(dir, 'plugin-calls')
    const plugin = path.join(dir, 'credential-plugin.mjs')
    fs.writeFileSync(
      plugin,
      [
        "import fs from 'node:fs'",
        "fs.appendFileSync(process.argv[3], 'called\\n')",
        'process.stdout.write(JSON.stringify({',
        "  apiVersion: 'client.authentication.k8s.io/v1',",
        "  kind: 'ExecCredential',",
        "  status: { token: fs.readFileSync(process.argv[2], 'utf8') }",
        '}))'
      ].join('\n')
    )
    const kubeconfig = bootstrapWith((doc) => {
      for (const entry of doc.users) {
        entry.user = {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: [plugin, tokenFile, calls],
            interactiveMode: 'Never'
          }
        }
      }
    })

    const runner = newRunner()
    const main = await runner.main(inputs(kubeconfig))
    expect(main.stderr).toBe('')
    expect(main.code).toBe(0)
    expect(main.stdout).toContain(
      `Minted a token for system:serviceaccount:${setup.namespace}:scanner`
    )
    expect(fs.readFileSync(calls, 'utf8')).toMatch(/called/)
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)

    const post = await runner.post(inputs(kubeconfig))
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(0)
  })

  it('reaches the API server through the kubeconfig’s proxy-url', async () => {
    // A loopback CONNECT proxy that records where each tunnel goes.
    const tunnels: string[] = []
    const sockets: net.Socket[] = []
    const proxy = http.createServer((_req, res) => res.writeHead(405).end())
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
      tunnels.push(req.url ?? '')
      const [host, port] = (req.url ?? '').split(':')
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.pipe(client)
        client.pipe(upstream)
      })
      sockets.push(client, upstream)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as net.AddressInfo
    try {
      // Secret, TokenRequest and the checks as the token (whose kubeconfig
      // keeps the proxy-url): a tunnel for each.
      await runThrough(newRunner(), `http://127.0.0.1:${port}`, tunnels, 3)
      expect(await anchorsIn(admin, setup.namespace)).toHaveLength(0)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  it('reaches the API server through a socks5:// proxy-url', async () => {
    // A loopback SOCKS5 proxy (no authentication, CONNECT only) that records
    // where each connection goes.
    const targets: string[] = []
    const sockets: net.Socket[] = []
    const proxy = net.createServer((client) => {
      sockets.push(client)
      client.on('error', () => client.destroy())
      let buffered = Buffer.alloc(0)
      let greeted = false
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk])
        if (!greeted) {
          // VER NMETHODS METHODS...: answer "no authentication".
          if (buffered.length < 2 || buffered.length < 2 + buffered[1]!) return
          buffered = buffered.subarray(2 + buffered[1]!)
          client.write(Buffer.from([5, 0]))
          greeted = true
        }
        // VER CMD RSV ATYP ADDR PORT, with ATYP 1 (IPv4) or 3 (a name).
        if (buffered.length < 5) return
        const type = buffered[3]
        const addressLength = type === 1 ? 4 : 1 + buffered[4]!
        if (buffered.length < 4 + addressLength + 2) return
        const host =
          type === 1
            ? [...buffered.subarray(4, 8)].join('.')
            : buffered.subarray(5, 5 + buffered[4]!).toString()
        const port = buffered.readUInt16BE(4 + addressLength)
        client.off('data', onData)
        targets.push(`${host}:${port}`)
        const upstream = net.connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
          upstream.pipe(client)
          client.pipe(upstream)
        })
        sockets.push(upstream)
        upstream.on('error', () => client.destroy())
      }
      client.on('data', onData)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as net.AddressInfo
    try {
      await runThrough(newRunner(), `socks5://127.0.0.1:${port}`, targets, 1)
      expect(await anchorsIn(admin, setup.namespace)).toHaveLength(0)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })
})
