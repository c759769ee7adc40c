/**
 * End-to-end failure paths: each ends with one clear sentence, exit code 1,
 * no kubeconfig left in RUNNER_TEMP and no per-run Secret left in the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
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
import {
  FakeRunner,
  leaksOf,
  maskedValues,
  type StepResult
} from './support/runner.js'

const admin = adminKubeConfig()
let setup: ScanSetup
let noMint: ScanSetup
const newRunner = useRunners()

beforeAll(async () => {
  // The minter may mint for 'no-such-sa', so the API server answers 404, not 403.
  setup = await createScanSetup(admin, { alsoMintable: ['no-such-sa'] })
  noMint = await createScanSetup(admin, { minterCanMint: false })
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
  await deleteNamespace(admin, noMint.namespace)
})

async function runMain(
  s: ScanSetup,
  inputs: Record<string, string>
): Promise<{ main: StepResult; runner: FakeRunner }> {
  const runner = newRunner()
  const main = await runner.main({
    'service-account': s.scanner,
    namespace: s.namespace,
    duration: '15m',
    kubeconfig: s.bootstrapKubeconfig,
    ...inputs
  })
  return { main, runner }
}

/** The shared promises of every failure: one error sentence, exit 1, nothing left behind. */
async function expectCleanFailure(
  s: ScanSetup,
  main: StepResult,
  runner: FakeRunner,
  pattern: RegExp
): Promise<string> {
  expect(main.code).toBe(1)
  const errors = main.stdout
    .split('\n')
    .filter((line) => line.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  const message = (errors[0] ?? '').slice('::error::'.length)
  expect(message).toMatch(pattern)
  expect(message).not.toMatch(/HTTP-Code|Headers:|\n|%0A|at .*\.js:\d+/)
  expect(fs.readdirSync(runner.temp)).toEqual([])
  expect(main.outputs.kubeconfig).toBeUndefined()
  expect(await anchorsIn(admin, s.namespace)).toEqual([])
  expect(leaksOf(s.minterToken, main.everything)).toEqual([])
  for (const secret of maskedValues(main.stdout)) {
    expect(leaksOf(secret, main.everything)).toEqual([])
  }
  // Post after a failed main has nothing left to do and does not warn.
  const post = await runner.post(runner.mainInputs ?? {})
  expect(post.code).toBe(0)
  expect(post.stdout).not.toContain('::warning::')
  return message
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0)
      })
    })
  })
}

function withCluster(
  kubeconfig: string,
  change: (cluster: Record<string, string>) => void
): string {
  const doc = yaml.load(kubeconfig) as {
    clusters: { cluster: Record<string, string> }[]
  }
  const first = doc.clusters[0]
  if (first) change(first.cluster)
  return yaml.dump(doc)
}

describe('failures against the real API server', () => {
  it('names the missing ServiceAccount and removes the per-run Secret it had created', async () => {
    const { main, runner } = await runMain(setup, {
      'service-account': 'no-such-sa'
    })
    const message = await expectCleanFailure(
      setup,
      main,
      runner,
      /ServiceAccount 'no-such-sa' was not found/
    )
    expect(message).toContain(setup.namespace)
    // The Secret existed for a moment: the rollback line says it was deleted.
    expect(main.stdout).toContain(
      'Rolled back: Revoked the token: deleted the per-run Secret'
    )
  })

  it('names the verb and resource a bootstrap identity without mint permission lacks', async () => {
    const { main, runner } = await runMain(noMint, {})
    const message = await expectCleanFailure(
      noMint,
      main,
      runner,
      /'create' on 'serviceaccounts\/token'/
    )
    expect(message).toContain(
      `system:serviceaccount:${noMint.namespace}:minter`
    )
    expect(message).toContain(noMint.namespace)
  })

  it('explains a CA that does not match the server', async () => {
    // A valid CA certificate that did not sign the API server's certificate.
    const wrongCa = fs
      .readFileSync(new URL('./support/wrong-ca.pem', import.meta.url))
      .toString('base64')
    const kubeconfig = withCluster(setup.bootstrapKubeconfig, (c) => {
      c['certificate-authority-data'] = wrongCa
    })
    const { main, runner } = await runMain(setup, { kubeconfig })
    await expectCleanFailure(
      setup,
      main,
      runner,
      /TLS certificate that could not be verified/
    )
  })

  it('explains a server that is down, naming its URL', async () => {
    const port = await freePort()
    const kubeconfig = withCluster(setup.bootstrapKubeconfig, (c) => {
      c.server = `https://127.0.0.1:${port}`
    })
    const { main, runner } = await runMain(setup, { kubeconfig })
    const message = await expectCleanFailure(
      setup,
      main,
      runner,
      /Could not reach the API server/
    )
    expect(message).toContain(`https://127.0.0.1:${port}`)
  })

  it('refuses a bad input before any network call', async () => {
    // The bootstrap points at a loopback listener that only counts
    // connections: a call made before the inputs were checked would show.
    let connections = 0
    const listener = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) =>
      listener.listen(0, '127.0.0.1', resolve)
    )
    const address = listener.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const kubeconfig = withCluster(setup.bootstrapKubeconfig, (c) => {
      c.server = `https://127.0.0.1:${port}`
    })
    try {
      const { main, runner } = await runMain(setup, {
        duration: '10x',
        kubeconfig
      })
      await expectCleanFailure(setup, main, runner, /Input 'duration' is '10x'/)
      expect(connections).toBe(0)
    } finally {
      await new Promise((resolve) => listener.close(resolve))
    }
  })
})
