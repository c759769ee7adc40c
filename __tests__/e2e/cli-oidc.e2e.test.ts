// The CLI's ID-token identities end to end, against a second real
// kube-apiserver that trusts a loopback stand-in issuer (the API server,
// its JWT authenticator, RBAC and kubectl are the real ones): an ID token
// in an environment variable, as GitLab's id_tokens: hands it over, and
// GitHub's ID-token endpoint (a loopback stand-in of the runner's). mint
// and revoke run as separate processes; nothing they print holds the ID
// token, the request token or a minted token.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { anchorsIn, createScanSetup, REPO, tokenIn } from './support/cluster.ts'
import { gitlabProject, runJob } from './support/gitlab.ts'
import {
  filesUnder,
  linesWith,
  NODE_20,
  printed,
  runCli
} from './support/cli.ts'
import {
  grantOidcMinter,
  startOidcCluster,
  type OidcCluster
} from './support/oidc-cluster.ts'
import { TRUSTED_JOB } from './support/oidc-issuer.ts'

let cluster: OidcCluster
let namespace: string
let scratch: string
const secrets: string[] = []

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-cli-oidc-'))
  cluster = await startOidcCluster()
  namespace = (await createScanSetup(cluster.admin, { minter: false }))
    .namespace
  await grantOidcMinter(cluster.admin, namespace, cluster.username, ['scanner'])
}, 180_000)

afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  await cluster.stop()
}, 60_000)

function idToken(audience = cluster.trust.audience): string {
  const token = cluster.issuer.mint(TRUSTED_JOB, {
    audience,
    lifetimeSeconds: 600
  })
  secrets.push(token)
  return token
}

function target(): string[] {
  return [
    '--server',
    cluster.server,
    '--certificate-authority-data',
    cluster.caData,
    '--namespace',
    namespace
  ]
}

describe('an ID token in an environment variable (GitLab id_tokens:)', () => {
  it.each([
    ['Node 24', process.execPath],
    ['Node 20', NODE_20]
  ])(
    'mints with it, and revoke in a new process reads it again, on %s',
    async (_name, node) => {
      const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
      const env = { HOME: dir, K8S_ID_TOKEN: idToken() }
      const args = [
        '--oidc-token-env',
        'K8S_ID_TOKEN',
        ...target(),
        '--dir',
        dir
      ]
      const mint = await runCli(
        ['mint', '--service-account', 'scanner', '--duration', '15m', ...args],
        env,
        { node }
      )
      expect(mint.code).toBe(0)
      const out = JSON.parse(mint.stdout) as {
        kubeconfig: string
        state: string
        serviceAccount: string
      }
      secrets.push(tokenIn(out.kubeconfig))
      expect(out.serviceAccount).toBe(
        `system:serviceaccount:${namespace}:scanner`
      )
      // The ID token reached neither the kubeconfig nor the state file.
      expect(fs.readFileSync(out.kubeconfig, 'utf8')).not.toContain(
        env.K8S_ID_TOKEN
      )
      expect(fs.readFileSync(out.state, 'utf8')).not.toContain(env.K8S_ID_TOKEN)
      expect(await anchorsIn(cluster.admin, namespace)).toHaveLength(1)

      const revoke = await runCli(
        ['revoke', '--state', out.state, ...args],
        env,
        { node }
      )
      expect(revoke.code).toBe(0)
      expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
      expect(filesUnder(dir)).toEqual([])
    }
  )

  it('names the variable when the API server refuses its token (401, another audience): exit 3, nothing left', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
    const result = await runCli(
      [
        'mint',
        '--service-account',
        'scanner',
        '--duration',
        '15m',
        '--oidc-token-env',
        'K8S_ID_TOKEN',
        ...target(),
        '--dir',
        dir
      ],
      { HOME: dir, K8S_ID_TOKEN: idToken('someone-else') }
    )
    expect(result.code).toBe(3)
    expect(result.stdout).toBe('')
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /rejected the ID token in K8S_ID_TOKEN \(401 Unauthorized\)/
    )
    expect(filesUnder(dir)).toEqual([])
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
  })

  it('refuses a revoke whose --server is not the one the state file names: exit 5, the ID token sent nowhere', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
    const env = { HOME: dir, K8S_ID_TOKEN: idToken() }
    const common = ['--oidc-token-env', 'K8S_ID_TOKEN', '--dir', dir]
    const mint = await runCli(
      [
        'mint',
        '--service-account',
        'scanner',
        '--duration',
        '15m',
        ...common,
        ...target()
      ],
      env
    )
    expect(mint.code).toBe(0)
    const out = JSON.parse(mint.stdout) as { state: string; kubeconfig: string }
    secrets.push(tokenIn(out.kubeconfig))
    const other = target().map((a) =>
      a === cluster.server ? 'https://127.0.0.2:1' : a
    )
    const refused = await runCli(
      ['revoke', '--state', out.state, ...common, ...other],
      env
    )
    expect(refused.code).toBe(5)
    expect(await anchorsIn(cluster.admin, namespace)).toHaveLength(1)
    const revoke = await runCli(
      ['revoke', '--state', out.state, ...common, ...target()],
      env
    )
    expect(revoke.code).toBe(0)
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
  })
})

describe("GitHub's ID-token endpoint (--identity github)", () => {
  it('mints and revokes with it, and keeps the request token and ID token out of its output', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
    const env = { HOME: dir, ...cluster.idTokenEndpoint.env() }
    const args = [
      '--identity',
      'github',
      '--oidc-audience',
      cluster.trust.audience,
      ...target(),
      '--dir',
      dir
    ]
    const mint = await runCli(
      ['mint', '--service-account', 'scanner', '--duration', '15m', ...args],
      env
    )
    expect(mint.code).toBe(0)
    const out = JSON.parse(mint.stdout) as { state: string; kubeconfig: string }
    secrets.push(tokenIn(out.kubeconfig))
    const revoke = await runCli(['revoke', '--state', out.state, ...args], env)
    expect(revoke.code).toBe(0)
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
    secrets.push(
      cluster.idTokenEndpoint.requestToken,
      ...cluster.idTokenEndpoint.issued
    )
  })
})

describe('examples/gitlab/.gitlab-ci.yml through gitlab-ci-local (shell executor), against the real API server', () => {
  const example = fs.readFileSync(
    path.join(REPO, 'examples', 'gitlab', '.gitlab-ci.yml'),
    'utf8'
  )
  function variables(): Record<string, string> {
    return {
      // gitlab-ci-local issues no id_tokens: the stand-in issuer's token
      // takes K8S_ID_TOKEN's place, as GitLab would set it.
      K8S_ID_TOKEN: idToken(),
      K8S_SERVER: cluster.server,
      K8S_CA_DATA: cluster.caData,
      SCAN_NAMESPACE: namespace,
      SCANNER: 'scanner',
      // gitlab-ci-local sets CI_JOB_STARTED_AT but not CI_JOB_TIMEOUT: the
      // job's timeout: 30m, as GitLab would pass it.
      CI_JOB_TIMEOUT: '1800'
    }
  }
  function checkLog(log: string): void {
    // No JWT at all in the job log (the ID token, the minted token), and
    // no workflow command.
    expect(log).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/)
    expect(log).not.toContain('::add-mask::')
    for (const secret of secrets) expect(linesWith(secret, log)).toEqual([])
  }

  it('mints in script (duration auto from the job start and timeout), kubectl is allowed and denied as proven, revoke in after_script leaves nothing', async () => {
    const project = gitlabProject(example)
    const run = await runJob(project, 'k8s-scan', variables())
    expect(run.log).toMatch(/PASS\s+k8s-scan/)
    expect(run.code).toBe(0)
    expect(run.log).toMatch(
      /Minted a token for system:serviceaccount:\S+:scanner \(duration: auto, GitLab job started \dm ago, timeout 30m: 3[45]m\)/
    )
    expect(run.log).toContain('app-pod-1')
    expect(run.log).toContain('Revoked the token')
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
    // L6: the files went into a directory named from the job's ID token
    // (not /tmp/est-$CI_JOB_ID), which after_script found again and removed.
    const estDir = /ephemeral-scan-token files in (\/\S+)/.exec(run.log)?.[1]
    expect(estDir).toMatch(/\/est-[0-9a-f]{32}$/)
    expect(fs.existsSync(estDir ?? '/')).toBe(false)
    checkLog(run.log)
  }, 120_000)

  it('revokes in after_script after the script failed, from a new shell', async () => {
    const pipeline = yaml.load(example) as {
      'k8s-scan': { script: string[] }
    }
    pipeline['k8s-scan'].script.push('exit 1')
    const project = gitlabProject(yaml.dump(pipeline))
    const run = await runJob(project, 'k8s-scan', variables())
    expect(run.log).toMatch(/FAIL\s+k8s-scan/)
    expect(run.log).toContain('Revoked the token')
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
    const estDir = /ephemeral-scan-token files in (\/\S+)/.exec(run.log)?.[1]
    expect(estDir).toMatch(/\/est-[0-9a-f]{32}$/)
    expect(fs.existsSync(estDir ?? '/')).toBe(false)
    checkLog(run.log)
  }, 120_000)
})

describe('H1: a planted GITHUB_ACTIONS on GitLab', () => {
  it('refuses mint and revoke (exit 2, one sentence) and prints no ::add-mask:: line, so the ID token stays unprinted', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
    const token = idToken()
    secrets.push(token)
    const env = {
      HOME: dir,
      K8S_ID_TOKEN: token,
      GITHUB_ACTIONS: 'true',
      GITLAB_CI: 'true',
      CI_JOB_ID: '4711'
    }
    const args = ['--oidc-token-env', 'K8S_ID_TOKEN', ...target(), '--dir', dir]
    for (const argv of [
      ['mint', '--service-account', 'scanner', '--duration', '15m', ...args],
      ['revoke', '--state', path.join(dir, 'x.state.json'), ...args]
    ]) {
      const result = await runCli(argv, env)
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^GITHUB_ACTIONS is 'true' but this is not GitHub's runner/
        )
      ])
      expect(result.stderr).not.toContain('::add-mask::')
    }
    expect(filesUnder(dir)).toEqual([])
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
  })
})

describe('leak scan', () => {
  it('no run printed an ID token, the request token or a minted token', () => {
    expect(secrets.length).toBeGreaterThan(6)
    const everything = printed.map((r) => `${r.stdout}\n${r.stderr}`).join('\n')
    for (const secret of secrets) {
      expect(linesWith(secret, everything)).toEqual([])
    }
  })
})
