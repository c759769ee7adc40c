/**
 * A second real API server, started with a cluster-wide token maximum, to
 * show that a shortened lifetime is reported and warned about.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  adminKubeConfig,
  createScanSetup,
  REPO,
  type ScanSetup
} from './support/cluster.js'
import { FakeRunner } from './support/runner.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-maxexp-'))
const clusterEnv = {
  ...process.env,
  CLUSTER_DIR: dir,
  CLUSTER_EXTRA_ARGS: '--service-account-max-token-expiration=1h'
}
let setup: ScanSetup
let runner: FakeRunner

beforeAll(async () => {
  const up = spawnSync(
    process.execPath,
    [path.join(REPO, 'scripts', 'cluster.mjs'), 'up'],
    {
      env: clusterEnv,
      cwd: REPO,
      stdio: 'inherit'
    }
  )
  if (up.status !== 0) throw new Error('could not start the second API server')
  setup = await createScanSetup(adminKubeConfig(dir))
  runner = new FakeRunner()
}, 240_000)

afterAll(() => {
  runner.cleanup()
  spawnSync(
    process.execPath,
    [path.join(REPO, 'scripts', 'cluster.mjs'), 'down'],
    {
      env: clusterEnv,
      cwd: REPO,
      stdio: 'inherit'
    }
  )
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('a cluster with --service-account-max-token-expiration=1h', () => {
  it('reports the shortened lifetime and warns that it differs from the request', async () => {
    const main = await runner.main({
      'service-account': setup.scanner,
      namespace: setup.namespace,
      duration: '2h',
      'max-duration': '3h',
      kubeconfig: setup.bootstrapKubeconfig
    })
    expect(main.code).toBe(0)
    expect(main.outputs['expires-in']).toBe('3600')
    const expiration = Date.parse(main.outputs.expiration ?? '')
    expect(Math.abs(expiration - (Date.now() + 3600_000))).toBeLessThan(10_000)
    const warnings = main.stdout
      .split('\n')
      .filter((line) => line.startsWith('::warning::'))
    expect(warnings.join('\n')).toContain(
      'granted 1h instead of the requested 2h'
    )
    expect(warnings.join('\n')).toContain('shortened to 3600 seconds')
    const post = await runner.post({ kubeconfig: setup.bootstrapKubeconfig })
    expect(post.code).toBe(0)
  })
})
