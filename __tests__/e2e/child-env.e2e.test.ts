/**
 * End-to-end: an exec credential plugin (as EKS, GKE and kubelogin use) runs
 * as a child of the action and inherits its environment. The runner hands
 * the action its credentials in that environment (INPUT_KUBECONFIG,
 * INPUT_GITHUB-TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN); none may reach the
 * child, in main or in post.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
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
const newRunner = useRunners()
const GITHUB_TOKEN = 'ghs_childEnvGitHubTokenMustNotReachPlugins01'
const REQUEST_TOKEN = 'idtoken-request-token-must-not-reach-plugins'

/** A bootstrap kubeconfig whose credential comes from a real exec plugin that records its environment. */
function execKubeconfig(dumpDir: string): string {
  const cluster = admin.getCurrentCluster()
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { token: setup.minterToken }
  })
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'e2e',
        cluster: {
          server: cluster?.server,
          'certificate-authority-data': cluster?.caData
        }
      }
    ],
    users: [
      {
        name: 'plugin',
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: '/bin/sh',
            args: [
              '-c',
              `env > "${dumpDir}/env-$$"; printf '%s' '${credential}'`
            ],
            interactiveMode: 'Never'
          }
        }
      }
    ],
    contexts: [
      {
        name: 'plugin',
        context: { cluster: 'e2e', user: 'plugin', namespace: setup.namespace }
      }
    ],
    'current-context': 'plugin'
  })
}

beforeAll(async () => {
  setup = await createScanSetup(admin)
})

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
})

describe('credentials in the environment of child processes', () => {
  it('keeps the runner-given credentials out of an exec plugin’s environment, in main and post', async () => {
    const dumpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-child-env-'))
    const kubeconfig = execKubeconfig(dumpDir)
    const inputs = {
      'service-account': setup.scanner,
      namespace: setup.namespace,
      duration: '15m',
      kubeconfig,
      'github-token': GITHUB_TOKEN
    }
    const secretEnv = { ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN }
    const runner = newRunner()
    const main = await runner.main(inputs, secretEnv)
    expect(main.code).toBe(0)
    const post = await runner.post(inputs, secretEnv)
    expect(post.stdout).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])

    const dumps = fs.readdirSync(dumpDir)
    // The plugin really ran, in main (create Secret, TokenRequest) and post (delete).
    expect(dumps.length).toBeGreaterThanOrEqual(2)
    const seen = dumps
      .map((f) => fs.readFileSync(path.join(dumpDir, f), 'utf8'))
      .join('\n')
    expect(seen).toContain('RUNNER_TEMP=') // it did inherit the rest
    expect(seen).not.toContain('INPUT_KUBECONFIG')
    expect(seen).not.toContain('INPUT_GITHUB-TOKEN')
    expect(seen).not.toContain(GITHUB_TOKEN)
    expect(seen).not.toContain(REQUEST_TOKEN)
    expect(seen).not.toContain(setup.minterToken.slice(0, 20))
    fs.rmSync(dumpDir, { recursive: true, force: true })
  })
})
