// Review finding 1, post's side (mocked cluster API and a report that
// throws): whatever reading the record does, post still revokes.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, expect, it, jest } from '@jest/globals'
import type { KubeConfig } from '@kubernetes/client-node'
import type { ClusterApi } from '../../src/core/kube/cluster-api.js'
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
const mintReport = jest.fn<(dir: string) => string[]>()
jest.unstable_mockModule('../../src/core/renewal/report.js', () => ({
  mintReport
}))

const { run } = await import('../../src/action/post.js')

const NS = 'scans'
const SECRET = 'ephemeral-scan-token-4242-1-0123456789'
let runner: TestRunner
let api: FakeClusterApi
let dir: string

beforeEach(() => {
  runner = new TestRunner()
  runner.setInputs({
    kubeconfig: bootstrapKubeconfig(),
    namespace: NS,
    cleanup: 'true'
  })
  dir = path.join(runner.temp, 'ephemeral-scan-token-00112233445566778899aabb')
  fs.mkdirSync(dir, { mode: 0o700 })
  fs.writeFileSync(path.join(dir, 'kubeconfig'), 'users: []\n', {
    mode: 0o600
  })
  api = fakeClusterApi()
  connect.mockReturnValue(api)
})

afterEach(() => {
  runner.restore()
})

it('revokes and removes the directory even when reading the record throws', async () => {
  mintReport.mockImplementation(() => {
    throw new RangeError('Invalid time value')
  })
  process.env.STATE_run = JSON.stringify({
    bootstrap: { source: { kind: 'input' }, context: '', server: SERVER },
    anchor: { namespace: NS, name: SECRET, uid: SECRET_UID, created: true },
    mintedAt: new Date(Date.now() - 60_000)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    expiration: '2099-01-01T00:00:00Z',
    kubeconfigDir: dir,
    kubeconfigPath: path.join(dir, 'kubeconfig'),
    renewEvery: 600
  })
  await run()
  expect(mintReport).toHaveBeenCalledWith(dir)
  expect(api.deleteSecret).toHaveBeenCalledWith(NS, SECRET, SECRET_UID)
  expect(fs.existsSync(dir)).toBe(false)
  expect(runner.commands('warning')).toEqual([])
})
