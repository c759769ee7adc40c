// The CLI (dist/cli.js, the package's bin) end to end against the real
// kube-apiserver and kubectl: mint and revoke with a kubeconfig identity,
// every bad input (one sentence, its exit status, nothing left: no Secret,
// no file), the proof and mint failures, revoke's checks of a state file it
// must not trust, duration: auto from GitLab's and Buildkite's variables,
// Node 20, and a leak scan of everything the CLI printed.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { KubeConfig } from '@kubernetes/client-node'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  eventually,
  kubectl,
  KUBECTL,
  REPO,
  tokenIn,
  type ScanSetup
} from './support/cluster.ts'
import {
  filesUnder,
  linesWith,
  NODE_20,
  printed,
  runCli,
  type CliResult
} from './support/cli.ts'

let admin: KubeConfig
let setup: ScanSetup
let scratch: string
let bootstrapFile: string
/** Every token the CLI minted here, for the leak scan at the end. */
const minted: string[] = []

beforeAll(async () => {
  admin = adminKubeConfig()
  setup = await createScanSetup(admin)
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-cli-e2e-'))
  bootstrapFile = path.join(scratch, 'bootstrap.kubeconfig')
  fs.writeFileSync(bootstrapFile, setup.bootstrapKubeconfig, { mode: 0o600 })
}, 60_000)

afterAll(async () => {
  await deleteNamespace(admin, setup.namespace)
  fs.rmSync(scratch, { recursive: true, force: true })
})

/** A fresh, private directory for one run's kubeconfig and state file. */
function freshDir(): string {
  return fs.mkdtempSync(path.join(scratch, 'run-'))
}

interface Minted {
  out: {
    kubeconfig: string
    state: string
    expiration: string
    expiresIn: number
    credentialId: string
    serviceAccount: string
    lifetimeSource: string
  }
  result: CliResult
  token: string
}

function parseMint(result: CliResult): Minted {
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 0,
    stderr: expect.any(String)
  })
  const lines = result.stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  const out = JSON.parse(lines[0] ?? '') as Minted['out']
  const token = tokenIn(out.kubeconfig)
  minted.push(token)
  return { out, result, token }
}

const base = (dir: string): string[] => [
  'mint',
  '--service-account',
  'scanner',
  '--namespace',
  '',
  '--kubeconfig',
  bootstrapFile,
  '--dir',
  dir,
  '--duration',
  '15m'
]

function mintArgs(dir: string, ...extra: string[]): string[] {
  const args = base(dir)
  args[4] = setup.namespace
  return [...args, ...extra]
}

function revokeArgs(state: string, dir: string, ...extra: string[]): string[] {
  return [
    'revoke',
    '--state',
    state,
    '--namespace',
    setup.namespace,
    '--kubeconfig',
    bootstrapFile,
    '--dir',
    dir,
    ...extra
  ]
}

describe('mint and revoke with a kubeconfig file', () => {
  it('mints a Secret-bound token into a private kubeconfig, prints one JSON object, and revoke (a new process) deletes the Secret, the directory and the state file', async () => {
    const dir = freshDir()
    const { out, token, result } = parseMint(
      await runCli(
        mintArgs(
          dir,
          '--expect-allowed',
          'list pods',
          '--expect-denied',
          'get secrets'
        ),
        { HOME: dir }
      )
    )
    expect(out.serviceAccount).toBe(
      `system:serviceaccount:${setup.namespace}:scanner`
    )
    expect(out.expiresIn).toBe(900)
    expect(out.lifetimeSource).toBe('duration')
    expect(out.credentialId).toMatch(/^[0-9a-f-]{36}$/)
    expect(path.dirname(path.dirname(out.kubeconfig))).toBe(dir)
    expect(fs.statSync(out.kubeconfig).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(out.kubeconfig)).mode & 0o777).toBe(0o700)
    expect(fs.statSync(out.state).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(out.state, 'utf8')).not.toContain(token)
    // No workflow command outside GitHub Actions.
    expect(result.stderr).not.toContain('::')
    expect(result.stderr).toContain('Permission checks')

    const [anchor] = await anchorsIn(admin, setup.namespace)
    expect(anchor).toMatch(/^ephemeral-scan-token-cli-[0-9a-f]{10}$/)
    expect(
      (await kubectl(out.kubeconfig, ['get', 'pods', '-n', setup.namespace]))
        .code
    ).toBe(0)
    const denied = await kubectl(out.kubeconfig, [
      'get',
      'secrets',
      '-n',
      setup.namespace
    ])
    expect(denied.stderr).toContain('Forbidden')

    const kept = path.join(scratch, 'kept.kubeconfig')
    fs.copyFileSync(out.kubeconfig, kept)
    const revoked = await runCli(revokeArgs(out.state, dir), { HOME: dir })
    expect(revoked).toMatchObject({ code: 0, stdout: '' })
    expect(revoked.stderr).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(filesUnder(dir)).toEqual([])
    // The API server checks the bound Secret through its informer cache.
    expect(
      await eventually(10, async () =>
        (
          await kubectl(kept, ['get', 'pods', '-n', setup.namespace])
        ).stderr.includes('Unauthorized')
      )
    ).toBe(true)
    fs.rmSync(kept)

    // Idempotent: again, with the state file gone.
    const again = await runCli(revokeArgs(out.state, dir), { HOME: dir })
    expect(again.code).toBe(0)
    expect(again.stderr).toContain('nothing to revoke')
  })

  it('finds the identity in KUBECONFIG, names its Secrets for the GitLab job, and revokes with the job id of the same job only', async () => {
    const dir = freshDir()
    const gitlab = { GITLAB_CI: 'true', CI_JOB_ID: '4711', HOME: dir }
    const args = mintArgs(dir).filter(
      (arg, i, all) => arg !== '--kubeconfig' && all[i - 1] !== '--kubeconfig'
    )
    const { out } = parseMint(
      await runCli(args, { ...gitlab, KUBECONFIG: bootstrapFile })
    )
    expect(await anchorsIn(admin, setup.namespace)).toEqual([
      expect.stringMatching(
        /^ephemeral-scan-token-cli-gitlab-4711-[0-9a-f]{10}$/
      )
    ])
    // Another job's revoke does not accept it.
    const other = await runCli(revokeArgs(out.state, dir), {
      ...gitlab,
      CI_JOB_ID: '4712'
    })
    expect(other.code).toBe(5)
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)
    const revoked = await runCli(
      [
        'revoke',
        '--state',
        out.state,
        '--namespace',
        setup.namespace,
        '--dir',
        dir
      ],
      { ...gitlab, KUBECONFIG: bootstrapFile }
    )
    expect(revoked.code).toBe(0)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(filesUnder(dir)).toEqual([])
  })

  it('runs on Node 20 (/usr/bin/node), as CI images commonly ship it', async () => {
    const version = await runCli(['--help'], {}, { node: NODE_20 })
    expect(version.code).toBe(0)
    const dir = freshDir()
    const { out } = parseMint(
      await runCli(mintArgs(dir), { HOME: dir }, { node: NODE_20 })
    )
    const revoked = await runCli(
      revokeArgs(out.state, dir),
      { HOME: dir },
      { node: NODE_20 }
    )
    expect(revoked.code).toBe(0)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(filesUnder(dir)).toEqual([])
  })
})

describe('duration auto', () => {
  it('sizes the token from GitLab CI_JOB_STARTED_AT and CI_JOB_TIMEOUT: started 10m ago, timeout 60m, so 55m', async () => {
    const dir = freshDir()
    const started = new Date(Date.now() - 10 * 60_000 - 5_000)
    const args = mintArgs(dir).slice(0, -2)
    const { out, result } = parseMint(
      await runCli(args, {
        HOME: dir,
        GITLAB_CI: 'true',
        CI_JOB_ID: '99',
        CI_JOB_STARTED_AT: started.toISOString().replace(/\.\d+Z$/, 'Z'),
        CI_JOB_TIMEOUT: '3600'
      })
    )
    expect(out).toMatchObject({ lifetimeSource: 'job', expiresIn: 55 * 60 })
    expect(result.stderr).toContain('GitLab job started 10m ago, timeout 1h')
    expect(result.stderr).not.toContain('Warning')
    const env = { HOME: dir, GITLAB_CI: 'true', CI_JOB_ID: '99' }
    expect((await runCli(revokeArgs(out.state, dir), env)).code).toBe(0)
  })

  it('sizes it from Buildkite BUILDKITE_TIMEOUT (minutes, counted from now)', async () => {
    const dir = freshDir()
    const { out } = parseMint(
      await runCli(mintArgs(dir).slice(0, -2), {
        HOME: dir,
        BUILDKITE: 'true',
        BUILDKITE_TIMEOUT: '20',
        // No buildkite-agent on PATH: masking says so once, and nothing is
        // printed that would need it.
        PATH: '/usr/bin:/bin'
      })
    )
    expect(out).toMatchObject({ lifetimeSource: 'job', expiresIn: 25 * 60 })
    const env = { HOME: dir, BUILDKITE: 'true', PATH: '/usr/bin:/bin' }
    expect((await runCli(revokeArgs(out.state, dir), env)).code).toBe(0)
  })

  it('falls back to --max-duration with one sentence where no CI names a deadline', async () => {
    const dir = freshDir()
    const { out, result } = parseMint(
      await runCli([...mintArgs(dir).slice(0, -2), '--max-duration', '20m'], {
        HOME: dir
      })
    )
    expect(out).toMatchObject({
      lifetimeSource: 'assumed-default',
      expiresIn: 20 * 60
    })
    const warnings = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('Warning:'))
    expect(warnings).toEqual([
      expect.stringContaining('duration: auto read no job deadline')
    ])
    expect((await runCli(revokeArgs(out.state, dir), { HOME: dir })).code).toBe(
      0
    )
  })
})

describe('bad input: one sentence, exit 2, nothing sent and nothing left', () => {
  const cases: [string, (dir: string) => string[], RegExp][] = [
    [
      'an unknown flag',
      (d): string[] => mintArgs(d, '--tokn=abc'),
      /no flag '--tokn'/
    ],
    [
      'a word that is not a flag',
      (d): string[] => mintArgs(d, 'stray-secret-value'),
      /takes only flags/
    ],
    [
      'a flag without its value',
      (d): string[] => [...mintArgs(d), '--bind-to'],
      /--bind-to/
    ],
    [
      'a flag given twice',
      (d): string[] => mintArgs(d, '--namespace', 'other'),
      /--namespace is given more than once/
    ],
    [
      'no service account',
      (d): string[] =>
        mintArgs(d).filter(
          (a): boolean => a !== '--service-account' && a !== 'scanner'
        ),
      /--service-account is required/
    ],
    [
      'a bad namespace',
      (d): string[] =>
        mintArgs(d).map((a): string => (a === setup.namespace ? 'No_Such' : a)),
      /--namespace is a value not repeated here/
    ],
    [
      'a duration below 10m',
      (d): string[] => [...mintArgs(d).slice(0, -2), '--duration', '5m'],
      /--duration is a value not repeated here/
    ],
    [
      'a duration above max',
      (d): string[] => [...mintArgs(d).slice(0, -2), '--duration', '2h'],
      /above --max-duration/
    ],
    [
      'an unknown bind-to',
      (d): string[] => mintArgs(d, '--bind-to', 'node'),
      /--bind-to is a value not repeated here/
    ],
    [
      'a bad expect-allowed line',
      (d): string[] => mintArgs(d, '--expect-allowed', 'get'),
      /--expect-allowed/
    ],
    [
      'a bad excess-privilege',
      (d): string[] => mintArgs(d, '--excess-privilege', 'loud'),
      /--excess-privilege is a value not repeated here/
    ],
    [
      'a bad verify',
      (d): string[] => mintArgs(d, '--verify', 'maybe'),
      /--verify is a value not repeated here/
    ],
    [
      'a bad deadline',
      (d): string[] => mintArgs(d, '--deadline', 'jenkins'),
      /--deadline is a value not repeated here/
    ],
    [
      'a bad identity',
      (d): string[] => mintArgs(d, '--identity', 'vault'),
      /--identity is a value not repeated here/
    ],
    [
      'a kubeconfig with an ID-token flag',
      (d): string[] => mintArgs(d, '--server', 'https://127.0.0.1:1'),
      /are exclusive/
    ],
    [
      'an ID-token variable without a server',
      (d): string[] =>
        mintArgs(d)
          .filter((a): boolean => a !== '--kubeconfig' && a !== bootstrapFile)
          .concat('--oidc-token-env', 'K8S_ID_TOKEN'),
      /--server and --certificate-authority-data are missing/
    ],
    [
      'an ID-token variable that is unset',
      (d): string[] =>
        mintArgs(d)
          .filter((a): boolean => a !== '--kubeconfig' && a !== bootstrapFile)
          .concat(
            '--oidc-token-env',
            'K8S_ID_TOKEN',
            '--server',
            setup.server,
            '--certificate-authority-data',
            admin.getCurrentCluster()?.caData ?? ''
          ),
      /K8S_ID_TOKEN is not set/
    ],
    [
      'an http:// server',
      (d): string[] =>
        mintArgs(d)
          .filter((a): boolean => a !== '--kubeconfig' && a !== bootstrapFile)
          .concat(
            '--oidc-token-env',
            'K8S_ID_TOKEN',
            '--server',
            'http://127.0.0.1:1',
            '--certificate-authority-data',
            admin.getCurrentCluster()?.caData ?? ''
          ),
      /--server is not an https:\/\/ URL/
    ],
    [
      'a missing kubeconfig file',
      (d): string[] =>
        mintArgs(d).map((a) =>
          a === bootstrapFile ? `${bootstrapFile}.missing` : a
        ),
      /cannot be read \(ENOENT\)/
    ],
    [
      'a missing --dir',
      (d): string[] =>
        mintArgs(d).map((a): string => (a === d ? path.join(d, 'nope') : a)),
      /--dir names .* \(ENOENT\)/
    ],
    [
      'a state file that exists',
      (d): string[] => {
        fs.writeFileSync(path.join(d, 'taken.json'), '{}')
        return mintArgs(d, '--state', path.join(d, 'taken.json'))
      },
      /already exists/
    ],
    [
      'a pod-bound lifetime of exactly 3607s',
      (d): string[] => [
        ...mintArgs(d).slice(0, -2),
        '--bind-to',
        'pod:app-pod-1',
        '--duration',
        '3607s',
        '--max-duration',
        '2h'
      ],
      /a year/
    ],
    ['an unknown command', (): string[] => ['mnt'], /no command 'mnt'/],
    [
      'L2: an unsupported --identity, whose value is not repeated',
      (d): string[] => mintArgs(d, '--identity', 'stray-secret-value'),
      /^Flag --identity is a value not repeated here, which is not supported/
    ],
    [
      'L2: a --duration that is no duration, whose value is not repeated',
      (d): string[] => [
        ...mintArgs(d).slice(0, -2),
        '--duration',
        'stray-secret-value'
      ],
      /^Flag --duration is a value not repeated here/
    ],
    [
      'L2: a --namespace that is no name, whose value is not repeated',
      (d): string[] => {
        const args = mintArgs(d)
        args[4] = 'Stray-Secret-Value'
        return args
      },
      /^Flag --namespace is a value not repeated here/
    ],
    [
      'L5: a --dir with a line break',
      (d): string[] => [
        ...mintArgs(d).filter((a, i, all) => a !== d && all[i + 1] !== d),
        '--dir',
        `${d}/\nRevoked the token: forged.`
      ],
      /^Flag --dir holds a control character/
    ],
    [
      'L5: a --state with a line break',
      (d): string[] => mintArgs(d, '--state', `${d}/x\nforged line`),
      /^Flag --state holds a control character/
    ],
    [
      'L5: a revoke --state with a line break',
      (d): string[] => revokeArgs(`${d}/x\nforged line`, d),
      /^Flag --state holds a control character/
    ],
    [
      'revoke without --state',
      (): string[] => ['revoke'],
      /--state is required/
    ]
  ]
  it.each(cases)('%s', async (_name, args, sentence) => {
    const dir = freshDir()
    const argv = args(dir)
    const before = filesUnder(dir)
    const result = await runCli(argv, { HOME: dir })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(sentence)
    expect(lines[0]).toMatch(/^[A-Z].*[.]$/)
    expect(result.stderr.toLowerCase()).not.toContain('stray-secret-value')
    expect(result.stderr).not.toContain('abc')
    expect(result.stderr).not.toContain('forged')
    expect(filesUnder(dir)).toEqual(before)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })
})

describe('failures after input: their own exit status, nothing left', () => {
  it('could not mint (RBAC refuses a ServiceAccount the minter may not mint for): exit 3, the per-run Secret rolled back', async () => {
    const dir = freshDir()
    const result = await runCli(
      mintArgs(dir).map((a): string => (a === 'scanner' ? 'default' : a)),
      { HOME: dir }
    )
    expect(result.code).toBe(3)
    expect(result.stdout).toBe('')
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      /serviceaccounts\/token/
    )
    expect(filesUnder(dir)).toEqual([])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it('proof failed (an expect-allowed the token lacks): exit 4, the token revoked, no file', async () => {
    const dir = freshDir()
    const result = await runCli(
      mintArgs(dir, '--expect-allowed', 'delete pods'),
      { HOME: dir }
    )
    expect(result.code).toBe(4)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Rolled back: Revoked the token')
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      /1 of 1 permission checks failed .*--expect-allowed/
    )
    expect(filesUnder(dir)).toEqual([])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })
})

describe('revoke treats the state file as untrusted', () => {
  async function mintOne(dir: string): Promise<Minted> {
    return parseMint(await runCli(mintArgs(dir), { HOME: dir }))
  }
  async function cleanUp(state: string, dir: string): Promise<void> {
    const result = await runCli(revokeArgs(state, dir), { HOME: dir })
    expect(result.code).toBe(0)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  }
  type Forge = (state: Record<string, unknown>, dir: string) => unknown
  const forged: [string, Forge, RegExp][] = [
    [
      'an unknown field',
      (s): unknown => ({ ...s, token: 'x' }),
      /field main never saves/
    ],
    [
      'a Secret name not of the CLI pattern',
      (s): unknown => ({
        ...s,
        anchor: { ...(s.anchor as object), name: 'app-secret' }
      }),
      /name is not one/
    ],
    [
      "the action's Secret name pattern",
      (s): unknown => ({
        ...s,
        anchor: {
          ...(s.anchor as object),
          name: 'ephemeral-scan-token-local-1-0123456789'
        }
      }),
      /name is not one/
    ],
    [
      'another namespace',
      (s): unknown => ({
        ...s,
        anchor: { ...(s.anchor as object), namespace: 'kube-system' }
      }),
      /namespace is not the flag --namespace/
    ],
    [
      'a kubeconfig directory outside --dir',
      (s): unknown => ({
        ...s,
        kubeconfigDir: '/etc',
        kubeconfigPath: '/etc/kubeconfig'
      }),
      /not one ephemeral-scan-token creates/
    ],
    [
      'a kubeconfig file elsewhere',
      (s): unknown => ({ ...s, kubeconfigPath: '/etc/passwd' }),
      /not the one inside/
    ],
    [
      'another bootstrap file',
      (s): unknown => ({
        ...s,
        bootstrap: {
          ...(s.bootstrap as object),
          source: { kind: 'files', paths: ['/etc/other.kubeconfig'] }
        }
      }),
      /not the one revoke was given/
    ],
    [
      'a claim that KUBECONFIG was exported',
      (s): unknown => ({ ...s, previousKubeconfig: null }),
      /KUBECONFIG was exported/
    ],
    ['not JSON', (): unknown => 'not json', /not a record/],
    [
      'M1: a kubeconfig directory of the action (another scope) under --dir',
      (s, dir): unknown => {
        const victim = path.join(dir, `ephemeral-scan-token-${'a'.repeat(24)}`)
        return {
          ...s,
          kubeconfigDir: victim,
          kubeconfigPath: path.join(victim, 'kubeconfig')
        }
      },
      /not one ephemeral-scan-token creates/
    ],
    [
      'M2: another kubeconfig context',
      (s): unknown => ({
        ...s,
        bootstrap: { ...(s.bootstrap as object), context: 'other-context' }
      }),
      /bootstrap context/
    ],
    [
      'M2: a per-run Secret without its uid',
      (s): unknown => {
        const anchor = { ...(s.anchor as Record<string, unknown>) }
        delete anchor.uid
        return { ...s, anchor }
      },
      /uid is missing/
    ],
    [
      'a wrong type',
      (s): unknown => ({ ...s, grantedSeconds: '900' }),
      /grantedSeconds/
    ]
  ]
  it.each(forged)(
    'refuses %s: exit 5, deletes nothing',
    async (_n, forge, why) => {
      const dir = freshDir()
      const { out } = await mintOne(dir)
      const original = fs.readFileSync(out.state, 'utf8')
      const forgedFile = path.join(dir, 'forged.json')
      const value = forge(JSON.parse(original) as Record<string, unknown>, dir)
      fs.writeFileSync(
        forgedFile,
        typeof value === 'string' ? value : JSON.stringify(value),
        { mode: 0o600 }
      )
      const result = await runCli(revokeArgs(forgedFile, dir), { HOME: dir })
      expect(result.code).toBe(5)
      expect(result.stdout).toBe('')
      const lines = result.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(why)
      expect(lines[0]).toContain('revoke deleted nothing')
      expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)
      expect(fs.existsSync(out.kubeconfig)).toBe(true)
      await cleanUp(out.state, dir)
    }
  )

  it('refuses a state file that is a symbolic link (exit 2), and leaves a kubeconfig directory swapped for a link alone while it still revokes', async () => {
    const dir = freshDir()
    const { out } = await mintOne(dir)
    const link = path.join(dir, 'link.json')
    fs.symlinkSync(out.state, link)
    const viaLink = await runCli(revokeArgs(link, dir), { HOME: dir })
    expect(viaLink.code).toBe(2)
    expect(viaLink.stderr).toMatch(/symbolic link/)
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)
    fs.rmSync(link)

    const kubeconfigDir = path.dirname(out.kubeconfig)
    const victim = fs.mkdtempSync(path.join(scratch, 'victim-'))
    fs.writeFileSync(path.join(victim, 'keep'), 'x')
    fs.rmSync(kubeconfigDir, { recursive: true })
    fs.symlinkSync(victim, kubeconfigDir)
    const result = await runCli(revokeArgs(out.state, dir), { HOME: dir })
    expect(result.code).toBe(6)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(fs.readdirSync(victim)).toEqual(['keep'])
    expect(result.stderr).toMatch(/Left .* alone/)
    fs.rmSync(kubeconfigDir)
    expect((await runCli(revokeArgs(out.state, dir), { HOME: dir })).code).toBe(
      0
    )
    expect(filesUnder(dir)).toEqual([])
  })

  it('M1: refuses a record with neither identity nor Secret (exit 5), and leaves the directory it names, of this very scope, alone', async () => {
    const dir = freshDir()
    const victim = path.join(dir, `ephemeral-scan-token-cli-${'b'.repeat(24)}`)
    fs.mkdirSync(victim)
    fs.writeFileSync(path.join(victim, 'keep'), 'x')
    const forgedFile = path.join(dir, 'forged.json')
    fs.writeFileSync(forgedFile, JSON.stringify({ kubeconfigDir: victim }), {
      mode: 0o600
    })
    const result = await runCli(revokeArgs(forgedFile, dir), { HOME: dir })
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(
      /names neither a bootstrap identity nor a per-run Secret/
    )
    expect(fs.readdirSync(victim)).toEqual(['keep'])
    expect(fs.existsSync(forgedFile)).toBe(true)
  })

  it('M1: names its kubeconfig directory for the job (scope cli-gitlab-<id>)', async () => {
    const dir = freshDir()
    const env = { HOME: dir, GITLAB_CI: 'true', CI_JOB_ID: '4712' }
    const { out } = parseMint(await runCli(mintArgs(dir), env))
    expect(path.basename(path.dirname(out.kubeconfig))).toMatch(
      /^ephemeral-scan-token-cli-gitlab-4712-[0-9a-f]{24}$/
    )
    // Another job's revoke, with the same flags, refuses it.
    const other = await runCli(revokeArgs(out.state, dir), {
      ...env,
      CI_JOB_ID: '4713'
    })
    expect(other.code).toBe(5)
    expect(fs.existsSync(out.kubeconfig)).toBe(true)
    expect((await runCli(revokeArgs(out.state, dir), env)).code).toBe(0)
    expect(filesUnder(dir)).toEqual([])
  })

  it('H1: a planted GITHUB_ACTIONS on GitLab: mint and revoke refuse (exit 2, one sentence) and print no ::add-mask:: line', async () => {
    const dir = freshDir()
    const env = {
      HOME: dir,
      GITHUB_ACTIONS: 'true',
      GITLAB_CI: 'true',
      CI_JOB_ID: '4714'
    }
    for (const argv of [
      mintArgs(dir),
      revokeArgs(path.join(dir, 'x.state.json'), dir)
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
      // The bootstrap credential, which the old host printed in that line.
      expect(linesWith(setup.minterToken, result.stderr)).toEqual([])
    }
    expect(filesUnder(dir)).toEqual([])
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
  })

  it('sends the credential only to the server its own kubeconfig names: a record of another server is refused (exit 5) and revokes nothing there', async () => {
    const dir = freshDir()
    const { out } = await mintOne(dir)
    const state = JSON.parse(fs.readFileSync(out.state, 'utf8')) as {
      bootstrap: { server: string }
    }
    state.bootstrap.server = 'https://127.0.0.1:1'
    const forgedFile = path.join(dir, 'forged.json')
    fs.writeFileSync(forgedFile, JSON.stringify(state), { mode: 0o600 })
    const result = await runCli(revokeArgs(forgedFile, dir), { HOME: dir })
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(
      /API server is not the one revoke's kubeconfig points at/
    )
    expect(result.stderr).toContain('revoke deleted nothing')
    expect(await anchorsIn(admin, setup.namespace)).toHaveLength(1)
    fs.rmSync(forgedFile)
    await cleanUp(out.state, dir)
  })
})

describe('the npm package', () => {
  it('npm pack gives a tarball that, installed into an empty directory, runs as ephemeral-scan-token (on Node 20 by its shebang) and mints and revokes', async () => {
    const work = fs.mkdtempSync(path.join(scratch, 'pack-'))
    const npm = (args: string[], cwd: string): void => {
      execFileSync('npm', [...args, '--no-audit', '--no-fund'], {
        cwd,
        stdio: 'ignore',
        env: { ...process.env, npm_config_update_notifier: 'false' }
      })
    }
    npm(['pack', '--pack-destination', work], REPO)
    const [tarball] = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'))
    const installed = path.join(work, 'installed')
    fs.mkdirSync(installed)
    npm(['install', path.join(work, tarball ?? '')], installed)
    const bin = path.join(
      installed,
      'node_modules',
      '.bin',
      'ephemeral-scan-token'
    )
    // Only what the CLI needs ships: the bundle, not the sources or tests.
    const shipped = fs.readdirSync(
      path.join(installed, 'node_modules', 'ephemeral-scan-token')
    )
    expect(shipped.sort()).toEqual(
      ['LICENSE', 'README.md', 'action.yml', 'dist', 'package.json'].sort()
    )
    // /usr/bin first: `#!/usr/bin/env node` finds Node 20 there.
    const env = { PATH: '/usr/bin:/bin' }
    const help = await runCli(['--help'], env, { bin: [bin], cwd: installed })
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: ephemeral-scan-token')
    const dir = freshDir()
    const { out } = parseMint(
      await runCli(
        mintArgs(dir),
        { ...env, HOME: dir },
        { bin: [bin], cwd: installed }
      )
    )
    const revoked = await runCli(
      revokeArgs(out.state, dir),
      { ...env, HOME: dir },
      { bin: [bin], cwd: installed }
    )
    expect(revoked.code).toBe(0)
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(filesUnder(dir)).toEqual([])
  }, 120_000)
})

describe('examples/shell/scan.sh', () => {
  it('mints, scans with kubectl, and revokes from its EXIT trap, leaving no Secret and no file', async () => {
    const bin = fs.mkdtempSync(path.join(scratch, 'bin-'))
    fs.writeFileSync(
      path.join(bin, 'ephemeral-scan-token'),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, 'dist', 'cli.js'))} "$@"\n`,
      { mode: 0o755 }
    )
    fs.symlinkSync(KUBECTL, path.join(bin, 'kubectl'))
    fs.symlinkSync(process.execPath, path.join(bin, 'node'))
    const tmp = freshDir()
    const home = freshDir()
    const run = await runCli(
      [path.join(REPO, 'examples', 'shell', 'scan.sh')],
      {
        PATH: `${bin}:/usr/bin:/bin`,
        // kubectl keeps its discovery cache in HOME.
        HOME: home,
        TMPDIR: tmp,
        BOOTSTRAP_KUBECONFIG: bootstrapFile,
        SCAN_NAMESPACE: setup.namespace,
        SCANNER: 'scanner'
      },
      { bin: ['/bin/sh'] }
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('app-pod-1')
    expect(run.stderr).toContain('Revoked the token')
    expect(await anchorsIn(admin, setup.namespace)).toEqual([])
    expect(filesUnder(tmp)).toEqual([])
  })
})

describe('leak scan', () => {
  it('no CLI run printed a minted token or the bootstrap credential, on stdout or stderr', () => {
    expect(minted.length).toBeGreaterThan(5)
    const everything = printed.map((r) => `${r.stdout}\n${r.stderr}`).join('\n')
    for (const secret of [...minted, setup.minterToken]) {
      expect(linesWith(secret, everything)).toEqual([])
    }
  })
})
