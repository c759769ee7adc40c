/**
 * End-to-end (R1): STATE_* variables planted the way an earlier step can
 * plant them (through $GITHUB_ENV, which the runner puts in the job's
 * environment before the action's own state) against the shipped bundle
 * and a real kube-apiserver. The minting identity here may delete the
 * victims (an application Secret in its namespace, a Secret and the
 * Namespace itself elsewhere), as the README's minter Role or an admin
 * kubeconfig could: only the action's checks keep them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig
} from '@kubernetes/client-node'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  type ScanSetup
} from './support/cluster.js'
import { useRunners } from './support/hooks.js'
import type { FakeRunner, StepResult } from './support/runner.js'

const admin: KubeConfig = adminKubeConfig()
const core = admin.makeApiClient(CoreV1Api)
let setup: ScanSetup
let victimNs: string
const newRunner = useRunners()

const APP_SECRET = 'database-credentials'

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '20m',
    kubeconfig: setup.bootstrapKubeconfig,
    ...extra
  }
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read()
    return true
  } catch {
    return false
  }
}

/** Every victim is still there. */
async function expectVictimsIntact(victimDir: string): Promise<void> {
  expect(
    await exists(() =>
      core.readNamespacedSecret({ namespace: victimNs, name: APP_SECRET })
    )
  ).toBe(true)
  expect(
    await exists(() =>
      core.readNamespacedSecret({
        namespace: setup.namespace,
        name: APP_SECRET
      })
    )
  ).toBe(true)
  const ns = await core.readNamespace({ name: victimNs })
  expect(ns.status?.phase).toBe('Active')
  expect(fs.existsSync(path.join(victimDir, 'precious'))).toBe(true)
}

/** A workspace-like directory outside RUNNER_TEMP. */
function victimDirOf(runner: FakeRunner): string {
  const dir = path.join(runner.root, 'workspace')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'precious'), 'source code')
  return dir
}

/** What an earlier step writes to $GITHUB_ENV: the review's repro records. */
function planted(
  anchor: { namespace: string; name: string },
  dir: string
): Record<string, string> {
  return {
    STATE_isPost: 'true',
    STATE_run: JSON.stringify({
      bootstrap: { source: { kind: 'input' }, context: '' },
      anchor: { ...anchor, created: true },
      kubeconfigDir: dir
    })
  }
}

function warnings(step: StepResult): string[] {
  return step.stdout.split('\n').filter((l) => l.startsWith('::warning::'))
}

beforeAll(async () => {
  setup = await createScanSetup(admin)
  victimNs = `victim-${randomBytes(4).toString('hex')}`
  await core.createNamespace({ body: { metadata: { name: victimNs } } })
  for (const namespace of [victimNs, setup.namespace]) {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: APP_SECRET }, stringData: { password: 'x' } }
    })
  }
  // The minting identity may delete the victims, so only the action's own
  // checks stand between a planted record and their deletion.
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
  const minter = {
    kind: 'ServiceAccount',
    name: 'minter',
    namespace: setup.namespace
  }
  const role = `est-e2e-deleter-${victimNs}`
  await rbac.createClusterRole({
    body: {
      metadata: { name: role },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets', 'namespaces'],
          verbs: ['delete']
        }
      ]
    }
  })
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: role },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role
      },
      subjects: [minter]
    }
  })
})

afterAll(async () => {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
  const role = `est-e2e-deleter-${victimNs}`
  await rbac.deleteClusterRoleBinding({ name: role }).catch(() => undefined)
  await rbac.deleteClusterRole({ name: role }).catch(() => undefined)
  await deleteNamespace(admin, victimNs)
  await deleteNamespace(admin, setup.namespace)
})

describe('planted saved state (R1, real cluster, shipped bundle)', () => {
  it('main runs main, whatever STATE_isPost and STATE_run an earlier step planted, and post revokes only its own Secret', async () => {
    const probe = newRunner()
    const victimDir = victimDirOf(probe)
    const runner = newRunner(
      planted({ namespace: victimNs, name: APP_SECRET }, victimDir)
    )
    const main = await runner.main(inputs())
    expect(main.code).toBe(0)
    expect(main.outputs.kubeconfig).toMatch(/ephemeral-scan-token-/)
    expect(main.stdout).not.toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)
    await expectVictimsIntact(victimDir)

    const post = await runner.post(inputs())
    expect(post.code).toBe(0)
    expect(warnings(post)).toEqual([])
    expect(post.stdout).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    await expectVictimsIntact(victimDir)
  })

  it('a main that fails on its inputs still saves its own (empty) record, so post ignores the planted one', async () => {
    const probe = newRunner()
    const victimDir = victimDirOf(probe)
    const runner = newRunner(
      planted({ namespace: victimNs, name: APP_SECRET }, victimDir)
    )
    const main = await runner.main(inputs({ duration: '1m' }))
    expect(main.code).toBe(1)
    expect(main.state.run).toBe('{}')
    const post = await runner.post(inputs({ duration: '1m' }))
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('Nothing to clean up')
    await expectVictimsIntact(victimDir)
  })

  it.each([
    [
      'a Secret in another namespace',
      (): { namespace: string; name: string } => ({
        namespace: victimNs,
        name: APP_SECRET
      })
    ],
    [
      "the application's Secret in the input namespace",
      (): { namespace: string; name: string } => ({
        namespace: setup.namespace,
        name: APP_SECRET
      })
    ],
    [
      "the name '..' (the Namespace delete endpoint)",
      (): { namespace: string; name: string } => ({
        namespace: victimNs,
        name: '..'
      })
    ]
  ])(
    'post alone with a planted record naming %s warns once, deletes nothing and echoes nothing planted',
    async (_what, anchor) => {
      const probe = newRunner()
      const victimDir = victimDirOf(probe)
      const runner = newRunner(planted(anchor(), victimDir))
      const post = await runner.post(inputs())
      expect(post.code).toBe(0)
      const warned = warnings(post)
      expect(warned).toHaveLength(1)
      expect(warned[0]).toContain('so post deleted nothing')
      expect(post.stdout).not.toContain(APP_SECRET)
      expect(post.stdout).not.toContain(victimNs)
      expect(post.stdout).not.toContain(victimDir)
      await expectVictimsIntact(victimDir)
    }
  )
})
