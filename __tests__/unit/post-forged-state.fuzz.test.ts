// Property test (fast-check, mocked cluster): whatever record reaches post
// through STATE_run, post deletes no Secret and no directory that a genuine
// record of this job could not name (R1). The record's fields are drawn from
// genuine values, planted values aimed at victims, and arbitrary JSON.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import fc from 'fast-check'
import type { KubeConfig } from '@kubernetes/client-node'
import type { ClusterApi } from '../../src/core/kube/cluster-api.js'
import { isPerRunSecretName } from '../../src/core/token/per-run-secret.js'
import { OWN_DIR } from '../../src/core/names.js'
import {
  SECRET_UID,
  fakeClusterApi,
  type FakeClusterApi
} from '../../__fixtures__/fake-cluster-api.js'
import { TestRunner } from '../../__fixtures__/runner.js'
import { SERVER, bootstrapKubeconfig } from '../../__fixtures__/tokens.js'

const connect = jest.fn<(kc: KubeConfig) => ClusterApi>()
jest.unstable_mockModule('../../src/core/kube/cluster-api.js', () => ({
  connect
}))
const { run } = await import('../../src/action/post.js')

const NS = 'scans'
const SECRET = 'ephemeral-scan-token-4242-1-0123456789'

let runner: TestRunner
let api: FakeClusterApi
let victims: string[]

beforeAll(() => {
  runner = new TestRunner()
  victims = ['workspace', 'home/.ssh', 'temp/not-ours'].map((v) =>
    path.join(runner.root, v)
  )
  // A victim inside RUNNER_TEMP with a name of the action's pattern, but a
  // link to a directory outside it.
  victims.push(path.join(runner.root, 'linked-victim'))
})

afterAll(() => {
  runner.restore()
})

describe('post.ts with arbitrary saved records (unit, property)', () => {
  it('never deletes a Secret or a directory a genuine record could not name', async () => {
    const linkName = path.join(
      runner.temp,
      'ephemeral-scan-token-ffffffffffffffffffffffff'
    )
    const ownDir = path.join(
      runner.temp,
      'ephemeral-scan-token-00112233445566778899aabb'
    )
    const dirs = fc.constantFrom(
      ownDir,
      linkName,
      ...victims,
      path.join(runner.temp, '..'),
      `${ownDir}/..`,
      runner.temp,
      '/'
    )
    const names = fc.constantFrom(
      SECRET,
      '..',
      '.',
      '',
      'database-credentials',
      'ephemeral-scan-token-999-1-0123456789',
      `${SECRET}/..`,
      `${SECRET};rm -rf /`
    )
    const anchor = fc.oneof(
      fc.record(
        {
          namespace: fc.constantFrom(NS, 'prod', '..', ''),
          name: names,
          uid: fc.constantFrom(SECRET_UID, 'x'),
          created: fc.boolean()
        },
        { requiredKeys: ['namespace', 'name'] }
      ),
      fc.jsonValue()
    )
    const bootstrap = fc.oneof(
      fc.constant({ source: { kind: 'input' }, context: '', server: SERVER }),
      fc.record({
        source: fc.oneof(
          fc.constant({ kind: 'input' }),
          fc.constant({ kind: 'in-cluster' }),
          fc.record({
            kind: fc.constant('files'),
            paths: fc.array(fc.string())
          }),
          fc.constant({ kind: 'oidc', audience: 'x' })
        ),
        context: fc.string(),
        server: fc.constantFrom(SERVER, 'http://127.0.0.1:1', 'https://evil')
      }),
      fc.jsonValue()
    )
    const record = fc.record(
      {
        bootstrap,
        anchor,
        kubeconfigDir: fc.oneof(dirs, fc.jsonValue()),
        kubeconfigPath: fc.oneof(
          fc.constant(path.join(ownDir, 'kubeconfig')),
          fc.constant('/etc/passwd'),
          fc.jsonValue()
        ),
        previousKubeconfig: fc.oneof(fc.constant(null), fc.string()),
        grantedSeconds: fc.oneof(fc.nat(), fc.jsonValue())
      },
      { requiredKeys: [] }
    )

    await fc.assert(
      fc.asyncProperty(record, async (state) => {
        for (const victim of victims.slice(0, 3)) {
          fs.mkdirSync(victim, { recursive: true })
          fs.writeFileSync(path.join(victim, 'precious'), 'x')
        }
        const linked = victims[3] ?? ''
        fs.mkdirSync(linked, { recursive: true })
        fs.writeFileSync(path.join(linked, 'precious'), 'x')
        fs.rmSync(linkName, { force: true, recursive: true })
        fs.symlinkSync(linked, linkName)
        fs.mkdirSync(ownDir, { recursive: true })

        runner.newStep()
        runner.setInputs({
          kubeconfig: bootstrapKubeconfig(),
          namespace: NS,
          cleanup: 'true'
        })
        process.env.STATE_run = JSON.stringify(state)
        api = fakeClusterApi()
        connect.mockReset()
        connect.mockReturnValue(api)
        await run()

        for (const [namespace, name] of api.deleteSecret.mock.calls) {
          expect(namespace).toBe(NS)
          expect(isPerRunSecretName(name)).toBe(true)
        }
        for (const victim of victims) {
          expect(fs.existsSync(path.join(victim, 'precious'))).toBe(true)
        }
        expect(fs.existsSync(runner.temp)).toBe(true)
        // The one directory that may go is the action's own.
        for (const entry of fs.readdirSync(runner.temp)) {
          if (!OWN_DIR.test(entry)) continue
          expect([path.basename(ownDir), path.basename(linkName)]).toContain(
            entry
          )
        }
        expect(process.exitCode).toBeUndefined()
      }),
      { numRuns: 300 }
    )
  })
})
