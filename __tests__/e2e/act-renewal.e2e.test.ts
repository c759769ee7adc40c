/**
 * renew-every through a real workflow runner (nektos/act, host mode): the
 * action's main step writes the renewing kubeconfig and exports it, and a
 * later `run:` step's kubectl runs the credential helper, which renews
 * against the real kube-apiserver once the first token is due (the
 * helper's clock moved with libfaketime in that step's env). act has no
 * OIDC, so the stand-in ID-token endpoint's variables are passed as env.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { anchorsIn, createScanSetup } from './support/cluster.js'
import { makeRepo, runWorkflow } from './support/act.js'
import { stepLines, stepValue } from './support/act-checks.js'
import { clockAhead } from './support/faketime.js'
import {
  grantOidcMinter,
  startOidcCluster,
  type OidcCluster
} from './support/oidc-cluster.js'

jest.setTimeout(240_000)

const WORKFLOWS = path.join(import.meta.dirname, 'act', 'workflows')

let cluster: OidcCluster
let namespace: string
let repoDir: string

beforeAll(async () => {
  cluster = await startOidcCluster()
  namespace = (await createScanSetup(cluster.admin, { minter: false }))
    .namespace
  await grantOidcMinter(cluster.admin, namespace, cluster.username, ['scanner'])
  repoDir = makeRepo({})
}, 180_000)

afterAll(async () => {
  fs.rmSync(repoDir, { recursive: true, force: true })
  await cluster.stop()
}, 60_000)

describe('renew-every through act', () => {
  it("a later run: step's kubectl renews through the helper, and post revokes", async () => {
    const endpoint = cluster.idTokenEndpoint
    const requests = endpoint.requests.length
    const run = await runWorkflow(path.join(WORKFLOWS, 'renewal.yml'), {
      repoDir,
      event: 'workflow_dispatch',
      env: {
        SCAN_NAMESPACE: namespace,
        SERVER: cluster.server,
        CA_DATA: cluster.caData,
        AUDIENCE: cluster.trust.audience,
        LIBFAKETIME: clockAhead('+9m').LD_PRELOAD ?? '',
        ACTIONS_ID_TOKEN_REQUEST_URL:
          endpoint.env().ACTIONS_ID_TOKEN_REQUEST_URL ?? ''
      },
      secretEnv: {
        ACTIONS_ID_TOKEN_REQUEST_TOKEN:
          endpoint.env().ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''
      },
      actionRefs: ['your-org/ephemeral-scan-token@v1'],
      timeoutMs: 180_000
    })
    expect(run.code).toBe(0)
    const lines = stepLines(run.output)
    const value = (prefix: string): string | undefined =>
      stepValue(run.output, prefix)
    const first = value('first credential-id=')
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(value('now credential-id=')).toBe(`JTI=${first ?? ''}`)
    expect(lines).toContain('pod/app-pod-1')
    const later = value('later credential-id=')
    expect(later).toMatch(/^JTI=[0-9a-f-]{36}$/)
    expect(later).not.toBe(`JTI=${first ?? ''}`)
    // Main's ID token, the later step's renewal, and post's delete.
    expect(endpoint.requests.length - requests).toBe(3)
    expect(run.output).toContain('The job minted 2 tokens')
    expect(run.output).toContain('Revoked the token')
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
    // The request token never shows in act's output (it is masked there).
    expect(run.output).not.toContain(endpoint.requestToken)
  })
})
