// The CLI's flags, parsed without running anything: which identity a
// command line and an environment choose, and the refusals that name a
// flag and never repeat a value.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { InputError } from '../../../src/core/errors.js'
import {
  chooseIdentity,
  defaultDir,
  parseMintFlags,
  parseRevokeFlags
} from '../../../src/cli/flags.js'
import { OIDC_CA_DATA as BASE64_CA } from '../../../__fixtures__/id-token-stub.js'

const SERVER = 'https://203.0.113.10:6443'

// GitHub's runner as the CLI recognises it: its command files, real files
// under RUNNER_TEMP (a temp dir here).
const RUNNER_TEMP = fs.mkdtempSync(path.join(os.tmpdir(), 'est-flags-rt-'))
fs.writeFileSync(path.join(RUNNER_TEMP, 'set_env'), '')
fs.writeFileSync(path.join(RUNNER_TEMP, 'save_state'), '')
const GITHUB_RUNNER = {
  GITHUB_ACTIONS: 'true',
  RUNNER_TEMP,
  GITHUB_ENV: path.join(RUNNER_TEMP, 'set_env'),
  GITHUB_STATE: path.join(RUNNER_TEMP, 'save_state')
}
afterAll(() => {
  fs.rmSync(RUNNER_TEMP, { recursive: true, force: true })
})
const BUILDKITE_AGENT = { BUILDKITE: 'true', BUILDKITE_AGENT_ACCESS_TOKEN: 'a' }

function refusal(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as Error).message
  }
  throw new Error('no refusal')
}

describe('chooseIdentity', () => {
  it('detects the identity the way cosign does, each overridable by --identity', () => {
    const ca = { server: SERVER, 'certificate-authority-data': BASE64_CA }
    expect(chooseIdentity({}, {})).toEqual({ kind: 'kubeconfig', context: '' })
    expect(chooseIdentity({ kubeconfig: 'k.yaml' }, {})).toMatchObject({
      kind: 'kubeconfig',
      file: expect.stringMatching(/^\/.*\/k\.yaml$/)
    })
    expect(
      chooseIdentity({ 'oidc-token-env': 'K8S_ID_TOKEN', ...ca }, {})
    ).toMatchObject({ kind: 'env', variable: 'K8S_ID_TOKEN', server: SERVER })
    const withAudience = { ...ca, 'oidc-audience': 'est' }
    expect(chooseIdentity(withAudience, BUILDKITE_AGENT)).toMatchObject({
      kind: 'buildkite',
      audience: 'est'
    })
    expect(chooseIdentity(withAudience, GITHUB_RUNNER)).toMatchObject({
      kind: 'github',
      audience: 'est'
    })
    // L3, H1: one variable is not a CI system.
    expect(() => chooseIdentity(withAudience, { BUILDKITE: 'true' })).toThrow(
      /no ID-token provider was found/
    )
    expect(() =>
      chooseIdentity(withAudience, { GITHUB_ACTIONS: 'true' })
    ).toThrow(/no ID-token provider was found/)
    // Explicit wins over detection.
    expect(
      chooseIdentity(
        { ...withAudience, identity: 'github' },
        { BUILDKITE: 'true' }
      )
    ).toMatchObject({ kind: 'github' })
    expect(chooseIdentity({ identity: 'in-cluster' }, {})).toEqual({
      kind: 'in-cluster'
    })
  })

  it('refuses every combination that leaves which identity mints to a guess', () => {
    const ca = { server: SERVER, 'certificate-authority-data': BASE64_CA }
    expect(
      refusal(() => chooseIdentity({ kubeconfig: 'k', ...ca }, {}))
    ).toMatch(/--kubeconfig and --server are exclusive/)
    expect(refusal(() => chooseIdentity({ ...ca }, {}))).toMatch(
      /no ID-token provider was found/
    )
    expect(
      refusal(() =>
        chooseIdentity({ 'oidc-token-env': 'A', context: 'x', ...ca }, {})
      )
    ).toMatch(/--context belongs to a kubeconfig bootstrap/)
    expect(
      refusal(() =>
        chooseIdentity({ identity: 'env:A', 'oidc-token-env': 'B', ...ca }, {})
      )
    ).toMatch(/name different variables/)
    expect(
      refusal(() => chooseIdentity({ identity: 'env:1X', ...ca }, {}))
    ).toMatch(/not a variable name/)
    expect(
      refusal(() =>
        chooseIdentity({ identity: 'buildkite', ...ca }, { BUILDKITE: 'true' })
      )
    ).toMatch(/--oidc-audience is missing/)
  })
})

describe('parseMintFlags', () => {
  it('takes the action inputs as flags, with repeatable checks and audiences', () => {
    const options = parseMintFlags(
      [
        '--service-account=scanner',
        '--namespace',
        'scan',
        '--duration',
        '20m',
        '--audiences',
        'a,b',
        '--audiences',
        'c',
        '--expect-allowed',
        'list pods',
        '--expect-allowed',
        'create pods/exec',
        '--expect-denied',
        'get secrets',
        '--excess-privilege',
        'fail',
        '--verify=false',
        '--bind-to',
        'none'
      ],
      {}
    )
    expect(options).toMatchObject({
      serviceAccount: 'scanner',
      namespace: 'scan',
      duration: { kind: 'explicit', seconds: 1200 },
      audiences: ['a', 'b', 'c'],
      bindTo: { kind: 'none' },
      verify: false,
      excessPrivilege: 'fail',
      deadline: 'auto'
    })
    if (options === 'help') throw new Error('help')
    expect(options.expectAllowed.map((c) => c.line)).toEqual([
      'list pods',
      'create pods/exec'
    ])
    expect(options.expectDenied).toHaveLength(1)
  })

  it('never repeats a stray value: it may be a credential put where a flag belongs', () => {
    const message = refusal(() =>
      parseMintFlags(
        ['--service-account', 'x', 'eyJhbGciOiJSUzI1NiJ9.secret'],
        {}
      )
    )
    expect(message).not.toContain('eyJ')
    const unknown = refusal(() =>
      parseMintFlags(['--service-account', 'x', '--token=eyJhbGci'], {})
    )
    expect(unknown).toContain("'--token'")
    expect(unknown).not.toContain('eyJ')
  })

  it('refuses a flag given twice, but collects repeatable ones', () => {
    expect(
      refusal(() =>
        parseMintFlags(['--service-account', 'a', '--service-account', 'b'], {})
      )
    ).toMatch(/--service-account is given more than once/)
  })

  it('puts the kubeconfig in the system temp directory, or RUNNER_TEMP on GitHub Actions only', () => {
    expect(defaultDir(GITHUB_RUNNER)).toBe(RUNNER_TEMP)
    expect(defaultDir({ GITHUB_ACTIONS: 'true', RUNNER_TEMP: '/rt' })).not.toBe(
      '/rt'
    )
    expect(defaultDir({ RUNNER_TEMP: '/rt' })).not.toBe('/rt')
  })
})

describe('parseRevokeFlags', () => {
  it('requires --state and takes the identity flags and --namespace, --dir', () => {
    expect(refusal(() => parseRevokeFlags([], {}))).toMatch(
      /--state is required/
    )
    expect(
      parseRevokeFlags(['--state', 's.json', '--namespace', 'scan'], {})
    ).toMatchObject({ state: 's.json', namespace: 'scan' })
    expect(
      refusal(() => parseRevokeFlags(['--state', 's', '--duration', '1h'], {}))
    ).toMatch(/revoke command has no flag '--duration'/)
  })
})
