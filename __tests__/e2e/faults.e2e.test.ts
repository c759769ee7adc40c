/**
 * End-to-end under faults: the bundled action against the real API server
 * through a TLS proxy that injects one transient fault (429 with and without
 * Retry-After, 503, a reset, a stall) into the TokenRequest, the per-run
 * Secret create or an access review; a server that is dead; a TokenRequest
 * that never answers; and a post step that cannot revoke.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  eventually,
  kubectl,
  kubeconfigFor,
  tokenIn,
  type ScanSetup
} from './support/cluster.js'
import { FaultProxy, PATHS, type Fault } from './support/fault-proxy.js'
import { useRunners } from './support/hooks.js'
import { leaksOf, type StepResult } from './support/runner.js'

const admin = adminKubeConfig()
let setup: ScanSetup
let proxy: FaultProxy
const newRunner = useRunners()

beforeAll(async () => {
  setup = await createScanSetup(admin)
  proxy = await FaultProxy.start(admin)
})

afterAll(async () => {
  await proxy.stop()
  await deleteNamespace(admin, setup.namespace)
})

function inputs(
  s: ScanSetup = setup,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'service-account': s.scanner,
    namespace: s.namespace,
    duration: '15m',
    kubeconfig: proxy.kubeconfig(s.bootstrapKubeconfig),
    // One SelfSubjectAccessReview, so there is an access review to disturb.
    'expect-allowed': 'list pods',
    ...extra
  }
}

function lines(step: StepResult, command: string): string[] {
  return step.stdout
    .split('\n')
    .filter((line) => line.startsWith(`::${command}::`))
}

/** The retry lines a step printed (one per retry). */
function retries(step: StepResult): string[] {
  return lines(step, 'debug').filter((line) =>
    / failed \(.*\); retrying in /.test(line)
  )
}

const FAULTS: [string, Fault][] = [
  ['a 429 without Retry-After', { kind: 'status', status: 429 }],
  [
    'a 429 with Retry-After: 1',
    { kind: 'status', status: 429, retryAfter: '1' }
  ],
  ['a 503', { kind: 'status', status: 503 }],
  ['a connection reset', { kind: 'reset' }],
  ['a stall (no answer)', { kind: 'stall' }]
]

const CALLS: [string, 'POST', RegExp, string][] = [
  ['the TokenRequest', 'POST', PATHS.tokenRequest, 'TokenRequest for'],
  ['the per-run Secret create', 'POST', PATHS.secretCreate, 'Creating Secret'],
  // The checks and the excess-privilege probes make many of these.
  ['an access review', 'POST', PATHS.accessReview, 'SelfSubjectAccessReview']
]

const CASES = CALLS.flatMap(([call, method, pattern, named]) =>
  FAULTS.map(
    ([fault, spec]) => [fault, call, method, pattern, named, spec] as const
  )
)

describe('one transient fault on each call is survived', () => {
  it.each(CASES)(
    'survives %s on %s',
    async (_fault, _call, method, pattern, named, fault) => {
      const runner = newRunner()
      proxy.clear()
      proxy.inject({ method, path: pattern, fault, times: 1 })
      const before = proxy.seen.length
      const main = await runner.main(inputs())
      const seen = proxy.seen.slice(before)
      expect(lines(main, 'error')).toEqual([])
      expect(main.code).toBe(0)
      // The fault was hit once, and that call was made again after it.
      const hits = seen.filter((s) => pattern.test(s.path))
      const faulted = hits.findIndex((s) => s.outcome !== 'forwarded')
      expect(faulted).toBeGreaterThanOrEqual(0)
      expect(hits.filter((s) => s.outcome !== 'forwarded')).toHaveLength(1)
      expect(hits.length).toBeGreaterThan(faulted + 1)
      // Exactly one retry line, naming the call, with no credential in it.
      const retried = retries(main)
      expect(retried).toHaveLength(1)
      expect(retried[0]).toContain(named)
      expect(leaksOf(setup.minterToken, main.everything)).toEqual([])
      // The token works, and only one per-run Secret exists.
      const file = main.outputs.kubeconfig ?? ''
      // A run that printed debug lines leaks neither credential in them.
      expect(leaksOf(tokenIn(file), main.everything)).toEqual([])
      expect((await kubectl(file, ['get', 'pods', '-o', 'name'])).code).toBe(0)
      expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)

      const post = await runner.post(runner.mainInputs ?? {})
      expect(post.code).toBe(0)
      expect(lines(post, 'warning')).toEqual([])
      expect(post.stdout).toContain('Revoked the token')
      expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    },
    90_000
  )
})

describe('an ambiguous Secret create', () => {
  it('does not create a second Secret when the first create landed but its answer was lost', async () => {
    const runner = newRunner()
    proxy.clear()
    proxy.inject({
      method: 'POST',
      path: PATHS.secretCreate,
      fault: { kind: 'reset-after-forward' },
      times: 1
    })
    const before = proxy.seen.length
    const main = await runner.main(inputs())
    expect(main.code).toBe(0)
    const creates = proxy.seen
      .slice(before)
      .filter((s) => PATHS.secretCreate.test(s.path))
    // The first create landed (201, answer lost); the retry, same name, got 409.
    expect(creates.map((s) => [s.outcome, s.status])).toEqual([
      ['reset-after-forward', 201],
      ['forwarded', 409]
    ])
    const anchors = await anchorsIn(admin, setup.namespace)
    expect(anchors).toHaveLength(1)
    // The token is bound to that Secret: post deletes it (by the uid the
    // token names) and the token stops working.
    const copy = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), 'est-copy-')),
      'kubeconfig'
    )
    fs.copyFileSync(main.outputs.kubeconfig ?? '', copy)
    const state = JSON.parse(main.state.run ?? '{}') as {
      anchor?: { name?: string; uid?: string; created?: boolean }
    }
    expect(state.anchor?.name).toBe(anchors[0])
    expect(state.anchor?.created).toBe(true)
    expect(state.anchor?.uid).toMatch(/^[0-9a-f-]{36}$/)

    const post = await runner.post(runner.mainInputs ?? {})
    expect(lines(post, 'warning')).toEqual([])
    expect(post.stdout).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    const token = tokenIn(copy)
    const rejected = await eventually(15, async () => {
      const result = await kubectl(copy, ['get', 'pods', '-o', 'name'])
      return result.code !== 0
    })
    expect(rejected).toBe(true)
    expect(token).not.toBe('')
  }, 90_000)
})

describe('bounds', () => {
  it('fails main within 90 s on a server that accepts connections and never answers, with one sentence and no orphan', async () => {
    const runner = newRunner()
    proxy.clear()
    proxy.inject({
      path: PATHS.anything,
      fault: { kind: 'stall' },
      times: Infinity
    })
    const started = Date.now()
    const main = await runner.main(inputs())
    const seconds = (Date.now() - started) / 1000
    proxy.clear()
    expect(main.code).toBe(1)
    expect(seconds).toBeLessThan(90)
    const errors = lines(main, 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^::error::The API server at https:\/\/127\.0\.0\.1:\d+ did not answer within 15 s, tried \d times over \d+ s: check that it is healthy and reachable from this runner, then re-run the job\.$/
    )
    expect(retries(main).length).toBeGreaterThanOrEqual(1)
    // The creates never reached the server; post (server back) finds nothing.
    const post = await runner.post(runner.mainInputs ?? {})
    expect(lines(post, 'warning')).toEqual([])
    expect(post.stdout).toMatch(/does not exist: its create never landed/)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  }, 180_000)

  it('fails main within 90 s on a server that refuses connections', async () => {
    const runner = newRunner()
    const dead = await FaultProxy.start(admin)
    const kubeconfig = dead.kubeconfig(setup.bootstrapKubeconfig)
    await dead.stop()
    const started = Date.now()
    const main = await runner.main(inputs(setup, { kubeconfig }))
    const seconds = (Date.now() - started) / 1000
    expect(main.code).toBe(1)
    expect(seconds).toBeLessThan(90)
    const errors = lines(main, 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^::error::Could not reach the API server at https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\), tried 6 times over \d+ s: /
    )
    expect(retries(main)).toHaveLength(5)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  }, 120_000)

  it('bounds a TokenRequest that never answers and removes the Secret it had created', async () => {
    const runner = newRunner()
    proxy.clear()
    proxy.inject({
      method: 'POST',
      path: PATHS.tokenRequest,
      fault: { kind: 'stall' },
      times: Infinity
    })
    const started = Date.now()
    const main = await runner.main(inputs())
    const seconds = (Date.now() - started) / 1000
    proxy.clear()
    expect(main.code).toBe(1)
    expect(seconds).toBeLessThan(60)
    expect(lines(main, 'error')).toHaveLength(1)
    expect(lines(main, 'error')[0]).toMatch(/did not answer within 15 s, tried/)
    expect(main.stdout).toContain(
      'Rolled back: Revoked the token: deleted the per-run Secret'
    )
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  }, 120_000)
})

describe('a post step that cannot revoke', () => {
  let own: ScanSetup

  beforeAll(async () => {
    own = await createScanSetup(admin)
  })

  afterAll(async () => {
    await deleteNamespace(admin, own.namespace)
  })

  it('names the Secret that remains and a kubectl line that removes exactly it', async () => {
    const runner = newRunner()
    proxy.clear()
    const main = await runner.main(inputs(own))
    expect(main.code).toBe(0)
    const [anchor] = await anchorsIn(admin, own.namespace)
    expect(anchor).toBeDefined()
    // The bootstrap identity is gone by the time post runs.
    await admin.makeApiClient(CoreV1Api).deleteNamespacedServiceAccount({
      name: 'minter',
      namespace: own.namespace
    })
    const authn = admin.makeApiClient(AuthenticationV1Api)
    expect(
      await eventually(15, async () => {
        const review = await authn.createTokenReview({
          body: { spec: { token: own.minterToken } }
        })
        return review.status?.authenticated !== true
      })
    ).toBe(true)

    const post = await runner.post(runner.mainInputs ?? {})
    expect(post.code).toBe(0)
    const warnings = lines(post, 'warning')
    expect(warnings).toHaveLength(1)
    const expiry = JSON.parse(main.state.run ?? '{}') as { expiration?: string }
    expect(warnings[0]).toContain(
      `The per-run Secret ${own.namespace}/${anchor ?? ''} remains, so the ` +
        `token stays valid until ${expiry.expiration ?? ''}: delete it with 'kubectl delete secret -n ${own.namespace} ` +
        `-l app.kubernetes.io/managed-by=ephemeral-scan-token ` +
        `--field-selector metadata.name=${anchor ?? ''}'.`
    )
    expect(await anchorsIn(admin, own.namespace)).toEqual([anchor])

    // The line does what it says, with the real kubectl, and nothing more.
    await admin.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: own.namespace,
      body: {
        metadata: {
          name: 'bystander',
          labels: { 'app.kubernetes.io/managed-by': 'ephemeral-scan-token' }
        }
      }
    })
    const command =
      /delete it with '([^']+)'/.exec(warnings[0] ?? '')?.[1] ?? ''
    const args = command.split(' ').slice(1)
    const adminFile = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), 'est-admin-')),
      'kubeconfig'
    )
    fs.writeFileSync(
      adminFile,
      kubeconfigFor(admin, admin.getCurrentUser()?.token ?? '', own.namespace),
      { mode: 0o600 }
    )
    const result = await kubectl(adminFile, args)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`secret "${anchor ?? ''}" deleted`)
    expect(await anchorsIn(admin, own.namespace)).toEqual(['bystander'])
    await admin
      .makeApiClient(CoreV1Api)
      .deleteNamespacedSecret({ name: 'bystander', namespace: own.namespace })
  }, 120_000)
})
